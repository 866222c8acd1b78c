/*
 * versions.c - the run-time version of each library, for `lcbackup version` and bug reports, asked
 * of each library's wrapper. libxml2 and libpq have no wrapper function for it yet; their version
 * macros/calls are the only reason this file includes their headers.
 */
#include <libpq-fe.h>
#include <libxml/xmlversion.h>
#include <stdio.h>

#include "../core/version.h"
#include "arc.h"
#include "crypto.h"
#include "db.h"
#include "http.h"
#include "json.h"
#include "zst.h"

const char *
lcb_version(void)
{
    return LCB_VERSION;
}

void
lcb_version_print(FILE *out, int json)
{
    char pq[32];
    int v = PQlibVersion();
    const struct {
        const char *name;
        const char *version;
    } libs[] = {
        { "libcurl", lcb_http_version() },
        { "openssl", lcb_crypto_version() },
        { "cjson", lcb_json_version() },
        { "zstd", lcb_zst_version() },
        { "libarchive", lcb_arc_version() },
        { "sqlite", lcb_db_version() },
        { "libxml2", LIBXML_DOTTED_VERSION },
        { "libpq", pq },
    };
    size_t i;

    snprintf(pq, sizeof(pq), "%d.%d", v / 10000, v % 10000);
    if (!json) {
        fprintf(out, "lcbackup %s\n", LCB_VERSION);
        for (i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
            fprintf(out, "  %-11s %s\n", libs[i].name, libs[i].version);
        return;
    }
    fprintf(out, "{\"lcbackup\":\"%s\"", LCB_VERSION);
    for (i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
        fprintf(out, ",\"%s\":\"%s\"", libs[i].name, libs[i].version);
    fprintf(out, "}\n");
}
