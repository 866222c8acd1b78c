/* fuzz_policy.c - the policy parser and validator on arbitrary bytes: no crash, no leak, and a
 * failure always comes with a message. */
#include <stdint.h>
#include <stdlib.h>

#include "../../lib/policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lcb_policy *p = NULL;
    struct lcb_buf problems = LCB_BUF_INIT, dump = LCB_BUF_INIT;
    struct lcb_err err;

    lcb_err_clear(&err);
    if (lcb_policy_parse(&p, "fuzz.json", (const char *)data, size, &problems, &err) == 0) {
        lcb_policy_dump(p, &dump);
        lcb_policy_free(p);
    } else if (err.msg[0] == '\0' || problems.len == 0) {
        abort(); /* every refusal must say why */
    }
    lcb_buf_release(&problems);
    lcb_buf_release(&dump);
    return 0;
}
