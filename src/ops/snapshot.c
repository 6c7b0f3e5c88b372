/* snapshot.c - consistent backups into the store and their restore (see
 * schema/snapshot.h and docs/snapshots.md). */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "schema/catalog.h"
#include "schema/chunker.h"
#include "schema/error.h"
#include "schema/pg.h"
#include "schema/pgtools.h"
#include "schema/registry.h"
#include "schema/seal.h"
#include "schema/snapshot.h"

extern char **environ;

#define NCONN 2		/* connections reading or writing table data */
#define NWORKERS 2	/* compression threads */
#define QUEUE_CAP 16	/* chunks in flight per queue */
#define TICK_MS 200	/* progress interval */

/* Session settings of every data connection: text COPY output must read
 * back the same on any server, whatever its configuration says. */
static const char session_sql[] =
	"SET DateStyle = ISO; SET IntervalStyle = postgres; "
	"SET extra_float_digits = 3; SET bytea_output = hex; "
	"SET standard_conforming_strings = on; SET row_security = off; "
	"SET statement_timeout = 0; SET lock_timeout = 0; "
	"SET idle_in_transaction_session_timeout = 0";

/* The associated data of sealed objects (docs/formats.md, 8.4): a box
 * made for one role never opens in another. */
#define AD_CHUNK "schema-chunk-v1"
#define AD_BLOB "schema-blob-v1"
#define AD_INDEX "schema-chunk-index-v1"
#define ADLEN(s) (sizeof(s) - 1)

/* Schemas that are never user data. */
#define SYSTEM_NS(col)                                                   \
	col " NOT IN ('pg_catalog', 'information_schema', '"             \
	SCH_SNAP_MARKER_SCHEMA "') AND " col " NOT LIKE 'pg\\_toast%' "   \
	"AND " col " NOT LIKE 'pg\\_temp\\_%'"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the failure shared by the threads of one operation ---- */

struct shared_err {
	pthread_mutex_t mu;
	atomic_int failed;
	int code;
	char *msg, *hint;
};

static void err_init(struct shared_err *e)
{
	memset(e, 0, sizeof(*e));
	pthread_mutex_init(&e->mu, NULL);
}

static void err_release(struct shared_err *e)
{
	free(e->msg);
	free(e->hint);
	pthread_mutex_destroy(&e->mu);
}

/* Keeps the first failure (the calling thread's message). */
static void err_keep(struct shared_err *e, int code)
{
	pthread_mutex_lock(&e->mu);
	if (!e->code) {
		e->code = code;
		e->msg = xstrdup(sch_error_msg());
		e->hint = xstrdup(sch_error_hint_msg());
	}
	pthread_mutex_unlock(&e->mu);
	atomic_store(&e->failed, 1);
}

/* Makes the kept failure the calling thread's; returns its code. */
static int err_raise(struct shared_err *e)
{
	int rc;

	if (!e->code)
		return 0;
	rc = sch_error_set(e->code, "%s", e->msg);
	if (e->hint && *e->hint)
		sch_error_hint("%s", e->hint);
	return rc;
}

/* ---- a bounded queue of pointers ---- */

struct queue {
	pthread_mutex_t mu;
	pthread_cond_t can_pop, can_push;
	void *items[QUEUE_CAP];
	size_t head, n;
	int producers;		/* closed when it reaches 0 */
	atomic_int *stop;	/* set on failure: everyone leaves */
};

static void q_init(struct queue *q, int producers, atomic_int *stop)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->can_pop, NULL);
	pthread_cond_init(&q->can_push, NULL);
	q->producers = producers;
	q->stop = stop;
}

static void q_release(struct queue *q)
{
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->can_pop);
	pthread_cond_destroy(&q->can_push);
}

/* Wakes every waiter (after a failure). */
static void q_wake(struct queue *q)
{
	pthread_mutex_lock(&q->mu);
	pthread_cond_broadcast(&q->can_pop);
	pthread_cond_broadcast(&q->can_push);
	pthread_mutex_unlock(&q->mu);
}

/* 0 pushed, -1 stopped (the item stays the caller's). */
static int q_push(struct queue *q, void *item)
{
	int rc = 0;

	pthread_mutex_lock(&q->mu);
	while (q->n == QUEUE_CAP && !atomic_load(q->stop))
		pthread_cond_wait(&q->can_push, &q->mu);
	if (atomic_load(q->stop)) {
		rc = -1;
	} else {
		q->items[(q->head + q->n) % QUEUE_CAP] = item;
		q->n++;
		pthread_cond_signal(&q->can_pop);
	}
	pthread_mutex_unlock(&q->mu);
	return rc;
}

/* One producer is done; the last one closes the queue. */
static void q_done(struct queue *q)
{
	pthread_mutex_lock(&q->mu);
	if (--q->producers == 0)
		pthread_cond_broadcast(&q->can_pop);
	pthread_mutex_unlock(&q->mu);
}

/*
 * Pops an item into *out: 1 popped, 0 closed and empty (or stopped), -1
 * nothing within timeout_ms (timeout_ms < 0 waits for ever).
 */
static int q_pop(struct queue *q, void **out, long timeout_ms)
{
	struct timespec dl;
	int rc = 1;

	if (timeout_ms >= 0) {
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += timeout_ms / 1000;
		dl.tv_nsec += (timeout_ms % 1000) * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&q->mu);
	while (!q->n && q->producers > 0 && !atomic_load(q->stop)) {
		if (timeout_ms < 0) {
			pthread_cond_wait(&q->can_pop, &q->mu);
		} else if (pthread_cond_timedwait(&q->can_pop, &q->mu, &dl) ==
			   ETIMEDOUT) {
			rc = -1;
			break;
		}
	}
	if (rc == 1) {
		if (q->n && !atomic_load(q->stop)) {
			*out = q->items[q->head];
			q->head = (q->head + 1) % QUEUE_CAP;
			q->n--;
			pthread_cond_signal(&q->can_push);
		} else {
			rc = 0;
		}
	}
	pthread_mutex_unlock(&q->mu);
	return rc;
}

/* ---- child programs: pg_dump and psql, explicit argv, no shell ---- */

/* Appends the last non-empty line of s (a program's stderr) to out. */
static void last_line(struct sch_buf *out, const struct sch_buf *s)
{
	size_t e = s->len, b;

	while (e && (s->ptr[e - 1] == '\n' || s->ptr[e - 1] == '\r'))
		e--;
	b = e;
	while (b && s->ptr[b - 1] != '\n')
		b--;
	sch_buf_add(out, s->ptr + b, e - b);
}

/*
 * Runs argv[0] (searched in PATH) with envp, feeding it `in` on stdin
 * (NULL: /dev/null), collecting its stdout into out (NULL: /dev/null).
 * SIGPIPE is blocked in the calling thread while it writes. Returns 0, or
 * SCH_EDB with the program's last stderr line.
 */
static int run_child(char *const argv[], char *const envp[], const void *in,
		     size_t inlen, struct sch_buf *out)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, pipe_set, old;
	struct sch_buf err = SCH_BUF_INIT;
	size_t off = 0;
	pid_t pid;
	int rc = 0, status = 0, sp;

	sigemptyset(&none);
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	if ((in && pipe2(pin, O_CLOEXEC)) || (out && pipe2(pout, O_CLOEXEC)) ||
	    pipe2(perr, O_CLOEXEC)) {
		rc = sch_error_set(SCH_EIO, "cannot make a pipe: %s",
				   strerror(errno));
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	if (in)
		posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (out)
		posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &pipe_set);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	sp = posix_spawnp(&pid, argv[0], &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (sp) {
		rc = sch_error_set(SCH_EDB, "cannot run %s: %s", argv[0],
				   strerror(sp));
		if (sp == ENOENT)
			sch_error_hint("install the PostgreSQL client programs "
				       "(pg_dump, psql) or put them in PATH");
		goto out;
	}
	/* our copies of the child's ends */
	if (in) {
		close(pin[0]);
		pin[0] = -1;
		fcntl(pin[1], F_SETFL, O_NONBLOCK);
		if (!inlen) {
			close(pin[1]);
			pin[1] = -1;
		}
	}
	if (out) {
		close(pout[1]);
		pout[1] = -1;
	}
	close(perr[1]);
	perr[1] = -1;
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	while (pin[1] >= 0 || pout[0] >= 0 || perr[0] >= 0) {
		struct pollfd pf[3];
		int np = 0;
		char buf[65536];

		if (pin[1] >= 0)
			pf[np++] = (struct pollfd){ pin[1], POLLOUT, 0 };
		if (pout[0] >= 0)
			pf[np++] = (struct pollfd){ pout[0], POLLIN, 0 };
		if (perr[0] >= 0)
			pf[np++] = (struct pollfd){ perr[0], POLLIN, 0 };
		if (poll(pf, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < np; i++) {
			ssize_t n;
			if (!pf[i].revents)
				continue;
			if (pf[i].fd == pin[1]) {
				n = write(pin[1], (const char *)in + off,
					  inlen - off > sizeof(buf)
						  ? sizeof(buf) : inlen - off);
				if (n > 0)
					off += (size_t)n;
				if ((n < 0 && errno != EAGAIN) || off == inlen) {
					close(pin[1]);
					pin[1] = -1;
				}
				continue;
			}
			n = read(pf[i].fd, buf, sizeof(buf));
			if (n > 0) {
				sch_buf_add(pf[i].fd == perr[0] ? &err : out,
					    buf, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				if (pf[i].fd == perr[0]) {
					close(perr[0]);
					perr[0] = -1;
				} else {
					close(pout[0]);
					pout[0] = -1;
				}
			}
		}
	}
	{
		/* a SIGPIPE from writing to a child that died is ours to drop */
		struct timespec zero = { 0, 0 };
		while (sigtimedwait(&pipe_set, NULL, &zero) > 0)
			;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		struct sch_buf m = SCH_BUF_INIT;
		last_line(&m, &err);
		if (WIFEXITED(status))
			rc = sch_error_set(SCH_EDB, "%s failed (exit %d)%s%s",
					   argv[0], WEXITSTATUS(status),
					   m.len ? ": " : "", m.ptr);
		else
			rc = sch_error_set(SCH_EDB, "%s was killed by signal %d",
					   argv[0], WTERMSIG(status));
		sch_buf_release(&m);
	} else if (in && off != inlen) {
		rc = sch_error_set(SCH_EDB, "%s did not read its input",
				   argv[0]);
	}
out:
	for (int i = 0; i < 2; i++) {
		if (pin[i] >= 0)
			close(pin[i]);
		if (pout[i] >= 0)
			close(pout[i]);
		if (perr[i] >= 0)
			close(perr[i]);
	}
	sch_buf_release(&err);
	return rc;
}

/* argv of a libpq client program, with --dbname when the connection
 * string has options no environment variable carries. */
struct child_argv {
	char *v[16];
	int n;
	char *dbarg;
};

static void cargv_add(struct child_argv *a, const char *s)
{
	assert(a->n < 15);
	a->v[a->n++] = (char *)s;
	a->v[a->n] = NULL;
}

static void cargv_finish(struct child_argv *a, const struct sch_pg_child *c)
{
	if (c->dbname_arg) {
		a->dbarg = xasprintf("--dbname=%s", c->dbname_arg);
		cargv_add(a, a->dbarg);
	}
}

/* ---- reading catalogs ---- */

static int exec_rows(struct sch_pg *pg, struct sch_pg_result **r,
		     const char *sql, int n, const char *const *p)
{
	return sch_pg_exec(pg, r, SCH_PG_TUPLES, sql, n, p);
}

static char *qualified(const char *schema, const char *name)
{
	struct sch_buf b = SCH_BUF_INIT;

	sch_pg_quote_ident(&b, schema);
	sch_buf_addch(&b, '.');
	sch_pg_quote_ident(&b, name);
	return sch_buf_detach(&b, NULL);
}

/* ---- backup ---- */

struct bk;

/* One COPY stream: a whole table or one ctid range of it. */
struct job {
	size_t table, part;
	char *sql;
	uint64_t est;		/* bytes on disk, for ordering and ETA */
	uint64_t rows, bytes;	/* set by the reader */
	struct sch_id *ids;	/* set by the writer (main thread) */
	size_t nids, capids;
	size_t nemitted;	/* chunks the reader emitted */
	int binary;		/* COPY ... WITH (FORMAT binary) */
	int done;
};

struct citem {
	struct job *job;
	size_t seq;
	char *data;
	size_t len;
	struct sch_id id;
	struct sch_buf value;	/* empty when stored already */
	unsigned char idx[SCH_SEAL_TAG_LEN]; /* sealed: the index key */
	int has_idx, indexed;	/* sealed: found through the index */
};

struct bk {
	const struct sch_backup_opts *o;
	struct sch_store *store;
	struct shared_err err;
	struct queue chunks, results;
	pthread_mutex_t mu;	/* next_job */
	struct job *jobs;
	size_t njobs, next_job;
	struct sch_chunker proto;
	atomic_uint_fast64_t bytes, rows;
	atomic_size_t tables_done;
	size_t *parts_left;	/* per table, under mu */
	char *snapshot;
	/* the pg_dump thread */
	struct sch_buf pre, post;
	struct sch_pg_child child;
	struct sch_buf pg_dump;	/* its path, for the server's major */
};

/* Row counting of a binary COPY stream, cut anywhere. */
enum { B_SIG, B_EXT, B_TUPLE, B_FLEN, B_FDATA, B_END };
struct bcount {
	int st;
	unsigned char acc[19];
	size_t have;
	uint64_t skip;
	long fields;
	uint64_t rows;
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Fills acc up to `want` bytes; 1 when full. */
static int take(struct bcount *b, const unsigned char **p, size_t *n,
		size_t want)
{
	size_t k = want - b->have;

	if (k > *n)
		k = *n;
	memcpy(b->acc + b->have, *p, k);
	b->have += k;
	*p += k;
	*n -= k;
	if (b->have < want)
		return 0;
	b->have = 0;
	return 1;
}

static void bcount_feed(struct bcount *b, const void *data, size_t n)
{
	const unsigned char *p = data;

	while (n) {
		switch (b->st) {
		case B_SIG:
			if (take(b, &p, &n, 19)) {
				b->skip = be32(b->acc + 15);
				b->st = b->skip ? B_EXT : B_TUPLE;
			}
			break;
		case B_EXT:
		case B_FDATA: {
			size_t k = b->skip < n ? (size_t)b->skip : n;
			p += k;
			n -= k;
			b->skip -= k;
			if (!b->skip)
				b->st = b->st == B_EXT || !b->fields ? B_TUPLE
								     : B_FLEN;
			break;
		}
		case B_TUPLE:
			if (take(b, &p, &n, 2)) {
				int v = (int16_t)(b->acc[0] << 8 | b->acc[1]);
				if (v < 0) {
					b->st = B_END;
				} else {
					b->rows++;
					b->fields = v;
					b->st = v ? B_FLEN : B_TUPLE;
				}
			}
			break;
		case B_FLEN:
			if (take(b, &p, &n, 4)) {
				int32_t len = (int32_t)be32(b->acc);
				b->fields--;
				if (len > 0) {
					b->skip = (uint64_t)len;
					b->st = B_FDATA;
				} else {
					b->st = b->fields ? B_FLEN : B_TUPLE;
				}
			}
			break;
		default:
			return;
		}
	}
}

struct reader_state {
	struct bk *bk;
	struct job *job;
	int binary;
	struct sch_chunker ck;
	struct sch_buf cur;
	struct bcount bc;
	uint64_t rows, bytes;
};

static int emit(struct reader_state *s)
{
	struct citem *it;
	size_t len;

	if (!s->cur.len)
		return 0;
	it = xcalloc(1, sizeof(*it));
	it->job = s->job;
	it->seq = s->job->nemitted++;
	it->data = sch_buf_detach(&s->cur, &len);
	it->len = len;
	sch_buf_init(&it->value);
	sch_buf_grow(&s->cur, s->ck.max);
	if (q_push(&s->bk->chunks, it)) {
		free(it->data);
		free(it);
		return SCH_EIO;
	}
	return 0;
}

static int on_copy(void *arg, const void *data, size_t len)
{
	struct reader_state *s = arg;
	const char *p = data;
	size_t left = len, cut;

	if (atomic_load(&s->bk->err.failed))
		return SCH_EIO;
	if (s->binary) {
		bcount_feed(&s->bc, data, len);
	} else {
		const char *q = p, *e = p + len;
		uint64_t nl = 0;
		while ((q = memchr(q, '\n', (size_t)(e - q)))) {
			nl++;
			q++;
		}
		s->rows += nl;
		atomic_fetch_add(&s->bk->rows, nl);
	}
	s->bytes += len;
	atomic_fetch_add(&s->bk->bytes, len);
	while (left && sch_chunker_feed(&s->ck, p, left, &cut)) {
		sch_buf_add(&s->cur, p, cut);
		if (emit(s))
			return SCH_EIO;
		p += cut;
		left -= cut;
	}
	sch_buf_add(&s->cur, p, left);
	return 0;
}

static struct job *next_job(struct bk *bk)
{
	struct job *j = NULL;

	pthread_mutex_lock(&bk->mu);
	if (bk->next_job < bk->njobs)
		j = &bk->jobs[bk->next_job++];
	pthread_mutex_unlock(&bk->mu);
	return j;
}

struct reader {
	struct bk *bk;
	struct sch_pg *pg;
	pthread_t th;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct bk *bk = r->bk;
	struct reader_state s;
	struct job *j;

	memset(&s, 0, sizeof(s));
	s.bk = bk;
	sch_buf_init(&s.cur);
	while (!atomic_load(&bk->err.failed) && (j = next_job(bk))) {
		int rc;
		s.job = j;
		s.binary = j->binary;
		s.ck = bk->proto;
		sch_chunker_reset(&s.ck);
		sch_buf_reset(&s.cur);
		sch_buf_grow(&s.cur, s.ck.max);
		memset(&s.bc, 0, sizeof(s.bc));
		s.rows = s.bytes = 0;
		rc = sch_pg_copy_out(r->pg, j->sql, on_copy, &s);
		if (!rc)
			rc = emit(&s);
		if (rc) {
			if (!atomic_load(&bk->err.failed))
				err_keep(&bk->err, rc);
			break;
		}
		if (s.binary) {
			s.rows = s.bc.rows;
			atomic_fetch_add(&bk->rows, s.bc.rows);
		}
		j->rows = s.rows;
		j->bytes = s.bytes;
		pthread_mutex_lock(&bk->mu);
		j->done = 1;
		if (--bk->parts_left[j->table] == 0)
			atomic_fetch_add(&bk->tables_done, 1);
		pthread_mutex_unlock(&bk->mu);
	}
	sch_buf_release(&s.cur);
	q_done(&bk->chunks);
	if (atomic_load(&bk->err.failed)) {
		q_wake(&bk->chunks);
		q_wake(&bk->results);
	}
	return NULL;
}

struct worker {
	struct bk *bk;
	pthread_t th;
};

/*
 * A chunk of an encrypted backup: its index key is a keyed tag of the
 * plaintext; when the index names a stored sealed chunk, that is its id
 * and nothing is compressed or sealed. Otherwise the chunk is encoded
 * (compressed) as any object would be, and the encoding sealed: the box's
 * header derives from exactly the bytes it encrypts, so a nonce is never
 * used for two different plaintexts, whatever the compression level.
 */
static int seal_chunk(struct bk *bk, struct sch_txn *rt, struct citem *it,
		      struct sch_buf *inner, struct sch_buf *box)
{
	const struct sch_seal_key *k = bk->o->key;
	const void *v;
	size_t vl;
	int rc;

	sch_seal_tag(it->idx, k, AD_INDEX, ADLEN(AD_INDEX), it->data, it->len);
	it->has_idx = 1;
	if (!sch_kv_get(rt, SCH_DB_SEALED, it->idx, sizeof(it->idx), &v, &vl) &&
	    vl == SCH_ID_LEN) {
		memcpy(it->id.b, v, SCH_ID_LEN);
		if (sch_object_exists(rt, &it->id)) {
			it->indexed = 1;
			return 0;
		}
	}
	rc = sch_object_encode(inner, SCH_OBJ_CHUNK, it->data, it->len,
			       bk->o->level < 0 ? SCH_SNAP_LEVEL_DEFAULT
						: bk->o->level);
	if (rc)
		return rc;
	sch_seal(box, k, NULL, AD_CHUNK, ADLEN(AD_CHUNK), inner->ptr,
		 inner->len);
	sch_object_hash(&it->id, SCH_OBJ_CHUNK, box->ptr, box->len);
	return sch_object_encode(&it->value, SCH_OBJ_CHUNK, box->ptr, box->len,
				 0);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct bk *bk = w->bk;
	struct sch_txn *rt = NULL;
	struct sch_buf inner = SCH_BUF_INIT, box = SCH_BUF_INIT;
	void *p;
	int rc;

	rc = sch_txn_begin(&rt, bk->store, 0);
	if (rc)
		err_keep(&bk->err, rc);
	while (!rc && q_pop(&bk->chunks, &p, -1) == 1) {
		struct citem *it = p;
		if (bk->o->key) {
			rc = seal_chunk(bk, rt, it, &inner, &box);
			if (rc)
				err_keep(&bk->err, rc);
		} else {
			sch_object_hash(&it->id, SCH_OBJ_CHUNK, it->data,
					it->len);
		}
		if (!bk->o->key && !sch_object_exists(rt, &it->id)) {
			rc = sch_object_encode(&it->value, SCH_OBJ_CHUNK,
					       it->data, it->len,
					       bk->o->level < 0
						       ? SCH_SNAP_LEVEL_DEFAULT
						       : bk->o->level);
			if (rc)
				err_keep(&bk->err, rc);
		}
		free(it->data);
		it->data = NULL;
		if (rc || q_push(&bk->results, it)) {
			sch_buf_release(&it->value);
			free(it);
			break;
		}
	}
	sch_txn_abort(rt);
	sch_buf_release(&inner);
	sch_buf_release(&box);
	sch_object_thread_cleanup();
	q_done(&bk->results);
	if (atomic_load(&bk->err.failed)) {
		q_wake(&bk->chunks);
		q_wake(&bk->results);
	}
	return NULL;
}

/* pg_dump of one section under the snapshot. */
static int dump_section(struct bk *bk, const char *section,
			struct sch_buf *out)
{
	struct child_argv a = { { NULL }, 0, NULL };
	char *snap = xasprintf("--snapshot=%s", bk->snapshot);
	char *sec = xasprintf("--section=%s", section);
	int rc;

	cargv_add(&a, bk->pg_dump.ptr);
	cargv_add(&a, "--schema-only");
	cargv_add(&a, sec);
	cargv_add(&a, snap);
	cargv_add(&a, "--no-password");
	cargv_finish(&a, &bk->child);
	rc = run_child(a.v, bk->child.envp, NULL, 0, out);
	if (rc)
		rc = sch_error_wrap(rc, "pg_dump --section=%s", section);
	free(snap);
	free(sec);
	free(a.dbarg);
	return rc;
}

static void *ddl_main(void *arg)
{
	struct bk *bk = arg;
	int rc = dump_section(bk, "pre-data", &bk->pre);

	if (!rc)
		rc = dump_section(bk, "post-data", &bk->post);
	if (rc) {
		err_keep(&bk->err, rc);
		q_wake(&bk->chunks);
		q_wake(&bk->results);
	}
	return NULL;
}

/* Starts the snapshot transaction on pg (exporting when snap is NULL). */
static int begin_snapshot(struct sch_pg *pg, char **snap)
{
	struct sch_buf v = SCH_BUF_INIT;
	int rc = sch_pg_exec_script(pg, session_sql);

	if (!rc)
		rc = sch_pg_exec(pg, NULL, SCH_PG_COMMAND,
				 "BEGIN ISOLATION LEVEL REPEATABLE READ, READ "
				 "ONLY", 0, NULL);
	if (rc)
		goto out;
	if (!*snap) {
		rc = sch_pg_query_value(&v, pg, "SELECT pg_export_snapshot()",
					0, NULL);
		if (!rc)
			*snap = sch_buf_detach(&v, NULL);
	} else {
		/* SET TRANSACTION SNAPSHOT takes no parameter: the id is a
		 * server-made token, checked here before it is quoted. */
		for (const char *c = *snap; *c; c++)
			if (!((*c >= '0' && *c <= '9') || (*c >= 'A' && *c <= 'F') ||
			      *c == '-'))
				return sch_error_set(SCH_EDB, "odd snapshot id");
		sch_buf_addf(&v, "SET TRANSACTION SNAPSHOT '%s'", *snap);
		rc = sch_pg_exec(pg, NULL, SCH_PG_COMMAND, v.ptr, 0, NULL);
	}
out:
	sch_buf_release(&v);
	return rc;
}

static int cmp_job(const void *a, const void *b)
{
	const struct job *x = a, *y = b;

	if (x->est != y->est)
		return x->est < y->est ? 1 : -1;
	if (x->table != y->table)
		return x->table < y->table ? -1 : 1;
	return x->part < y->part ? -1 : x->part > y->part;
}

/* Reads what the manifest says besides table data, and plans the jobs. */
static int read_catalog(struct bk *bk, struct sch_pg *pg,
			struct sch_manifest *m)
{
	struct sch_pg_result *r = NULL;
	struct sch_buf v = SCH_BUF_INIT, sql = SCH_BUF_INIT;
	const char *regname = bk->o->registry && *bk->o->registry
				      ? bk->o->registry : SCH_REG_DEFAULT;
	int have_reg = 0;
	uint64_t *sizes = NULL;
	int rc, server = sch_pg_server_version(pg);

	/* refusals first */
	rc = sch_snapshot_marker(pg, &v);
	if (rc == 1) {
		rc = sch_error_set(SCH_EREFUSED, "database '%s' holds an "
				   "unfinished restore of snapshot %.12s",
				   sch_pg_dbname(pg), v.ptr);
		sch_error_hint("finish it with 'schema restore %.12s --force' "
			       "first", v.ptr);
		goto out;
	}
	if (rc)
		goto out;
	rc = sch_pg_query_value(&v, pg, "SELECT count(*) FROM "
				"pg_catalog.pg_largeobject_metadata", 0, NULL);
	if (rc)
		goto out;
	if (strcmp(v.ptr, "0")) {
		rc = sch_error_set(SCH_EREFUSED, "database '%s' has %s large "
				   "objects, which snapshots do not hold",
				   sch_pg_dbname(pg), v.ptr);
		sch_error_hint("back it up with pg_dump");
		goto out;
	}
	rc = exec_rows(pg, &r, "SELECT current_database(), "
		       "pg_encoding_to_char(encoding) FROM pg_database WHERE "
		       "datname = current_database()", 0, NULL);
	if (rc)
		goto out;
	m->database = xstrdup(sch_pg_result_value(r, 0, 0));
	m->encoding = xstrdup(sch_pg_result_value(r, 0, 1));
	m->server = server;
	sch_pg_result_free(r);
	r = NULL;
	/* registry heads: applied revisions no applied revision names */
	{
		struct sch_reg reg;
		sch_reg_init(&reg, pg, regname);
		rc = sch_reg_exists(&reg, &have_reg);
		sch_reg_release(&reg);
	}
	if (rc)
		goto out;
	if (have_reg) {
		char *q = qualified(regname, "applied");
		sch_buf_reset(&sql);
		sch_buf_addf(&sql, "SELECT a.revision FROM %s a WHERE NOT EXISTS "
			     "(SELECT 1 FROM %s b WHERE a.revision = ANY "
			     "(b.parents)) ORDER BY a.revision", q, q);
		free(q);
		rc = exec_rows(pg, &r, sql.ptr, 0, NULL);
		if (rc)
			goto out;
		m->heads = xcalloc((size_t)sch_pg_result_rows(r) + 1,
				   sizeof(*m->heads));
		for (int i = 0; i < sch_pg_result_rows(r); i++) {
			const char *h = sch_pg_result_value(r, i, 0);
			if (sch_id_parse(&m->heads[m->nheads], h, strlen(h)) == 0)
				m->nheads++;
		}
		sch_pg_result_free(r);
		r = NULL;
	}
	/* sequences and their values */
	rc = exec_rows(pg, &r, "SELECT n.nspname, c.relname FROM pg_class c "
		       "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
		       "c.relkind = 'S' AND c.relpersistence <> 't' AND "
		       SYSTEM_NS("n.nspname") " AND NOT EXISTS (SELECT 1 FROM "
		       "pg_depend d WHERE d.classid = 'pg_class'::regclass AND "
		       "d.objid = c.oid AND d.deptype = 'e') ORDER BY 1, 2",
		       0, NULL);
	if (rc)
		goto out;
	if (sch_pg_result_rows(r) > 0) {
		struct sch_pg_result *sv = NULL;
		int n = sch_pg_result_rows(r);
		m->seqs = xcalloc((size_t)n, sizeof(*m->seqs));
		sch_buf_reset(&sql);
		for (int i = 0; i < n; i++) {
			char *q = qualified(sch_pg_result_value(r, i, 0),
					    sch_pg_result_value(r, i, 1));
			sch_buf_addf(&sql, "%sSELECT %d, last_value, is_called "
				     "FROM %s", i ? " UNION ALL " : "", i, q);
			free(q);
			m->seqs[i].schema = xstrdup(sch_pg_result_value(r, i, 0));
			m->seqs[i].name = xstrdup(sch_pg_result_value(r, i, 1));
		}
		m->nseqs = (size_t)n;
		rc = exec_rows(pg, &sv, sql.ptr, 0, NULL);
		if (rc)
			goto out;
		for (int i = 0; i < sch_pg_result_rows(sv); i++) {
			long k = strtol(sch_pg_result_value(sv, i, 0), NULL, 10);
			if (k < 0 || k >= n)
				continue;
			m->seqs[k].last_value = strtoll(
				sch_pg_result_value(sv, i, 1), NULL, 10);
			m->seqs[k].is_called =
				!strcmp(sch_pg_result_value(sv, i, 2), "t");
		}
		sch_pg_result_free(sv);
	}
	sch_pg_result_free(r);
	r = NULL;
	/* tables whose data pg_dump would dump: ordinary tables, not
	 * temporary, not members of an extension */
	rc = exec_rows(pg, &r, "SELECT c.oid::text, n.nspname, c.relname, "
		       "pg_relation_size(c.oid) / "
		       "current_setting('block_size')::bigint, "
		       "pg_table_size(c.oid) FROM pg_class c JOIN "
		       "pg_namespace n ON n.oid = c.relnamespace WHERE "
		       "c.relkind = 'r' AND c.relpersistence <> 't' AND "
		       SYSTEM_NS("n.nspname") " AND NOT EXISTS (SELECT 1 FROM "
		       "pg_depend d WHERE d.classid = 'pg_class'::regclass AND "
		       "d.objid = c.oid AND d.deptype = 'e') ORDER BY 2, 3",
		       0, NULL);
	if (rc)
		goto out;
	m->ntables = (size_t)sch_pg_result_rows(r);
	m->tables = xcalloc(m->ntables + 1, sizeof(*m->tables));
	sizes = xcalloc(m->ntables + 1, sizeof(*sizes) * 2);
	for (size_t i = 0; i < m->ntables; i++) {
		m->tables[i].schema = xstrdup(sch_pg_result_value(r, (int)i, 1));
		m->tables[i].name = xstrdup(sch_pg_result_value(r, (int)i, 2));
		m->tables[i].binary = 1;
		sizes[2 * i] = strtoull(sch_pg_result_value(r, (int)i, 3), NULL,
					10);
		sizes[2 * i + 1] = strtoull(sch_pg_result_value(r, (int)i, 4),
					    NULL, 10);
	}
	sch_pg_result_free(r);
	r = NULL;
	/* their columns, without dropped and generated ones (COPY skips
	 * generated columns and cannot load them) */
	rc = exec_rows(pg, &r, server >= 120000
		       ? "SELECT n.nspname, c.relname, a.attname, a.atttypid "
			 "< 16384 FROM pg_attribute a JOIN pg_class c ON c.oid "
			 "= a.attrelid JOIN pg_namespace n ON n.oid = "
			 "c.relnamespace WHERE c.relkind = 'r' AND a.attnum > 0 "
			 "AND NOT a.attisdropped AND a.attgenerated = '' AND "
			 SYSTEM_NS("n.nspname") " ORDER BY 1, 2, a.attnum"
		       : "SELECT n.nspname, c.relname, a.attname, a.atttypid "
			 "< 16384 FROM pg_attribute a JOIN pg_class c ON c.oid "
			 "= a.attrelid JOIN pg_namespace n ON n.oid = "
			 "c.relnamespace WHERE c.relkind = 'r' AND a.attnum > 0 "
			 "AND NOT a.attisdropped AND " SYSTEM_NS("n.nspname")
			 " ORDER BY 1, 2, a.attnum", 0, NULL);
	if (rc)
		goto out;
	{
		size_t t = 0;
		for (int i = 0; i < sch_pg_result_rows(r) && t < m->ntables;
		     i++) {
			const char *s = sch_pg_result_value(r, i, 0);
			const char *n = sch_pg_result_value(r, i, 1);
			struct sch_mf_table *tb;
			int c;
			/* both lists are sorted the same way (by the server's
			 * collation of name): walk them together */
			while (t < m->ntables &&
			       (strcmp(m->tables[t].schema, s) ||
				strcmp(m->tables[t].name, n))) {
				size_t k;
				for (k = t + 1; k < m->ntables; k++)
					if (!strcmp(m->tables[k].schema, s) &&
					    !strcmp(m->tables[k].name, n))
						break;
				if (k == m->ntables)
					break;
				t = k;
			}
			if (t >= m->ntables || strcmp(m->tables[t].schema, s) ||
			    strcmp(m->tables[t].name, n))
				continue; /* a table we do not copy */
			tb = &m->tables[t];
			c = (int)tb->ncols;
			tb->cols = xrealloc(tb->cols, (size_t)(c + 1) *
					    sizeof(*tb->cols));
			tb->cols[c] = xstrdup(sch_pg_result_value(r, i, 2));
			tb->ncols++;
			if (strcmp(sch_pg_result_value(r, i, 3), "t"))
				tb->binary = 0;
		}
	}
	sch_pg_result_free(r);
	r = NULL;
	/* jobs: one per table, or one per range of a large table */
	bk->parts_left = xcalloc(m->ntables + 1, sizeof(*bk->parts_left));
	for (size_t i = 0; i < m->ntables; i++) {
		struct sch_mf_table *t = &m->tables[i];
		uint64_t pages = sizes[2 * i], total = sizes[2 * i + 1];
		uint64_t range = 0;
		size_t nparts = 1;
		struct sch_buf cols = SCH_BUF_INIT;
		char *q = qualified(t->schema, t->name);

		for (size_t c = 0; c < t->ncols; c++) {
			if (c)
				sch_buf_addstr(&cols, ", ");
			sch_pg_quote_ident(&cols, t->cols[c]);
		}
		/*
		 * TID range scans exist from PostgreSQL 14 on. A table with
		 * more heap pages than a range is read in ranges of fixed
		 * size, which stay where they are as the table grows; a table
		 * whose bulk is out of line (TOAST) is split by its total
		 * size into equal ranges of its few heap pages.
		 */
		if (server >= 140000 && t->ncols && pages > SCH_SNAP_RANGE_PAGES) {
			range = SCH_SNAP_RANGE_PAGES;
		} else if (server >= 140000 && t->ncols && pages > 1 &&
			   total > (uint64_t)SCH_SNAP_RANGE_PAGES * 8192) {
			uint64_t want = (total + (uint64_t)SCH_SNAP_RANGE_PAGES *
					 8192 - 1) / ((uint64_t)SCH_SNAP_RANGE_PAGES *
						      8192);
			if (want > pages)
				want = pages;
			range = (pages + want - 1) / want;
		}
		if (range)
			nparts = (size_t)((pages + range - 1) / range);
		t->nparts = nparts;
		t->parts = xcalloc(nparts, sizeof(*t->parts));
		bk->parts_left[i] = nparts;
		bk->jobs = xrealloc(bk->jobs, (bk->njobs + nparts) *
				    sizeof(*bk->jobs));
		for (size_t k = 0; k < nparts; k++) {
			struct job *j = &bk->jobs[bk->njobs++];
			struct sch_buf s = SCH_BUF_INIT;
			memset(j, 0, sizeof(*j));
			j->table = i;
			j->part = k;
			j->est = total / nparts;
			if (nparts == 1) {
				sch_buf_addf(&s, "COPY %s %s%s%s TO STDOUT", q,
					     t->ncols ? "(" : "", cols.ptr,
					     t->ncols ? ")" : "");
			} else {
				sch_buf_addf(&s, "COPY (SELECT %s FROM ONLY %s "
					     "WHERE ctid >= '(%llu,0)'::tid", cols.ptr,
					     q, (unsigned long long)(k * range));
				if (k + 1 < nparts)
					sch_buf_addf(&s, " AND ctid < '(%llu,0)'"
						     "::tid", (unsigned long long)
						     ((k + 1) * range));
				sch_buf_addstr(&s, ") TO STDOUT");
			}
			j->binary = t->binary;
			if (t->binary)
				sch_buf_addstr(&s, " WITH (FORMAT binary)");
			j->sql = sch_buf_detach(&s, NULL);
		}
		free(q);
		sch_buf_release(&cols);
	}
	/* no tables: no array (qsort wants one even for nothing; UBSan) */
	if (bk->njobs)
		qsort(bk->jobs, bk->njobs, sizeof(*bk->jobs), cmp_job);
out:
	free(sizes);
	sch_pg_result_free(r);
	sch_buf_release(&v);
	sch_buf_release(&sql);
	return rc;
}

static void report(sch_snap_progress_fn *fn, void *arg, const char *phase,
		   uint64_t bytes, uint64_t rows, uint64_t total, size_t done,
		   size_t tables, double t0, int final)
{
	struct sch_snap_progress p;

	if (!fn)
		return;
	p.phase = phase;
	p.bytes = bytes;
	p.rows = rows;
	p.total_bytes = total;
	p.tables_done = done;
	p.tables = tables;
	p.seconds = now_s() - t0;
	p.final = final;
	fn(arg, &p);
}

/*
 * Captures the schema's state under the backup's snapshot. The data
 * connections' settings (DateStyle and the others) are reset to the
 * session defaults for it, so the text is the one `schema state` and
 * commit record, then set again.
 */
static int capture_state(struct sch_buf *out, struct sch_pg *pg,
			 const struct sch_catalog_opts *co)
{
	struct sch_catalog_opts none = { NULL, NULL };
	int rc = sch_pg_exec_script(pg, "RESET DateStyle; RESET IntervalStyle; "
				    "RESET extra_float_digits; RESET "
				    "bytea_output");

	if (!rc)
		rc = sch_catalog_capture(out, pg, co ? co : &none);
	if (!rc)
		rc = sch_pg_exec_script(pg, session_sql);
	if (rc)
		rc = sch_error_wrap(rc, "capturing the schema's state");
	return rc;
}

/* Stores data as a sealed blob: the object encoding of the blob, sealed. */
static int put_sealed_blob(struct sch_id *out, struct sch_txn *w,
			   const struct sch_seal_key *k, const void *data,
			   size_t len)
{
	struct sch_buf inner = SCH_BUF_INIT, box = SCH_BUF_INIT;
	int rc = sch_object_encode(&inner, SCH_OBJ_BLOB, data, len, -1);

	if (!rc) {
		sch_seal(&box, k, NULL, AD_BLOB, ADLEN(AD_BLOB), inner.ptr,
			 inner.len);
		rc = sch_object_put(out, w, SCH_OBJ_BLOB, box.ptr, box.len, 0);
	}
	sch_buf_release(&inner);
	sch_buf_release(&box);
	return rc;
}

/* The body of the snap object of m: its text, or sealed, the envelope
 * and the box of its text. */
static void snap_body(struct sch_buf *out, struct sch_manifest *m,
		      const struct sch_seal_key *k)
{
	struct sch_buf inner = SCH_BUF_INIT, box = SCH_BUF_INIT;

	if (!k) {
		sch_manifest_format(out, m);
		return;
	}
	m->key_id = k->id;
	sch_manifest_objects(m, &m->blobs, &m->nblobs, &m->chunks,
			     &m->nchunks);
	sch_manifest_format(&inner, m);
	sch_manifest_format_envelope(out, m, inner.len + SCH_SEAL_OVERHEAD);
	sch_seal(&box, k, NULL, out->ptr, out->len, inner.ptr, inner.len);
	sch_buf_add(out, box.ptr, box.len);
	sch_buf_release(&inner);
	sch_buf_release(&box);
}

/* The writer: takes encoded chunks and stores them in order of arrival,
 * keeping each stream's ids in order. */
static int store_results(struct bk *bk, struct sch_txn *w,
			 struct sch_backup_result *res, uint64_t total,
			 size_t ntables, double t0)
{
	double last = now_s();
	void *p;
	int rc = 0, got;

	while ((got = q_pop(&bk->results, &p, TICK_MS)) != 0) {
		if (got == 1) {
			struct citem *it = p;
			struct job *j = it->job;
			if (!rc && it->value.len && !sch_object_exists(w, &it->id)) {
				rc = sch_object_put_value(w, &it->id,
							  it->value.ptr,
							  it->value.len);
				res->new_bytes += it->value.len;
				res->new_objects++;
				if (rc) {
					err_keep(&bk->err, rc);
					q_wake(&bk->chunks);
					q_wake(&bk->results);
				}
			}
			if (!rc && it->has_idx && !it->indexed) {
				rc = sch_kv_put(w, SCH_DB_SEALED, it->idx,
						sizeof(it->idx), it->id.b,
						SCH_ID_LEN);
				if (rc) {
					err_keep(&bk->err, rc);
					q_wake(&bk->chunks);
					q_wake(&bk->results);
				}
			}
			if (it->seq >= j->capids) {
				j->capids = it->seq + 16;
				j->ids = xrealloc(j->ids, j->capids *
						  sizeof(*j->ids));
			}
			j->ids[it->seq] = it->id;
			if (it->seq + 1 > j->nids)
				j->nids = it->seq + 1;
			sch_buf_release(&it->value);
			free(it);
		}
		if (now_s() - last >= TICK_MS / 1000.0) {
			last = now_s();
			report(bk->o->progress, bk->o->progress_arg, "backup",
			       atomic_load(&bk->bytes), atomic_load(&bk->rows),
			       total, atomic_load(&bk->tables_done), ntables,
			       t0, 0);
		}
	}
	return rc;
}

int sch_snapshot_backup(struct sch_backup_result *out, struct sch_store *store,
			const struct sch_backup_opts *o)
{
	struct bk bk;
	struct sch_manifest m;
	struct sch_pg *pg[NCONN] = { NULL };
	struct reader rd[NCONN];
	struct worker wk[NWORKERS];
	pthread_t ddl;
	int nrd = 0, nwk = 0, have_ddl = 0;
	struct sch_txn *w = NULL;
	struct sch_buf body = SCH_BUF_INIT, state = SCH_BUF_INIT;
	uint64_t total = 0;
	double t0 = now_s();
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&bk, 0, sizeof(bk));
	bk.o = o;
	bk.store = store;
	err_init(&bk.err);
	pthread_mutex_init(&bk.mu, NULL);
	sch_buf_init(&bk.pre);
	sch_buf_init(&bk.post);
	sch_chunker_init(&bk.proto, o->chunk_avg);
	q_init(&bk.chunks, NCONN, &bk.err.failed);
	q_init(&bk.results, NWORKERS, &bk.err.failed);
	sch_manifest_init(&m);
	m.time = (int64_t)time(NULL);
	if (o->note && *o->note)
		m.note = xstrdup(o->note);

	sch_buf_init(&bk.pg_dump);
	rc = sch_pg_child_init(&bk.child, o->conninfo, environ);
	if (!rc)
		rc = sch_pg_open(&pg[0], o->conninfo);
	/* a pg_dump that can dump this server, before any work */
	if (!rc)
		rc = sch_pgtools_find(&bk.pg_dump, "pg_dump",
				      sch_pg_server_major(pg[0]), o->bindir);
	for (int i = 1; i < NCONN && !rc; i++)
		rc = sch_pg_open(&pg[i], o->conninfo);
	if (rc)
		goto out;
	rc = begin_snapshot(pg[0], &bk.snapshot);
	if (!rc)
		rc = read_catalog(&bk, pg[0], &m);
	if (!rc)
		rc = capture_state(&state, pg[0], o->catalog);
	for (int i = 1; i < NCONN && !rc; i++)
		rc = begin_snapshot(pg[i], &bk.snapshot);
	if (rc)
		goto out;
	for (size_t i = 0; i < bk.njobs; i++)
		total += bk.jobs[i].est;
	rc = sch_txn_begin(&w, store, 1);
	if (rc)
		goto out;
	if (pthread_create(&ddl, NULL, ddl_main, &bk) == 0)
		have_ddl = 1;
	for (int i = 0; i < NWORKERS; i++) {
		wk[i].bk = &bk;
		if (pthread_create(&wk[i].th, NULL, worker_main, &wk[i]))
			break;
		nwk++;
	}
	for (int i = 0; i < NCONN; i++) {
		rd[i].bk = &bk;
		rd[i].pg = pg[i];
		if (pthread_create(&rd[i].th, NULL, reader_main, &rd[i]))
			break;
		nrd++;
	}
	if (!have_ddl || nwk < NWORKERS || nrd < NCONN) {
		sch_error_set(SCH_EIO, "cannot start a thread");
		err_keep(&bk.err, SCH_EIO);
		q_wake(&bk.chunks);
		q_wake(&bk.results);
		/* the queues count producers that never started */
		for (int i = nrd; i < NCONN; i++)
			q_done(&bk.chunks);
		for (int i = nwk; i < NWORKERS; i++)
			q_done(&bk.results);
	}
	store_results(&bk, w, out, total, m.ntables, t0);
	for (int i = 0; i < nrd; i++)
		pthread_join(rd[i].th, NULL);
	for (int i = 0; i < nwk; i++)
		pthread_join(wk[i].th, NULL);
	if (have_ddl)
		pthread_join(ddl, NULL);
	/* whatever is left in the queues after a failure */
	{
		void *p;
		atomic_store(&bk.err.failed, 0);
		bk.chunks.producers = bk.results.producers = 0;
		while (q_pop(&bk.chunks, &p, 0) == 1) {
			free(((struct citem *)p)->data);
			free(p);
		}
		while (q_pop(&bk.results, &p, 0) == 1) {
			sch_buf_release(&((struct citem *)p)->value);
			free(p);
		}
	}
	rc = err_raise(&bk.err);
	if (rc)
		goto out;
	for (int i = 0; i < NCONN && !rc; i++)
		rc = sch_pg_commit(pg[i]);
	if (rc)
		goto out;
	/* the manifest */
	for (size_t i = 0; i < bk.njobs; i++) {
		struct job *j = &bk.jobs[i];
		struct sch_mf_table *t = &m.tables[j->table];
		struct sch_mf_part *p = &t->parts[j->part];
		assert(j->done && j->nids == j->nemitted);
		p->rows = j->rows;
		p->bytes = j->bytes;
		p->chunks = j->ids;
		p->nchunks = j->nids;
		j->ids = NULL;
		t->rows += j->rows;
		t->bytes += j->bytes;
		out->rows += j->rows;
		out->raw_bytes += j->bytes;
	}
	out->tables = m.ntables;
	{
		const struct sch_seal_key *k = o->key;
		sch_catalog_state_id(&m.state, state.ptr, state.len);
		m.has_state = 1;
		if (k) {
			m.has_state_blob = 1;
			rc = put_sealed_blob(&m.state_blob, w, k, state.ptr,
					     state.len);
			if (!rc)
				rc = put_sealed_blob(&m.pre_data, w, k, bk.pre.ptr,
						     bk.pre.len);
			if (!rc)
				rc = put_sealed_blob(&m.post_data, w, k,
						     bk.post.ptr, bk.post.len);
		} else {
			struct sch_id sid;
			rc = sch_object_put(&sid, w, SCH_OBJ_STATE, state.ptr,
					    state.len, -1);
			assert(rc || !sch_id_cmp(&sid, &m.state));
			if (!rc)
				rc = sch_object_put(&m.pre_data, w, SCH_OBJ_BLOB,
						    bk.pre.ptr, bk.pre.len, -1);
			if (!rc)
				rc = sch_object_put(&m.post_data, w, SCH_OBJ_BLOB,
						    bk.post.ptr, bk.post.len, -1);
		}
		if (rc)
			goto out;
		snap_body(&body, &m, k);
		rc = sch_object_put(&out->id, w, SCH_OBJ_SNAP, body.ptr, body.len,
				    k ? 0 : -1);
		if (!rc)
			rc = sch_kv_put(w, SCH_DB_SNAPSHOTS, out->id.b, SCH_ID_LEN,
					"", 0);
		out->new_bytes += sch_object_stored_size(w, &m.pre_data) +
				  sch_object_stored_size(w, &m.post_data) +
				  sch_object_stored_size(w, k ? &m.state_blob
							      : &m.state) +
				  sch_object_stored_size(w, &out->id);
	}
	if (rc)
		goto out;
	rc = sch_txn_commit(w);
	w = NULL;
	if (!rc)
		report(o->progress, o->progress_arg, "backup", out->raw_bytes,
		       out->rows, total, m.ntables, m.ntables, t0, 1);
out:
	sch_txn_abort(w);
	for (int i = 0; i < NCONN; i++)
		sch_pg_close(pg[i]);
	for (size_t i = 0; i < bk.njobs; i++) {
		free(bk.jobs[i].sql);
		free(bk.jobs[i].ids);
	}
	free(bk.jobs);
	free(bk.parts_left);
	free(bk.snapshot);
	sch_buf_release(&bk.pre);
	sch_buf_release(&bk.pg_dump);
	sch_buf_release(&bk.post);
	sch_buf_release(&body);
	sch_buf_release(&state);
	sch_pg_child_release(&bk.child);
	sch_manifest_release(&m);
	q_release(&bk.chunks);
	q_release(&bk.results);
	pthread_mutex_destroy(&bk.mu);
	err_release(&bk.err);
	return rc;
}

/* ---- reading snapshots ---- */

int sch_snapshot_load(struct sch_manifest *out, struct sch_txn *t,
		      const struct sch_id *id)
{
	struct sch_buf body = SCH_BUF_INIT;
	int rc = sch_object_get_typed(&body, t, id, SCH_OBJ_SNAP);

	sch_manifest_init(out);
	if (!rc)
		rc = sch_manifest_parse(out, body.ptr, body.len);
	sch_buf_release(&body);
	return rc;
}

/*
 * The plaintext of a sealed object read as `body`: opened with key and
 * the associated data of its type, then decoded. Returns 0 or
 * SCH_ECORRUPT naming the object.
 */
static int unseal(struct sch_buf *out, const struct sch_seal_key *k,
		  enum sch_otype want, const struct sch_id *id,
		  const struct sch_buf *body)
{
	struct sch_buf inner = SCH_BUF_INIT, scratch = SCH_BUF_INIT;
	const void *b;
	size_t blen;
	enum sch_otype type;
	char hex[SCH_HEX_LEN + 1];
	int rc;

	rc = want == SCH_OBJ_CHUNK
		     ? sch_seal_open(&inner, k, AD_CHUNK, ADLEN(AD_CHUNK),
				     body->ptr, body->len)
		     : sch_seal_open(&inner, k, AD_BLOB, ADLEN(AD_BLOB),
				     body->ptr, body->len);
	if (!rc)
		rc = sch_object_unpack_value(&type, &b, &blen, &scratch,
					     inner.ptr, inner.len);
	if (!rc && type != want)
		rc = sch_error_set(SCH_ECORRUPT, "sealed %s holds a %s",
				   sch_otype_name(want), sch_otype_name(type));
	if (!rc) {
		sch_buf_reset(out);
		sch_buf_add(out, b, blen);
	} else {
		sch_id_hex(hex, id);
		rc = sch_error_wrap(SCH_ECORRUPT, "object %s is corrupt", hex);
	}
	sch_buf_release(&inner);
	sch_buf_release(&scratch);
	return rc;
}

/* Reads object id of type want into out: its body, or with k (a sealed
 * snapshot's key) the plaintext it seals. tmp is scratch space. */
static int read_obj(struct sch_buf *out, struct sch_buf *tmp,
		    struct sch_txn *t, const struct sch_id *id,
		    enum sch_otype want, const struct sch_seal_key *k)
{
	int rc;

	if (!k || want == SCH_OBJ_STATE)
		return sch_object_get_typed(out, t, id, want);
	rc = sch_object_get_typed(tmp, t, id, want);
	if (!rc)
		rc = unseal(out, k, want, id, tmp);
	return rc;
}

int sch_snapshot_open(struct sch_manifest *m, const struct sch_id *id,
		      const struct sch_seal_key *key)
{
	struct sch_manifest in, env;
	struct sch_buf ad = SCH_BUF_INIT, text = SCH_BUF_INIT;
	struct sch_id *b = NULL, *c = NULL;
	size_t nb = 0, nc = 0;
	char sh[SCH_SHORT_LEN + 1], want[SCH_HEX_LEN + 1], have[SCH_HEX_LEN + 1];
	int rc;

	if (!m->sealed || m->opened)
		return 0;
	sch_id_short(sh, id);
	sch_id_hex(want, &m->key_id);
	if (!key) {
		rc = sch_error_set(SCH_EUSAGE, "snapshot %s is encrypted and no "
				   "key was given", sh);
		sch_error_hint("name its key file in SCHEMA_BACKUP_KEY_FILE or "
			       "in the environment's backup-key-file (key "
			       "%.12s)", want);
		return rc;
	}
	sch_id_hex(have, &key->id);
	if (sch_id_cmp(&key->id, &m->key_id))
		return sch_error_set(SCH_EREFUSED, "wrong key for snapshot %s: "
				     "it is sealed with key %.12s, the key "
				     "file holds key %.12s", sh, want, have);
	sch_manifest_init(&in);
	sch_manifest_format_envelope(&ad, m, m->boxlen);
	rc = sch_seal_open(&text, key, ad.ptr, ad.len, m->box, m->boxlen);
	if (rc) {
		rc = sch_error_set(SCH_ECORRUPT, "snapshot %s: the sealed "
				   "manifest does not authenticate with key "
				   "%.12s: it was tampered with", sh, have);
		goto out;
	}
	rc = sch_manifest_parse_sealed(&in, text.ptr, text.len);
	if (rc) {
		rc = sch_error_wrap(rc, "snapshot %s", sh);
		goto out;
	}
	sch_manifest_objects(&in, &b, &nb, &c, &nc);
	if (in.time != m->time || nb != m->nblobs || nc != m->nchunks ||
	    memcmp(b, m->blobs, nb * sizeof(*b)) ||
	    (nc && memcmp(c, m->chunks, nc * sizeof(*c)))) {
		rc = sch_error_set(SCH_ECORRUPT, "snapshot %s: the envelope "
				   "does not list what the sealed manifest "
				   "names", sh);
		goto out;
	}
	/* the box's content, with the envelope's fields kept */
	env = *m;
	*m = in;
	sch_manifest_init(&in);
	m->sealed = m->opened = 1;
	m->key_id = env.key_id;
	m->blobs = env.blobs;
	m->nblobs = env.nblobs;
	m->chunks = env.chunks;
	m->nchunks = env.nchunks;
	m->box = env.box;
	m->boxlen = env.boxlen;
out:
	sch_manifest_release(&in);
	sch_buf_release(&ad);
	explicit_bzero(text.ptr, text.len);
	sch_buf_release(&text);
	free(b);
	free(c);
	return rc;
}

int sch_snapshot_state(struct sch_buf *text, struct sch_id *state,
		       struct sch_txn *t, const struct sch_manifest *m,
		       const struct sch_id *id, const struct sch_seal_key *key)
{
	struct sch_buf tmp = SCH_BUF_INIT;
	struct sch_id check;
	char sh[SCH_SHORT_LEN + 1];
	int rc;

	sch_id_short(sh, id);
	if (!m->has_state) {
		rc = sch_error_set(SCH_ENOTFOUND, "snapshot %s has no recorded "
				   "state", sh);
		sch_error_hint("it was taken before backups recorded the "
			       "schema's state; restore it and diff the "
			       "database");
		return rc;
	}
	if (m->sealed)
		rc = read_obj(text, &tmp, t, &m->state_blob, SCH_OBJ_BLOB, key);
	else
		rc = sch_object_get_typed(text, t, &m->state, SCH_OBJ_STATE);
	sch_buf_release(&tmp);
	if (rc)
		return sch_error_wrap(rc, "the state of snapshot %s", sh);
	sch_catalog_state_id(&check, text->ptr, text->len);
	if (sch_id_cmp(&check, &m->state))
		return sch_error_set(SCH_ECORRUPT, "the state of snapshot %s "
				     "does not hash to the id it records", sh);
	*state = m->state;
	return 0;
}

int sch_snapshot_resolve(struct sch_id *out, struct sch_txn *t,
			 const char *prefix)
{
	const void *v;
	size_t vl;
	int rc = sch_object_resolve_prefix(out, t, prefix, SCH_OBJ_SNAP);

	if (rc)
		return rc;
	if (sch_kv_get(t, SCH_DB_SNAPSHOTS, out->b, SCH_ID_LEN, &v, &vl))
		return sch_error_set(SCH_ENOTFOUND, "snap object '%s' is not a "
				     "listed snapshot", prefix);
	return 0;
}

static int id_cmp_v(const void *a, const void *b)
{
	return sch_id_cmp(a, b);
}

static int info_cmp(const void *a, const void *b)
{
	const struct sch_snap_info *x = a, *y = b;

	if (x->m.time != y->m.time)
		return x->m.time < y->m.time ? -1 : 1;
	return sch_id_cmp(&x->id, &y->id);
}

/* Every object id a manifest names (a sealed one: what its envelope
 * lists; a plain one: its state too), sorted, without duplicates. */
static struct sch_id *manifest_ids(const struct sch_manifest *m,
				   const struct sch_id *self, size_t *n)
{
	struct sch_id *b = NULL, *c = NULL, *v;
	size_t nb, nc, k = 0;

	if (m->sealed) {
		b = xmalloc((m->nblobs + 1) * sizeof(*b));
		memcpy(b, m->blobs, m->nblobs * sizeof(*b));
		nb = m->nblobs;
		c = xmalloc((m->nchunks + 1) * sizeof(*c));
		memcpy(c, m->chunks, m->nchunks * sizeof(*c));
		nc = m->nchunks;
	} else {
		sch_manifest_objects(m, &b, &nb, &c, &nc);
	}
	v = xmalloc((nb + nc + 2) * sizeof(*v));
	memcpy(v, b, nb * sizeof(*v));
	memcpy(v + nb, c, nc * sizeof(*v));
	k = nb + nc;
	free(b);
	free(c);
	if (!m->sealed && m->has_state)
		v[k++] = m->state;
	if (self)
		v[k++] = *self;
	qsort(v, k, sizeof(*v), id_cmp_v);
	*n = 0;
	for (size_t i = 0; i < k; i++)
		if (!*n || sch_id_cmp(&v[*n - 1], &v[i]))
			v[(*n)++] = v[i];
	return v;
}

int sch_snapshot_list(struct sch_snap_info **out, size_t *n,
		      struct sch_txn *t, const struct sch_seal_key *key)
{
	struct sch_cursor *c = NULL;
	struct sch_snap_info *v = NULL;
	struct sch_id *seen = NULL;
	size_t nv = 0, nseen = 0;
	const void *k;
	size_t kl;
	int rc;

	*out = NULL;
	*n = 0;
	rc = sch_cursor_open(&c, t, SCH_DB_SNAPSHOTS);
	if (rc)
		return rc;
	for (rc = sch_cursor_seek(c, NULL, 0, &k, &kl, NULL, NULL); rc == 1;
	     rc = sch_cursor_next(c, &k, &kl, NULL, NULL)) {
		struct sch_snap_info *s;
		if (kl != SCH_ID_LEN)
			continue;
		v = xrealloc(v, (nv + 1) * sizeof(*v));
		s = &v[nv++];
		memset(s, 0, sizeof(*s));
		memcpy(s->id.b, k, SCH_ID_LEN);
		if (sch_snapshot_load(&s->m, t, &s->id))
			s->damaged = 1;
		s->sealed = s->m.sealed;
		if (s->sealed && key && !sch_id_cmp(&key->id, &s->m.key_id) &&
		    sch_snapshot_open(&s->m, &s->id, key))
			s->damaged = 1;
	}
	sch_cursor_close(c);
	if (rc < 0) {
		sch_snapshot_list_free(v, nv);
		return rc;
	}
	if (nv)
		qsort(v, nv, sizeof(*v), info_cmp);
	for (size_t i = 0; i < nv; i++) {
		struct sch_snap_info *s = &v[i];
		struct sch_id *ids;
		size_t nids, nnew = 0;
		if (s->damaged)
			continue;
		for (size_t j = 0; j < s->m.ntables; j++) {
			s->rows += s->m.tables[j].rows;
			s->raw_bytes += s->m.tables[j].bytes;
		}
		ids = manifest_ids(&s->m, &s->id, &nids);
		seen = xrealloc(seen, (nseen + nids + 1) * sizeof(*seen));
		for (size_t j = 0; j < nids; j++) {
			uint64_t sz = sch_object_stored_size(t, &ids[j]);
			s->stored_bytes += sz;
			if (!nseen || !bsearch(&ids[j], seen, nseen, sizeof(*seen),
					       id_cmp_v)) {
				s->added_bytes += sz;
				seen[nseen + nnew++] = ids[j];
			}
		}
		nseen += nnew;
		qsort(seen, nseen, sizeof(*seen), id_cmp_v);
		free(ids);
	}
	free(seen);
	*out = v;
	*n = nv;
	return 0;
}

void sch_snapshot_list_free(struct sch_snap_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sch_manifest_release(&v[i].m);
	free(v);
}

/* ---- verification ---- */

/* Bodies read while verifying, kept for the restore within a budget so
 * that its data phase need not inflate and hash them again. */
#define CACHE_BUDGET ((size_t)256 << 20)
struct cache {
	struct sch_id *ids;	/* sorted, every object of the snapshot */
	size_t n;
	char **bodies;		/* NULL where not kept */
	size_t *lens;
};

static void cache_release(struct cache *c)
{
	for (size_t i = 0; c->bodies && i < c->n; i++)
		free(c->bodies[i]);
	free(c->bodies);
	free(c->lens);
	free(c->ids);
	memset(c, 0, sizeof(*c));
}

/* The kept body of id, or NULL. */
static const char *cache_get(const struct cache *c, const struct sch_id *id,
			     size_t *len)
{
	const struct sch_id *hit;

	if (!c || !c->bodies)
		return NULL;
	hit = bsearch(id, c->ids, c->n, sizeof(*c->ids), id_cmp_v);
	if (!hit || !c->bodies[hit - c->ids])
		return NULL;
	*len = c->lens[hit - c->ids];
	return c->bodies[hit - c->ids];
}

struct vf {
	struct sch_store *store;
	const struct sch_seal_key *key; /* a sealed snapshot's */
	const struct sch_id *ids;
	const enum sch_otype *types;
	size_t n;
	atomic_size_t next;
	atomic_uint_fast64_t bytes;
	struct shared_err err;
	struct cache *cache;	/* NULL: keep nothing */
	atomic_size_t kept;
};

static void *verify_main(void *arg)
{
	struct vf *v = arg;
	struct sch_txn *t = NULL;
	struct sch_buf b = SCH_BUF_INIT, tmp = SCH_BUF_INIT;
	int rc = sch_txn_begin(&t, v->store, 0);

	while (!rc && !atomic_load(&v->err.failed)) {
		size_t i = atomic_fetch_add(&v->next, 1), len;
		if (i >= v->n)
			break;
		rc = read_obj(&b, &tmp, t, &v->ids[i], v->types[i], v->key);
		if (rc)
			break;
		atomic_fetch_add(&v->bytes, b.len);
		len = b.len;
		if (v->cache && v->types[i] == SCH_OBJ_CHUNK &&
		    atomic_fetch_add(&v->kept, len) + len <= CACHE_BUDGET) {
			v->cache->bodies[i] = sch_buf_detach(&b, NULL);
			v->cache->lens[i] = len;
		} else if (v->cache && v->types[i] == SCH_OBJ_CHUNK) {
			atomic_fetch_sub(&v->kept, len);
		}
	}
	if (rc)
		err_keep(&v->err, rc);
	sch_buf_release(&b);
	sch_buf_release(&tmp);
	sch_txn_abort(t);
	sch_object_thread_cleanup();
	return NULL;
}

static int verify(struct sch_store *store, const struct sch_manifest *m,
		  const struct sch_seal_key *key,
		  sch_snap_progress_fn *progress, void *arg,
		  struct cache *cache)
{
	struct vf v;
	pthread_t th[NWORKERS];
	struct sch_id *ids;
	enum sch_otype *types;
	size_t n, nth = 0;
	uint64_t total = 0;
	double t0 = now_s();
	int rc;

	ids = manifest_ids(m, NULL, &n);
	types = xmalloc((n + 1) * sizeof(*types));
	for (size_t i = 0; i < n; i++)
		types[i] = !m->sealed && m->has_state &&
					   !sch_id_cmp(&ids[i], &m->state)
				   ? SCH_OBJ_STATE
			   : !sch_id_cmp(&ids[i], &m->pre_data) ||
					   !sch_id_cmp(&ids[i], &m->post_data) ||
					   (m->has_state_blob &&
					    !sch_id_cmp(&ids[i], &m->state_blob))
				   ? SCH_OBJ_BLOB
				   : SCH_OBJ_CHUNK;
	for (size_t i = 0; i < m->ntables; i++)
		total += m->tables[i].bytes;
	memset(&v, 0, sizeof(v));
	v.store = store;
	v.key = m->sealed ? key : NULL;
	v.ids = ids;
	v.types = types;
	v.n = n;
	if (cache) {
		cache->ids = ids;
		cache->n = n;
		cache->bodies = xcalloc(n + 1, sizeof(*cache->bodies));
		cache->lens = xcalloc(n + 1, sizeof(*cache->lens));
		v.cache = cache;
	}
	err_init(&v.err);
	for (int i = 0; i < NWORKERS; i++)
		if (pthread_create(&th[i], NULL, verify_main, &v) == 0)
			nth++;
	if (!nth)
		verify_main(&v);
	while (nth && atomic_load(&v.next) < n && !atomic_load(&v.err.failed)) {
		struct timespec ts = { 0, TICK_MS * 1000000L };
		nanosleep(&ts, NULL);
		report(progress, arg, "verify", atomic_load(&v.bytes), 0, total,
		       0, m->ntables, t0, 0);
	}
	for (size_t i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	rc = err_raise(&v.err);
	if (rc)
		rc = sch_error_wrap(rc, "the snapshot is damaged");
	else
		report(progress, arg, "verify", atomic_load(&v.bytes), 0, total,
		       m->ntables, m->ntables, t0, 1);
	err_release(&v.err);
	if (!cache)
		free(ids);
	free(types);
	return rc;
}

/* ---- restore ---- */

int sch_snapshot_marker(struct sch_pg *pg, struct sch_buf *snap)
{
	struct sch_buf v = SCH_BUF_INIT;
	int rc;

	rc = sch_pg_query_value(&v, pg, "SELECT to_regclass('"
				SCH_SNAP_MARKER_SCHEMA ".in_progress') IS NOT "
				"NULL", 0, NULL);
	if (rc)
		goto out;
	if (strcmp(v.ptr, "t")) {
		rc = 0;
		goto out;
	}
	rc = sch_pg_query_value(snap, pg, "SELECT snap FROM "
				SCH_SNAP_MARKER_SCHEMA ".in_progress ORDER BY "
				"started_at DESC LIMIT 1", 0, NULL);
	if (rc == SCH_ENOTFOUND)
		sch_buf_addstr(snap, "?");
	rc = rc && rc != SCH_ENOTFOUND ? rc : 1;
out:
	sch_buf_release(&v);
	return rc;
}

/* Objects of a database that a restore would collide with. */
static const char count_user_objects[] =
	"SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON "
	"n.oid = c.relnamespace WHERE " SYSTEM_NS("n.nspname") ") + "
	"(SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = "
	"t.typnamespace WHERE " SYSTEM_NS("n.nspname") ") + "
	"(SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = "
	"p.pronamespace WHERE " SYSTEM_NS("n.nspname") ") + "
	"(SELECT count(*) FROM pg_namespace n WHERE " SYSTEM_NS("n.nspname")
	" AND n.nspname <> 'public') + "
	"(SELECT count(*) FROM pg_extension WHERE extname <> 'plpgsql')";

/*
 * Empties a database for --force: every extension but plpgsql, event
 * trigger and publication, every schema but the system ones, public and
 * the marker's, and in public the relations, routines and types (the
 * schema itself stays: its owner and privileges belong to the database).
 */
static const char wipe_sql[] =
	"DO $schema_wipe$\n"
	"DECLARE r record;\n"
	"BEGIN\n"
	"FOR r IN SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' "
	"LOOP EXECUTE format('DROP EXTENSION IF EXISTS %I CASCADE', r.extname); "
	"END LOOP;\n"
	"FOR r IN SELECT evtname FROM pg_event_trigger LOOP "
	"EXECUTE format('DROP EVENT TRIGGER IF EXISTS %I', r.evtname); END LOOP;\n"
	"FOR r IN SELECT pubname FROM pg_publication LOOP "
	"EXECUTE format('DROP PUBLICATION IF EXISTS %I', r.pubname); END LOOP;\n"
	"FOR r IN SELECT nspname FROM pg_namespace n WHERE " SYSTEM_NS("n.nspname")
	" AND nspname <> 'public' LOOP "
	"EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', r.nspname); "
	"END LOOP;\n"
	"FOR r IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c "
	"WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN "
	"('r','p','v','m','S','f') ORDER BY c.relkind = 'S' LOOP "
	"IF to_regclass(r.name::text) IS NOT NULL THEN "
	"EXECUTE format('DROP %s IF EXISTS %s CASCADE', CASE r.relkind "
	"WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN "
	"'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, r.name); "
	"END IF; END LOOP;\n"
	"FOR r IN SELECT p.oid, p.prokind FROM pg_proc p WHERE p.pronamespace = "
	"'public'::regnamespace LOOP "
	"IF EXISTS (SELECT 1 FROM pg_proc WHERE oid = r.oid) THEN "
	"EXECUTE format('DROP %s IF EXISTS %s CASCADE', CASE r.prokind WHEN "
	"'a' THEN 'AGGREGATE' WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, "
	"r.oid::regprocedure); END IF; END LOOP;\n"
	"FOR r IN SELECT t.oid FROM pg_type t WHERE t.typnamespace = "
	"'public'::regnamespace AND t.typtype IN ('b','c','d','e','r','m') AND "
	"(t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = "
	"t.typrelid) = 'c') AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE "
	"e.typarray = t.oid) LOOP "
	"IF EXISTS (SELECT 1 FROM pg_type WHERE oid = r.oid) THEN "
	"EXECUTE format('DROP TYPE IF EXISTS %s CASCADE', r.oid::regtype); "
	"END IF; END LOOP;\n"
	"END $schema_wipe$";

struct rs {
	struct sch_store *store;
	const struct sch_seal_key *key; /* a sealed snapshot's */
	const struct sch_manifest *m;
	const struct cache *cache;
	const char *conninfo;
	struct shared_err err;
	pthread_mutex_t mu;
	struct { size_t table, part; uint64_t bytes; } *jobs;
	size_t njobs, next;
	size_t *parts_left;
	atomic_uint_fast64_t bytes, rows;
	atomic_size_t tables_done;
};

static int restore_part(struct rs *s, struct sch_pg *pg, struct sch_txn *t,
			size_t ti, size_t pi, struct sch_buf *b,
			struct sch_buf *tmp)
{
	const struct sch_mf_table *tb = &s->m->tables[ti];
	const struct sch_mf_part *p = &tb->parts[pi];
	struct sch_buf sql = SCH_BUF_INIT;
	char *q = qualified(tb->schema, tb->name);
	int rc, rc2;

	sch_buf_addf(&sql, "COPY %s ", q);
	if (tb->ncols) {
		sch_buf_addch(&sql, '(');
		for (size_t c = 0; c < tb->ncols; c++) {
			if (c)
				sch_buf_addstr(&sql, ", ");
			sch_pg_quote_ident(&sql, tb->cols[c]);
		}
		sch_buf_addstr(&sql, ") ");
	}
	sch_buf_addstr(&sql, "FROM STDIN");
	if (tb->binary)
		sch_buf_addstr(&sql, " WITH (FORMAT binary)");
	rc = sch_pg_copy_in_begin(pg, sql.ptr);
	if (rc)
		goto out;
	for (size_t k = 0; k < p->nchunks && !rc; k++) {
		if (atomic_load(&s->err.failed)) {
			rc = sch_error_set(SCH_EIO, "stopped");
			break;
		}
		const char *kept;
		size_t len;
		if ((kept = cache_get(s->cache, &p->chunks[k], &len))) {
			rc = sch_pg_copy_in_put(pg, kept, len);
		} else {
			rc = read_obj(b, tmp, t, &p->chunks[k], SCH_OBJ_CHUNK,
				      s->key);
			len = b->len;
			if (!rc)
				rc = sch_pg_copy_in_put(pg, b->ptr, len);
		}
		if (!rc)
			atomic_fetch_add(&s->bytes, len);
	}
	rc2 = sch_pg_copy_in_end(pg, rc ? "schema restore stopped" : NULL);
	if (!rc)
		rc = rc2;
	if (!rc)
		atomic_fetch_add(&s->rows, p->rows);
out:
	if (rc)
		rc = sch_error_wrap(rc, "table %s", q);
	free(q);
	sch_buf_release(&sql);
	return rc;
}

static void *restore_main(void *arg)
{
	struct rs *s = arg;
	struct sch_pg *pg = NULL;
	struct sch_txn *t = NULL;
	struct sch_buf b = SCH_BUF_INIT, tmp = SCH_BUF_INIT;
	int rc = sch_pg_open(&pg, s->conninfo);

	if (!rc)
		rc = sch_pg_exec_script(pg, session_sql);
	if (!rc)
		rc = sch_pg_exec_script(pg, "SET synchronous_commit = off");
	if (!rc)
		rc = sch_txn_begin(&t, s->store, 0);
	while (!rc && !atomic_load(&s->err.failed)) {
		size_t i, ti;
		pthread_mutex_lock(&s->mu);
		i = s->next < s->njobs ? s->next++ : SIZE_MAX;
		pthread_mutex_unlock(&s->mu);
		if (i == SIZE_MAX)
			break;
		ti = s->jobs[i].table;
		rc = restore_part(s, pg, t, ti, s->jobs[i].part, &b, &tmp);
		if (!rc) {
			pthread_mutex_lock(&s->mu);
			if (--s->parts_left[ti] == 0)
				atomic_fetch_add(&s->tables_done, 1);
			pthread_mutex_unlock(&s->mu);
		}
	}
	if (rc)
		err_keep(&s->err, rc);
	sch_buf_release(&b);
	sch_buf_release(&tmp);
	sch_txn_abort(t);
	sch_pg_close(pg);
	sch_object_thread_cleanup();
	return NULL;
}

static int rjob_cmp(const void *a, const void *b)
{
	const struct { size_t table, part; uint64_t bytes; } *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	if (x->table != y->table)
		return x->table < y->table ? -1 : 1;
	return x->part < y->part ? -1 : x->part > y->part;
}

static int load_data(struct sch_store *store, const struct sch_manifest *m,
		     const struct sch_restore_opts *o, const struct cache *cache)
{
	struct rs s;
	pthread_t th[NCONN];
	size_t nth = 0;
	uint64_t total = 0;
	double t0 = now_s(), last = t0;
	int rc;

	memset(&s, 0, sizeof(s));
	s.store = store;
	s.key = m->sealed ? o->key : NULL;
	s.m = m;
	s.cache = cache;
	s.conninfo = o->conninfo;
	err_init(&s.err);
	pthread_mutex_init(&s.mu, NULL);
	s.parts_left = xcalloc(m->ntables + 1, sizeof(*s.parts_left));
	for (size_t i = 0; i < m->ntables; i++) {
		s.parts_left[i] = m->tables[i].nparts;
		total += m->tables[i].bytes;
		for (size_t j = 0; j < m->tables[i].nparts; j++) {
			s.jobs = xrealloc(s.jobs, (s.njobs + 1) * sizeof(*s.jobs));
			s.jobs[s.njobs].table = i;
			s.jobs[s.njobs].part = j;
			s.jobs[s.njobs].bytes = m->tables[i].parts[j].bytes;
			s.njobs++;
		}
	}
	if (s.njobs)
		qsort(s.jobs, s.njobs, sizeof(*s.jobs), rjob_cmp);
	for (int i = 0; i < NCONN; i++)
		if (pthread_create(&th[nth], NULL, restore_main, &s) == 0)
			nth++;
	if (!nth)
		restore_main(&s);
	for (;;) {
		size_t done;
		struct timespec ts = { 0, 50 * 1000000L };
		pthread_mutex_lock(&s.mu);
		done = s.next >= s.njobs;
		pthread_mutex_unlock(&s.mu);
		if (done || atomic_load(&s.err.failed))
			break;
		nanosleep(&ts, NULL);
		if (now_s() - last >= TICK_MS / 1000.0) {
			last = now_s();
			report(o->progress, o->progress_arg, "restore",
			       atomic_load(&s.bytes), atomic_load(&s.rows), total,
			       atomic_load(&s.tables_done), m->ntables, t0, 0);
		}
	}
	for (size_t i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	rc = err_raise(&s.err);
	if (!rc)
		report(o->progress, o->progress_arg, "restore",
		       atomic_load(&s.bytes), atomic_load(&s.rows), total,
		       m->ntables, m->ntables, t0, 1);
	free(s.jobs);
	free(s.parts_left);
	pthread_mutex_destroy(&s.mu);
	err_release(&s.err);
	return rc;
}

/* Runs a pg_dump section with psql, in one transaction. */
static int run_section(const struct sch_pg_child *child, const char *what,
		       const struct sch_buf *script)
{
	struct child_argv a = { { NULL }, 0, NULL };
	int rc;

	cargv_add(&a, "psql");
	cargv_add(&a, "-X");
	cargv_add(&a, "-q");
	cargv_add(&a, "-v");
	cargv_add(&a, "ON_ERROR_STOP=1");
	cargv_add(&a, "--single-transaction");
	cargv_add(&a, "--no-password");
	cargv_add(&a, "-f");
	cargv_add(&a, "-");
	cargv_finish(&a, child);
	rc = run_child(a.v, child->envp, script->ptr, script->len, NULL);
	if (rc)
		rc = sch_error_wrap(rc, "%s", what);
	free(a.dbarg);
	return rc;
}

static int set_sequences(struct sch_pg *pg, const struct sch_manifest *m)
{
	struct sch_pg_stmt *st;
	char **owned;
	int rc;

	if (!m->nseqs)
		return 0;
	st = xcalloc(m->nseqs, sizeof(*st));
	owned = xcalloc(m->nseqs * 3, sizeof(*owned));
	for (size_t i = 0; i < m->nseqs; i++) {
		const char **p = (const char **)&owned[3 * i];
		owned[3 * i] = qualified(m->seqs[i].schema, m->seqs[i].name);
		owned[3 * i + 1] = xasprintf("%lld",
					     (long long)m->seqs[i].last_value);
		owned[3 * i + 2] = xstrdup(m->seqs[i].is_called ? "t" : "f");
		st[i].sql = "SELECT pg_catalog.setval($1::regclass, $2::bigint, "
			    "$3::boolean)";
		st[i].nparams = 3;
		st[i].params = p;
		st[i].expect = SCH_PG_TUPLES;
	}
	rc = sch_pg_batch(pg, st, m->nseqs);
	if (rc)
		rc = sch_error_wrap(rc, "setting sequences");
	for (size_t i = 0; i < m->nseqs * 3; i++)
		free(owned[i]);
	free(owned);
	free(st);
	return rc;
}

int sch_snapshot_restore(struct sch_store *store, const struct sch_id *id,
			 const struct sch_restore_opts *o)
{
	struct sch_manifest m;
	struct cache cache;
	struct sch_txn *t = NULL;
	struct sch_pg *pg = NULL;
	struct sch_pg_child child = { NULL, NULL };
	struct sch_buf pre = SCH_BUF_INIT, post = SCH_BUF_INIT,
		       v = SCH_BUF_INIT;
	const struct sch_seal_key *k;
	char hex[SCH_HEX_LEN + 1];
	int rc, marker;

	sch_manifest_init(&m);
	memset(&cache, 0, sizeof(cache));
	sch_id_hex(hex, id);
	rc = sch_txn_begin(&t, store, 0);
	if (!rc)
		rc = sch_snapshot_load(&m, t, id);
	/* everything is opened, read and checked before the target is
	 * touched */
	if (!rc)
		rc = sch_snapshot_open(&m, id, o->key);
	if (rc)
		goto out;
	k = m.sealed ? o->key : NULL;
	rc = verify(store, &m, k, o->progress, o->progress_arg, &cache);
	if (!rc)
		rc = read_obj(&pre, &v, t, &m.pre_data, SCH_OBJ_BLOB, k);
	if (!rc)
		rc = read_obj(&post, &v, t, &m.post_data, SCH_OBJ_BLOB, k);
	if (rc)
		goto out;
	sch_txn_abort(t);
	t = NULL;
	rc = sch_pg_child_init(&child, o->conninfo, environ);
	if (!rc)
		rc = sch_pg_open(&pg, o->conninfo);
	if (rc)
		goto out;
	/* pg_dump's DDL and binary COPY data do not go to an older major:
	 * refuse before the target is marked or wiped */
	if (m.server && sch_pg_server_version(pg) / 10000 < m.server / 10000) {
		rc = sch_error_set(SCH_EREFUSED, "snapshot %.12s was taken on "
				   "PostgreSQL %ld; database '%s' runs an older "
				   "%d", hex, m.server / 10000, sch_pg_dbname(pg),
				   sch_pg_server_version(pg) / 10000);
		sch_error_hint("restore into a server of version %ld or later",
			       m.server / 10000);
		goto out;
	}
	marker = sch_snapshot_marker(pg, &v);
	if (marker < 0) {
		rc = marker;
		goto out;
	}
	if (marker && !o->force) {
		rc = sch_error_set(SCH_EREFUSED, "database '%s' holds an "
				   "interrupted restore of snapshot %.12s",
				   sch_pg_dbname(pg), v.ptr);
		sch_error_hint("rerun with --force to replace what it holds "
			       "and complete a restore");
		goto out;
	}
	rc = sch_pg_query_value(&v, pg, count_user_objects, 0, NULL);
	if (rc)
		goto out;
	if (strcmp(v.ptr, "0") && !o->force) {
		rc = sch_error_set(SCH_EREFUSED, "database '%s' is not empty: "
				   "it holds %s objects", sch_pg_dbname(pg),
				   v.ptr);
		sch_error_hint("restore into an empty database, or pass --force "
			       "to replace its content");
		goto out;
	}
	/* the marker, committed before anything else changes */
	{
		const char *p[1] = { hex };
		const struct sch_pg_stmt st[] = {
			{ "CREATE SCHEMA IF NOT EXISTS " SCH_SNAP_MARKER_SCHEMA,
			  0, NULL, SCH_PG_COMMAND },
			{ "CREATE TABLE IF NOT EXISTS " SCH_SNAP_MARKER_SCHEMA
			  ".in_progress (snap text NOT NULL, started_at "
			  "timestamptz NOT NULL DEFAULT clock_timestamp())",
			  0, NULL, SCH_PG_COMMAND },
			{ "DELETE FROM " SCH_SNAP_MARKER_SCHEMA ".in_progress",
			  0, NULL, SCH_PG_COMMAND },
			{ "INSERT INTO " SCH_SNAP_MARKER_SCHEMA
			  ".in_progress (snap) VALUES ($1)", 1, p,
			  SCH_PG_COMMAND },
		};
		rc = sch_pg_batch(pg, st, sizeof(st) / sizeof(st[0]));
		if (rc) {
			rc = sch_error_wrap(rc, "cannot mark the restore");
			goto out;
		}
	}
	if (o->force) {
		rc = sch_pg_exec_script(pg, "SET client_min_messages = warning");
		if (!rc)
			rc = sch_pg_exec_script(pg, wipe_sql);
		if (rc) {
			rc = sch_error_wrap(rc, "cannot empty the database");
			goto out;
		}
	}
	rc = run_section(&child, "pre-data", &pre);
	if (!rc)
		rc = load_data(store, &m, o, &cache);
	if (!rc)
		rc = set_sequences(pg, &m);
	if (!rc)
		rc = run_section(&child, "post-data", &post);
	if (!rc)
		rc = sch_pg_exec_script(pg, "SET client_min_messages = warning; "
					"DROP SCHEMA " SCH_SNAP_MARKER_SCHEMA
					" CASCADE");
	if (rc && rc != SCH_ECORRUPT)
		sch_error_hint("the database holds a partial restore; rerun "
			       "with --force to complete it");
out:
	sch_txn_abort(t);
	sch_pg_close(pg);
	sch_pg_child_release(&child);
	sch_manifest_release(&m);
	cache_release(&cache);
	sch_buf_release(&pre);
	sch_buf_release(&post);
	sch_buf_release(&v);
	return rc;
}
