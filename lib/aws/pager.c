/* pager.c - token pagination for the Query and JSON 1.1 protocols; see pager.h. */
#include "pager.h"

#include <stdlib.h>
#include <string.h>

#include "../core/mem.h"

#define MAX_PAGES_DEFAULT 100000u

void
lcb_pager_init(struct lcb_pager *pg, const char *in, const char *out)
{
    memset(pg, 0, sizeof(*pg));
    pg->in = in;
    pg->out = out;
}

void
lcb_pager_release(struct lcb_pager *pg)
{
    free(pg->token);
    lcb_pager_init(pg, pg->in, pg->out);
}

int
lcb_pager_advance(struct lcb_pager *pg, const char *next, struct lcb_err *err)
{
    unsigned max = pg->max_pages ? pg->max_pages : MAX_PAGES_DEFAULT;

    pg->pages++;
    if (!next || !*next) {
        pg->done = 1;
        free(pg->token);
        pg->token = NULL;
        return 0;
    }
    if (pg->token && strcmp(pg->token, next) == 0) {
        pg->done = 1;
        return lcb_err_set(err, LCB_ECORRUPT,
                           "the service returned the same %s twice (page %u): stopping a loop",
                           pg->out, pg->pages);
    }
    if (pg->pages >= max) {
        pg->done = 1;
        return lcb_err_set(err, LCB_ECORRUPT, "more than %u pages: giving up", max);
    }
    free(pg->token);
    pg->token = lcb_xstrdup(next);
    return 0;
}
