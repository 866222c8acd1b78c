/* endpoint_test.c - lib/aws/endpoint.c: override precedence (AWS_ENDPOINT_URL_<SERVICE> >
 * AWS_ENDPOINT_URL > profile [services] > profile endpoint_url > default), the ignore switch,
 * URL parsing (ports, IPv6, base paths), and S3 path-style versus virtual-hosted addressing. */
#include "../../lib/aws/endpoint.h"

#include <stdlib.h>

#include "../../lib/aws/creds.h"
#include "../../lib/core/mem.h"
#include "harness.h"

/* A fake environment for lcb_endpoint_resolve. */
static const char *fake_names[8], *fake_values[8];
static int nfake;

static const char *
fake_env(const char *name)
{
    int i;

    for (i = 0; i < nfake; i++)
        if (strcmp(fake_names[i], name) == 0)
            return fake_values[i];
    return NULL;
}

static void
fake_set(const char *name, const char *value)
{
    fake_names[nfake] = name;
    fake_values[nfake++] = value;
}

static char dir[64];

static struct lcb_profile *
profile(const char *config, const char *name)
{
    char path[128];
    FILE *f;
    struct lcb_profile *p = NULL;
    struct lcb_err err;

    snprintf(path, sizeof(path), "%s/config", dir);
    f = fopen(path, "w");
    fputs(config, f);
    fclose(f);
    setenv("AWS_CONFIG_FILE", path, 1);
    snprintf(path, sizeof(path), "%s/credentials", dir);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    if (lcb_profile_load(&p, name, 1, &err) < 0)
        fprintf(stderr, "profile: %s\n", err.msg);
    return p;
}

static const char config[] = "[profile local]\n"
                             "region = eu-west-1\n"
                             "endpoint_url = http://127.0.0.1:9999\n"
                             "services = lab\n"
                             "[services lab]\n"
                             "s3 =\n"
                             "  endpoint_url = http://127.0.0.1:4566/s3base/\n"
                             "rds =\n"
                             "    endpoint_url = https://rds.lab.example:8443\n"
                             "[profile ignoring]\n"
                             "endpoint_url = http://127.0.0.1:9999\n"
                             "ignore_configured_endpoint_urls = true\n";

static void
url_of(struct lcb_buf *b, const struct lcb_endpoint *ep)
{
    lcb_buf_reset(b);
    lcb_endpoint_base_url(b, ep);
}

static void
test_precedence(void)
{
    struct lcb_profile *p = profile(config, "local"), *ig = profile(config, "ignoring");
    struct lcb_endpoint ep;
    struct lcb_buf b = LCB_BUF_INIT;
    struct lcb_err err;

    CHECK(p != NULL && ig != NULL);
    nfake = 0;
    /* the services section for s3 and rds, the profile's endpoint_url for the rest */
    CHECK_INT(lcb_endpoint_resolve(&ep, "s3", "eu-west-1", p, fake_env, &err), 0);
    url_of(&b, &ep);
    CHECK_STR(lcb_buf_str(&b), "http://127.0.0.1:4566/s3base");
    CHECK_STR(ep.source, "profile services section");
    CHECK(ep.overridden);
    CHECK_INT(lcb_endpoint_resolve(&ep, "rds", "eu-west-1", p, fake_env, &err), 0);
    url_of(&b, &ep);
    CHECK_STR(lcb_buf_str(&b), "https://rds.lab.example:8443");
    CHECK_INT(lcb_endpoint_resolve(&ep, "ssm", "eu-west-1", p, fake_env, &err), 0);
    url_of(&b, &ep);
    CHECK_STR(lcb_buf_str(&b), "http://127.0.0.1:9999");
    CHECK_STR(ep.source, "profile endpoint_url");
    /* AWS_ENDPOINT_URL beats the profile; AWS_ENDPOINT_URL_<SERVICE> beats both */
    fake_set("AWS_ENDPOINT_URL", "http://127.0.0.1:5000");
    CHECK_INT(lcb_endpoint_resolve(&ep, "s3", "eu-west-1", p, fake_env, &err), 0);
    url_of(&b, &ep);
    CHECK_STR(lcb_buf_str(&b), "http://127.0.0.1:5000");
    fake_set("AWS_ENDPOINT_URL_S3", "https://minio.local");
    CHECK_INT(lcb_endpoint_resolve(&ep, "s3", "eu-west-1", p, fake_env, &err), 0);
    url_of(&b, &ep);
    CHECK_STR(lcb_buf_str(&b), "https://minio.local");
    CHECK_STR(ep.source, "AWS_ENDPOINT_URL_<SERVICE>");
    CHECK_INT(lcb_endpoint_resolve(&ep, "rds", "eu-west-1", p, fake_env, &err), 0);
    url_of(&b, &ep);
    CHECK_STR(lcb_buf_str(&b), "http://127.0.0.1:5000");
    /* the ignore switch: env or profile */
    CHECK_INT(lcb_endpoint_resolve(&ep, "s3", "eu-west-1", ig, fake_env, &err), 0);
    CHECK_STR(ep.source, "default");
    fake_set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
    CHECK_INT(lcb_endpoint_resolve(&ep, "s3", "eu-west-1", p, fake_env, &err), 0);
    url_of(&b, &ep);
    CHECK_STR(lcb_buf_str(&b), "https://s3.eu-west-1.amazonaws.com");
    CHECK(!ep.overridden);
    lcb_profile_free(p);
    lcb_profile_free(ig);
    lcb_buf_release(&b);
}

static void
test_defaults(void)
{
    struct lcb_endpoint ep;
    struct lcb_buf b = LCB_BUF_INIT;
    struct lcb_err err;

    nfake = 0;
    CHECK_INT(lcb_endpoint_resolve(&ep, "rds", "eu-central-1", NULL, fake_env, &err), 0);
    url_of(&b, &ep);
    CHECK_STR(lcb_buf_str(&b), "https://rds.eu-central-1.amazonaws.com");
    CHECK_INT(lcb_endpoint_resolve(&ep, "sts", "cn-north-1", NULL, fake_env, &err), 0);
    url_of(&b, &ep);
    CHECK_STR(lcb_buf_str(&b), "https://sts.cn-north-1.amazonaws.com.cn");
    CHECK_INT(lcb_endpoint_resolve(&ep, "s3", "us-east-1", NULL, fake_env, &err), 0);
    url_of(&b, &ep);
    CHECK_STR(lcb_buf_str(&b), "https://s3.amazonaws.com");
    CHECK_INT(lcb_endpoint_resolve(&ep, "s3", NULL, NULL, fake_env, &err), -1);
    CHECK_INT(err.code, LCB_ECONFIG);
    lcb_buf_reset(&b);
    lcb_endpoint_env_name(&b, "secrets-manager");
    CHECK_STR(lcb_buf_str(&b), "AWS_ENDPOINT_URL_SECRETS_MANAGER");
    lcb_buf_release(&b);
}

static void
test_url_parsing(void)
{
    struct lcb_endpoint ep;
    struct lcb_buf b = LCB_BUF_INIT;
    struct lcb_err err;

    nfake = 0;
    fake_set("AWS_ENDPOINT_URL", "http://[::1]:4566");
    CHECK_INT(lcb_endpoint_resolve(&ep, "s3", "eu-west-1", NULL, fake_env, &err), 0);
    CHECK_STR(ep.host, "::1");
    CHECK_INT(ep.port, 4566);
    lcb_endpoint_host_header(&b, &ep);
    CHECK_STR(lcb_buf_str(&b), "[::1]:4566");
    fake_values[0] = "https://s3.example:443/";
    CHECK_INT(lcb_endpoint_resolve(&ep, "s3", "eu-west-1", NULL, fake_env, &err), 0);
    CHECK_INT(ep.port, 0); /* the default port is not part of Host */
    CHECK_STR(ep.base_path, "");
    static const char *const bad[] = { "127.0.0.1:4566", "ftp://x", "http://", "http://h:0",
                                       "http://h:99999", "http://h:12ab" };
    size_t i;
    for (i = 0; i < LCB_ARRAY_SIZE(bad); i++) {
        fake_values[0] = bad[i];
        CHECK_INT(lcb_endpoint_resolve(&ep, "s3", "eu-west-1", NULL, fake_env, &err), -1);
        CHECK_INT(err.code, LCB_ECONFIG);
    }
    lcb_buf_release(&b);
}

static void
s3(const struct lcb_endpoint *ep, const char *bucket, const char *key, const char *host,
   const char *path)
{
    struct lcb_buf h = LCB_BUF_INIT, p = LCB_BUF_INIT;

    lcb_endpoint_s3(ep, bucket, key, &h, &p);
    CHECK_STR(lcb_buf_str(&h), host);
    CHECK_STR(lcb_buf_str(&p), path);
    lcb_buf_release(&h);
    lcb_buf_release(&p);
}

static void
test_s3_addressing(void)
{
    struct lcb_endpoint ep;
    struct lcb_err err;

    nfake = 0;
    CHECK_INT(lcb_endpoint_resolve(&ep, "s3", "eu-west-1", NULL, fake_env, &err), 0);
    s3(&ep, "lcb-archive", "run 1/a+b", "lcb-archive.s3.eu-west-1.amazonaws.com", "/run 1/a+b");
    s3(&ep, "lcb-archive", NULL, "lcb-archive.s3.eu-west-1.amazonaws.com", "/");
    s3(&ep, "lcb.archive", "k", "s3.eu-west-1.amazonaws.com", "/lcb.archive/k"); /* TLS */
    s3(&ep, "LCB_Archive", "k", "s3.eu-west-1.amazonaws.com", "/LCB_Archive/k");
    s3(&ep, NULL, NULL, "s3.eu-west-1.amazonaws.com", "/");
    s3(&ep, "lcb-archive", "/lead", "lcb-archive.s3.eu-west-1.amazonaws.com", "//lead");
    fake_set("AWS_ENDPOINT_URL", "http://127.0.0.1:4566");
    CHECK_INT(lcb_endpoint_resolve(&ep, "s3", "eu-west-1", NULL, fake_env, &err), 0);
    s3(&ep, "lcb-archive", "run 1/x", "127.0.0.1:4566", "/lcb-archive/run 1/x");
    s3(&ep, "lcb-archive", NULL, "127.0.0.1:4566", "/lcb-archive");
    CHECK(lcb_endpoint_bucket_dns_ok("my-bucket-1"));
    CHECK(!lcb_endpoint_bucket_dns_ok("ab"));
    CHECK(!lcb_endpoint_bucket_dns_ok("-abc"));
    CHECK(!lcb_endpoint_bucket_dns_ok("192168001"));
}

int
main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/lcb-endpoint-test.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    RUN(test_precedence);
    RUN(test_defaults);
    RUN(test_url_parsing);
    RUN(test_s3_addressing);
    {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    return harness_done();
}
