/* pager_test.c - lib/aws/pager.c, the token pagination that the Query and JSON 1.1 protocols
 * share: tokens kept for the next page, the last page, and the two runaway guards with their
 * messages (the protocol ends are tested in query_test.c and jsonrpc_test.c). */
#include "../../lib/aws/pager.h"

#include "harness.h"

static void
test_tokens_until_last_page(void)
{
    struct lcb_pager pg;
    struct lcb_err err;

    lcb_pager_init(&pg, "Marker", "Marker");
    CHECK(pg.token == NULL);
    CHECK_INT(lcb_pager_advance(&pg, "m1", &err), 0);
    CHECK_STR(pg.token, "m1");
    CHECK_INT(pg.done, 0);
    CHECK_INT(lcb_pager_advance(&pg, "m2", &err), 0);
    CHECK_STR(pg.token, "m2");
    CHECK_INT(lcb_pager_advance(&pg, NULL, &err), 0); /* no token: the last page */
    CHECK(pg.token == NULL);
    CHECK_INT(pg.done, 1);
    CHECK_INT(pg.pages, 3);

    /* release starts over with the same names, so a pager can walk again */
    lcb_pager_release(&pg);
    CHECK_STR(pg.in, "Marker");
    CHECK_STR(pg.out, "Marker");
    CHECK_INT(pg.done, 0);
    CHECK_INT(pg.pages, 0);
    CHECK_INT(lcb_pager_advance(&pg, "", &err), 0); /* an empty token (EC2) ends it too */
    CHECK_INT(pg.done, 1);
    lcb_pager_release(&pg);
}

static void
test_same_token_twice(void)
{
    struct lcb_pager pg;
    struct lcb_err err;

    lcb_pager_init(&pg, "NextToken", "nextToken");
    CHECK_INT(lcb_pager_advance(&pg, "t", &err), 0);
    CHECK_INT(lcb_pager_advance(&pg, "t", &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    CHECK_STR(err.msg, "the service returned the same nextToken twice (page 2): stopping a loop");
    CHECK_INT(pg.done, 1);
    lcb_pager_release(&pg);
}

static void
test_page_limit(void)
{
    struct lcb_pager pg;
    struct lcb_err err;

    lcb_pager_init(&pg, "NextToken", "NextToken");
    pg.max_pages = 2;
    CHECK_INT(lcb_pager_advance(&pg, "a", &err), 0);
    CHECK_INT(lcb_pager_advance(&pg, "b", &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    CHECK_STR(err.msg, "more than 2 pages: giving up");
    CHECK_INT(pg.done, 1);
    lcb_pager_release(&pg);

    /* max_pages 0 means 100000 */
    lcb_pager_init(&pg, "NextToken", "NextToken");
    pg.pages = 99998;
    CHECK_INT(lcb_pager_advance(&pg, "a", &err), 0);
    CHECK_INT(lcb_pager_advance(&pg, "b", &err), -1);
    CHECK_STR(err.msg, "more than 100000 pages: giving up");
    lcb_pager_release(&pg);
}

int
main(void)
{
    RUN(test_tokens_until_last_page);
    RUN(test_same_token_twice);
    RUN(test_page_limit);
    return harness_done();
}
