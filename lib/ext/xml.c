/* xml.c - the libxml2 wrapper and the request-body writer; see xml.h. */
#include "xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/mem.h"

#define X(n) ((xmlNode *)(n))
#define N(x) ((struct lcb_xml_node *)(x))

/* AWS answers are a few kilobytes to a few megabytes (a 1000-key listing); refuse anything huge
 * before libxml2 allocates for it. */
#define XML_MAX_INPUT (64u << 20)

enum { W_OK, W_TEXT, W_DEPTH, W_UNBALANCED };

int
lcb_xml_parse(struct lcb_xml **out, const char *text, size_t len, struct lcb_err *err)
{
    int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
    xmlParserCtxt *ctxt;
    xmlDoc *doc;

    *out = NULL;
    while (len && (*text == ' ' || *text == '\n' || *text == '\r' || *text == '\t')) {
        text++;
        len--;
    }
    if (!len)
        return lcb_err_set(err, LCB_ECORRUPT, "empty XML document");
    if (len > XML_MAX_INPUT)
        return lcb_err_set(err, LCB_ECORRUPT, "XML document of %zu bytes is too large", len);
    ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return lcb_err_set(err, LCB_EINTERNAL, "cannot create an XML parser");
    doc = xmlCtxtReadMemory(ctxt, text, (int)len, NULL, NULL, opts);
    if (!doc || !xmlDocGetRootElement(doc)) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        char msg[160];

        snprintf(msg, sizeof(msg), "%s", e && e->message ? e->message : "not an XML document");
        msg[strcspn(msg, "\n")] = '\0';
        lcb_err_set(err, LCB_ECORRUPT, "line %d: %s", e ? e->line : 1, msg);
        xmlFreeDoc(doc);
        xmlFreeParserCtxt(ctxt);
        return -1;
    }
    xmlFreeParserCtxt(ctxt);
    /* AWS never sends a DOCTYPE; one can only be there to play entity games */
    if (doc->intSubset || doc->extSubset) {
        xmlFreeDoc(doc);
        return lcb_err_set(err, LCB_ECORRUPT, "XML document type declarations are not accepted");
    }
    *out = (struct lcb_xml *)doc;
    return 0;
}

/* Free the texts lcb_xml_text() assembled and hung on _private. */
static void
free_cached(xmlNode *n)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        free(n->_private);
        n->_private = NULL;
        free_cached(n->children);
    }
}

void
lcb_xml_free(struct lcb_xml *doc)
{
    if (!doc)
        return;
    free_cached(xmlDocGetRootElement((xmlDoc *)doc));
    xmlFreeDoc((xmlDoc *)doc);
}

struct lcb_xml_node *
lcb_xml_root(const struct lcb_xml *doc)
{
    return doc ? N(xmlDocGetRootElement((const xmlDoc *)doc)) : NULL;
}

const char *
lcb_xml_name(const struct lcb_xml_node *n)
{
    return n ? (const char *)X(n)->name : NULL;
}

static int
is_elem(const xmlNode *x, const char *name)
{
    return x->type == XML_ELEMENT_NODE && (!name || strcmp((const char *)x->name, name) == 0);
}

struct lcb_xml_node *
lcb_xml_child(const struct lcb_xml_node *n, const char *name)
{
    xmlNode *x;

    if (!n)
        return NULL;
    for (x = X(n)->children; x; x = x->next)
        if (is_elem(x, name))
            return N(x);
    return NULL;
}

struct lcb_xml_node *
lcb_xml_next(const struct lcb_xml_node *n, const char *name)
{
    xmlNode *x;

    if (!n)
        return NULL;
    for (x = X(n)->next; x; x = x->next)
        if (is_elem(x, name))
            return N(x);
    return NULL;
}

size_t
lcb_xml_count(const struct lcb_xml_node *n, const char *name)
{
    struct lcb_xml_node *c;
    size_t k = 0;

    for (c = lcb_xml_child(n, name); c; c = lcb_xml_next(c, name))
        k++;
    return k;
}

struct lcb_xml_node *
lcb_xml_find(const struct lcb_xml_node *n, const char *name)
{
    xmlNode *x;
    struct lcb_xml_node *hit;

    if (!n)
        return NULL;
    for (x = X(n)->children; x; x = x->next) {
        if (x->type != XML_ELEMENT_NODE)
            continue;
        if (is_elem(x, name))
            return N(x);
        if ((hit = lcb_xml_find(N(x), name)))
            return hit;
    }
    return NULL;
}

struct lcb_xml_node *
lcb_xml_path(const struct lcb_xml_node *n, const char *path)
{
    char step[128];
    const char *p = path, *slash;
    size_t len;

    while (n && p && *p) {
        slash = strchr(p, '/');
        len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 0 || len >= sizeof(step))
            return NULL;
        memcpy(step, p, len);
        step[len] = '\0';
        n = lcb_xml_child(n, step);
        p = slash ? slash + 1 : NULL;
    }
    return (struct lcb_xml_node *)n;
}

static int
is_text(const xmlNode *x)
{
    return x->type == XML_TEXT_NODE || x->type == XML_CDATA_SECTION_NODE;
}

const char *
lcb_xml_text(const struct lcb_xml_node *n)
{
    xmlNode *x, *only = NULL;
    int ntext = 0;
    struct lcb_buf b = LCB_BUF_INIT;

    if (!n)
        return NULL;
    if (X(n)->_private)
        return X(n)->_private;
    for (x = X(n)->children; x; x = x->next)
        if (is_text(x) && x->content) {
            only = x;
            ntext++;
        }
    if (ntext == 0)
        return "";
    if (ntext == 1)
        return (const char *)only->content; /* owned by the document */
    /* several pieces (text around a comment, say): join them once and keep the result */
    for (x = X(n)->children; x; x = x->next)
        if (is_text(x) && x->content)
            lcb_buf_adds(&b, (const char *)x->content);
    X(n)->_private = lcb_buf_detach(&b, NULL);
    return X(n)->_private;
}

const char *
lcb_xml_get(const struct lcb_xml_node *n, const char *path)
{
    return lcb_xml_text(lcb_xml_path(n, path));
}

long long
lcb_xml_get_ll(const struct lcb_xml_node *n, const char *path, long long dflt)
{
    const char *s = lcb_xml_get(n, path);
    char *end;
    long long v;

    if (!s)
        return dflt;
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
        s++;
    if (!*s)
        return dflt;
    v = strtoll(s, &end, 10);
    while (*end == ' ' || *end == '\n' || *end == '\t' || *end == '\r')
        end++;
    return *end ? dflt : v;
}

int
lcb_xml_get_bool(const struct lcb_xml_node *n, const char *path, int dflt)
{
    const char *s = lcb_xml_get(n, path);

    if (!s)
        return dflt;
    if (strcasecmp(s, "true") == 0)
        return 1;
    if (strcasecmp(s, "false") == 0)
        return 0;
    return dflt;
}

/* Length of the UTF-8 sequence at s if it encodes a character XML 1.0 allows, else 0. */
static size_t
xml_char_len(const unsigned char *s)
{
    unsigned c = s[0], cp, need, i;

    if (c < 0x80)
        return (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') ? 1 : 0;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (i = 1; i <= need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0; /* overlong or out of range */
    if ((cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
        return 0; /* surrogates and non-characters */
    return need + 1;
}

int
lcb_xml_escape(struct lcb_buf *out, const char *s)
{
    const unsigned char *p;
    size_t start = out->len, k;

    for (p = (const unsigned char *)s; *p; p += k) {
        k = xml_char_len(p);
        if (!k) {
            out->len = start;
            if (out->ptr)
                out->ptr[start] = '\0';
            return -1;
        }
        switch (*p) {
        case '&': lcb_buf_adds(out, "&amp;"); break;
        case '<': lcb_buf_adds(out, "&lt;"); break;
        case '>': lcb_buf_adds(out, "&gt;"); break;
        case '"': lcb_buf_adds(out, "&quot;"); break;
        case '\'': lcb_buf_adds(out, "&apos;"); break;
        case '\r': lcb_buf_adds(out, "&#13;"); break; /* a parser would turn a raw CR into LF */
        default: lcb_buf_add(out, p, k);
        }
    }
    return 0;
}

static void
mark(struct lcb_xmlw *w, int problem, const char *where)
{
    if (w->bad)
        return;
    w->bad = problem;
    snprintf(w->where, sizeof(w->where), "%s", where ? where : "");
}

void
lcb_xmlw_init(struct lcb_xmlw *w, struct lcb_buf *out)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
    lcb_buf_adds(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
}

void
lcb_xmlw_open(struct lcb_xmlw *w, const char *name, const char *xmlns)
{
    if (w->depth >= LCB_XMLW_DEPTH) {
        mark(w, W_DEPTH, name);
        return;
    }
    w->open[w->depth++] = name;
    lcb_buf_addf(w->out, "<%s", name);
    if (xmlns) {
        lcb_buf_adds(w->out, " xmlns=\"");
        if (lcb_xml_escape(w->out, xmlns) < 0)
            mark(w, W_TEXT, name);
        lcb_buf_addch(w->out, '"');
    }
    lcb_buf_addch(w->out, '>');
}

void
lcb_xmlw_leaf(struct lcb_xmlw *w, const char *name, const char *text)
{
    lcb_buf_addf(w->out, "<%s>", name);
    if (lcb_xml_escape(w->out, text ? text : "") < 0)
        mark(w, W_TEXT, name);
    lcb_buf_addf(w->out, "</%s>", name);
}

void
lcb_xmlw_leaff(struct lcb_xmlw *w, const char *name, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    if (!s) {
        mark(w, W_TEXT, name);
        return;
    }
    lcb_xmlw_leaf(w, name, s);
    free(s);
}

void
lcb_xmlw_close(struct lcb_xmlw *w)
{
    if (w->depth == 0) {
        mark(w, W_UNBALANCED, "");
        return;
    }
    lcb_buf_addf(w->out, "</%s>", w->open[--w->depth]);
}

int
lcb_xmlw_finish(struct lcb_xmlw *w, struct lcb_err *err)
{
    while (w->depth > 0)
        lcb_xmlw_close(w);
    switch (w->bad) {
    case W_OK:
        return 0;
    case W_TEXT:
        return lcb_err_set(err, LCB_EUSAGE,
                           "value in <%s> cannot be written as XML (control character or invalid "
                           "UTF-8)",
                           w->where);
    case W_DEPTH:
        return lcb_err_set(err, LCB_EINTERNAL, "XML writer: <%s> nested too deep", w->where);
    default:
        return lcb_err_set(err, LCB_EINTERNAL, "XML writer: element closed twice");
    }
}
