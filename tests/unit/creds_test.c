/* creds_test.c - lib/aws/creds.c: the shared config/credentials files, the chain's order, and each
 * remote source against the local stub (tests/unit/aws_stub.py): ECS container credentials (full
 * URI, token and token file), EC2 IMDSv2 (and the v1 fallback), STS AssumeRole through
 * source_profile and AssumeRoleWithWebIdentity; expiry, advisory and mandatory refresh; redaction. */
#include "../../lib/aws/creds.h"

#include <stdlib.h>
#include <time.h>

#include "../../lib/aws/aws.h"
#include "../../lib/core/clock.h"
#include "../../lib/core/mem.h"
#include "harness.h"
#include "stub.h"

static char dir[64];

static const char *const aws_vars[] = {
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_SESSION_NAME", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_DISABLED", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION",
    "LCBACKUP_NOW", "AWS_ACCOUNT_ID",
};

/* A clean slate: no AWS variables, config files in dir, IMDS off unless a test turns it on. */
static void
clean_env(const char *config, const char *credentials)
{
    char path[128];
    FILE *f;
    size_t i;

    for (i = 0; i < LCB_ARRAY_SIZE(aws_vars); i++)
        unsetenv(aws_vars[i]);
    snprintf(path, sizeof(path), "%s/config", dir);
    f = fopen(path, "w");
    fputs(config ? config : "", f);
    fclose(f);
    setenv("AWS_CONFIG_FILE", path, 1);
    snprintf(path, sizeof(path), "%s/credentials", dir);
    f = fopen(path, "w");
    fputs(credentials ? credentials : "", f);
    fclose(f);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    setenv("AWS_ENDPOINT_URL", stub_base, 1);
    setenv("AWS_REGION", "eu-west-1", 1);
}

static struct lcb_aws *
client(const char *profile, struct lcb_err *err)
{
    struct lcb_aws_config cfg;
    struct lcb_aws *aws = NULL;

    memset(&cfg, 0, sizeof(cfg));
    cfg.profile = profile;
    if (lcb_aws_new(&aws, &cfg, err) < 0)
        return NULL;
    return aws;
}

/* The access key id the chain gives, or "" with err filled. */
static const char *
akid(struct lcb_aws *aws, struct lcb_err *err)
{
    const struct lcb_creds *c;

    if (!aws || lcb_aws_credentials(aws, &c, err) < 0) {
        if (getenv("CREDS_TEST_VERBOSE")) {
            char line[2048];
            fprintf(stderr, "    (credentials: %s)\n", lcb_err_format(err, line, sizeof(line)));
        }
        return "";
    }
    return c->access_key_id;
}

static const char creds_file[] = "# comment\n"
                                 "[default]\n"
                                 "aws_access_key_id = AKIDFILEDEFAULT\n"
                                 "aws_secret_access_key = file/default+secret\n"
                                 "[base]\n"
                                 "aws_access_key_id=AKIDSTUB\n"
                                 "aws_secret_access_key=stub/secret+KEY\n"
                                 "; another comment\n"
                                 "[both]\n"
                                 "aws_access_key_id = AKIDFROMCREDS\n"
                                 "aws_secret_access_key = s1\n";

static const char config_file[] = "[default]\n"
                                  "region = us-west-2\n"
                                  "[profile both]\n"
                                  "aws_access_key_id = AKIDFROMCONFIG\n"
                                  "aws_secret_access_key = s2\n"
                                  "[profile cfgonly]\n"
                                  "aws_access_key_id = AKIDCONFIGONLY\n"
                                  "aws_secret_access_key = s3cr3t-config\n"
                                  "region = ap-south-1\n"
                                  "[profile dr]\n"
                                  "role_arn = arn:aws:iam::222233334444:role/lcbackup-dr\n"
                                  "source_profile = base\n"
                                  "role_session_name = lcb-test\n"
                                  "[profile chained]\n"
                                  "role_arn = arn:aws:iam::555566667777:role/second\n"
                                  "source_profile = dr\n"
                                  "[profile loop]\n"
                                  "role_arn = arn:aws:iam::1:role/x\n"
                                  "source_profile = loop2\n"
                                  "[profile loop2]\n"
                                  "role_arn = arn:aws:iam::1:role/y\n"
                                  "source_profile = loop\n"
                                  "[profile bad-source]\n"
                                  "role_arn = arn:aws:iam::1:role/x\n"
                                  "credential_source = Nowhere\n";

static void
test_files(void)
{
    struct lcb_profile *p = NULL;
    struct lcb_err err;
    char path[128];
    FILE *f;

    clean_env(config_file, creds_file);
    CHECK_INT(lcb_profile_load(&p, "cfgonly", 1, &err), 0);
    CHECK_STR(lcb_profile_get(p, "region"), "ap-south-1");
    CHECK_STR(lcb_profile_name(p), "cfgonly");
    lcb_profile_free(p);
    setenv("AWS_PROFILE", "both", 1);
    CHECK_INT(lcb_profile_load(&p, NULL, 0, &err), 0);
    CHECK_STR(lcb_profile_name(p), "both");
    CHECK_STR(lcb_profile_get_in(p, "aws_access_key_id", 1), "AKIDFROMCREDS");
    CHECK_STR(lcb_profile_get_in(p, "aws_access_key_id", 0), "AKIDFROMCONFIG");
    lcb_profile_free(p);
    unsetenv("AWS_PROFILE");
    /* an explicit profile must exist; an implicit default need not */
    CHECK_INT(lcb_profile_load(&p, "nosuch", 1, &err), -1);
    CHECK_INT(err.code, LCB_ECONFIG);
    CHECK(strstr(err.msg, "nosuch") != NULL);
    clean_env(NULL, NULL);
    CHECK_INT(lcb_profile_load(&p, NULL, 0, &err), 0);
    CHECK(lcb_profile_get(p, "region") == NULL);
    lcb_profile_free(p);
    /* a malformed file names itself and the line */
    snprintf(path, sizeof(path), "%s/config", dir);
    f = fopen(path, "w");
    fputs("[default]\nregion = x\nthis line is wrong\n", f);
    fclose(f);
    CHECK_INT(lcb_profile_load(&p, NULL, 0, &err), -1);
    CHECK(strstr(err.msg, "config:3") != NULL);
}

static void
test_chain_order(void)
{
    struct lcb_aws *aws;
    struct lcb_err err;
    struct lcb_buf red = LCB_BUF_INIT;
    const struct lcb_creds *c;

    /* environment first */
    clean_env(config_file, creds_file);
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env-secret-value", 1);
    setenv("AWS_SESSION_TOKEN", "env-session-token", 1);
    aws = client(NULL, &err);
    CHECK_STR(akid(aws, &err), "AKIDENV");
    CHECK_INT(lcb_aws_credentials(aws, &c, &err), 0);
    CHECK_STR(c->source, "environment");
    CHECK_STR(lcb_secret_get(&c->token), "env-session-token");
    /* the secret is registered with the redactor */
    CHECK_STR(lcb_redact_str(&red, "key env-secret-value here"), "key *** here");
    CHECK_STR(lcb_aws_region(aws), "eu-west-1");
    CHECK_STR(lcb_aws_region_source(aws), "AWS_REGION");
    lcb_aws_free(aws);
    /* --profile skips the environment; the credentials file beats the config file */
    aws = client("both", &err);
    CHECK_STR(akid(aws, &err), "AKIDFROMCREDS");
    lcb_aws_free(aws);
    aws = client("cfgonly", &err);
    CHECK_STR(akid(aws, &err), "AKIDCONFIGONLY");
    lcb_aws_free(aws);
    /* the default profile; the profile's region when no variable is set */
    clean_env(config_file, creds_file);
    unsetenv("AWS_REGION");
    aws = client(NULL, &err);
    CHECK_STR(akid(aws, &err), "AKIDFILEDEFAULT");
    CHECK_STR(lcb_aws_region(aws), "us-west-2");
    CHECK_STR(lcb_aws_region_source(aws), "profile default");
    lcb_aws_free(aws);
    /* nothing anywhere: an auth error that says what to do */
    clean_env(NULL, NULL);
    aws = client(NULL, &err);
    CHECK_STR(akid(aws, &err), "");
    CHECK_INT(err.code, LCB_EAUTH);
    CHECK(strstr(err.msg, "AWS_ACCESS_KEY_ID") != NULL);
    lcb_aws_free(aws);
    lcb_buf_release(&red);
}

static void
test_parsers(void)
{
    struct lcb_creds c;
    struct lcb_err err;
    struct lcb_buf b = LCB_BUF_INIT;
    const char json[] = "{\"Code\":\"Success\",\"AccessKeyId\":\"ASIA1\",\"SecretAccessKey\":\"s\","
                        "\"Token\":\"t\",\"Expiration\":\"2026-11-28T13:00:00Z\",\"AccountId\":"
                        "\"123456789012\"}";
    const char xml[] = "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA2"
                       "</AccessKeyId><SecretAccessKey>a&amp;b&lt;c</SecretAccessKey>"
                       "<SessionToken>tok</SessionToken><Expiration>2026-11-28T12:30:00.000Z"
                       "</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>";
    time_t t;

    lcb_creds_init(&c);
    CHECK_INT(lcb_creds_from_json(&c, json, strlen(json), "container", &err), 0);
    CHECK_STR(c.access_key_id, "ASIA1");
    CHECK_STR(c.account_id, "123456789012");
    lcb_time_parse("2026-11-28T13:00:00Z", &t);
    CHECK(c.expires == t);
    CHECK_INT(lcb_creds_refresh_due(&c, t - 3600), 0);
    CHECK_INT(lcb_creds_refresh_due(&c, t - 14 * 60), 1); /* advisory: < 15 min */
    CHECK_INT(lcb_creds_refresh_due(&c, t - 9 * 60), 2);  /* mandatory: < 10 min */
    CHECK_INT(lcb_creds_from_json(&c, "{\"Code\":\"Failed\"}", 17, "imds", &err), -1);
    CHECK_INT(err.code, LCB_EAUTH);
    CHECK_INT(lcb_creds_from_json(&c, "{\"AccessKeyId\":\"A\"}", 19, "imds", &err), -1);
    CHECK_INT(lcb_creds_from_sts_xml(&c, xml, strlen(xml), "sts", &err), 0);
    CHECK_STR(c.access_key_id, "ASIA2");
    CHECK_STR(lcb_secret_get(&c.secret), "a&b<c");
    CHECK_INT(lcb_creds_from_sts_xml(&c, "<x/>", 4, "sts", &err), -1);
    CHECK_INT(lcb_creds_xml_text(&b, "<a><b>x</b></a>", 15, "c"), -1);
    lcb_creds_release(&c);
    lcb_buf_release(&b);
}

static void
pin_now(time_t t)
{
    char s[LCB_TIME_LEN];

    setenv("LCBACKUP_NOW", lcb_time_fmt(t, s), 1);
}

static void
test_container(void)
{
    struct lcb_aws *aws;
    struct lcb_err err;
    char url[128], tokfile[128];
    FILE *f;
    time_t now = time(NULL);

    clean_env(NULL, NULL);
    snprintf(url, sizeof(url), "%s/creds", stub_base);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-token-1", 1); /* the stub wants it */
    stub_ctl("POST", "/_state", "{\"expires_in\": 3600}", NULL);
    aws = client(NULL, &err);
    CHECK(strncmp(akid(aws, &err), "ASIACONT", 8) == 0);
    {
        const struct lcb_creds *c = NULL;
        char first[128];
        CHECK_INT(lcb_aws_credentials(aws, &c, &err), 0);
        snprintf(first, sizeof(first), "%s", c ? c->access_key_id : "");
        CHECK_STR(c ? c->source : "", "container");
        /* cached while fresh */
        pin_now(now + 30 * 60);
        CHECK_STR(akid(aws, &err), first);
        /* 5 minutes before expiry: mandatory refresh, new keys */
        pin_now(now + 55 * 60);
        CHECK(strcmp(akid(aws, &err), first) != 0);
        CHECK(strncmp(akid(aws, &err), "ASIACONT", 8) == 0);
    }
    lcb_aws_free(aws);
    unsetenv("LCBACKUP_NOW");
    /* the token file wins over the variable; a wrong token is refused */
    snprintf(tokfile, sizeof(tokfile), "%s/token", dir);
    f = fopen(tokfile, "w");
    fputs("wrong-token\n", f);
    fclose(f);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tokfile, 1);
    aws = client(NULL, &err);
    CHECK_STR(akid(aws, &err), "");
    CHECK_INT(err.code, LCB_EAUTH);
    lcb_aws_free(aws);
    f = fopen(tokfile, "w");
    fputs("container-token-1\n", f);
    fclose(f);
    aws = client(NULL, &err);
    CHECK(strncmp(akid(aws, &err), "ASIACONT", 8) == 0);
    lcb_aws_free(aws);
    /* a full URI to a non-loopback http host is refused */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.1.2.3/creds", 1);
    aws = client(NULL, &err);
    CHECK_STR(akid(aws, &err), "");
    CHECK_INT(err.code, LCB_ECONFIG);
    lcb_aws_free(aws);
}

static void
test_advisory_refresh_failure(void)
{
    struct lcb_aws *aws;
    struct lcb_err err;
    char url[128], first[128];
    time_t now = time(NULL);

    clean_env(NULL, NULL);
    snprintf(url, sizeof(url), "%s/creds", stub_base);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-token-1", 1);
    aws = client(NULL, &err);
    snprintf(first, sizeof(first), "%s", akid(aws, &err));
    CHECK(strncmp(first, "ASIACONT", 8) == 0);
    /* 12 minutes left and the endpoint down (3 attempts): keep the current keys */
    stub_ctl("POST", "/_script",
             "[{\"path\":\"/creds\",\"status\":500},{\"path\":\"/creds\",\"status\":500},"
             "{\"path\":\"/creds\",\"status\":500},{\"path\":\"/creds\",\"status\":500},"
             "{\"path\":\"/creds\",\"status\":500},{\"path\":\"/creds\",\"status\":500}]",
             NULL);
    pin_now(now + 48 * 60);
    CHECK_STR(akid(aws, &err), first);
    /* 5 minutes left and still down: an error */
    pin_now(now + 55 * 60);
    CHECK_STR(akid(aws, &err), "");
    CHECK_INT(err.code, LCB_ETEMP);
    unsetenv("LCBACKUP_NOW");
    lcb_aws_free(aws);
}

static void
test_imds(void)
{
    struct lcb_aws *aws;
    struct lcb_err err;
    const struct lcb_creds *c;

    clean_env(NULL, NULL);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", stub_base, 1);
    aws = client(NULL, &err);
    CHECK(strncmp(akid(aws, &err), "ASIAIMDS", 8) == 0);
    CHECK_INT(lcb_aws_credentials(aws, &c, &err), 0);
    CHECK_STR(c->source, "instance metadata (IMDSv2)");
    CHECK_STR(lcb_secret_get(&c->token), "imds-session");
    lcb_aws_free(aws);
    /* no token (PUT refused): IMDSv1 */
    stub_ctl("POST", "/_script",
             "[{\"path\":\"/latest/api/token\",\"status\":403},"
             "{\"path\":\"/latest/meta-data\",\"status\":200,\"body\":\"v1role\"},"
             "{\"path\":\"/latest/meta-data\",\"status\":200,\"body\":\"{\\\"Code\\\":\\\"Success"
             "\\\",\\\"AccessKeyId\\\":\\\"ASIAV1\\\",\\\"SecretAccessKey\\\":\\\"x\\\",\\\"Token"
             "\\\":\\\"y\\\",\\\"Expiration\\\":\\\"2099-01-01T00:00:00Z\\\"}\"}]",
             NULL);
    aws = client(NULL, &err);
    CHECK_STR(akid(aws, &err), "ASIAV1");
    CHECK_INT(lcb_aws_credentials(aws, &c, &err), 0);
    CHECK_STR(c->source, "instance metadata (IMDSv1)");
    lcb_aws_free(aws);
    /* disabled: nothing */
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    aws = client(NULL, &err);
    CHECK_STR(akid(aws, &err), "");
    CHECK_INT(err.code, LCB_EAUTH);
    lcb_aws_free(aws);
}

static void
test_assume_role(void)
{
    struct lcb_aws *aws;
    struct lcb_err err;
    const struct lcb_creds *c;
    struct lcb_aws_req req;
    struct lcb_aws_resp resp;
    struct lcb_buf log = LCB_BUF_INIT;

    clean_env(config_file, creds_file);
    aws = client("dr", &err);
    CHECK(strncmp(akid(aws, &err), "ASIASTS", 7) == 0);
    CHECK_INT(lcb_aws_credentials(aws, &c, &err), 0);
    CHECK(strstr(c->source, "lcbackup-dr") != NULL);
    CHECK(c->expires > time(NULL));
    CHECK(!lcb_secret_empty(&c->token));
    /* the assumed credentials sign the next request (the stub checks it with botocore) */
    memset(&req, 0, sizeof(req));
    req.service = "rds";
    req.operation = "DescribeDBInstances";
    req.body = "Action=DescribeDBInstances&Version=2014-10-31";
    req.body_len = strlen(req.body);
    lcb_aws_resp_init(&resp);
    stub_ctl("DELETE", "/_log", NULL, NULL);
    CHECK_INT(lcb_aws_send(aws, &req, &resp, &err), 0);
    stub_ctl("GET", "/_log", NULL, &log);
    CHECK(strstr(lcb_buf_str(&log), "\"sig\": \"ok\"") != NULL);
    CHECK(strstr(lcb_buf_str(&log), "x-amz-security-token") != NULL);
    lcb_aws_resp_release(&resp);
    lcb_buf_release(&log);
    lcb_aws_free(aws);
    /* a role whose source profile is itself a role */
    aws = client("chained", &err);
    CHECK(strncmp(akid(aws, &err), "ASIASTS", 7) == 0);
    lcb_aws_free(aws);
    /* loops and unknown credential sources are configuration errors */
    aws = client("loop", &err);
    CHECK_STR(akid(aws, &err), "");
    CHECK_INT(err.code, LCB_ECONFIG);
    lcb_aws_free(aws);
    aws = client("bad-source", &err);
    CHECK_STR(akid(aws, &err), "");
    CHECK_INT(err.code, LCB_ECONFIG);
    lcb_aws_free(aws);
}

static void
test_web_identity(void)
{
    struct lcb_aws *aws;
    struct lcb_err err;
    char file[128];
    FILE *f;

    clean_env(NULL, NULL);
    snprintf(file, sizeof(file), "%s/oidc", dir);
    f = fopen(file, "w");
    fputs("oidc-token\n", f);
    fclose(f);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", file, 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/web", 1);
    aws = client(NULL, &err);
    CHECK(strncmp(akid(aws, &err), "ASIASTS", 7) == 0);
    lcb_aws_free(aws);
    /* the file is read again on each refresh: a bad token now fails */
    f = fopen(file, "w");
    fputs("forged\n", f);
    fclose(f);
    aws = client(NULL, &err);
    CHECK_STR(akid(aws, &err), "");
    CHECK_INT(err.code, LCB_EAUTH);
    CHECK_STR(err.aws_code, "InvalidIdentityToken");
    lcb_aws_free(aws);
    unsetenv("AWS_ROLE_ARN");
    aws = client(NULL, &err);
    CHECK_STR(akid(aws, &err), "");
    CHECK_INT(err.code, LCB_ECONFIG);
    lcb_aws_free(aws);
}

int
main(void)
{
    char cmd[128];

    snprintf(dir, sizeof(dir), "/tmp/lcb-creds-test.XXXXXX");
    if (!mkdtemp(dir) || stub_start() < 0)
        return 1;
    setenv("LCBACKUP_RETRY_BASE_MS", "10", 1);
    RUN(test_files);
    RUN(test_chain_order);
    RUN(test_parsers);
    RUN(test_container);
    RUN(test_advisory_refresh_failure);
    RUN(test_imds);
    RUN(test_assume_role);
    RUN(test_web_identity);
    stub_stop();
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return harness_done();
}
