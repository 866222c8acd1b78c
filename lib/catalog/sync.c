/* sync.c - publish, pull and merge the catalog; see sync.h. */
#include "sync.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../aws/s3.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../ext/db.h"

#define MAX_ATTEMPTS 5
#define MAX_CATALOG (1u << 30) /* what we agree to download */

char *
lcb_catalog_remote_key(const char *prefix, const char *env)
{
    return lcb_xasprintf("%s%scatalog/%s/catalog.db", prefix && *prefix ? prefix : "",
                         prefix && *prefix ? "/" : "", env && *env ? env : "default");
}

/* ---- <catalog>.remote: the ETag last seen ---- */

static char *
state_path(struct lcb_catalog *cat)
{
    return lcb_xasprintf("%s.remote", lcb_catalog_path(cat));
}

/* The ETag recorded for r, or "" (out holds 80 bytes). */
static void
state_read(struct lcb_catalog *cat, const struct lcb_sync_remote *r, char *etag)
{
    char *path = state_path(cat), *want = lcb_xasprintf("s3://%s/%s ", r->bucket, r->key);
    char line[2048];
    FILE *f = fopen(path, "r");

    etag[0] = '\0';
    if (f && fgets(line, sizeof(line), f) && strncmp(line, want, strlen(want)) == 0) {
        line[strcspn(line, "\n")] = '\0';
        snprintf(etag, 80, "%s", line + strlen(want));
    }
    if (f)
        fclose(f);
    free(want);
    free(path);
}

static int
state_write(struct lcb_catalog *cat, const struct lcb_sync_remote *r, const char *etag,
            struct lcb_err *err)
{
    char *path = state_path(cat), *tmp = lcb_xasprintf("%s.tmp", path);
    int fd, rc = -1;
    FILE *f;

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        lcb_err_sys(err, LCB_EIO, errno, "write '%s'", tmp);
        if (fd >= 0)
            close(fd);
        goto out;
    }
    fprintf(f, "s3://%s/%s %s\n", r->bucket, r->key, etag);
    if (fclose(f) != 0 || rename(tmp, path) < 0) {
        lcb_err_sys(err, LCB_EIO, errno, "write '%s'", path);
        goto out;
    }
    rc = 0;
out:
    free(tmp);
    free(path);
    return rc;
}

/* ---- snapshot and transfer ---- */

/* A consistent copy of the catalog (no WAL, no lock) read into out. */
static int
snapshot(struct lcb_catalog *cat, struct lcb_buf *out, struct lcb_err *err)
{
    char *tmp = lcb_xasprintf("%s.publish.%ld", lcb_catalog_path(cat), (long)getpid());
    struct lcb_stmt *st;
    char chunk[65536];
    ssize_t n;
    int fd, rc = -1;

    unlink(tmp);
    if (lcb_db_prepare(&st, lcb_catalog_db(cat), "VACUUM INTO ?1", err) < 0)
        goto out;
    lcb_stmt_text(st, 1, tmp);
    rc = lcb_stmt_step(st, err);
    lcb_stmt_free(st);
    if (rc < 0)
        goto out;
    rc = -1;
    if ((fd = open(tmp, O_RDONLY | O_CLOEXEC)) < 0) {
        lcb_err_sys(err, LCB_EIO, errno, "read '%s'", tmp);
        goto out;
    }
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        lcb_buf_add(out, chunk, (size_t)n);
    close(fd);
    if (n < 0) {
        lcb_err_sys(err, LCB_EIO, errno, "read '%s'", tmp);
        goto out;
    }
    rc = 0;
out:
    unlink(tmp);
    free(tmp);
    return rc < 0 ? lcb_wrap(err, "snapshot the catalog") : 0;
}

static int
fd_write(void *ud, const void *data, size_t len)
{
    int fd = *(int *)ud;
    const char *p = data;
    ssize_t n;

    while (len > 0) {
        n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int
fd_reset(void *ud)
{
    int fd = *(int *)ud;

    return ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0 ? 0 : -1;
}

/* Download the remote catalog to a new file beside ours (caller unlinks and frees *path). */
static int
download(struct lcb_catalog *cat, struct lcb_aws *aws, const struct lcb_sync_remote *r,
         char **path, char *etag, long long *bytes, struct lcb_err *err)
{
    struct lcb_s3_object_info info;
    int fd, rc;

    *path = lcb_xasprintf("%s.pull.%ld", lcb_catalog_path(cat), (long)getpid());
    fd = open(*path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return lcb_err_sys(err, LCB_EIO, errno, "create '%s'", *path);
    rc = lcb_s3_get(&info, aws, r->bucket, r->key, NULL, fd_write, fd_reset, &fd, err);
    if (close(fd) < 0 && rc == 0)
        rc = lcb_err_sys(err, LCB_EIO, errno, "write '%s'", *path);
    if (rc < 0)
        return lcb_wrap(err, "download s3://%s/%s", r->bucket, r->key);
    if (info.size > (int64_t)MAX_CATALOG)
        return lcb_err_set(err, LCB_ECORRUPT, "s3://%s/%s is %lld bytes: too large for a catalog",
                           r->bucket, r->key, (long long)info.size);
    snprintf(etag, 80, "%s", info.etag);
    *bytes = info.size;
    return 0;
}

static void
remove_db_files(const char *path)
{
    char *aux;

    unlink(path);
    aux = lcb_xasprintf("%s-wal", path);
    unlink(aux);
    free(aux);
    aux = lcb_xasprintf("%s-shm", path);
    unlink(aux);
    free(aux);
}

/* Pull: download, merge, remember the ETag. */
static int
pull_merge(struct lcb_catalog *cat, struct lcb_aws *aws, const struct lcb_sync_remote *r,
           struct lcb_sync_result *res, struct lcb_err *err)
{
    char *path = NULL;
    long long bytes = 0;
    int rc;

    rc = download(cat, aws, r, &path, res->etag, &bytes, err);
    if (rc == 0)
        rc = lcb_catalog_merge(cat, path, &res->merged, err);
    remove_db_files(path);
    free(path);
    if (rc < 0)
        return -1;
    res->bytes = bytes;
    return state_write(cat, r, res->etag, err);
}

int
lcb_catalog_pull(struct lcb_catalog *cat, struct lcb_aws *aws, const struct lcb_sync_remote *r,
                 struct lcb_sync_result *res, struct lcb_err *err)
{
    memset(res, 0, sizeof(*res));
    if (pull_merge(cat, aws, r, res, err) < 0) {
        if (err->code == LCB_ENOTFOUND)
            lcb_wrap(err, "no catalog published at s3://%s/%s yet", r->bucket, r->key);
        return -1;
    }
    return 0;
}

/* Did the conditional write lose (412), or did two writes race (409)? */
static int
is_conflict(const struct lcb_err *err)
{
    return err->http == 412 || err->http == 409 ||
           strcmp(err->aws_code, "PreconditionFailed") == 0 ||
           strcmp(err->aws_code, "ConditionalRequestConflict") == 0;
}

static int
put_once(struct lcb_catalog *cat, struct lcb_aws *aws, const struct lcb_sync_remote *r,
         const char *etag, struct lcb_sync_result *res, struct lcb_err *err)
{
    struct lcb_buf data = LCB_BUF_INIT;
    struct lcb_s3_body body;
    struct lcb_s3_put_opts opts;
    struct lcb_s3_put_result put;
    int rc;

    if (snapshot(cat, &data, err) < 0)
        return -1;
    memset(&body, 0, sizeof(body));
    memset(&opts, 0, sizeof(opts));
    body.data = data.ptr;
    body.len = data.len;
    opts.content_type = "application/vnd.sqlite3";
    if (r->kms_key) {
        opts.sse = "aws:kms";
        opts.sse_kms_key_id = r->kms_key;
    }
    if (etag[0])
        opts.if_match = etag; /* as S3 sent it, quotes included */
    else
        opts.if_none_match = "*";
    res->attempts++;
    rc = lcb_s3_put(&put, aws, r->bucket, r->key, &body, &opts, err);
    if (rc == 0) {
        snprintf(res->etag, sizeof(res->etag), "%s", put.etag);
        res->bytes = (long long)data.len;
    }
    lcb_buf_release(&data);
    return rc;
}

int
lcb_catalog_publish(struct lcb_catalog *cat, struct lcb_aws *aws,
                    const struct lcb_sync_remote *r, struct lcb_sync_result *res,
                    struct lcb_err *err)
{
    char etag[80];

    memset(res, 0, sizeof(*res));
    state_read(cat, r, etag);
    while (res->attempts < MAX_ATTEMPTS) {
        if (put_once(cat, aws, r, etag, res, err) == 0)
            return state_write(cat, r, res->etag, err);
        if (etag[0] && err->code == LCB_ENOTFOUND) {
            /* the remote copy we knew was removed: create it again */
            lcb_log(LCB_WARN, "catalog.publish.gone", "s3://%s/%s is gone: publishing anew",
                    r->bucket, r->key);
            etag[0] = '\0';
            continue;
        }
        if (!is_conflict(err))
            return lcb_wrap(err, "publish the catalog to s3://%s/%s", r->bucket, r->key);
        lcb_log(LCB_INFO, "catalog.publish.conflict",
                "s3://%s/%s changed since this catalog last saw it: merging it first", r->bucket,
                r->key);
        lcb_err_clear(err);
        if (pull_merge(cat, aws, r, res, err) < 0)
            return lcb_wrap(err, "merge the published catalog");
        res->merges++;
        snprintf(etag, sizeof(etag), "%s", res->etag);
    }
    return lcb_err_set(err, LCB_ETEMP,
                       "publish the catalog to s3://%s/%s: it changed under us %d times in a row; "
                       "retry later",
                       r->bucket, r->key, MAX_ATTEMPTS);
}

void
lcb_sync_describe(struct lcb_buf *out, const char *verb, const struct lcb_sync_remote *r,
                  const struct lcb_sync_result *res, int json)
{
    const struct lcb_merge_stats *m = &res->merged;

    if (json) {
        lcb_buf_addf(out, "{\"%s\":\"s3://%s/%s\",\"etag\":", verb, r->bucket, r->key);
        lcb_json_quote(out, res->etag);
        lcb_buf_addf(out, ",\"bytes\":%lld,\"attempts\":%d,\"merges\":%d,\"inserted\":%d,"
                     "\"updated\":%d,\"events\":%d}\n", res->bytes, res->attempts, res->merges,
                     m->inserted, m->updated, m->events);
        return;
    }
    lcb_buf_addf(out, "%s s3://%s/%s (%lld bytes, ETag %s)\n", verb, r->bucket, r->key,
                 res->bytes, res->etag);
    if (res->merges || m->inserted || m->updated || m->events)
        lcb_buf_addf(out, "merged: %d rows added, %d rows updated, %d events added%s\n",
                     m->inserted, m->updated, m->events,
                     res->merges ? " (another runner had published meanwhile)" : "");
}
