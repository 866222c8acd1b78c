/*
 * pager.h - token pagination shared by the Query (query.c) and JSON 1.1 (jsonrpc.c) protocols:
 * the token to send with the next page, the end of the walk, and two guards against a service
 * that never stops (the same token handed back twice, a page limit).
 *
 *   struct lcb_pager pg;
 *   lcb_pager_init(&pg, "NextToken", "NextToken");
 *   while ((rc = lcb_query_page(&r, aws, &q, &pg, err)) > 0) ...   (or lcb_jsonrpc_page)
 *   lcb_pager_release(&pg);
 *
 * The protocol layer reads the token from a page (an XML element, a JSON member) and hands it to
 * lcb_pager_advance(); it sends pg->token under the name pg->in. Nothing here talks to AWS.
 *
 * Ownership: struct lcb_pager is caller-owned (_init/_release); in and out are borrowed.
 */
#ifndef LCB_AWS_PAGER_H
#define LCB_AWS_PAGER_H

#include "../core/err.h"

struct lcb_pager {
    const char *in;  /* the request parameter or member that carries the token */
    const char *out; /* the answer element or member that returns it */
    char *token;     /* the token for the next page; NULL before the first */
    int done;
    unsigned pages;
    unsigned max_pages; /* 0: 100000 (a runaway guard) */
};

void lcb_pager_init(struct lcb_pager *pg, const char *in, const char *out);
/* Free the token and start over (in and out kept), so pg can walk again. */
void lcb_pager_release(struct lcb_pager *pg);

/* Record a fetched page whose token is next (NULL or "" on the last page). Returns 0, or -1 with
 * LCB_ECORRUPT when next is the token just sent (a loop) or the page limit is reached; both, and
 * the last page, mark pg done. */
int lcb_pager_advance(struct lcb_pager *pg, const char *next, struct lcb_err *err);

#endif
