/* fuzz_manifest.c - the MANIFEST.json parser on arbitrary bytes: no crash, no leak, a refusal
 * always says why, and whatever it accepts writes out to text it parses back to the same text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/archive/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lcb_manifest m, again;
    struct lcb_buf a = LCB_BUF_INIT, b = LCB_BUF_INIT;
    struct lcb_err err;

    lcb_err_clear(&err);
    if (lcb_manifest_parse(&m, (const char *)data, size, &err) < 0) {
        if (err.msg[0] == '\0' || err.code != LCB_ECORRUPT)
            abort();
        lcb_manifest_release(&m);
        return 0;
    }
    lcb_manifest_write(&m, &a);
    if (lcb_manifest_parse(&again, a.ptr, a.len, &err) < 0)
        abort(); /* what we write, we read */
    lcb_manifest_write(&again, &b);
    if (a.len != b.len || memcmp(a.ptr, b.ptr, a.len) != 0)
        abort(); /* and it is a fixed point */
    lcb_manifest_release(&m);
    lcb_manifest_release(&again);
    lcb_buf_release(&a);
    lcb_buf_release(&b);
    return 0;
}
