/*
 * revspec.h - revision specs to ids.
 *
 *   spec   := base suffix*
 *   base   := head | HEAD | heads | base | <branch>@head | <label>@head
 *           | <branch> | <tag> | <migration directory> | <hex prefix>
 *           | -N | +N            (relative: needs a database, see below)
 *   suffix := ~[N] | ^[N]       (N-th first parent, N-th parent)
 */
#ifndef SCH_REVSPEC_H
#define SCH_REVSPEC_H

#include <stddef.h>

#include "schema/env.h"
#include "schema/object.h"

struct sch_idlist {
	struct sch_id *v;
	size_t n, cap;
};

void sch_idlist_push(struct sch_idlist *l, const struct sch_id *id);
/* Appends unless already present. */
void sch_idlist_add(struct sch_idlist *l, const struct sch_id *id);
int sch_idlist_has(const struct sch_idlist *l, const struct sch_id *id);
void sch_idlist_release(struct sch_idlist *l);

/*
 * Resolver for relative specs (-N, +N): given the spec text, appends the
 * ids it names. NULL when no database is involved.
 */
typedef int (*sch_revspec_relative_fn)(struct sch_idlist *out,
				       const char *spec, void *arg);

/*
 * Resolves one spec, appending the ids it names to out (none for `base`,
 * several for `heads`). Returns 0, SCH_EINVAL (malformed spec),
 * SCH_ENOTFOUND (unknown; the message names the spec and the hint lists
 * branches and tags), SCH_EAMBIGUOUS (the candidates listed).
 */
int sch_revspec_resolve(struct sch_idlist *out, struct sch_txn *t,
			const char *spec, sch_revspec_relative_fn rel,
			void *rel_arg);
/* Resolves a spec that must name exactly one revision. */
int sch_revspec_one(struct sch_id *out, struct sch_txn *t, const char *spec);

#endif
