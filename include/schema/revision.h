/*
 * revision.h - the `rev` object: parents, depends, scripts, labels, flags,
 * author and message, in the line format of DESIGN.md:
 *
 *   parent <id>      (0..n)
 *   depends <id>     (0..n)
 *   supersedes <id>  (0..n; revisions this one replaces, docs/formats.md)
 *   up <blob-id>
 *   down <blob-id>
 *   verify <blob-id> (optional)
 *   label <name>     (0..n)
 *   flag <name>      (0..n; notx, irreversible)
 *   author <name> <email> <unix-seconds> <+hhmm>   (optional)
 *
 *   <message>
 */
#ifndef SCH_REVISION_H
#define SCH_REVISION_H

#include <stddef.h>
#include <stdint.h>

#include "schema/buf.h"
#include "schema/env.h"
#include "schema/object.h"

#define SCH_REV_MAX_PARENTS 64

struct sch_rev {
	struct sch_id *parents;
	size_t nparents;
	struct sch_id *depends;
	size_t ndepends;
	struct sch_id *supersedes; /* revisions this one replaces (need not
				      be stored) */
	size_t nsupersedes;
	struct sch_id up, down, verify;
	int has_verify;
	char **labels;
	size_t nlabels;
	char **flags;
	size_t nflags;
	char *author;	/* "Name <email>", NULL when absent */
	int64_t time;	/* author time, seconds */
	char tz[6];	/* "+hhmm" */
	char *message;	/* never NULL; ends with '\n' unless empty */
};

void sch_rev_init(struct sch_rev *r);
void sch_rev_release(struct sch_rev *r);

/* Parses a rev body strictly. Returns 0 or SCH_ECORRUPT (line named). */
int sch_rev_parse(struct sch_rev *out, const char *body, size_t len);
/* Appends the canonical body of r to out. */
void sch_rev_format(struct sch_buf *out, const struct sch_rev *r);
/* Reads, verifies and parses a stored revision. Returns 0, SCH_ENOTFOUND,
 * SCH_ECORRUPT, SCH_EIO. */
int sch_rev_load(struct sch_rev *out, struct sch_txn *t,
		 const struct sch_id *id);

/* The first line of the message (pointer into a static-per-call copy is
 * avoided: writes into out, replacing its content). */
void sch_rev_subject(struct sch_buf *out, const struct sch_rev *r);
int sch_rev_has_flag(const struct sch_rev *r, const char *flag);
/* 1 when `flag` is one the format knows (notx, irreversible). */
int sch_rev_flag_known(const char *flag);

/* Parses an author value "Name <email> 1234567890 +0000" into r.
 * Returns 0 or SCH_EPARSE (no message set). */
int sch_rev_parse_author(struct sch_rev *r, const char *v, size_t n);

/* The parents as a PostgreSQL text[] literal ("{hex,hex}"), malloc'd. */
char *sch_rev_parents_array(const struct sch_rev *r);

void sch_rev_add_parent(struct sch_rev *r, const struct sch_id *id);
void sch_rev_add_depends(struct sch_rev *r, const struct sch_id *id);
void sch_rev_add_supersedes(struct sch_rev *r, const struct sch_id *id);
/* 1 when r names id in a supersedes line. */
int sch_rev_supersedes(const struct sch_rev *r, const struct sch_id *id);
void sch_rev_add_label(struct sch_rev *r, const char *label);
void sch_rev_add_flag(struct sch_rev *r, const char *flag);

/* A revision as a JSON object, as log --json and show --json print it
 * (id, parents, depends, supersedes, labels, flags, author, time, tz,
 * subject, message, and refs when deco is not NULL); a new reference. */
struct json_t;
struct json_t *sch_rev_json(const struct sch_id *id, const struct sch_rev *r,
			    const char *deco);

#endif
