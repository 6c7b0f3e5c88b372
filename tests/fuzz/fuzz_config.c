/* fuzz_config.c - sch_config_parse() on a config file, then lookups of
 * every key it produced (as given, upper-cased, and as booleans). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schema/buf.h"
#include "schema/config.h"
#include "schema/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sch_config c;
	int rc, b;

	rc = sch_config_parse(&c, (const char *)data, size, "fuzz/config");
	if (rc) {
		if (rc != SCH_EPARSE || c.n || strncmp(sch_error_msg(),
						       "fuzz/config:", 12))
			abort();
		sch_config_release(&c);
		return 0;
	}
	for (size_t i = 0; i < c.n; i++) {
		const char *key = c.e[i].key, *dot = strchr(key, '.');
		const char *v = sch_config_get(&c, key);
		if (!dot || !v || c.e[i].line < 1)
			abort();
		/* The last entry with this key wins. */
		size_t last = i;
		for (size_t j = i + 1; j < c.n; j++)
			if (!strcmp(c.e[j].key, key))
				last = j;
		if (v != c.e[last].value)
			abort();
		sch_config_bool(&c, key, 0, &b);
		if (!strrchr(key, '.')[1])
			abort();
	}
	sch_config_get(&c, "core.registry");
	sch_config_get(&c, "env.production.url");
	sch_config_bool(&c, "env.production.confirm", 1, &b);
	sch_config_set(&c, "core.x", "y");
	if (strcmp(sch_config_get(&c, "CORE.X"), "y"))
		abort();
	sch_config_release(&c);
	return 0;
}
