/*
 * versions.c - the run-time version of each library, for `lcbackup version` and bug reports.
 * This file includes each library's header only to ask for its version; all other use of a
 * library goes through its one wrapper in lib/ext/.
 */
#include <archive.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <libpq-fe.h>
#include <libxml/xmlversion.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdio.h>
#include <zstd.h>

#include "../core/version.h"

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
        { "libcurl", curl_version_info(CURLVERSION_NOW)->version },
        { "openssl", OpenSSL_version(OPENSSL_VERSION) },
        { "cjson", cJSON_Version() },
        { "zstd", ZSTD_versionString() },
        { "libarchive", archive_version_string() },
        { "sqlite", sqlite3_libversion() },
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
