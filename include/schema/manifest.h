/*
 * manifest.h - the body of a `snap` object: what a snapshot holds and the
 * chunk ids of each table's data (docs/formats.md, section 8).
 *
 *	snapshot 1|2
 *	time <unix-seconds>
 *	database <word>
 *	server <server_version_num>
 *	encoding <word>
 *	note <word>				0 or 1
 *	head <id>				0 or more
 *	state <id> [<blob-id>]			version 2 only, exactly 1
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
 * encoding. A table's rows and bytes are the sums of its parts'. Version 1
 * (before states were recorded) has no state line, version 2 has one; the
 * second id of a state line (the sealed blob holding the state text) is
 * only found inside a sealed manifest.
 *
 * A sealed (encrypted) snapshot's `snap` body is instead a clear envelope
 * that store-level code (fsck, gc, listing) reads without the key:
 *
 *	sealed-snapshot 1
 *	time <unix-seconds>
 *	key <key-id>
 *	blob <id>				1 or more, sorted, distinct
 *	chunk <id>				0 or more, sorted, distinct
 *	sealed <length>
 *	<length bytes: a box (schema/seal.h) of a version 2 manifest>
 *
 * The box's associated data is the envelope up to and including the
 * `sealed` line, so no clear byte can change unnoticed; the blob and
 * chunk lines are exactly the objects the sealed manifest names.
 */
#ifndef SCH_MANIFEST_H
#define SCH_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "schema/buf.h"
#include "schema/object.h"

#define SCH_MANIFEST_VERSION 2
#define SCH_MANIFEST_SEALED_VERSION 1

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
	int version;		/* of a parsed manifest: 1 or 2 */
	int64_t time;
	char *database;
	long server;		/* server_version_num */
	char *encoding;
	char *note;		/* NULL when none */
	struct sch_id *heads;	/* registry heads at the snapshot */
	size_t nheads;
	int has_state;		/* version 2 */
	struct sch_id state;	/* the schema's state (catalog.h) */
	int has_state_blob;	/* sealed: the blob holding its text */
	struct sch_id state_blob;
	struct sch_id pre_data, post_data; /* blobs: pg_dump sections */
	struct sch_mf_seq *seqs;
	size_t nseqs;
	struct sch_mf_table *tables;
	size_t ntables;
	/*
	 * A sealed snapshot: the envelope's fields. Until the box is opened
	 * (snapshot.h), only time and these are set; opening fills the
	 * rest and sets opened.
	 */
	int sealed, opened;
	struct sch_id key_id;
	struct sch_id *blobs, *chunks; /* sorted, distinct */
	size_t nblobs, nchunks;
	unsigned char *box;
	size_t boxlen;
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

/*
 * Parses the text inside a sealed box (a version 2 manifest whose state
 * line names its blob) into out. Returns 0 or SCH_ECORRUPT.
 */
int sch_manifest_parse_sealed(struct sch_manifest *out, const void *data,
			      size_t len);

/*
 * Appends the manifest text of m to out. Strings must be non-empty. A
 * sealed, unopened m gives its envelope and box; otherwise the plain
 * text (version 2 when m->has_state, else 1).
 */
void sch_manifest_format(struct sch_buf *out, const struct sch_manifest *m);

/*
 * Appends the envelope of a sealed manifest up to and including its
 * `sealed <boxlen>` line (the box's associated data): m's time, key_id,
 * blobs and chunks.
 */
void sch_manifest_format_envelope(struct sch_buf *out,
				  const struct sch_manifest *m, size_t boxlen);

/*
 * Every object id a plain or opened manifest names (state blob, DDL
 * blobs, chunks), split into blobs and chunks, each sorted and distinct:
 * what an envelope lists. *blobs and *chunks are malloc'd.
 */
void sch_manifest_objects(const struct sch_manifest *m, struct sch_id **blobs,
			  size_t *nblobs, struct sch_id **chunks,
			  size_t *nchunks);

/* Appends s (len bytes) as a manifest word. */
void sch_manifest_word(struct sch_buf *out, const char *s, size_t len);

#endif
