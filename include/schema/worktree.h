/*
 * worktree.h - the `migrations/` directory: one `<seq>_<slug>/` directory a
 * migration with up.sql, down.sql, optional verify.sql and `meta`.
 *
 * `meta` uses the revision header syntax without the script lines:
 *
 *   parent <dirname or id>   (0..n)
 *   depends <dirname or id>  (0..n)
 *   supersedes <id>          (0..n; 64 hex digits, or a prefix of a stored
 *                             revision)
 *   label <name>             (0..n)
 *   flag <notx|irreversible> (0..n)
 *   author Name <email> <unix-seconds> <+hhmm>   (optional)
 *
 *   <message>
 */
#ifndef SCH_WORKTREE_H
#define SCH_WORKTREE_H

#include <stddef.h>
#include <stdint.h>

#include "schema/buf.h"
#include "schema/env.h"
#include "schema/object.h"
#include "schema/revision.h"

#define SCH_SCRIPT_MAX ((size_t)64 << 20)

struct sch_meta {
	char **parents;
	size_t nparents;
	char **depends;
	size_t ndepends;
	char **supersedes;
	size_t nsupersedes;
	char **labels;
	size_t nlabels;
	char **flags;
	size_t nflags;
	char *author; /* "Name <email>" or NULL */
	int64_t time;
	char tz[6];
	char *message;
};

void sch_meta_init(struct sch_meta *m);
void sch_meta_release(struct sch_meta *m);
/*
 * Parses a meta file's text; `file` names it in errors, which carry the
 * line: "migrations/0003_x/meta:4: unknown header 'foo'". Returns 0 or
 * SCH_EPARSE.
 */
int sch_meta_parse(struct sch_meta *out, const char *text, size_t len,
		   const char *file);
void sch_meta_format(struct sch_buf *out, const struct sch_meta *m);

struct sch_wt_entry {
	char *name;	      /* "0003_create_tasks" */
	unsigned long seq;
	struct sch_meta meta;
	struct sch_buf up, down, verify;
	int has_verify;
	int resolved;	      /* 0 no, 1 in progress, 2 done */
	struct sch_id id;     /* valid when resolved == 2 */
	struct sch_rev rev;   /* valid when resolved == 2 */
};

struct sch_wt {
	char *dir;
	struct sch_wt_entry *e; /* sorted by seq, then name */
	size_t n;
	size_t *byid;		/* entry indices sorted by id, after resolve */
};

/*
 * Loads every migration directory under dir (a missing dir is an empty
 * worktree). Entries that do not look like `<digits>_<slug>` are ignored.
 * Returns 0, SCH_EPARSE (bad meta, file and line named), SCH_ENOTFOUND
 * (a required file missing, named), SCH_EIO, SCH_ETOOBIG.
 */
int sch_wt_load(struct sch_wt *out, const char *dir);
void sch_wt_release(struct sch_wt *wt);

/*
 * Computes every entry's revision and id. A parent or depends names a
 * directory of the worktree or a revision (full id or unique prefix) in
 * the store. Returns 0, SCH_ENOTFOUND (parent named), SCH_EAMBIGUOUS,
 * SCH_EPARSE (cycle, bad flag or label).
 */
int sch_wt_resolve(struct sch_wt *wt, struct sch_txn *t);

struct sch_wt_entry *sch_wt_find(const struct sch_wt *wt, const char *name);
struct sch_wt_entry *sch_wt_find_id(const struct sch_wt *wt,
				    const struct sch_id *id);

/*
 * 1 when the directory was committed as another revision than it makes
 * now (edited after its commit), else 0. *direct is set when its own
 * files changed, and left 0 when only a parent it names changed.
 */
int sch_wt_edited(struct sch_txn *t, const struct sch_wt_entry *e,
		  int *direct);

/*
 * Records the stat signature (size and mtime of meta, up.sql, down.sql,
 * verify.sql) of a committed directory, so that later checks can skip
 * reading directories whose files were not touched. Returns 0 or an LMDB
 * error.
 */
int sch_wt_record_stat(struct sch_txn *t, const char *dir, const char *name);

/*
 * The fast check behind `status`: directories of dir whose own files
 * changed since their commit (edited, appended to edited as names) and
 * directories never committed (to uncommitted). Only directories whose
 * stat signature changed are read. Either list may be NULL.
 * Returns 0, SCH_EIO.
 */
struct sch_strlist {
	char **v;
	size_t n;
};
void sch_strlist_release(struct sch_strlist *l);
/* Appends a copy of s. */
void sch_strlist_push(struct sch_strlist *l, const char *s);
/* Appends "a, b, c and N more": the first max items, then how many
 * others there are. */
void sch_strlist_join(struct sch_buf *out, const struct sch_strlist *l,
		      size_t max);
int sch_wt_scan_edits(struct sch_txn *t, const char *dir,
		      struct sch_strlist *edited, struct sch_strlist *uncommitted);

/* Stores the entry's blobs and revision. Returns 0, SCH_EFULL, SCH_EIO. */
int sch_wt_store(struct sch_txn *t, const struct sch_wt_entry *e);

/* Next directory name for a message: (max seq + 1) zero-padded to 4
 * digits, "_", a slug of the message. */
void sch_wt_next_name(struct sch_buf *out, const struct sch_wt *wt,
		      const char *message);

/*
 * Creates dir/name with meta, up.sql, down.sql, written to a temporary
 * directory first and renamed into place. Returns 0, SCH_EEXISTS, SCH_EIO.
 */
int sch_wt_create(const char *dir, const char *name, const struct sch_meta *m,
		  const char *up, const char *down);

/* The directory a revision was committed from, or NULL (malloc'd). The
 * names are read once a process: a directory committed later in the same
 * process is not seen. */
char *sch_wt_dir_name(struct sch_txn *t, const struct sch_id *id);

#endif
