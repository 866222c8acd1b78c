/* doctor.c - `lcbackup doctor`: is this host ready to back up? One line per check (credentials and
 * their source, STS identity, region, every service endpoint, clock skew, catalog, policy), each
 * OK or FAIL with what to do; the exit status is the class of the first failure (77, 78, 75). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/aws/aws.h"
#include "../lib/aws/creds.h"
#include "../lib/aws/retry.h"
#include "../lib/aws/sts.h"
#include "../lib/core/clock.h"
#include "../lib/core/mem.h"
#include "../lib/core/secret.h"
#include "../lib/ext/http.h"
#include "../lib/policy/policy.h"
#include "cmd.h"
#include "setup.h"

const char cmd_doctor_usage[] =
    "usage: lcbackup doctor [--json]\n"
    "\n"
    "Check that this host can run backups and say what to fix: AWS credentials and where they\n"
    "come from (never the secret), the STS identity (account and ARN), the region, that every\n"
    "service endpoint answers, the clock skew against AWS, that the catalog is writable, and\n"
    "the policy (when --policy or LCBACKUP_POLICY gives one). One line per check.\n"
    "\n"
    "  --json   {\"ok\", \"exit\", \"checks\": [{\"check\", \"ok\", \"detail\", \"fix\"}]}\n"
    "\n"
    "Exit status: 0 when every check passes, else the class of the first failure: 77\n"
    "(credentials or identity), 78 (configuration: region, clock, catalog, policy), 75\n"
    "(an endpoint cannot be reached).\n";

static const char *const services[] = { "sts", "s3", "rds", "ec2", "ssm", "ecs", "kms" };

#define MAX_CHECKS 24

struct check {
    char name[32];
    int ok;
    enum lcb_code code; /* the failure class */
    char detail[512];
    char fix[256];
};

struct doctor {
    struct lcb_ctx *ctx;
    struct check c[MAX_CHECKS];
    int n;
    struct lcb_aws *aws;
    int64_t skew;
    int have_skew;
};

static struct check *
add(struct doctor *d, const char *name, int ok, enum lcb_code code)
{
    struct check *c = &d->c[d->n < MAX_CHECKS - 1 ? d->n++ : d->n];

    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->ok = ok;
    c->code = code;
    return c;
}

static void
fail_from(struct doctor *d, const char *name, const struct lcb_err *err, enum lcb_code code,
          const char *fix)
{
    struct check *c = add(d, name, 0, code);

    lcb_err_format(err, c->detail, sizeof(c->detail));
    snprintf(c->fix, sizeof(c->fix), "%s", fix ? fix : "");
}

static void
check_region(struct doctor *d)
{
    const char *r = lcb_aws_region(d->aws);
    struct check *c;

    if (!r) {
        c = add(d, "region", 0, LCB_ECONFIG);
        snprintf(c->detail, sizeof(c->detail), "no region");
        snprintf(c->fix, sizeof(c->fix), "give --region, set AWS_REGION, or set region in the "
                 "profile or the policy");
        return;
    }
    c = add(d, "region", 1, LCB_OK);
    snprintf(c->detail, sizeof(c->detail), "%s (from %s)", r, lcb_aws_region_source(d->aws));
}

/* Returns 1 when credentials were found. */
static int
check_credentials(struct doctor *d)
{
    const struct lcb_creds *cr;
    struct lcb_err err;
    struct check *c;
    size_t n;
    char when[LCB_TIME_LEN];

    if (lcb_aws_credentials(d->aws, &cr, &err) < 0) {
        fail_from(d, "credentials", &err, err.code == LCB_ETEMP ? LCB_ETEMP : LCB_EAUTH,
                  "see docs/aws.md for the sources lcbackup reads, in order");
        return 0;
    }
    c = add(d, "credentials", 1, LCB_OK);
    n = strlen(cr->access_key_id);
    snprintf(c->detail, sizeof(c->detail), "from %s, access key ...%s%s%s%s", cr->source,
             n > 4 ? cr->access_key_id + n - 4 : cr->access_key_id,
             lcb_secret_empty(&cr->token) ? "" : ", temporary",
             cr->expires ? " until " : "", cr->expires ? lcb_time_fmt(cr->expires, when) : "");
    return 1;
}

static void
check_identity(struct doctor *d)
{
    struct lcb_sts_identity id;
    struct lcb_err err;
    struct check *c;

    lcb_sts_identity_init(&id);
    if (lcb_sts_get_caller_identity(&id, d->aws, NULL, &err) < 0) {
        fail_from(d, "identity", &err,
                  err.code == LCB_EAUTH || err.code == LCB_ECONFIG ? err.code : LCB_ETEMP,
                  err.code == LCB_EAUTH ? "the credentials are not accepted: check the keys, "
                                          "the session token or the role's trust policy"
                                        : "STS cannot be reached: check the network or "
                                          "AWS_ENDPOINT_URL_STS");
    } else {
        c = add(d, "identity", 1, LCB_OK);
        snprintf(c->detail, sizeof(c->detail), "account %s, %s", id.account ? id.account : "?",
                 id.arn ? id.arn : "?");
        d->skew = lcb_aws_last_skew(d->aws);
        d->have_skew = lcb_aws_last_skew(d->aws) != 0;
    }
    lcb_sts_identity_release(&id);
}

struct probe {
    const char *service;
    struct lcb_buf url;
    const char *source;
    struct lcb_http_req req;
    struct lcb_http_resp resp;
    struct lcb_err err;
    int started;
};

/* Reach every endpoint at once (unsigned GET of the base URL: any HTTP answer means it is up). */
static void
check_endpoints(struct doctor *d)
{
    struct probe p[LCB_ARRAY_SIZE(services)];
    struct lcb_http_multi *m = NULL;
    struct lcb_err err;
    size_t i;
    void *tag;

    memset(p, 0, sizeof(p));
    lcb_http_multi_new(&m, lcb_aws_http(d->aws), &err);
    for (i = 0; i < LCB_ARRAY_SIZE(services); i++) {
        p[i].service = services[i];
        lcb_buf_init(&p[i].url, 0);
        lcb_http_resp_init(&p[i].resp);
        if (lcb_aws_endpoint(d->aws, services[i], NULL, &p[i].url, &p[i].source, &p[i].err) < 0)
            continue;
        lcb_buf_adds(&p[i].url, "/");
        p[i].req.method = "GET";
        p[i].req.url = p[i].url.ptr;
        p[i].req.timeout_ms = 5000;
        p[i].req.max_body = 1 << 20;
        if (lcb_http_multi_add(m, &p[i].req, &p[i].resp, &p[i], &p[i].err) == 0)
            p[i].started = 1;
    }
    while (lcb_http_multi_next(m, 10000, &tag, &err) == 1)
        ((struct probe *)tag)->err = err;
    for (i = 0; i < LCB_ARRAY_SIZE(services); i++) {
        char name[32];
        struct check *c;
        const char *date = lcb_http_header_get(&p[i].resp.headers, "Date");
        int64_t server;
        snprintf(name, sizeof(name), "endpoint %s", p[i].service);
        if (!p[i].started || p[i].err.code != LCB_OK) {
            fail_from(d, name, &p[i].err, p[i].err.code == LCB_ECONFIG ? LCB_ECONFIG : LCB_ETEMP,
                      "check the network, proxy or TLS settings and any AWS_ENDPOINT_URL");
        } else {
            c = add(d, name, 1, LCB_OK);
            snprintf(c->detail, sizeof(c->detail), "%s answers (HTTP %d, %" PRId64 " ms; %s)",
                     p[i].url.ptr, p[i].resp.status, p[i].resp.elapsed_ms, p[i].source);
        }
        if (!d->have_skew && date && lcb_retry_parse_http_date(date, &server) == 0) {
            d->skew = server - (int64_t)lcb_now();
            d->have_skew = 1;
        }
        lcb_http_resp_release(&p[i].resp);
        lcb_buf_release(&p[i].url);
    }
    lcb_http_multi_free(m);
}

static void
check_clock(struct doctor *d)
{
    struct check *c;
    int64_t a = d->skew < 0 ? -d->skew : d->skew;

    if (!d->have_skew) {
        c = add(d, "clock", 0, LCB_ETEMP);
        snprintf(c->detail, sizeof(c->detail), "no answer carried a Date header to compare with");
        snprintf(c->fix, sizeof(c->fix), "fix the endpoint checks first");
        return;
    }
    c = add(d, "clock", a < LCB_RETRY_SKEW_SECS, LCB_ECONFIG);
    if (a == 0)
        snprintf(c->detail, sizeof(c->detail), "in step with AWS (within 1 s)");
    else
        snprintf(c->detail, sizeof(c->detail), "%" PRId64 " s %s AWS", a,
                 d->skew > 0 ? "behind" : "ahead of");
    if (!c->ok)
        snprintf(c->fix, sizeof(c->fix), "AWS refuses requests more than 15 minutes off; "
                 "synchronise this host's clock (NTP)");
}

/* The nearest existing directory of path is writable (or the file itself when it exists). */
static int
writable(const char *path, char *why, size_t size)
{
    char *dir = lcb_xstrdup(path), *slash;
    int ok;

    if (access(path, F_OK) == 0) {
        ok = access(path, W_OK) == 0;
        snprintf(why, size, "%s", ok ? "" : strerror(errno));
        free(dir);
        return ok;
    }
    while ((slash = strrchr(dir, '/')) && slash != dir) {
        *slash = '\0';
        if (access(dir, F_OK) == 0)
            break;
    }
    if (slash == dir)
        dir[1] = '\0';
    ok = access(dir, W_OK) == 0;
    snprintf(why, size, "%s%s%s", ok ? "" : dir, ok ? "" : ": ", ok ? "" : strerror(errno));
    free(dir);
    return ok;
}

static void
check_catalog(struct doctor *d)
{
    char *def = NULL, why[256];
    const char *path = d->ctx->catalog_path;
    struct check *c;

    if (!path)
        path = def = lcb_default_catalog_path();
    c = add(d, "catalog", writable(path, why, sizeof(why)), LCB_ECONFIG);
    snprintf(c->detail, sizeof(c->detail), "%s %s", path,
             access(path, F_OK) == 0 ? "is writable" : "can be created");
    if (!c->ok) {
        snprintf(c->detail, sizeof(c->detail), "%s is not writable (%s)", path, why);
        snprintf(c->fix, sizeof(c->fix), "give --catalog PATH (LCBACKUP_CATALOG) somewhere "
                 "writable, or fix the permissions");
    }
    free(def);
}

static void
check_policy(struct doctor *d, struct lcb_policy **out)
{
    struct lcb_buf problems = LCB_BUF_INIT;
    struct lcb_err err;
    struct check *c;

    if (!d->ctx->policy_path)
        return;
    if (lcb_policy_load_all(out, d->ctx->policy_path, &problems, &err) < 0) {
        fail_from(d, "policy", &err, LCB_ECONFIG, "run 'lcbackup policy check' for every problem");
    } else {
        c = add(d, "policy", 1, LCB_OK);
        snprintf(c->detail, sizeof(c->detail), "%s is valid (env %s, %zu targets)",
                 d->ctx->policy_path, lcb_policy_env(*out), (*out)->ntargets);
    }
    lcb_buf_release(&problems);
}

static int
open_client(struct doctor *d, const struct lcb_policy *pol)
{
    struct lcb_aws_config cfg;
    struct lcb_err err;

    memset(&cfg, 0, sizeof(cfg));
    cfg.region = d->ctx->region;
    cfg.policy_region = pol ? pol->region : NULL;
    cfg.profile = d->ctx->profile;
    cfg.ca_bundle = d->ctx->ca_bundle;
    cfg.max_attempts = d->ctx->max_attempts ? (int)d->ctx->max_attempts : 2;
    cfg.allow_insecure = d->ctx->allow_insecure_endpoint;
    if (lcb_aws_new(&d->aws, &cfg, &err) < 0) {
        fail_from(d, "aws config", &err, LCB_ECONFIG,
                  "fix the shared config/credentials files or the --profile name");
        return -1;
    }
    return 0;
}

static void
print_text(FILE *out, const struct doctor *d)
{
    int i;

    for (i = 0; i < d->n; i++) {
        const struct check *c = &d->c[i];
        fprintf(out, "%-4s  %-16s %s%s%s\n", c->ok ? "OK" : "FAIL", c->name, c->detail,
                c->fix[0] ? "; " : "", c->fix);
    }
}

static void
print_json(FILE *out, const struct doctor *d, int status)
{
    struct lcb_buf b = LCB_BUF_INIT, red = LCB_BUF_INIT;
    int i, all = 1;

    for (i = 0; i < d->n; i++)
        all &= d->c[i].ok;
    lcb_buf_addf(&b, "{\"ok\":%s,\"exit\":%d,\"checks\":[", all ? "true" : "false", status);
    for (i = 0; i < d->n; i++) {
        lcb_buf_addf(&b, "%s{\"check\":", i ? "," : "");
        lcb_json_quote(&b, d->c[i].name);
        lcb_buf_addf(&b, ",\"ok\":%s,\"detail\":", d->c[i].ok ? "true" : "false");
        lcb_json_quote(&b, d->c[i].detail);
        lcb_buf_adds(&b, ",\"fix\":");
        lcb_json_quote(&b, d->c[i].fix);
        lcb_buf_addch(&b, '}');
    }
    lcb_buf_adds(&b, "]}\n");
    fputs(lcb_redact_str(&red, b.ptr), out);
    lcb_buf_release(&b);
    lcb_buf_release(&red);
}

int
cmd_doctor(struct lcb_ctx *ctx, int argc, char **argv)
{
    const struct lcb_opt opts[] = { { NULL, 0, LCB_OPT_FLAG, NULL } };
    const char *policy_path = ctx->policy_path;
    struct lcb_policy *pol = NULL;
    struct doctor *d = lcb_xcalloc(1, sizeof(*d));
    const struct check *first = NULL;
    int i, rc, nfail = 0;

    /* the policy is one of the checks, so setup must not fail on it */
    ctx->policy_path = NULL;
    rc = lcb_cmd_begin(ctx, opts, argc, argv, NULL);
    ctx->policy_path = policy_path;
    if (rc < 0)
        goto out;
    d->ctx = ctx;
    check_policy(d, &pol);
    if (open_client(d, pol) == 0) {
        check_region(d);
        if (check_credentials(d) && lcb_aws_region(d->aws))
            check_identity(d);
        if (lcb_aws_region(d->aws)) {
            check_endpoints(d);
            check_clock(d);
        }
    }
    check_catalog(d);
    for (i = 0; i < d->n; i++) {
        if (d->c[i].ok)
            continue;
        nfail++;
        if (!first)
            first = &d->c[i];
    }
    if (ctx->json)
        print_json(ctx->out, d, first ? lcb_exit_status(first->code) : 0);
    else
        print_text(ctx->out, d);
    rc = 0;
    if (first)
        rc = lcb_err_set(&ctx->err, first->code, "%d of %d checks failed, first '%s'", nfail,
                         d->n, first->name);
out:
    lcb_aws_free(d->aws);
    lcb_policy_free(pol);
    free(d);
    return rc;
}
