/* hooks_embed.h - the sample hooks compiled into the binary (generated
 * from the files hooks/NAME.sample by tools/embed.c). */
#ifndef SCH_HOOKS_EMBED_H
#define SCH_HOOKS_EMBED_H
#include <stddef.h>
struct sch_embedded {
	const char *name;
	const char *data;
	size_t len;
};
/* Terminated by an entry whose name is NULL. */
extern const struct sch_embedded sch_embedded_hooks[];
/* The man pages (man/NAME.1), same layout. */
extern const struct sch_embedded sch_embedded_man[];
#endif
