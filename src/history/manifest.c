/* manifest.c - the `snap` object body (see schema/manifest.h). */
#include <stdlib.h>
#include <string.h>

#include "schema/error.h"
#include "schema/manifest.h"
#include "schema/seal.h"

void sch_manifest_init(struct sch_manifest *m)
{
	memset(m, 0, sizeof(*m));
}

void sch_manifest_release(struct sch_manifest *m)
{
	free(m->database);
	free(m->encoding);
	free(m->note);
	free(m->heads);
	for (size_t i = 0; i < m->nseqs; i++) {
		free(m->seqs[i].schema);
		free(m->seqs[i].name);
	}
	free(m->seqs);
	for (size_t i = 0; i < m->ntables; i++) {
		struct sch_mf_table *t = &m->tables[i];
		free(t->schema);
		free(t->name);
		for (size_t j = 0; j < t->ncols; j++)
			free(t->cols[j]);
		free(t->cols);
		for (size_t j = 0; j < t->nparts; j++)
			free(t->parts[j].chunks);
		free(t->parts);
	}
	free(m->tables);
	free(m->blobs);
	free(m->chunks);
	free(m->box);
	memset(m, 0, sizeof(*m));
}

static int must_escape(unsigned char c)
{
	return c <= 0x20 || c == '%' || c == 0x7f;
}

void sch_manifest_word(struct sch_buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (must_escape(c)) {
			sch_buf_addch(out, '%');
			sch_buf_addch(out, hex[c >> 4]);
			sch_buf_addch(out, hex[c & 15]);
		} else {
			sch_buf_addch(out, (char)c);
		}
	}
}

static void add_word(struct sch_buf *out, const char *s)
{
	sch_buf_addch(out, ' ');
	sch_manifest_word(out, s, strlen(s));
}

static void add_id(struct sch_buf *out, const char *key,
		   const struct sch_id *id)
{
	char hex[SCH_HEX_LEN + 1];

	sch_id_hex(hex, id);
	sch_buf_addf(out, "%s %s\n", key, hex);
}

void sch_manifest_format_envelope(struct sch_buf *out,
				  const struct sch_manifest *m, size_t boxlen)
{
	sch_buf_addf(out, "sealed-snapshot %d\ntime %lld\n",
		     SCH_MANIFEST_SEALED_VERSION, (long long)m->time);
	add_id(out, "key", &m->key_id);
	for (size_t i = 0; i < m->nblobs; i++)
		add_id(out, "blob", &m->blobs[i]);
	for (size_t i = 0; i < m->nchunks; i++)
		add_id(out, "chunk", &m->chunks[i]);
	sch_buf_addf(out, "sealed %zu\n", boxlen);
}

static int id_cmp_v(const void *a, const void *b)
{
	return sch_id_cmp(a, b);
}

static size_t sort_unique(struct sch_id *v, size_t n)
{
	size_t k = 0;

	if (n)
		qsort(v, n, sizeof(*v), id_cmp_v);
	for (size_t i = 0; i < n; i++)
		if (!k || sch_id_cmp(&v[k - 1], &v[i]))
			v[k++] = v[i];
	return k;
}

void sch_manifest_objects(const struct sch_manifest *m, struct sch_id **blobs,
			  size_t *nblobs, struct sch_id **chunks,
			  size_t *nchunks)
{
	size_t nb = 0, nc = 0, cap = 1;

	*blobs = xmalloc(3 * sizeof(**blobs));
	if (m->has_state_blob)
		(*blobs)[nb++] = m->state_blob;
	(*blobs)[nb++] = m->pre_data;
	(*blobs)[nb++] = m->post_data;
	*nblobs = sort_unique(*blobs, nb);
	for (size_t i = 0; i < m->ntables; i++)
		for (size_t j = 0; j < m->tables[i].nparts; j++)
			cap += m->tables[i].parts[j].nchunks;
	*chunks = xmalloc(cap * sizeof(**chunks));
	for (size_t i = 0; i < m->ntables; i++)
		for (size_t j = 0; j < m->tables[i].nparts; j++) {
			const struct sch_mf_part *p = &m->tables[i].parts[j];
			if (!p->nchunks)
				continue; /* chunks may be NULL */
			memcpy(*chunks + nc, p->chunks,
			       p->nchunks * sizeof(**chunks));
			nc += p->nchunks;
		}
	*nchunks = sort_unique(*chunks, nc);
}

void sch_manifest_format(struct sch_buf *out, const struct sch_manifest *m)
{
	if (m->sealed && !m->opened) {
		sch_manifest_format_envelope(out, m, m->boxlen);
		sch_buf_add(out, m->box, m->boxlen);
		return;
	}
	sch_buf_addf(out, "snapshot %d\ntime %lld\ndatabase",
		     m->has_state ? 2 : 1, (long long)m->time);
	add_word(out, m->database);
	sch_buf_addf(out, "\nserver %ld\nencoding", m->server);
	add_word(out, m->encoding);
	sch_buf_addch(out, '\n');
	if (m->note) {
		sch_buf_addstr(out, "note");
		add_word(out, m->note);
		sch_buf_addch(out, '\n');
	}
	for (size_t i = 0; i < m->nheads; i++)
		add_id(out, "head", &m->heads[i]);
	if (m->has_state) {
		char hex[SCH_HEX_LEN + 1];
		sch_id_hex(hex, &m->state);
		sch_buf_addf(out, "state %s", hex);
		if (m->has_state_blob) {
			sch_id_hex(hex, &m->state_blob);
			sch_buf_addf(out, " %s", hex);
		}
		sch_buf_addch(out, '\n');
	}
	add_id(out, "pre-data", &m->pre_data);
	add_id(out, "post-data", &m->post_data);
	for (size_t i = 0; i < m->nseqs; i++) {
		sch_buf_addstr(out, "sequence");
		add_word(out, m->seqs[i].schema);
		add_word(out, m->seqs[i].name);
		sch_buf_addf(out, " %lld %c\n", (long long)m->seqs[i].last_value,
			     m->seqs[i].is_called ? 't' : 'f');
	}
	for (size_t i = 0; i < m->ntables; i++) {
		const struct sch_mf_table *t = &m->tables[i];
		sch_buf_addstr(out, "table");
		add_word(out, t->schema);
		add_word(out, t->name);
		sch_buf_addf(out, " %s %llu %llu\n",
			     t->binary ? "binary" : "text",
			     (unsigned long long)t->rows,
			     (unsigned long long)t->bytes);
		for (size_t j = 0; j < t->ncols; j++) {
			sch_buf_addstr(out, "column");
			add_word(out, t->cols[j]);
			sch_buf_addch(out, '\n');
		}
		for (size_t j = 0; j < t->nparts; j++) {
			const struct sch_mf_part *p = &t->parts[j];
			sch_buf_addf(out, "part %llu %llu %zu\n",
				     (unsigned long long)p->rows,
				     (unsigned long long)p->bytes, p->nchunks);
			for (size_t k = 0; k < p->nchunks; k++)
				add_id(out, "chunk", &p->chunks[k]);
		}
	}
}

/* ---- parsing ---- */

struct cur {
	const char *p, *end;
	size_t line;
	const char *l;		/* the current line */
	size_t len;		/* its length without LF */
	const char *f;		/* next field within the line */
};

static int bad(struct cur *c, const char *what)
{
	return sch_error_set(SCH_ECORRUPT, "snapshot manifest line %zu: %s",
			     c->line, what);
}

/* Takes the next line if it starts with `key` SP; 1 yes, 0 no (or end). */
static int next_is(struct cur *c, const char *key)
{
	size_t k = strlen(key);
	const char *nl;

	if (c->p >= c->end)
		return 0;
	nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	if (!nl)
		return 0;
	if ((size_t)(nl - c->p) <= k || memcmp(c->p, key, k) || c->p[k] != ' ')
		return 0;
	c->line++;
	c->l = c->p;
	c->len = (size_t)(nl - c->p);
	c->f = c->p + k + 1;
	c->p = nl + 1;
	return 1;
}

static int expect(struct cur *c, const char *key)
{
	if (next_is(c, key))
		return 0;
	c->line++;
	return sch_error_set(SCH_ECORRUPT, "snapshot manifest line %zu: "
			     "'%s' expected", c->line, key);
}

/* The next space-separated field of the line: [*s, *s + *n). */
static int field(struct cur *c, const char **s, size_t *n)
{
	const char *e = c->l + c->len, *sp;

	if (!c->f || c->f >= e + 1)
		return bad(c, "missing field");
	sp = memchr(c->f, ' ', (size_t)(e - c->f));
	*s = c->f;
	*n = sp ? (size_t)(sp - c->f) : (size_t)(e - c->f);
	c->f = sp ? sp + 1 : e + 1;
	if (!*n)
		return bad(c, "empty field");
	return 0;
}

static int line_end(struct cur *c)
{
	if (c->f != c->l + c->len + 1)
		return bad(c, "extra field");
	return 0;
}

static int hexv(char ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0'
	       : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

static int word(struct cur *c, char **out)
{
	const char *s;
	size_t n;
	struct sch_buf b = SCH_BUF_INIT;
	int rc = field(c, &s, &n);

	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '%') {
			int hi, lo;
			if (i + 2 >= n)
				goto fail;
			hi = hexv(s[i + 1]);
			lo = hexv(s[i + 2]);
			if (hi < 0 || lo < 0)
				goto fail;
			ch = (unsigned char)(hi * 16 + lo);
			if (!must_escape(ch))
				goto fail;
			i += 2;
		} else if (must_escape(ch)) {
			goto fail;
		}
		sch_buf_addch(&b, (char)ch);
	}
	if (memchr(b.ptr, '\0', b.len))
		goto fail;
	*out = sch_buf_detach(&b, NULL);
	return 0;
fail:
	sch_buf_release(&b);
	return bad(c, "badly escaped word");
}

static int u64(struct cur *c, uint64_t *out)
{
	const char *s;
	size_t n;
	uint64_t v = 0;
	int rc = field(c, &s, &n);

	if (rc)
		return rc;
	if (n > 1 && s[0] == '0')
		return bad(c, "number with a leading zero");
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return bad(c, "not a number");
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return bad(c, "number too large");
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int i64(struct cur *c, int64_t *out)
{
	const char *s;
	size_t n;
	uint64_t v = 0, lim;
	int neg, rc = field(c, &s, &n);

	if (rc)
		return rc;
	neg = s[0] == '-';
	if (neg && n == 1)
		return bad(c, "not a number");
	if (n - (size_t)neg > 1 && s[neg] == '0')
		return bad(c, "number with a leading zero");
	if (neg && n == 2 && s[1] == '0')
		return bad(c, "negative zero");
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (size_t i = (size_t)neg; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return bad(c, "not a number");
		if (v > (lim - (uint64_t)(s[i] - '0')) / 10)
			return bad(c, "number too large");
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

static int id_field(struct cur *c, struct sch_id *out)
{
	const char *s;
	size_t n;
	int rc = field(c, &s, &n);

	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return bad(c, "not a lowercase id");
	if (n != SCH_HEX_LEN || sch_unhex(out->b, s, SCH_ID_LEN))
		return bad(c, "not an id");
	return 0;
}

static int keyword(struct cur *c, const char *a, const char *b, int *out)
{
	const char *s;
	size_t n;
	int rc = field(c, &s, &n);

	if (rc)
		return rc;
	if (n == strlen(a) && !memcmp(s, a, n))
		*out = 1;
	else if (n == strlen(b) && !memcmp(s, b, n))
		*out = 0;
	else
		return bad(c, "unknown keyword");
	return 0;
}

#define TRY(x)                  \
	do {                    \
		rc = (x);       \
		if (rc)         \
			goto out; \
	} while (0)

static int parse_table(struct cur *c, struct sch_mf_table *t)
{
	uint64_t rows = 0, bytes = 0;
	int rc;

	TRY(word(c, &t->schema));
	TRY(word(c, &t->name));
	TRY(keyword(c, "binary", "text", &t->binary));
	TRY(u64(c, &t->rows));
	TRY(u64(c, &t->bytes));
	TRY(line_end(c));
	while (next_is(c, "column")) {
		t->cols = xrealloc(t->cols, (t->ncols + 1) * sizeof(*t->cols));
		t->cols[t->ncols] = NULL;
		TRY(word(c, &t->cols[t->ncols++]));
		TRY(line_end(c));
	}
	TRY(expect(c, "part"));
	do {
		struct sch_mf_part *p;
		uint64_t nchunks;
		t->parts = xrealloc(t->parts, (t->nparts + 1) * sizeof(*t->parts));
		p = &t->parts[t->nparts++];
		memset(p, 0, sizeof(*p));
		TRY(u64(c, &p->rows));
		TRY(u64(c, &p->bytes));
		TRY(u64(c, &nchunks));
		TRY(line_end(c));
		/* each chunk line is 71 bytes: refuse counts the rest of the
		 * input cannot hold before allocating for them */
		if (nchunks > (uint64_t)(c->end - c->p) / 71)
			return bad(c, "more chunks than lines");
		if ((!nchunks) != (!p->bytes))
			return bad(c, "chunks and bytes disagree");
		p->chunks = xmalloc((size_t)(nchunks ? nchunks : 1) *
				    sizeof(*p->chunks));
		for (uint64_t k = 0; k < nchunks; k++) {
			TRY(expect(c, "chunk"));
			TRY(id_field(c, &p->chunks[p->nchunks]));
			p->nchunks++;
			TRY(line_end(c));
		}
		if (rows + p->rows < rows || bytes + p->bytes < bytes)
			return bad(c, "sizes overflow");
		rows += p->rows;
		bytes += p->bytes;
	} while (next_is(c, "part"));
	if (rows != t->rows || bytes != t->bytes)
		return bad(c, "table sizes are not the sums of its parts");
out:
	return rc;
}

/* Ids of lines `key <id>`, strictly ascending; at least `min`. */
static int id_lines(struct cur *c, const char *key, size_t min,
		    struct sch_id **out, size_t *n)
{
	int rc = 0;

	while (next_is(c, key)) {
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		TRY(id_field(c, &(*out)[*n]));
		TRY(line_end(c));
		if (*n && sch_id_cmp(&(*out)[*n - 1], &(*out)[*n]) >= 0)
			return bad(c, "ids not sorted or repeated");
		(*n)++;
	}
	if (*n < min) {
		c->line++;
		return sch_error_set(SCH_ECORRUPT, "snapshot manifest line %zu: "
				     "'%s' expected", c->line, key);
	}
out:
	return rc;
}

static int parse_envelope(struct cur *c, struct sch_manifest *m)
{
	uint64_t v;
	int rc;

	m->sealed = 1;
	TRY(expect(c, "sealed-snapshot"));
	TRY(u64(c, &v));
	if (v != SCH_MANIFEST_SEALED_VERSION) {
		rc = bad(c, "unknown sealed snapshot format version");
		goto out;
	}
	TRY(line_end(c));
	TRY(expect(c, "time"));
	TRY(i64(c, &m->time));
	TRY(line_end(c));
	TRY(expect(c, "key"));
	TRY(id_field(c, &m->key_id));
	TRY(line_end(c));
	TRY(id_lines(c, "blob", 1, &m->blobs, &m->nblobs));
	TRY(id_lines(c, "chunk", 0, &m->chunks, &m->nchunks));
	TRY(expect(c, "sealed"));
	TRY(u64(c, &v));
	TRY(line_end(c));
	if (v != (uint64_t)(c->end - c->p)) {
		rc = bad(c, "sealed length does not match the bytes that follow");
		goto out;
	}
	if (v < SCH_SEAL_OVERHEAD) {
		rc = bad(c, "sealed box too short");
		goto out;
	}
	m->boxlen = (size_t)v;
	m->box = xmalloc(m->boxlen);
	memcpy(m->box, c->p, m->boxlen);
	c->p = c->end;
out:
	return rc;
}

static int parse_plain(struct sch_manifest *m, const void *data, size_t len,
		       int inner)
{
	struct cur c = { data, (const char *)data + len, 0, NULL, 0, NULL };
	uint64_t v;
	int rc;

	sch_manifest_init(m);
	if (!inner && len > 16 && !memcmp(data, "sealed-snapshot ", 16))
		return parse_envelope(&c, m);
	TRY(expect(&c, "snapshot"));
	TRY(u64(&c, &v));
	if (v != 1 && v != SCH_MANIFEST_VERSION) {
		rc = bad(&c, "unknown snapshot format version");
		goto out;
	}
	if (inner && v != SCH_MANIFEST_VERSION) {
		rc = bad(&c, "a sealed manifest is version 2");
		goto out;
	}
	m->version = (int)v;
	TRY(line_end(&c));
	TRY(expect(&c, "time"));
	TRY(i64(&c, &m->time));
	TRY(line_end(&c));
	TRY(expect(&c, "database"));
	TRY(word(&c, &m->database));
	TRY(line_end(&c));
	TRY(expect(&c, "server"));
	TRY(u64(&c, &v));
	if (v > 99999999) {
		rc = bad(&c, "server version too large");
		goto out;
	}
	m->server = (long)v;
	TRY(line_end(&c));
	TRY(expect(&c, "encoding"));
	TRY(word(&c, &m->encoding));
	TRY(line_end(&c));
	if (next_is(&c, "note")) {
		TRY(word(&c, &m->note));
		TRY(line_end(&c));
	}
	while (next_is(&c, "head")) {
		m->heads = xrealloc(m->heads, (m->nheads + 1) * sizeof(*m->heads));
		TRY(id_field(&c, &m->heads[m->nheads]));
		m->nheads++;
		TRY(line_end(&c));
	}
	if (m->version >= 2) {
		TRY(expect(&c, "state"));
		TRY(id_field(&c, &m->state));
		m->has_state = 1;
		if (c.f <= c.l + c.len) {
			TRY(id_field(&c, &m->state_blob));
			m->has_state_blob = 1;
		}
		TRY(line_end(&c));
		if (m->has_state_blob != inner) {
			rc = bad(&c, inner ? "the state's sealed blob is missing"
					   : "a state blob outside a sealed "
					     "manifest");
			goto out;
		}
	}
	TRY(expect(&c, "pre-data"));
	TRY(id_field(&c, &m->pre_data));
	TRY(line_end(&c));
	TRY(expect(&c, "post-data"));
	TRY(id_field(&c, &m->post_data));
	TRY(line_end(&c));
	while (next_is(&c, "sequence")) {
		struct sch_mf_seq *s;
		m->seqs = xrealloc(m->seqs, (m->nseqs + 1) * sizeof(*m->seqs));
		s = &m->seqs[m->nseqs++];
		memset(s, 0, sizeof(*s));
		TRY(word(&c, &s->schema));
		TRY(word(&c, &s->name));
		TRY(i64(&c, &s->last_value));
		TRY(keyword(&c, "t", "f", &s->is_called));
		TRY(line_end(&c));
	}
	while (next_is(&c, "table")) {
		struct sch_mf_table *t;
		m->tables = xrealloc(m->tables,
				     (m->ntables + 1) * sizeof(*m->tables));
		t = &m->tables[m->ntables++];
		memset(t, 0, sizeof(*t));
		TRY(parse_table(&c, t));
	}
	if (c.p != c.end) {
		c.line++;
		rc = bad(&c, "unexpected line");
	}
out:
	return rc;
}

int sch_manifest_parse(struct sch_manifest *m, const void *data, size_t len)
{
	return parse_plain(m, data, len, 0);
}

int sch_manifest_parse_sealed(struct sch_manifest *m, const void *data,
			      size_t len)
{
	int rc = parse_plain(m, data, len, 1);

	if (rc)
		rc = sch_error_wrap(rc, "sealed");
	return rc;
}
