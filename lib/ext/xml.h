/*
 * xml.h - XML answers through libxml2, and a small writer for request bodies (the only file that
 * includes a libxml2 header is xml.c).
 *
 * Reading: lcb_xml_parse() builds a document; elements are found by their local name, namespaces
 * ignored, the way botocore's parsers read AWS answers ("DBSnapshot/Status" under a result node).
 * The document owns every node and every string returned by a getter: they live until
 * lcb_xml_free(). The parser never loads DTDs, never expands external entities and never touches the
 * network, so an answer cannot make us read a file (XXE) or fetch a URL.
 *
 * Writing: struct lcb_xmlw appends elements to a caller's struct lcb_buf with escaping, for S3's
 * CompleteMultipartUpload and DeleteObjects bodies. A value XML 1.0 cannot carry (a control character,
 * invalid UTF-8) makes lcb_xmlw_finish() fail with LCB_EUSAGE rather than send a body S3 would reject.
 */
#ifndef LCB_EXT_XML_H
#define LCB_EXT_XML_H

#include <stddef.h>

#include "../core/buf.h"
#include "../core/err.h"

struct lcb_xml;      /* a parsed document */
struct lcb_xml_node; /* one element of it (borrowed) */

/* Parse len bytes of text (leading white space, such as S3's keep-alive bytes before a late
 * CompleteMultipartUpload answer, is skipped). Returns 0, or -1 with LCB_ECORRUPT
 * ("line L: message") for an empty or malformed document. */
int lcb_xml_parse(struct lcb_xml **out, const char *text, size_t len, struct lcb_err *err);
/* Free the document with its nodes and strings. NULL is a no-op. */
void lcb_xml_free(struct lcb_xml *doc);

/* The root element. */
struct lcb_xml_node *lcb_xml_root(const struct lcb_xml *doc);
/* The element's local name (no prefix): "DBSnapshot". */
const char *lcb_xml_name(const struct lcb_xml_node *n);
/* The first child element called name (any child element when name is NULL), or NULL. */
struct lcb_xml_node *lcb_xml_child(const struct lcb_xml_node *n, const char *name);
/* The next sibling element called name (any element when name is NULL), or NULL:
 *   for (s = lcb_xml_child(set, "item"); s; s = lcb_xml_next(s, "item")) ... */
struct lcb_xml_node *lcb_xml_next(const struct lcb_xml_node *n, const char *name);
/* The number of child elements called name (all child elements when name is NULL). */
size_t lcb_xml_count(const struct lcb_xml_node *n, const char *name);
/* The first descendant element called name, depth first, n itself excluded, or NULL. */
struct lcb_xml_node *lcb_xml_find(const struct lcb_xml_node *n, const char *name);
/* Follow a path of child names separated by '/': "DBSnapshot/Status". An empty path is n. NULL
 * when any step is missing (or n is NULL). */
struct lcb_xml_node *lcb_xml_path(const struct lcb_xml_node *n, const char *path);

/* The element's text (all its text and CDATA, entities decoded; "" when it has none), or NULL when
 * n is NULL. */
const char *lcb_xml_text(const struct lcb_xml_node *n);
/* lcb_xml_text(lcb_xml_path(n, path)): NULL when the element is absent. */
const char *lcb_xml_get(const struct lcb_xml_node *n, const char *path);
/* The text at path as a whole number, or dflt when absent or not a number. */
long long lcb_xml_get_ll(const struct lcb_xml_node *n, const char *path, long long dflt);
/* The text at path as a boolean ("true"/"false", case-insensitive), or dflt. */
int lcb_xml_get_bool(const struct lcb_xml_node *n, const char *path, int dflt);

/* Append s escaped for element content or an attribute value (&, <, >, ", ' and CR as references).
 * Returns 0, or -1 when s holds something XML 1.0 cannot carry (then nothing is appended). */
int lcb_xml_escape(struct lcb_buf *out, const char *s);

/* The writer. Depth is bounded; misuse (closing too much, too deep) and unrepresentable text are
 * remembered and reported once by lcb_xmlw_finish(). */
#define LCB_XMLW_DEPTH 16

struct lcb_xmlw {
    struct lcb_buf *out;
    int depth;
    const char *open[LCB_XMLW_DEPTH];
    int bad;            /* 0, or the first problem (see xml.c) */
    char where[64];     /* the element where the problem was */
};

/* Start a document in out (appends `<?xml version="1.0" encoding="UTF-8"?>`). */
void lcb_xmlw_init(struct lcb_xmlw *w, struct lcb_buf *out);
/* Open an element; xmlns may be NULL. name must outlive the writer (use literals). */
void lcb_xmlw_open(struct lcb_xmlw *w, const char *name, const char *xmlns);
/* A leaf <name>text</name> (text escaped). */
void lcb_xmlw_leaf(struct lcb_xmlw *w, const char *name, const char *text);
void lcb_xmlw_leaff(struct lcb_xmlw *w, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Close the innermost open element. */
void lcb_xmlw_close(struct lcb_xmlw *w);
/* Close what is still open and report: 0, or -1 with LCB_EUSAGE ("value in <Key> cannot be
 * written as XML") or LCB_EINTERNAL (unbalanced use). */
int lcb_xmlw_finish(struct lcb_xmlw *w, struct lcb_err *err);

#endif
