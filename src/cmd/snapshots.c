/* snapshots.c - list the stored snapshots. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schema/cmd.h"
#include "schema/error.h"
#include "schema/seal.h"
#include "schema/snapshot.h"

static void when(char *out, size_t n, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *one_json(const struct sch_snap_info *s)
{
	json_t *o = json_object(), *heads = json_array();
	char hex[SCH_HEX_LEN + 1], t[32];

	sch_id_hex(hex, &s->id);
	json_object_set_new(o, "id", json_string(hex));
	if (s->damaged) {
		json_object_set_new(o, "damaged", json_true());
		json_object_set_new(o, "encrypted", json_boolean(s->sealed));
		json_decref(heads);
		return o;
	}
	when(t, sizeof(t), s->m.time);
	json_object_set_new(o, "time", json_string(t));
	json_object_set_new(o, "encrypted", json_boolean(s->sealed));
	if (s->sealed) {
		sch_id_hex(hex, &s->m.key_id);
		json_object_set_new(o, "key", json_string(hex));
	} else {
		json_object_set_new(o, "key", json_null());
	}
	json_object_set_new(o, "opened", json_boolean(!s->sealed ||
						      s->m.opened));
	if (s->sealed && !s->m.opened) {
		/* what only the key would tell */
		static const char *const hidden[] = {
			"database", "server", "note", "heads", "state",
			"tables", "sequences", "rows", "raw_bytes",
		};
		for (size_t i = 0; i < sizeof(hidden) / sizeof(*hidden); i++)
			json_object_set_new(o, hidden[i], json_null());
		json_object_set_new(o, "stored_bytes",
				    json_integer((json_int_t)s->stored_bytes));
		json_object_set_new(o, "added_bytes",
				    json_integer((json_int_t)s->added_bytes));
		json_decref(heads);
		return o;
	}
	json_object_set_new(o, "database", json_string(s->m.database));
	json_object_set_new(o, "server", json_integer(s->m.server));
	json_object_set_new(o, "note", s->m.note ? json_string(s->m.note)
						 : json_null());
	for (size_t i = 0; i < s->m.nheads; i++) {
		sch_id_hex(hex, &s->m.heads[i]);
		json_array_append_new(heads, json_string(hex));
	}
	json_object_set_new(o, "heads", heads);
	heads = NULL;
	if (s->m.has_state) {
		sch_id_hex(hex, &s->m.state);
		json_object_set_new(o, "state", json_string(hex));
	} else {
		json_object_set_new(o, "state", json_null());
	}
	json_object_set_new(o, "tables", json_integer((json_int_t)s->m.ntables));
	json_object_set_new(o, "sequences",
			    json_integer((json_int_t)s->m.nseqs));
	json_object_set_new(o, "rows", json_integer((json_int_t)s->rows));
	json_object_set_new(o, "raw_bytes",
			    json_integer((json_int_t)s->raw_bytes));
	json_object_set_new(o, "stored_bytes",
			    json_integer((json_int_t)s->stored_bytes));
	json_object_set_new(o, "added_bytes",
			    json_integer((json_int_t)s->added_bytes));
	return o;
}

static void size_str(char *out, size_t n, uint64_t v)
{
	const char *u[] = { "B", "K", "M", "G", "T" };
	double d = (double)v;
	int i = 0;

	while (d >= 1024 && i < 4) {
		d /= 1024;
		i++;
	}
	snprintf(out, n, i ? "%.1f%s" : "%.0f%s", d, u[i]);
}

/* Unlists snapshots in one write transaction; gc frees their data. */
static int delete_snapshots(struct sch_ctx *ctx, int n, char **ids)
{
	struct sch_txn *w = NULL;
	struct sch_buf done = SCH_BUF_INIT;
	char sh[SCH_SHORT_LEN + 1];
	int rc;

	if (n < 1)
		return sch_error_set(SCH_EUSAGE, "--delete needs snapshot ids");
	rc = sch_txn_begin(&w, ctx->store, 1);
	for (int i = 0; i < n && !rc; i++) {
		struct sch_id id;
		rc = sch_snapshot_resolve(&id, w, ids[i]);
		if (!rc)
			rc = sch_kv_del(w, SCH_DB_SNAPSHOTS, id.b, SCH_ID_LEN);
		if (!rc) {
			sch_id_short(sh, &id);
			sch_buf_addf(&done, "deleted snapshot %s\n", sh);
		}
	}
	if (!rc) {
		rc = sch_txn_commit(w);
		w = NULL;
	}
	sch_txn_abort(w);
	/* said only once it is so */
	if (!rc)
		printf("%srun 'schema gc' to free what only %s held\n",
		       done.ptr, n == 1 ? "it" : "they");
	sch_buf_release(&done);
	return rc;
}

SCH_CMD(snapshots)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "full", no_argument, NULL, 'f' },
		{ "delete", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct sch_snap_info *v = NULL;
	struct sch_seal_key key;
	size_t n = 0;
	int c, rc, json = 0, full = 0, del = 0, have_key;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'f': full = 1; break;
		case 'd': del = 1; break;
		default:
			return sch_cmd_optfail(c, argv, ctx->verb, opts);
		}
	}
	if (del)
		return delete_snapshots(ctx, argc - optind, argv + optind);
	if (optind < argc)
		return sch_error_set(SCH_EUSAGE, "snapshots takes no arguments: "
				     "'%s'", argv[optind]);
	/* with SCHEMA_BACKUP_KEY_FILE, what that key sealed is shown whole */
	have_key = sch_cmd_backup_key(&key, ctx, NULL);
	if (have_key < 0)
		return have_key;
	rc = sch_snapshot_list(&v, &n, ctx->txn, have_key ? &key : NULL);
	if (have_key)
		sch_seal_key_wipe(&key);
	if (rc)
		return rc;
	if (json) {
		json_t *a = json_array();
		char *s;
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, one_json(&v[i]));
		s = json_dumps(a, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
		json_decref(a);
	} else {
		for (size_t i = 0; i < n; i++) {
			const struct sch_snap_info *s = &v[i];
			char hex[SCH_HEX_LEN + 1], t[32], raw[16], st[16],
				add[16];
			if (full)
				sch_id_hex(hex, &s->id);
			else
				sch_id_short(hex, &s->id);
			if (s->damaged) {
				printf("%s  (damaged manifest%s)\n", hex,
				       s->sealed ? ", encrypted" : "");
				continue;
			}
			when(t, sizeof(t), s->m.time);
			size_str(raw, sizeof(raw), s->raw_bytes);
			size_str(st, sizeof(st), s->stored_bytes);
			size_str(add, sizeof(add), s->added_bytes);
			if (s->sealed && !s->m.opened) {
				char kid[SCH_HEX_LEN + 1];
				sch_id_hex(kid, &s->m.key_id);
				printf("%s %s (encrypted)  %s stored, %s new, key "
				       "%.12s\n", hex, t, st, add, kid);
				continue;
			}
			printf("%s %s %s  %zu tables, %llu rows, %s raw, %s "
			       "stored, %s new", hex, t, s->m.database,
			       s->m.ntables, (unsigned long long)s->rows, raw,
			       st, add);
			for (size_t k = 0; k < s->m.nheads; k++) {
				char h[SCH_SHORT_LEN + 1];
				sch_id_short(h, &s->m.heads[k]);
				printf("%s%s", k ? "," : "  heads ", h);
			}
			if (s->m.note)
				printf("  \"%s\"", s->m.note);
			if (s->sealed)
				printf("  (encrypted)");
			putchar('\n');
		}
	}
	sch_snapshot_list_free(v, n);
	return 0;
}
