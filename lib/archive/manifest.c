/* manifest.c - build, write and parse MANIFEST.json; see manifest.h and docs/formats.md. */
#include "manifest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/mem.h"
#include "../core/version.h"
#include "../ext/arc.h"
#include "../ext/json.h"

static void
replace(char **dst, const char *s)
{
    free(*dst);
    *dst = s ? lcb_xstrdup(s) : NULL;
}

void
lcb_manifest_init(struct lcb_manifest *m, const char *kind)
{
    memset(m, 0, sizeof(*m));
    m->format = LCB_MANIFEST_FORMAT;
    m->lcbackup = lcb_xstrdup(lcb_version());
    m->kind = kind ? lcb_xstrdup(kind) : NULL;
}

void
lcb_manifest_release(struct lcb_manifest *m)
{
    size_t i;

    free(m->lcbackup);
    free(m->kind);
    free(m->source);
    free(m->tenant);
    free(m->context);
    for (i = 0; i < m->ncounts; i++)
        free(m->counts[i].type);
    free(m->counts);
    for (i = 0; i < m->nentries; i++)
        free(m->entries[i].name);
    free(m->entries);
    for (i = 0; i < m->ndisc; i++) {
        free(m->disc[i].what);
        free(m->disc[i].id);
        free(m->disc[i].detail);
    }
    free(m->disc);
    lcb_json_free(m->extra);
    free(m->index);
    memset(m, 0, sizeof(*m));
}

void
lcb_manifest_set_tenant(struct lcb_manifest *m, const char *tenant)
{
    replace(&m->tenant, tenant);
}

void
lcb_manifest_set_context(struct lcb_manifest *m, const char *context)
{
    replace(&m->context, context);
}

void
lcb_manifest_set_source(struct lcb_manifest *m, const char *url)
{
    struct lcb_buf b = LCB_BUF_INIT;
    const char *host, *at, *end;

    if (!url) {
        replace(&m->source, NULL);
        return;
    }
    end = url + strcspn(url, "?#");
    host = strstr(url, "://");
    host = host && host < end ? host + 3 : url;
    at = host;
    while (at < end && *at != '/' && *at != '@')
        at++;
    lcb_buf_add(&b, url, (size_t)(host - url));
    if (at < end && *at == '@')
        host = at + 1; /* drop the userinfo */
    lcb_buf_add(&b, host, (size_t)(end - host));
    free(m->source);
    m->source = lcb_buf_detach(&b, NULL);
}

static int
is_hex64(const char *s)
{
    size_t i;

    for (i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[64] == '\0';
}

int
lcb_manifest_set_ids(struct lcb_manifest *m, const char *hex, uint64_t count, struct lcb_err *err)
{
    if (!hex || !is_hex64(hex))
        return lcb_err_set(err, LCB_EUSAGE, "id-set digest is not 64 lower-case hex digits");
    memcpy(m->ids_digest, hex, LCB_SHA256_HEX);
    m->ids_count = count;
    return 0;
}

void
lcb_manifest_count_add(struct lcb_manifest *m, const char *type, uint64_t n)
{
    size_t i;

    for (i = 0; i < m->ncounts; i++)
        if (strcmp(m->counts[i].type, type) == 0)
            break;
    if (i == m->ncounts) {
        if (m->ncounts == m->ccounts) {
            m->ccounts = m->ccounts ? 2 * m->ccounts : 8;
            m->counts = lcb_xrealloc(m->counts, m->ccounts * sizeof(*m->counts));
        }
        m->counts[i].type = lcb_xstrdup(type);
        m->counts[i].n = 0;
        m->ncounts++;
    }
    m->counts[i].n += n;
    m->total += n;
}

int64_t
lcb_manifest_count_get(const struct lcb_manifest *m, const char *type)
{
    size_t i;

    for (i = 0; i < m->ncounts; i++)
        if (strcmp(m->counts[i].type, type) == 0)
            return (int64_t)m->counts[i].n;
    return -1;
}

void
lcb_manifest_discrepancy_add(struct lcb_manifest *m, const char *what, const char *id,
                             const char *detail)
{
    struct lcb_manifest_discrepancy *d;

    if (m->ndisc == m->cdisc) {
        m->cdisc = m->cdisc ? 2 * m->cdisc : 8;
        m->disc = lcb_xrealloc(m->disc, m->cdisc * sizeof(*m->disc));
    }
    d = &m->disc[m->ndisc++];
    d->what = lcb_xstrdup(what ? what : "unspecified");
    d->id = id ? lcb_xstrdup(id) : NULL;
    d->detail = detail ? lcb_xstrdup(detail) : NULL;
}

struct lcb_json *
lcb_manifest_extra(struct lcb_manifest *m)
{
    if (!m->extra)
        m->extra = lcb_json_new_object();
    return m->extra;
}

int
lcb_manifest_entry_add(struct lcb_manifest *m, const char *name, uint64_t size,
                       const char *sha256_hex, int64_t items, struct lcb_err *err)
{
    struct lcb_manifest_entry *e;

    if (lcb_arc_name_check(name, err) < 0)
        return -1;
    if (strcmp(name, LCB_MANIFEST_NAME) == 0)
        return lcb_err_set(err, LCB_EUSAGE, "entry name \"%s\" is reserved", name);
    if (!sha256_hex || !is_hex64(sha256_hex))
        return lcb_err_set(err, LCB_EUSAGE, "entry \"%.200s\": sha256 is not 64 hex digits", name);
    if (lcb_manifest_entry_find(m, name))
        return lcb_err_set(err, LCB_EUSAGE, "entry \"%.200s\" added twice", name);
    if (m->nentries == m->centries) {
        m->centries = m->centries ? 2 * m->centries : 64;
        m->entries = lcb_xrealloc(m->entries, m->centries * sizeof(*m->entries));
    }
    e = &m->entries[m->nentries++];
    e->name = lcb_xstrdup(name);
    e->size = size;
    memcpy(e->sha256, sha256_hex, LCB_SHA256_HEX);
    e->items = items < 0 ? -1 : items;
    return 0;
}

/* The index is sorted by name; entries added since it was built are inserted in place. */
static int
by_name(const void *a, const void *b, void *ud)
{
    const struct lcb_manifest *m = ud;

    return strcmp(m->entries[*(const size_t *)a].name, m->entries[*(const size_t *)b].name);
}

static void
index_update(struct lcb_manifest *m)
{
    size_t i, j, k;

    if (m->nindex == m->nentries)
        return;
    m->index = lcb_xrealloc(m->index, (m->nentries ? m->nentries : 1) * sizeof(*m->index));
    if (m->nindex == 0 && m->nentries > 1) {
        for (i = 0; i < m->nentries; i++)
            m->index[i] = i;
        qsort_r(m->index, m->nentries, sizeof(*m->index), by_name, m);
        m->nindex = m->nentries;
        return;
    }
    for (k = m->nindex; k < m->nentries; k++) { /* insertion: adds come one at a time */
        for (j = k; j > 0 && strcmp(m->entries[m->index[j - 1]].name, m->entries[k].name) > 0; j--)
            m->index[j] = m->index[j - 1];
        m->index[j] = k;
    }
    m->nindex = m->nentries;
}

const struct lcb_manifest_entry *
lcb_manifest_entry_find(struct lcb_manifest *m, const char *name)
{
    size_t lo = 0, hi, mid;
    int c;

    index_update(m);
    hi = m->nindex;
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = strcmp(name, m->entries[m->index[mid]].name);
        if (c == 0)
            return &m->entries[m->index[mid]];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* ---- writing ---- */

static void
add_opt_str(struct lcb_json *o, const char *key, const char *v)
{
    if (v)
        lcb_json_add_str(o, key, v);
}

static void
add_time(struct lcb_json *o, const char *key, time_t t)
{
    char buf[LCB_TIME_LEN];

    if (t)
        lcb_json_add_str(o, key, lcb_time_fmt(t, buf));
}

static struct lcb_json *
entries_json(const struct lcb_manifest *m)
{
    struct lcb_json *arr = lcb_json_new_array(), *e;
    size_t i;

    for (i = 0; i < m->nentries; i++) {
        e = lcb_json_push(arr, lcb_json_new_object());
        lcb_json_add_str(e, "name", m->entries[i].name);
        lcb_json_add_num(e, "size", (double)m->entries[i].size);
        lcb_json_add_str(e, "sha256", m->entries[i].sha256);
        if (m->entries[i].items >= 0)
            lcb_json_add_num(e, "items", (double)m->entries[i].items);
    }
    return arr;
}

static struct lcb_json *
disc_json(const struct lcb_manifest *m)
{
    struct lcb_json *arr = lcb_json_new_array(), *d;
    size_t i;

    for (i = 0; i < m->ndisc; i++) {
        d = lcb_json_push(arr, lcb_json_new_object());
        lcb_json_add_str(d, "what", m->disc[i].what);
        add_opt_str(d, "id", m->disc[i].id);
        add_opt_str(d, "detail", m->disc[i].detail);
    }
    return arr;
}

void
lcb_manifest_write(const struct lcb_manifest *m, struct lcb_buf *out)
{
    struct lcb_json *root = lcb_json_new_object(), *counts, *ids;
    size_t i;

    lcb_json_add_num(root, "format", m->format);
    add_opt_str(root, "lcbackup", m->lcbackup);
    add_opt_str(root, "kind", m->kind);
    add_opt_str(root, "source", m->source);
    add_opt_str(root, "tenant", m->tenant);
    add_opt_str(root, "@context", m->context);
    add_time(root, "started", m->started);
    add_time(root, "ended", m->ended);
    counts = lcb_json_add(root, "counts", lcb_json_new_object());
    for (i = 0; i < m->ncounts; i++)
        lcb_json_add_num(counts, m->counts[i].type, (double)m->counts[i].n);
    lcb_json_add_num(root, "total", (double)m->total);
    if (m->ids_digest[0]) {
        ids = lcb_json_add(root, "ids", lcb_json_new_object());
        lcb_json_add_str(ids, "algorithm", LCB_IDS_ALGORITHM);
        lcb_json_add_num(ids, "count", (double)m->ids_count);
        lcb_json_add_str(ids, "digest", m->ids_digest);
    }
    lcb_json_add(root, "entries", entries_json(m));
    lcb_json_add(root, "discrepancies", disc_json(m));
    if (m->extra)
        lcb_json_add(root, "extra", lcb_json_dup(m->extra));
    lcb_json_print(out, root, 1);
    lcb_buf_addch(out, '\n');
    lcb_json_free(root);
}

/* ---- parsing ---- */

static int
bad(struct lcb_err *err, const char *field, const char *why)
{
    return lcb_err_set(err, LCB_ECORRUPT, "manifest: %s: %s", field, why);
}

/* A non-negative integer that a double holds exactly. */
static int
get_uint(const struct lcb_json *j, const char *field, uint64_t *out, struct lcb_err *err)
{
    double v;

    if (lcb_json_type(j) != LCB_JSON_NUMBER)
        return bad(err, field, j ? "not a number" : "missing");
    v = lcb_json_num(j, -1);
    if (v < 0 || v > 9007199254740992.0 || floor(v) != v)
        return bad(err, field, "not a non-negative integer");
    *out = (uint64_t)v;
    return 0;
}

/* An optional string member copied into *dst; absent or null leaves it NULL. */
static int
get_opt_str(const struct lcb_json *root, const char *key, char **dst, struct lcb_err *err)
{
    const struct lcb_json *j = lcb_json_get(root, key);

    if (!j || lcb_json_type(j) == LCB_JSON_NULL)
        return 0;
    if (lcb_json_type(j) != LCB_JSON_STRING)
        return bad(err, key, "not a string");
    replace(dst, lcb_json_str(j));
    return 0;
}

static int
get_opt_time(const struct lcb_json *root, const char *key, time_t *dst, struct lcb_err *err)
{
    const struct lcb_json *j = lcb_json_get(root, key);

    if (!j || lcb_json_type(j) == LCB_JSON_NULL)
        return 0;
    if (lcb_json_type(j) != LCB_JSON_STRING || lcb_time_parse(lcb_json_str(j), dst) < 0)
        return bad(err, key, "not an RFC 3339 time");
    if (*dst < 0 || *dst >= (time_t)253402300800LL) /* 1970 to 9999, as we write them */
        return bad(err, key, "out of range");
    return 0;
}

static int
parse_header(struct lcb_manifest *m, const struct lcb_json *root, struct lcb_err *err)
{
    uint64_t format;
    char msg[96];

    if (get_uint(lcb_json_get(root, "format"), "format", &format, err) < 0)
        return -1;
    if (format < 1 || format > LCB_MANIFEST_FORMAT) {
        snprintf(msg, sizeof(msg), "%llu is %s than this lcbackup reads (%d)%s",
                 (unsigned long long)format, format < 1 ? "older" : "newer", LCB_MANIFEST_FORMAT,
                 format < 1 ? "" : ": upgrade lcbackup");
        return bad(err, "format", msg);
    }
    m->format = (int)format;
    replace(&m->lcbackup, NULL);
    replace(&m->kind, NULL);
    if (get_opt_str(root, "lcbackup", &m->lcbackup, err) < 0 ||
        get_opt_str(root, "kind", &m->kind, err) < 0 ||
        get_opt_str(root, "source", &m->source, err) < 0 ||
        get_opt_str(root, "tenant", &m->tenant, err) < 0 ||
        get_opt_str(root, "@context", &m->context, err) < 0 ||
        get_opt_time(root, "started", &m->started, err) < 0 ||
        get_opt_time(root, "ended", &m->ended, err) < 0)
        return -1;
    if (!m->kind)
        return bad(err, "kind", "missing");
    return 0;
}

static int
parse_counts(struct lcb_manifest *m, const struct lcb_json *root, struct lcb_err *err)
{
    const struct lcb_json *counts = lcb_json_get(root, "counts"), *c;
    uint64_t n, total;
    char field[160];

    if (lcb_json_type(counts) != LCB_JSON_OBJECT)
        return bad(err, "counts", counts ? "not an object" : "missing");
    for (c = lcb_json_child(counts); c; c = lcb_json_next(c)) {
        snprintf(field, sizeof(field), "counts.%.120s", lcb_json_key(c));
        if (get_uint(c, field, &n, err) < 0)
            return -1;
        if (lcb_manifest_count_get(m, lcb_json_key(c)) >= 0)
            return bad(err, field, "duplicate type");
        lcb_manifest_count_add(m, lcb_json_key(c), n);
    }
    if (get_uint(lcb_json_get(root, "total"), "total", &total, err) < 0)
        return -1;
    if (total != m->total)
        return bad(err, "total", "does not equal the sum of counts");
    return 0;
}

static int
parse_ids(struct lcb_manifest *m, const struct lcb_json *root, struct lcb_err *err)
{
    const struct lcb_json *ids = lcb_json_get(root, "ids");
    const char *alg, *digest;

    if (!ids)
        return 0;
    if (lcb_json_type(ids) != LCB_JSON_OBJECT)
        return bad(err, "ids", "not an object");
    alg = lcb_json_get_str(ids, "algorithm");
    digest = lcb_json_get_str(ids, "digest");
    if (!alg || strcmp(alg, LCB_IDS_ALGORITHM) != 0)
        return bad(err, "ids.algorithm", "not \"" LCB_IDS_ALGORITHM "\"");
    if (!digest || !is_hex64(digest))
        return bad(err, "ids.digest", "not 64 lower-case hex digits");
    if (get_uint(lcb_json_get(ids, "count"), "ids.count", &m->ids_count, err) < 0)
        return -1;
    memcpy(m->ids_digest, digest, LCB_SHA256_HEX);
    return 0;
}

static int
parse_entry(struct lcb_manifest *m, const struct lcb_json *e, size_t i, struct lcb_err *err)
{
    char field[64];
    const char *name = lcb_json_get_str(e, "name"), *sha = lcb_json_get_str(e, "sha256");
    const struct lcb_json *items = lcb_json_get(e, "items");
    uint64_t size, n = 0;
    struct lcb_err sub;

    snprintf(field, sizeof(field), "entries[%zu]", i);
    if (lcb_json_type(e) != LCB_JSON_OBJECT)
        return bad(err, field, "not an object");
    snprintf(field, sizeof(field), "entries[%zu].size", i);
    if (get_uint(lcb_json_get(e, "size"), field, &size, err) < 0)
        return -1;
    snprintf(field, sizeof(field), "entries[%zu].items", i);
    if (items && get_uint(items, field, &n, err) < 0)
        return -1;
    snprintf(field, sizeof(field), "entries[%zu]", i);
    if (!name)
        return bad(err, field, "no name");
    if (!sha || !is_hex64(sha))
        return bad(err, field, "sha256 is not 64 lower-case hex digits");
    lcb_err_clear(&sub);
    if (lcb_manifest_entry_add(m, name, size, sha, items ? (int64_t)n : -1, &sub) < 0)
        return bad(err, field, sub.msg);
    return 0;
}

static int
parse_entries(struct lcb_manifest *m, const struct lcb_json *root, struct lcb_err *err)
{
    const struct lcb_json *arr = lcb_json_get(root, "entries"), *e;
    size_t i = 0;

    if (lcb_json_type(arr) != LCB_JSON_ARRAY)
        return bad(err, "entries", arr ? "not an array" : "missing");
    for (e = lcb_json_child(arr); e; e = lcb_json_next(e), i++)
        if (parse_entry(m, e, i, err) < 0)
            return -1;
    return 0;
}

static int
parse_disc(struct lcb_manifest *m, const struct lcb_json *root, struct lcb_err *err)
{
    const struct lcb_json *arr = lcb_json_get(root, "discrepancies"), *d;

    if (!arr)
        return 0;
    if (lcb_json_type(arr) != LCB_JSON_ARRAY)
        return bad(err, "discrepancies", "not an array");
    for (d = lcb_json_child(arr); d; d = lcb_json_next(d)) {
        if (lcb_json_type(d) != LCB_JSON_OBJECT || !lcb_json_get_str(d, "what"))
            return bad(err, "discrepancies", "an item without \"what\"");
        lcb_manifest_discrepancy_add(m, lcb_json_get_str(d, "what"), lcb_json_get_str(d, "id"),
                                     lcb_json_get_str(d, "detail"));
    }
    return 0;
}

int
lcb_manifest_parse(struct lcb_manifest *m, const char *text, size_t len, struct lcb_err *err)
{
    struct lcb_json *root = NULL;
    const struct lcb_json *extra;
    int rc = -1;

    lcb_manifest_init(m, NULL);
    if (lcb_json_parse(&root, text, len, err) < 0)
        return lcb_wrap(err, "manifest");
    if (lcb_json_type(root) != LCB_JSON_OBJECT) {
        bad(err, "top level", "not an object");
        goto out;
    }
    if (parse_header(m, root, err) < 0 || parse_counts(m, root, err) < 0 ||
        parse_ids(m, root, err) < 0 || parse_entries(m, root, err) < 0 ||
        parse_disc(m, root, err) < 0)
        goto out;
    extra = lcb_json_get(root, "extra");
    if (extra && lcb_json_type(extra) != LCB_JSON_OBJECT) {
        bad(err, "extra", "not an object");
        goto out;
    }
    if (extra)
        m->extra = lcb_json_detach(root, (struct lcb_json *)extra);
    rc = 0;
out:
    lcb_json_free(root);
    return rc;
}

/* ---- entry-name components ---- */

static int
plain(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

void
lcb_manifest_name_encode(struct lcb_buf *out, const char *s)
{
    const unsigned char *p;

    for (p = (const unsigned char *)s; *p; p++) {
        if (plain(*p) && !(p == (const unsigned char *)s && *p == '.'))
            lcb_buf_addch(out, (char)*p);
        else
            lcb_buf_addf(out, "%%%02X", *p);
    }
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int
lcb_manifest_name_decode(struct lcb_buf *out, const char *s, size_t len)
{
    size_t i;
    int hi, lo;

    for (i = 0; i < len; i++) {
        if (s[i] != '%') {
            lcb_buf_addch(out, s[i]);
            continue;
        }
        if (i + 2 >= len)
            return -1;
        hi = hexval(s[i + 1]);
        lo = hexval(s[i + 2]);
        if (hi < 0 || lo < 0)
            return -1;
        lcb_buf_addch(out, (char)(hi << 4 | lo));
        i += 2;
    }
    return 0;
}
