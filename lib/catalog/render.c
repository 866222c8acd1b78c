/* render.c - catalog rows as JSON or text for `list` and `show`. */
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../ext/db.h"
#include "../ext/json.h"
#include "catalog.h"

static void
add_time(struct lcb_json *o, const char *key, time_t t)
{
    char ts[LCB_TIME_LEN];

    if (t)
        lcb_json_add_str(o, key, lcb_time_fmt(t, ts));
    else
        lcb_json_add_null(o, key);
}

void
lcb_backup_json(const struct lcb_backup *b, struct lcb_buf *out)
{
    struct lcb_json *o = lcb_json_new_object(), *m = NULL;
    struct lcb_err e;

    lcb_json_add_str(o, "id", b->id);
    lcb_json_add_str(o, "kind", b->kind);
    lcb_json_add_str(o, "env", b->env);
    lcb_json_add_str(o, "target", b->target);
    lcb_json_add_str(o, "source", b->source);
    lcb_json_add_str(o, "location", b->location);
    lcb_json_add_str(o, "region", b->region);
    lcb_json_add_str(o, "status", b->status);
    add_time(o, "started_at", b->started_at);
    add_time(o, "completed_at", b->completed_at);
    add_time(o, "taken_at", b->taken_at);
    lcb_json_add_num(o, "size_bytes", (double)b->size_bytes);
    lcb_json_add_num(o, "item_count", (double)b->item_count);
    lcb_json_add_str(o, "sha256", b->sha256);
    lcb_json_add_str(o, "policy", b->policy);
    lcb_json_add_str(o, "keep_reason", b->keep_reason);
    add_time(o, "expires_at", b->expires_at);
    add_time(o, "verified_at", b->verified_at);
    lcb_json_add_str(o, "hold", b->hold);
    lcb_json_add_str(o, "checkpoint", b->checkpoint);
    lcb_json_add_str(o, "run_id", b->run_id);
    lcb_json_add_str(o, "error", b->error);
    if (b->manifest && lcb_json_parse(&m, b->manifest, strlen(b->manifest), &e) == 0)
        lcb_json_add(o, "manifest", m);
    else
        lcb_json_add_null(o, "manifest");
    lcb_json_print(out, o, 0);
    lcb_json_free(o);
}

static int
is_time_column(const char *name)
{
    size_t n = strlen(name);

    return n > 3 && strcmp(name + n - 3, "_at") == 0;
}

static void
render_row(struct lcb_stmt *st, int json, struct lcb_buf *out)
{
    char ts[LCB_TIME_LEN];
    int i, n = lcb_col_count(st);

    if (json)
        lcb_buf_addch(out, '{');
    for (i = 0; i < n; i++) {
        const char *name = lcb_col_name(st, i), *v = lcb_col_text(st, i);
        if (v && is_time_column(name))
            v = lcb_time_fmt((time_t)lcb_col_int(st, i), ts);
        if (!json) {
            lcb_buf_addf(out, "%-12s %s\n", name, v ? v : "-");
            continue;
        }
        lcb_buf_addf(out, "%s", i ? "," : "");
        lcb_json_quote(out, name);
        lcb_buf_addch(out, ':');
        if (!v)
            lcb_buf_adds(out, "null");
        else if ((strcmp(name, "detail") == 0 || strcmp(name, "report") == 0) && (*v == '{' || *v == '['))
            lcb_buf_adds(out, v); /* stored JSON, embedded as such */
        else
            lcb_json_quote(out, v);
    }
    if (json)
        lcb_buf_adds(out, "}\n");
}

int
lcb_catalog_show_row(struct lcb_catalog *cat, const char *table, const char *id, int json,
                     struct lcb_buf *out, struct lcb_err *err)
{
    struct lcb_stmt *st;
    char *sql, *prefix = lcb_xasprintf("%s%%", id);
    int rc, found = 0;

    /* table is one of our own names, never user input */
    sql = lcb_xasprintf("SELECT * FROM %s WHERE id=?1 OR (id LIKE ?2 AND NOT EXISTS "
                        "(SELECT 1 FROM %s WHERE id=?1)) LIMIT 2", table, table);
    rc = lcb_db_prepare(&st, lcb_catalog_db(cat), sql, err);
    free(sql);
    if (rc < 0) {
        free(prefix);
        return -1;
    }
    lcb_stmt_text(st, 1, id);
    lcb_stmt_text(st, 2, prefix);
    while ((rc = lcb_stmt_step(st, err)) == 1)
        if (found++ == 0)
            render_row(st, json, out);
    lcb_stmt_free(st);
    free(prefix);
    if (rc < 0)
        return -1;
    if (found == 0)
        return lcb_err_set(err, LCB_ENOTFOUND, "no %.*s '%s' in the catalog",
                           (int)strlen(table) - 1, table, id);
    if (found > 1)
        return lcb_err_set(err, LCB_EUSAGE, "'%s' matches several %s: give more of the id", id,
                           table);
    return 0;
}
