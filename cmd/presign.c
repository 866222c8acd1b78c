/* presign.c - `lcbackup presign`: a presigned S3 URL, to hand an archive to someone without AWS
 * credentials during an incident. The URL is signed locally (SigV4 query signing); nothing is sent. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/aws/aws.h"
#include "../lib/core/clock.h"
#include "../lib/core/log.h"
#include "../lib/core/mem.h"
#include "cmd.h"

const char cmd_presign_usage[] =
    "usage: lcbackup presign s3://BUCKET/KEY [--expires DUR] [--method GET|PUT] [--json]\n"
    "\n"
    "Print a presigned URL for one S3 object: anyone holding it can GET (download) or PUT\n"
    "(upload) that object until it expires, without AWS credentials. Nothing is sent to AWS;\n"
    "the URL carries a signature made with your credentials, which must still be valid when it\n"
    "is used (temporary credentials cut the URL's life short).\n"
    "\n"
    "  --expires DUR      lifetime in seconds, or a duration such as 15m, 12h, 7d\n"
    "                     (default 3600; at most 7 days)\n"
    "  --method GET|PUT   what the URL allows (default GET)\n"
    "  --json             {\"url\", \"method\", \"expires_at\"} instead of the bare URL\n";

/* "s3://bucket/key" -> bucket and key (both non-empty; the key is taken as is, not decoded). */
static int
parse_s3_url(const char *s, char **bucket, char **key, struct lcb_err *err)
{
    const char *slash;

    if (strncmp(s, "s3://", 5) != 0 || !(slash = strchr(s + 5, '/')) || slash == s + 5 ||
        !slash[1])
        return lcb_err_set(err, LCB_EUSAGE, "'%s' is not s3://BUCKET/KEY", s);
    *bucket = lcb_xstrndup(s + 5, (size_t)(slash - (s + 5)));
    *key = lcb_xstrdup(slash + 1);
    return 0;
}

static void
print_json(FILE *out, const char *url, const char *method, time_t expires_at)
{
    struct lcb_buf b = LCB_BUF_INIT;
    char t[LCB_TIME_LEN];

    lcb_buf_adds(&b, "{\"url\":");
    lcb_json_quote(&b, url);
    lcb_buf_addf(&b, ",\"method\":\"%s\",\"expires_at\":\"%s\"}\n", method,
                 lcb_time_fmt(expires_at, t));
    fputs(b.ptr, out);
    lcb_buf_release(&b);
}

int
cmd_presign(struct lcb_ctx *ctx, int argc, char **argv)
{
    int64_t expires = 3600;
    const char *method = "GET";
    struct lcb_strlist pos = LCB_STRLIST_INIT;
    const struct lcb_opt opts[] = {
        { "expires", 0, LCB_OPT_DURATION, &expires },
        { "method", 0, LCB_OPT_STR, &method },
        { NULL, 0, LCB_OPT_FLAG, NULL },
    };
    struct lcb_aws_req req;
    struct lcb_buf url = LCB_BUF_INIT;
    char *bucket = NULL, *key = NULL;
    int rc = -1;

    if (lcb_cmd_begin(ctx, opts, argc, argv, &pos) < 0)
        goto out;
    if (pos.n != 1) {
        lcb_err_set(&ctx->err, LCB_EUSAGE, "presign needs exactly one s3://BUCKET/KEY");
        goto out;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "PUT") != 0) {
        lcb_err_set(&ctx->err, LCB_EUSAGE, "--method '%s' must be GET or PUT", method);
        goto out;
    }
    if (parse_s3_url(pos.items[0], &bucket, &key, &ctx->err) < 0)
        goto out;
    memset(&req, 0, sizeof(req));
    req.service = "s3";
    req.operation = strcmp(method, "GET") == 0 ? "GetObject" : "PutObject";
    req.method = method;
    req.bucket = bucket;
    req.key = key;
    if (lcb_aws_presign(ctx->aws, &req, expires, &url, &ctx->err) < 0) {
        lcb_wrap(&ctx->err, "s3://%s/%s", bucket, key);
        goto out;
    }
    if (ctx->json)
        print_json(ctx->out, url.ptr, method, lcb_aws_now(ctx->aws) + (time_t)expires);
    else
        fprintf(ctx->out, "%s\n", url.ptr);
    lcb_log(LCB_DEBUG, "presign.done", "presigned %s s3://%s/%s for %" PRId64 " s", method,
            bucket, key, expires);
    rc = 0;
out:
    free(bucket);
    free(key);
    lcb_buf_release(&url);
    lcb_strlist_release(&pos);
    return rc;
}
