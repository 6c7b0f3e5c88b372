/*
 * refs.h - references: `heads/<branch>`, `tags/<tag>` and the symbolic
 * `HEAD`, each update appended to the reflog.
 */
#ifndef SCH_REFS_H
#define SCH_REFS_H

#include <stdint.h>

#include "schema/buf.h"
#include "schema/env.h"
#include "schema/object.h"

/*
 * Checks a branch or tag name (without the heads/ or tags/ prefix) the way
 * git check-ref-format does, and refuses the spec keywords head, heads,
 * base. Returns 0 or SCH_EINVAL with the reason.
 */
int sch_ref_check_name(const char *name);

/*
 * Reads a ref, following one symbolic level. Returns 0, SCH_ENOTFOUND
 * (missing, or HEAD naming a branch with no revision yet), SCH_ECORRUPT.
 */
int sch_ref_read(struct sch_id *out, struct sch_txn *t, const char *name);
/*
 * If `name` is symbolic, puts its target (e.g. "heads/main") in target
 * and returns 1; returns 0 when it is direct, SCH_ENOTFOUND when missing.
 */
int sch_ref_read_symbolic(struct sch_buf *target, struct sch_txn *t,
			  const char *name);
/* Writes a ref (and a reflog entry with `msg`). Returns 0, SCH_EFULL,
 * SCH_EIO. */
int sch_ref_write(struct sch_txn *t, const char *name,
		  const struct sch_id *id, const char *msg);
int sch_ref_write_symbolic(struct sch_txn *t, const char *name,
			   const char *target, const char *msg);
/* Deletes a ref. Returns 0, SCH_ENOTFOUND, SCH_EIO. */
int sch_ref_delete(struct sch_txn *t, const char *name, const char *msg);

/* Calls cb for each direct ref whose name starts with prefix, in name
 * order; a non-zero return of cb stops and is returned. */
typedef int (*sch_ref_cb)(const char *name, const struct sch_id *id,
			  void *arg);
int sch_ref_each(struct sch_txn *t, const char *prefix, sch_ref_cb cb,
		 void *arg);

struct sch_reflog_entry {
	uint64_t seq;
	const char *name;
	struct sch_id old_id; /* zero when created */
	struct sch_id new_id; /* zero when deleted */
	int64_t time;
	const char *msg;
};
typedef int (*sch_reflog_cb)(const struct sch_reflog_entry *e, void *arg);
/* Calls cb for each reflog entry, oldest first. */
int sch_reflog_each(struct sch_txn *t, sch_reflog_cb cb, void *arg);

#endif
