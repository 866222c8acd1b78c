/* archive_ids.c - every entity id of a broker archive, for the CMS cross-check and the broker
 * drill's teardown; see component.h. */
#include <string.h>

#include "../archive/archive.h"
#include "../backup/s3source.h"
#include "../core/buf.h"
#include "../ext/json.h"
#include "../ngsi/idset.h"
#include "component.h"

#define MAX_PAGE_BYTES (256u << 20)

static int
read_entry(struct lcb_archive_reader *r, struct lcb_buf *data, struct lcb_err *err)
{
    char chunk[65536];
    size_t got;

    lcb_buf_reset(data);
    do {
        if (lcb_archive_reader_read(r, chunk, sizeof(chunk), &got, err) < 0)
            return -1;
        if (lcb_buf_add(data, chunk, got) < 0)
            return lcb_err_set(err, LCB_ECORRUPT, "an archive page is larger than %u MiB",
                               MAX_PAGE_BYTES >> 20);
    } while (got > 0);
    return 0;
}

static int
add_page(struct lcb_idset *set, struct lcb_strlist *list, const char *name,
         const struct lcb_buf *data, struct lcb_err *err)
{
    struct lcb_json *page = NULL, *e;
    int rc = 0;

    if (lcb_json_parse(&page, data->ptr, data->len, err) < 0)
        return lcb_wrap(err, "archive entry %s", name);
    for (e = lcb_json_child(page); e && rc >= 0; e = lcb_json_next(e)) {
        const char *id = lcb_json_get_str(e, "id");
        if (id && (rc = lcb_idset_add(set, id, err)) > 0 && list)
            lcb_strlist_add(list, id);
    }
    lcb_json_free(page);
    return rc < 0 ? lcb_wrap(err, "archive entry %s", name) : 0;
}

int
lcb_drill_archive_ids(struct lcb_idset *set, struct lcb_strlist *list, struct lcb_s3_source *src,
                      struct lcb_err *err)
{
    struct lcb_archive_reader *r = NULL;
    struct lcb_archive_entry e;
    struct lcb_buf data = LCB_BUF_INIT;
    int rc;

    lcb_buf_init(&data, MAX_PAGE_BYTES);
    lcb_s3_source_rewind(src);
    if (lcb_archive_reader_new(&r, lcb_s3_source_read, src, 0, err) < 0)
        return -1;
    while ((rc = lcb_archive_reader_next(r, &e, err)) == 1) {
        if (e.is_manifest || strncmp(e.name, "entities/", 9) != 0 || !strstr(e.name, ".json"))
            continue;
        if ((rc = read_entry(r, &data, err)) < 0 ||
            (rc = add_page(set, list, e.name, &data, err)) < 0)
            break;
    }
    lcb_archive_reader_free(r);
    lcb_buf_release(&data);
    return rc < 0 ? -1 : 0;
}
