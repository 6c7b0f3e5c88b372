/* test_buf.c - growable buffers, hex, whole-file reads and atomic writes. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schema/buf.h"
#include "schema/error.h"
#include "unit/testutil.h"


static char tmpdir[64];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/schema-test-buf.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void teardown(void)
{
	rm_tree(tmpdir);
	leak_check();
}

TestSuite(buf, .init = setup, .fini = teardown);

Test(buf, fresh_buffer_is_an_empty_string)
{
	struct sch_buf b = SCH_BUF_INIT;

	cr_assert_eq(b.len, 0);
	cr_assert_str_eq(b.ptr, "");
	sch_buf_release(&b);
	cr_assert_str_eq(b.ptr, "");
}

Test(buf, grows_past_many_doublings_and_stays_terminated)
{
	struct sch_buf b = SCH_BUF_INIT;

	for (int i = 0; i < 100000; i++)
		cr_assert_eq(sch_buf_addch(&b, (char)('a' + i % 26)), 0);
	cr_assert_eq(b.len, 100000);
	cr_assert_geq(b.cap, b.len + 1);
	cr_assert_eq(b.ptr[b.len], '\0');
	for (int i = 0; i < 100000; i++)
		cr_assert_eq(b.ptr[i], (char)('a' + i % 26));
	sch_buf_release(&b);
}

Test(buf, add_keeps_embedded_nul_bytes)
{
	struct sch_buf b = SCH_BUF_INIT;

	sch_buf_add(&b, "a\0b", 3);
	cr_assert_eq(b.len, 3);
	cr_assert_eq(memcmp(b.ptr, "a\0b", 4), 0);
	sch_buf_release(&b);
}

Test(buf, addf_appends_formatted_text)
{
	struct sch_buf b = SCH_BUF_INIT;
	char big[3000];

	sch_buf_addstr(&b, "x=");
	cr_assert_eq(sch_buf_addf(&b, "%d,%s,%05.1f", 42, "y", 3.14159), 0);
	cr_assert_str_eq(b.ptr, "x=42,y,003.1");
	cr_assert_eq(b.len, strlen("x=42,y,003.1"));
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(sch_buf_addf(&b, "[%s]", big), 0);
	cr_assert_eq(b.len, 12 + 2 + sizeof(big) - 1);
	cr_assert_eq(b.ptr[b.len - 1], ']');
	cr_assert_eq(b.ptr[b.len], '\0');
	sch_buf_release(&b);
}

Test(buf, add_past_cap_is_too_big_and_leaves_buffer_unchanged)
{
	struct sch_buf b = SCH_BUF_INIT;

	b.max = 8;
	cr_assert_eq(sch_buf_addstr(&b, "12345"), 0);
	cr_assert_eq(sch_buf_addstr(&b, "6789"), SCH_ETOOBIG);
	cr_assert_eq(sch_error_code(), SCH_ETOOBIG);
	cr_assert_str_eq(b.ptr, "12345");
	cr_assert_eq(b.len, 5);
	cr_assert_eq(sch_buf_addstr(&b, "678"), 0, "exactly the cap fits");
	cr_assert_eq(b.len, 8);
	cr_assert_eq(sch_buf_addch(&b, 'x'), SCH_ETOOBIG);
	cr_assert_str_eq(b.ptr, "12345678");
	sch_buf_release(&b);
	cr_assert_eq(b.max, 8, "release keeps the cap");
}

Test(buf, addf_past_cap_is_too_big_and_leaves_buffer_unchanged)
{
	struct sch_buf b = SCH_BUF_INIT;

	b.max = 10;
	sch_buf_addstr(&b, "abc");
	cr_assert_eq(sch_buf_addf(&b, "%s", "defghijk"), SCH_ETOOBIG);
	cr_assert_str_eq(b.ptr, "abc");
	cr_assert_eq(b.len, 3);
	cr_assert_eq(sch_buf_addf(&b, "%d", 1234567), 0);
	cr_assert_str_eq(b.ptr, "abc1234567");
	sch_buf_release(&b);
}

Test(buf, cap_check_does_not_overflow_on_huge_length)
{
	struct sch_buf b = SCH_BUF_INIT;

	b.max = 16;
	sch_buf_addstr(&b, "abc");
	cr_assert_eq(sch_buf_add(&b, "x", SIZE_MAX - 1), SCH_ETOOBIG);
	cr_assert_eq(b.len, 3);
	sch_buf_release(&b);
}

Test(buf, truncate_and_reset)
{
	struct sch_buf b = SCH_BUF_INIT;

	sch_buf_addstr(&b, "hello world");
	sch_buf_truncate(&b, 5);
	cr_assert_str_eq(b.ptr, "hello");
	sch_buf_truncate(&b, 50);
	cr_assert_str_eq(b.ptr, "hello", "truncating longer is a no-op");
	sch_buf_reset(&b);
	cr_assert_eq(b.len, 0);
	cr_assert_str_eq(b.ptr, "");
	sch_buf_release(&b);
}

Test(buf, detach_hands_over_content_and_reinitialises)
{
	struct sch_buf b = SCH_BUF_INIT;
	size_t len = 99;
	char *s;

	sch_buf_addstr(&b, "content");
	s = sch_buf_detach(&b, &len);
	cr_assert_str_eq(s, "content");
	cr_assert_eq(len, 7);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(b.cap, 0);
	cr_assert_str_eq(b.ptr, "");
	free(s);

	s = sch_buf_detach(&b, &len);
	cr_assert_str_eq(s, "", "an empty buffer detaches a fresh string");
	cr_assert_eq(len, 0);
	free(s);
}

Test(buf, xasprintf_formats_a_new_string)
{
	char *s = xasprintf("%s-%03d", "v", 7);

	cr_assert_str_eq(s, "v-007");
	free(s);
}

Test(buf, hex_round_trips_every_byte_value)
{
	unsigned char in[256], out[256];
	char hex[513];

	for (int i = 0; i < 256; i++)
		in[i] = (unsigned char)i;
	sch_hex(hex, in, sizeof(in));
	cr_assert_eq(strlen(hex), 512);
	cr_assert_eq(strncmp(hex, "000102", 6), 0);
	cr_assert_str_eq(hex + 506, "fdfeff");
	cr_assert_eq(sch_unhex(out, hex, sizeof(out)), 0);
	cr_assert_eq(memcmp(in, out, sizeof(in)), 0);
}

Test(buf, unhex_accepts_upper_case_and_rejects_non_hex)
{
	unsigned char out[2];

	cr_assert_eq(sch_unhex(out, "ABcd", 2), 0);
	cr_assert_eq(out[0], 0xab);
	cr_assert_eq(out[1], 0xcd);
	cr_assert_eq(sch_unhex(out, "0g", 1), SCH_EINVAL);
	cr_assert_eq(sch_unhex(out, "g0", 1), SCH_EINVAL);
	cr_assert_eq(sch_unhex(out, "0", 1), SCH_EINVAL, "odd digit count");
	cr_assert_eq(sch_unhex(out, " 1", 1), SCH_EINVAL);
}

Test(buf, read_file_of_missing_path_is_not_found)
{
	struct sch_buf b = SCH_BUF_INIT;
	char *path = xasprintf("%s/missing", tmpdir);

	cr_assert_eq(sch_buf_read_file(&b, path), SCH_ENOTFOUND);
	cr_assert(strstr(sch_error_msg(), "missing"), "message names the file: %s",
		  sch_error_msg());
	cr_assert_eq(b.len, 0);
	free(path);
	sch_buf_release(&b);
}

Test(buf, read_file_of_a_directory_is_an_io_error)
{
	struct sch_buf b = SCH_BUF_INIT;

	cr_assert_eq(sch_buf_read_file(&b, tmpdir), SCH_EIO);
	sch_buf_release(&b);
}

Test(buf, read_file_appends_and_respects_cap)
{
	struct sch_buf b = SCH_BUF_INIT;
	char *path = xasprintf("%s/f", tmpdir);
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs("0123456789", f);
	fclose(f);
	sch_buf_addstr(&b, ">");
	cr_assert_eq(sch_buf_read_file(&b, path), 0);
	cr_assert_str_eq(b.ptr, ">0123456789");
	sch_buf_release(&b);

	b.max = 5;
	cr_assert_eq(sch_buf_read_file(&b, path), SCH_ETOOBIG);
	sch_buf_release(&b);
	free(path);
}

Test(buf, atomic_write_creates_replaces_and_leaves_no_temporary)
{
	struct sch_buf b = SCH_BUF_INIT;
	char *path = xasprintf("%s/out", tmpdir);
	struct dirent *de;
	int entries = 0;
	DIR *d;

	cr_assert_eq(sch_write_file_atomic(path, "first\0x", 7), 0);
	cr_assert_eq(sch_buf_read_file(&b, path), 0);
	cr_assert_eq(b.len, 7);
	cr_assert_eq(memcmp(b.ptr, "first\0x", 7), 0);
	sch_buf_reset(&b);

	cr_assert_eq(sch_write_file_atomic(path, "second", 6), 0);
	cr_assert_eq(sch_buf_read_file(&b, path), 0);
	cr_assert_str_eq(b.ptr, "second");

	d = opendir(tmpdir);
	cr_assert_not_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			entries++;
	closedir(d);
	cr_assert_eq(entries, 1, "only the target file remains");
	free(path);
	sch_buf_release(&b);
}

Test(buf, atomic_write_into_missing_directory_is_an_io_error)
{
	char *path = xasprintf("%s/no/such/file", tmpdir);

	cr_assert_eq(sch_write_file_atomic(path, "x", 1), SCH_EIO);
	free(path);
}
