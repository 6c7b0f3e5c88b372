/*
 * manifest.h - the body of a `snap` object: what a snapshot holds and the
 * chunk ids of each table's data (docs/formats.md, section 8).
 *
 *	snapshot 1
 *	time <unix-seconds>
 *	database <word>
 *	server <server_version_num>
 *	encoding <word>
 *	note <word>				0 or 1
 *	head <id>				0 or more
 *	pre-data <id>
 *	post-data <id>
 *	sequence <schema> <name> <last_value> t|f	0 or more
 *	table <schema> <name> binary|text <rows> <bytes>	0 or more, each:
 *	column <word>				0 or more
 *	part <rows> <bytes> <nchunks>		1 or more, each:
 *	chunk <id>				exactly nchunks
 *
 * Every line ends with LF, lines come in exactly this order, numbers are
 * decimal without leading zeros, ids 64 lowercase hex digits. A <word> is
 * non-empty; its bytes 0x00-0x20, 0x25 ('%') and 0x7f are written %XX
 * (uppercase hex) and no other byte is escaped, so each manifest has one
 * encoding. A table's rows and bytes are the sums of its parts'.
 */
#ifndef SCH_MANIFEST_H
#define SCH_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "schema/buf.h"
#include "schema/object.h"

#define SCH_MANIFEST_VERSION 1

struct sch_mf_part {
	uint64_t rows, bytes;	/* of this COPY stream */
	struct sch_id *chunks;	/* in stream order */
	size_t nchunks;
};

struct sch_mf_table {
	char *schema, *name;
	int binary;		/* COPY format: 1 binary, 0 text */
	uint64_t rows, bytes;
	char **cols;		/* the COPY column list, in order */
	size_t ncols;
	struct sch_mf_part *parts; /* each one COPY stream, in ctid order */
	size_t nparts;
};

struct sch_mf_seq {
	char *schema, *name;
	int64_t last_value;
	int is_called;
};

struct sch_manifest {
	int64_t time;
	char *database;
	long server;		/* server_version_num */
	char *encoding;
	char *note;		/* NULL when none */
	struct sch_id *heads;	/* registry heads at the snapshot */
	size_t nheads;
	struct sch_id pre_data, post_data; /* blobs: pg_dump sections */
	struct sch_mf_seq *seqs;
	size_t nseqs;
	struct sch_mf_table *tables;
	size_t ntables;
};

/* Zeroes m. */
void sch_manifest_init(struct sch_manifest *m);
/* Frees everything m owns and zeroes it. */
void sch_manifest_release(struct sch_manifest *m);

/*
 * Parses a manifest strictly into out (initialised here; release it even
 * on failure). Returns 0 or SCH_ECORRUPT naming the line.
 */
int sch_manifest_parse(struct sch_manifest *out, const void *data,
		       size_t len);

/* Appends the manifest text of m to out. Strings must be non-empty. */
void sch_manifest_format(struct sch_buf *out, const struct sch_manifest *m);

/* Appends s (len bytes) as a manifest word. */
void sch_manifest_word(struct sch_buf *out, const char *s, size_t len);

#endif
