/* broker_types_test.c - lib/backup/restore_broker.c's --types resolution against a backup's
 * manifest: names in full, short names, unknown and ambiguous ones. */
#include "../../lib/backup/restore_broker.h"

#include <string.h>

#include "../../lib/archive/manifest.h"
#include "harness.h"

static void
manifest_text(struct lcb_buf *out)
{
    struct lcb_manifest m;

    lcb_manifest_init(&m, "broker");
    lcb_manifest_count_add(&m, "https://smartdatamodels.org/dataModel.Streetlighting/Streetlight", 3);
    lcb_manifest_count_add(&m, "https://smartdatamodels.org/dataModel.Weather/WeatherObserved", 2);
    lcb_manifest_count_add(&m, "https://example.org/a#Device", 1);
    lcb_manifest_count_add(&m, "Device", 4);
    lcb_manifest_count_add(&m, "urn:x:Building", 5);
    lcb_manifest_count_add(&m, "https://example.org/b/Building", 6);
    lcb_manifest_write(&m, out);
    lcb_manifest_release(&m);
}

static int
resolve(const char *list, const char *manifest, struct lcb_strlist *out, struct lcb_err *err)
{
    lcb_strlist_release(out);
    lcb_strlist_add_split(out, list);
    return lcb_broker_resolve_types(out, manifest, err);
}

static void
test_resolve(void)
{
    struct lcb_buf m = LCB_BUF_INIT;
    struct lcb_strlist t = LCB_STRLIST_INIT;
    struct lcb_err err;

    manifest_text(&m);
    /* short names, a full name, and the same type twice */
    CHECK_INT(resolve("Streetlight,https://smartdatamodels.org/dataModel.Weather/WeatherObserved,"
                      "dataModel.Streetlighting/Streetlight",
                      lcb_buf_str(&m), &t, &err), 0);
    CHECK_INT((int)t.n, 2);
    CHECK_STR(t.items[0], "https://smartdatamodels.org/dataModel.Streetlighting/Streetlight");
    CHECK_STR(t.items[1], "https://smartdatamodels.org/dataModel.Weather/WeatherObserved");
    /* an exact name wins over the short name it also is of another type */
    CHECK_INT(resolve("Device", lcb_buf_str(&m), &t, &err), 0);
    CHECK_STR(t.items[0], "Device");
    /* a short name that fits two types is refused, naming both */
    CHECK_INT(resolve("Building", lcb_buf_str(&m), &t, &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    CHECK(strstr(err.msg, "fits several") && strstr(err.msg, "urn:x:Building (5)") &&
          strstr(err.msg, "https://example.org/b/Building (6)"));
    /* a type the backup does not hold is refused, listing what it holds */
    CHECK_INT(resolve("Streetlights", lcb_buf_str(&m), &t, &err), -1);
    CHECK_INT(err.code, LCB_EUSAGE);
    CHECK(strstr(err.msg, "'Streetlights' is not in this backup") &&
          strstr(err.msg, "WeatherObserved (2)"));
    /* a suffix that is not a whole segment does not fit */
    CHECK_INT(resolve("light", lcb_buf_str(&m), &t, &err), -1);
    /* no filter, or no manifest (an older catalog row): nothing to resolve */
    CHECK_INT(resolve("", lcb_buf_str(&m), &t, &err), 0);
    CHECK_INT((int)t.n, 0);
    CHECK_INT(resolve("Anything", NULL, &t, &err), 0);
    CHECK_STR(t.items[0], "Anything");
    CHECK_INT(resolve("Device", "{not json", &t, &err), -1);
    CHECK_INT(err.code, LCB_ECORRUPT);
    lcb_strlist_release(&t);
    lcb_buf_release(&m);
}

int
main(void)
{
    RUN(test_resolve);
    return harness_done();
}
