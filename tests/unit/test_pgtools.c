/* test_pgtools.c - finding a pg_dump for a server's major. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schema/buf.h"
#include "schema/error.h"
#include "schema/pgtools.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/schema-pgtools.XXXXXX");
	cr_assert(mkdtemp(dir));
	unsetenv("PG_BINDIR");
}

static void teardown(void)
{
	char *p = xasprintf("%s/pg_dump", dir);

	unlink(p);
	rmdir(dir);
	free(p);
}

TestSuite(pgtools, .init = setup, .fini = teardown);

/* A pg_dump in dir that says it is version `ver`. */
static void fake(const char *ver)
{
	char *p = xasprintf("%s/pg_dump", dir);
	FILE *f = fopen(p, "w");

	cr_assert(f);
	fprintf(f, "#!/bin/sh\necho 'pg_dump (PostgreSQL) %s (Test)'\n", ver);
	fclose(f);
	chmod(p, 0755);
	free(p);
}

Test(pgtools, reads_the_major_of_a_version_line)
{
	char *p = xasprintf("%s/pg_dump", dir);

	fake("18.4");
	cr_assert_eq(sch_pgtools_major(p), 18);
	fake("9.6.24");
	cr_assert_eq(sch_pgtools_major(p), 9);
	cr_assert_eq(sch_pgtools_major("/nonexistent/pg_dump"), -1);
	free(p);
}

Test(pgtools, takes_the_configured_directory_when_new_enough)
{
	struct sch_buf out = SCH_BUF_INIT;
	char *p = xasprintf("%s/pg_dump", dir);

	fake("99.1");
	cr_assert_eq(sch_pgtools_find(&out, "pg_dump", 99, dir), 0, "%s",
		     sch_error_msg());
	cr_assert_str_eq(out.ptr, p);
	/* PG_BINDIR is the next place */
	setenv("PG_BINDIR", dir, 1);
	sch_buf_reset(&out);
	cr_assert_eq(sch_pgtools_find(&out, "pg_dump", 99, NULL), 0);
	cr_assert_str_eq(out.ptr, p);
	sch_buf_release(&out);
	free(p);
}

Test(pgtools, too_old_everywhere_names_the_major_needed_and_how_to_point_at_it)
{
	struct sch_buf out = SCH_BUF_INIT;

	fake("14.0");
	cr_assert_eq(sch_pgtools_find(&out, "pg_dump", 99, dir), SCH_EDB);
	cr_assert(strstr(sch_error_msg(), "pg_dump 99 or later is needed"),
		  "%s", sch_error_msg());
	cr_assert(strstr(sch_error_msg(), "cannot work with PostgreSQL 99"),
		  "%s", sch_error_msg());
	cr_assert(strstr(sch_error_hint_msg(), "PG_BINDIR") &&
		  strstr(sch_error_hint_msg(), "core.pg-bindir"), "%s",
		  sch_error_hint_msg());
	sch_buf_release(&out);
}
