/* creds.c - see creds.h. Order and rules from botocore's credentials.py and utils.py
 * (aws-wire.md section 4). */
#include "creds.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../ext/http.h"
#include "../ext/json.h"
#include "aws.h"
#include "sts.h"

/* ---- credentials ---- */

void
lcb_creds_init(struct lcb_creds *c)
{
    memset(c, 0, sizeof(*c));
}

void
lcb_creds_release(struct lcb_creds *c)
{
    lcb_secret_release(&c->secret);
    lcb_secret_release(&c->token);
    memset(c, 0, sizeof(*c));
}

void
lcb_creds_copy(struct lcb_creds *dst, const struct lcb_creds *src)
{
    lcb_creds_release(dst);
    memcpy(dst->access_key_id, src->access_key_id, sizeof(dst->access_key_id));
    lcb_secret_set(&dst->secret, lcb_secret_get(&src->secret), src->secret.len);
    if (!lcb_secret_empty(&src->token))
        lcb_secret_set(&dst->token, lcb_secret_get(&src->token), src->token.len);
    dst->expires = src->expires;
    memcpy(dst->source, src->source, sizeof(dst->source));
    memcpy(dst->account_id, src->account_id, sizeof(dst->account_id));
}

static void
creds_set(struct lcb_creds *c, const char *akid, const char *secret, const char *token,
          time_t expires, const char *source)
{
    lcb_creds_release(c);
    snprintf(c->access_key_id, sizeof(c->access_key_id), "%s", akid);
    lcb_secret_set(&c->secret, secret, strlen(secret));
    if (token && *token)
        lcb_secret_set(&c->token, token, strlen(token));
    c->expires = expires;
    snprintf(c->source, sizeof(c->source), "%s", source);
}

int
lcb_creds_refresh_due(const struct lcb_creds *c, time_t now)
{
    if (!c->access_key_id[0])
        return 2;
    if (!c->expires)
        return 0;
    if (c->expires - now < LCB_CREDS_MANDATORY_SECS)
        return 2;
    if (c->expires - now < LCB_CREDS_ADVISORY_SECS)
        return 1;
    return 0;
}

/* ---- INI files ---- */

struct ini_entry {
    char *section, *key, *sub, *value;
};

struct ini {
    struct ini_entry *e;
    size_t n;
};

struct files {
    struct ini config, creds;
    char *config_path, *creds_path;
    int refs;
};

struct lcb_profile {
    char *name;
    struct files *f;
};

static char *
trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static void
ini_add(struct ini *ini, const char *section, const char *key, const char *sub, const char *value)
{
    ini->e = lcb_xrealloc(ini->e, (ini->n + 1) * sizeof(*ini->e));
    ini->e[ini->n].section = lcb_xstrdup(section);
    ini->e[ini->n].key = lcb_xstrdup(key);
    ini->e[ini->n].sub = sub ? lcb_xstrdup(sub) : NULL;
    ini->e[ini->n].value = lcb_xstrdup(value);
    ini->n++;
}

static void
ini_free(struct ini *ini)
{
    size_t i;

    for (i = 0; i < ini->n; i++) {
        free(ini->e[i].section);
        free(ini->e[i].key);
        free(ini->e[i].sub);
        lcb_wipe(ini->e[i].value, strlen(ini->e[i].value));
        free(ini->e[i].value);
    }
    free(ini->e);
    memset(ini, 0, sizeof(*ini));
}

/* One line of an INI file; *section and *parent carry state between lines. */
static int
ini_line(struct ini *ini, char *line, char **section, char **parent, const char *path, int no,
         struct lcb_err *err)
{
    int indented = line[0] == ' ' || line[0] == '\t';
    char *s = trim(line), *eq;

    if (!*s || *s == '#' || *s == ';')
        return 0;
    if (*s == '[') {
        char *close = strchr(s, ']');
        if (!close)
            return lcb_err_set(err, LCB_ECONFIG, "%s:%d: unterminated section header", path, no);
        *close = '\0';
        free(*section);
        *section = lcb_xstrdup(trim(s + 1));
        free(*parent);
        *parent = NULL;
        return 0;
    }
    if (!*section)
        return lcb_err_set(err, LCB_ECONFIG, "%s:%d: a setting before any [section]", path, no);
    if (!(eq = strchr(s, '=')))
        return lcb_err_set(err, LCB_ECONFIG, "%s:%d: expected 'key = value'", path, no);
    *eq = '\0';
    if (indented && *parent) {
        ini_add(ini, *section, *parent, trim(s), trim(eq + 1));
        return 0;
    }
    free(*parent);
    *parent = NULL;
    if (!*trim(eq + 1))
        *parent = lcb_xstrdup(trim(s)); /* "s3 =" opens nested settings */
    ini_add(ini, *section, trim(s), NULL, trim(eq + 1));
    return 0;
}

static int
ini_load(struct ini *ini, const char *path, struct lcb_err *err)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, *section = NULL, *parent = NULL;
    size_t cap = 0;
    int no = 0, rc = 0;

    if (!f)
        return errno == ENOENT ? 0 : lcb_err_sys(err, LCB_ECONFIG, errno, "'%s'", path);
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        no++;
        line[strcspn(line, "\r\n")] = '\0';
        rc = ini_line(ini, line, &section, &parent, path, no, err);
    }
    if (line) {
        lcb_wipe(line, cap);
        free(line);
    }
    free(section);
    free(parent);
    fclose(f);
    return rc;
}

static const char *
ini_get(const struct ini *ini, const char *section, const char *key, const char *sub)
{
    size_t i;

    for (i = ini->n; i-- > 0;) {
        const struct ini_entry *e = &ini->e[i];
        if (strcmp(e->section, section) == 0 && strcmp(e->key, key) == 0 &&
            ((!sub && !e->sub) || (sub && e->sub && strcmp(e->sub, sub) == 0)))
            return e->value;
    }
    return NULL;
}

static int
ini_has_section(const struct ini *ini, const char *section)
{
    size_t i;

    for (i = 0; i < ini->n; i++)
        if (strcmp(ini->e[i].section, section) == 0)
            return 1;
    return 0;
}

static char *
home_path(const char *env, const char *rel)
{
    const char *v = getenv(env), *home = getenv("HOME");

    if (v && *v)
        return lcb_xstrdup(v);
    return lcb_xasprintf("%s/%s", home ? home : ".", rel);
}

/* The config-file section of a profile: "default" or "profile NAME". */
static void
config_section(char *out, size_t size, const char *name)
{
    if (strcmp(name, "default") == 0)
        snprintf(out, size, "default");
    else
        snprintf(out, size, "profile %s", name);
}

int
lcb_profile_load(struct lcb_profile **out, const char *name, int explicit_name,
                 struct lcb_err *err)
{
    struct files *f = lcb_xcalloc(1, sizeof(*f));
    struct lcb_profile *p;
    char sect[300];

    *out = NULL;
    if (!name || !*name) {
        name = getenv("AWS_PROFILE");
        if (!name || !*name)
            name = getenv("AWS_DEFAULT_PROFILE");
        if (!name || !*name)
            name = "default";
    }
    f->config_path = home_path("AWS_CONFIG_FILE", ".aws/config");
    f->creds_path = home_path("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
    f->refs = 1;
    p = lcb_xcalloc(1, sizeof(*p));
    p->name = lcb_xstrdup(name);
    p->f = f;
    if (ini_load(&f->config, f->config_path, err) < 0 ||
        ini_load(&f->creds, f->creds_path, err) < 0) {
        lcb_profile_free(p);
        return -1;
    }
    config_section(sect, sizeof(sect), name);
    if (explicit_name && !ini_has_section(&f->config, sect) && !ini_has_section(&f->creds, name) &&
        !(strcmp(name, "default") == 0 && ini_has_section(&f->config, "profile default"))) {
        lcb_err_set(err, LCB_ECONFIG, "profile '%s' is in neither %s nor %s", name,
                    f->config_path, f->creds_path);
        lcb_profile_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

void
lcb_profile_free(struct lcb_profile *p)
{
    if (!p)
        return;
    if (--p->f->refs == 0) {
        ini_free(&p->f->config);
        ini_free(&p->f->creds);
        free(p->f->config_path);
        free(p->f->creds_path);
        free(p->f);
    }
    free(p->name);
    free(p);
}

const char *
lcb_profile_name(const struct lcb_profile *p)
{
    return p->name;
}

const char *
lcb_profile_get_in(const struct lcb_profile *p, const char *key, int cred_file)
{
    char sect[300];
    const char *v;

    if (cred_file)
        return ini_get(&p->f->creds, p->name, key, NULL);
    config_section(sect, sizeof(sect), p->name);
    v = ini_get(&p->f->config, sect, key, NULL);
    if (!v && strcmp(p->name, "default") == 0)
        v = ini_get(&p->f->config, "profile default", key, NULL);
    return v;
}

const char *
lcb_profile_get(const struct lcb_profile *p, const char *key)
{
    const char *v = lcb_profile_get_in(p, key, 0);

    return v ? v : lcb_profile_get_in(p, key, 1);
}

const char *
lcb_profile_service_get(const struct lcb_profile *p, const char *service, const char *key)
{
    const char *services = lcb_profile_get_in(p, "services", 0);
    char sect[300];

    if (!services || !*services)
        return NULL;
    snprintf(sect, sizeof(sect), "services %s", services);
    return ini_get(&p->f->config, sect, service, key);
}

struct lcb_profile *
lcb_profile_sibling(const struct lcb_profile *p, const char *name)
{
    struct lcb_profile *s;
    char sect[300];

    config_section(sect, sizeof(sect), name);
    if (!ini_has_section(&p->f->config, sect) && !ini_has_section(&p->f->creds, name))
        return NULL;
    s = lcb_xcalloc(1, sizeof(*s));
    s->name = lcb_xstrdup(name);
    s->f = p->f;
    s->f->refs++;
    return s;
}

/* ---- parsers ---- */

static int
set_expiry(struct lcb_creds *out, const char *exp, const char *source, struct lcb_err *err)
{
    time_t t;

    if (!exp || !*exp)
        return 0;
    if (lcb_time_parse(exp, &t) < 0)
        return lcb_err_set(err, LCB_EAUTH, "%s: Expiration '%s' is not an ISO-8601 time", source,
                           exp);
    out->expires = t;
    return 0;
}

int
lcb_creds_from_json(struct lcb_creds *out, const char *text, size_t len, const char *source,
                    struct lcb_err *err)
{
    struct lcb_json *j = NULL;
    const char *akid, *secret, *token, *code, *acct;
    int rc = -1;

    if (lcb_json_parse(&j, text, len, err) < 0) {
        lcb_err_set(err, LCB_EAUTH, "%s: the answer is not JSON", source);
        goto out;
    }
    code = lcb_json_get_str(j, "Code");
    if (code && strcmp(code, "Success") != 0) {
        lcb_err_set(err, LCB_EAUTH, "%s: Code %s: %s", source, code,
                    lcb_json_get_str(j, "Message") ? lcb_json_get_str(j, "Message") : "");
        goto out;
    }
    akid = lcb_json_get_str(j, "AccessKeyId");
    secret = lcb_json_get_str(j, "SecretAccessKey");
    token = lcb_json_get_str(j, "Token");
    if (!akid || !*akid || !secret || !*secret) {
        lcb_err_set(err, LCB_EAUTH, "%s: AccessKeyId or SecretAccessKey missing", source);
        goto out;
    }
    creds_set(out, akid, secret, token, 0, source);
    if (set_expiry(out, lcb_json_get_str(j, "Expiration"), source, err) < 0)
        goto out;
    acct = lcb_json_get_str(j, "AccountId");
    if (acct)
        snprintf(out->account_id, sizeof(out->account_id), "%s", acct);
    rc = 0;
out:
    if (j && rc < 0)
        lcb_creds_release(out);
    lcb_json_free(j);
    return rc;
}

int
lcb_creds_xml_text(struct lcb_buf *out, const char *xml, size_t len, const char *tag)
{
    struct lcb_buf open = LCB_BUF_INIT, close = LCB_BUF_INIT;
    const char *a, *b, *end = xml + len, *p;
    int rc = -1;

    lcb_buf_addf(&open, "<%s>", tag);
    lcb_buf_addf(&close, "</%s>", tag);
    a = memmem(xml, len, open.ptr, open.len);
    if (a && (b = memmem(a + open.len, (size_t)(end - a - open.len), close.ptr, close.len))) {
        for (p = a + open.len; p < b; p++) {
            static const char *const ent[][2] = {
                { "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" },
                { "&apos;", "'" },
            };
            size_t i;
            for (i = 0; i < 5; i++) {
                size_t n = strlen(ent[i][0]);
                if ((size_t)(b - p) >= n && memcmp(p, ent[i][0], n) == 0) {
                    lcb_buf_adds(out, ent[i][1]);
                    p += n - 1;
                    break;
                }
            }
            if (i == 5)
                lcb_buf_addch(out, *p);
        }
        rc = 0;
    }
    lcb_buf_release(&open);
    lcb_buf_release(&close);
    return rc;
}

int
lcb_creds_from_sts_xml(struct lcb_creds *out, const char *xml, size_t len, const char *source,
                       struct lcb_err *err)
{
    struct lcb_buf akid = LCB_BUF_INIT, sec = LCB_BUF_INIT, tok = LCB_BUF_INIT, exp = LCB_BUF_INIT;
    int rc = -1;

    if (lcb_creds_xml_text(&akid, xml, len, "AccessKeyId") < 0 ||
        lcb_creds_xml_text(&sec, xml, len, "SecretAccessKey") < 0 ||
        lcb_creds_xml_text(&tok, xml, len, "SessionToken") < 0 || !akid.len || !sec.len) {
        lcb_err_set(err, LCB_EAUTH, "%s: the answer has no Credentials", source);
        goto out;
    }
    creds_set(out, akid.ptr, sec.ptr, tok.ptr, 0, source);
    lcb_creds_xml_text(&exp, xml, len, "Expiration");
    rc = set_expiry(out, exp.ptr, source, err);
out:
    lcb_wipe(sec.ptr, sec.len);
    lcb_wipe(tok.ptr, tok.len);
    lcb_buf_release(&akid);
    lcb_buf_release(&sec);
    lcb_buf_release(&tok);
    lcb_buf_release(&exp);
    return rc;
}

/* ---- the chain ---- */

enum source {
    SRC_NONE,
    SRC_ENV,
    SRC_ASSUME_ROLE,
    SRC_WEB_IDENTITY,
    SRC_CRED_FILE,
    SRC_CONFIG_FILE,
    SRC_CONTAINER,
    SRC_IMDS,
};

struct lcb_creds_chain {
    struct lcb_aws *aws;
    const struct lcb_profile *prof;
    int explicit_profile;
    enum source src; /* the source that answered, SRC_NONE until then */
    struct lcb_creds cur;
};

int
lcb_creds_chain_new(struct lcb_creds_chain **out, struct lcb_aws *aws,
                    const struct lcb_profile *prof, int explicit_profile, struct lcb_err *err)
{
    struct lcb_creds_chain *c = lcb_xcalloc(1, sizeof(*c));

    (void)err;
    c->aws = aws;
    c->prof = prof;
    c->explicit_profile = explicit_profile;
    *out = c;
    return 0;
}

void
lcb_creds_chain_free(struct lcb_creds_chain *c)
{
    if (!c)
        return;
    lcb_creds_release(&c->cur);
    free(c);
}

static const char *
env(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL;
}

/* 1: found, 0: this source does not apply, -1: it applies but failed. */
static int
from_env(struct lcb_creds *out, struct lcb_err *err)
{
    const char *akid = env("AWS_ACCESS_KEY_ID"), *secret = env("AWS_SECRET_ACCESS_KEY");
    const char *token = env("AWS_SESSION_TOKEN"), *acct = env("AWS_ACCOUNT_ID");

    if (!akid || !secret)
        return 0;
    if (!token)
        token = env("AWS_SECURITY_TOKEN");
    creds_set(out, akid, secret, token, 0, "environment");
    if (set_expiry(out, env("AWS_CREDENTIAL_EXPIRATION"), "AWS_CREDENTIAL_EXPIRATION", err) < 0)
        return -1;
    if (acct)
        snprintf(out->account_id, sizeof(out->account_id), "%s", acct);
    return 1;
}

static int
from_profile_keys(struct lcb_creds *out, const struct lcb_profile *p, int cred_file)
{
    const char *akid = lcb_profile_get_in(p, "aws_access_key_id", cred_file);
    const char *secret = lcb_profile_get_in(p, "aws_secret_access_key", cred_file);
    const char *token = lcb_profile_get_in(p, "aws_session_token", cred_file);
    char source[96];

    if (!akid || !*akid || !secret || !*secret)
        return 0;
    snprintf(source, sizeof(source), "profile %s (%s file)", p->name,
             cred_file ? "credentials" : "config");
    creds_set(out, akid, secret, token, 0, source);
    return 1;
}

static void
session_name(char *out, size_t size, const char *given)
{
    if (given && *given)
        snprintf(out, size, "%s", given);
    else
        snprintf(out, size, "lcbackup-%lld", (long long)lcb_now());
}

static int container_fetch(struct lcb_creds *out, struct lcb_aws *aws, struct lcb_err *err);
static int imds_fetch(struct lcb_creds *out, struct lcb_aws *aws, struct lcb_err *err);

/* Source credentials for a role profile: source_profile's keys (or its own role), or
 * credential_source. depth guards against source_profile loops. */
static int assume_role(struct lcb_creds *out, struct lcb_aws *aws, const struct lcb_profile *p,
                       int depth, struct lcb_err *err);

static int
role_source(struct lcb_creds *src, struct lcb_aws *aws, const struct lcb_profile *p, int depth,
            struct lcb_err *err)
{
    const char *sp = lcb_profile_get_in(p, "source_profile", 0);
    const char *cs = lcb_profile_get_in(p, "credential_source", 0);
    struct lcb_profile *sib;
    int rc;

    if (cs && *cs) {
        if (strcmp(cs, "Environment") == 0)
            rc = from_env(src, err);
        else if (strcmp(cs, "EcsContainer") == 0)
            rc = container_fetch(src, aws, err);
        else if (strcmp(cs, "Ec2InstanceMetadata") == 0)
            rc = imds_fetch(src, aws, err);
        else
            return lcb_err_set(err, LCB_ECONFIG, "profile %s: credential_source '%s' is not "
                               "Environment, EcsContainer or Ec2InstanceMetadata", p->name, cs);
        if (rc == 0)
            return lcb_err_set(err, LCB_EAUTH, "profile %s: no credentials from %s", p->name, cs);
        return rc < 0 ? -1 : 0;
    }
    if (!(sib = lcb_profile_sibling(p, sp)))
        return lcb_err_set(err, LCB_ECONFIG, "profile %s: source_profile '%s' does not exist",
                           p->name, sp);
    if (strcmp(sp, p->name) != 0 && lcb_profile_get_in(sib, "role_arn", 0))
        rc = assume_role(src, aws, sib, depth + 1, err);
    else if (from_profile_keys(src, sib, 1) > 0 || from_profile_keys(src, sib, 0) > 0)
        rc = 0;
    else
        rc = lcb_err_set(err, LCB_EAUTH, "profile %s: source profile '%s' has no keys", p->name,
                         sp);
    lcb_profile_free(sib);
    return rc;
}

static int
assume_role(struct lcb_creds *out, struct lcb_aws *aws, const struct lcb_profile *p, int depth,
            struct lcb_err *err)
{
    struct lcb_creds src;
    struct lcb_sts_assume_role ar;
    char name[80], source[96];
    const char *dur = lcb_profile_get_in(p, "duration_seconds", 0);
    int rc;

    if (depth > 4)
        return lcb_err_set(err, LCB_ECONFIG, "profile %s: source_profile chain is too long or "
                           "loops", p->name);
    lcb_creds_init(&src);
    if (role_source(&src, aws, p, depth, err) < 0) {
        lcb_creds_release(&src);
        return -1;
    }
    memset(&ar, 0, sizeof(ar));
    session_name(name, sizeof(name), lcb_profile_get_in(p, "role_session_name", 0));
    ar.role_arn = lcb_profile_get_in(p, "role_arn", 0);
    ar.session_name = name;
    ar.duration_secs = dur ? atoi(dur) : 0;
    ar.external_id = lcb_profile_get_in(p, "external_id", 0);
    lcb_creds_release(out);
    rc = lcb_sts_assume_role(out, NULL, aws, &src, &ar, err);
    if (rc == 0) {
        snprintf(source, sizeof(source), "assume role %s (profile %s)", ar.role_arn, p->name);
        snprintf(out->source, sizeof(out->source), "%s", source);
    } else {
        lcb_wrap(err, "assume role %s for profile %s", ar.role_arn, p->name);
    }
    lcb_creds_release(&src);
    return rc;
}

static char *
read_small_file(const char *path, const char *what, struct lcb_err *err)
{
    FILE *f = fopen(path, "r");
    struct lcb_buf b = LCB_BUF_INIT;
    char chunk[4096];
    size_t n;

    if (!f) {
        lcb_err_sys(err, LCB_ECONFIG, errno, "%s '%s'", what, path);
        return NULL;
    }
    lcb_buf_init(&b, 1 << 20);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        lcb_buf_add(&b, chunk, n);
    fclose(f);
    lcb_buf_rtrim(&b);
    return lcb_buf_detach(&b, NULL);
}

static int
web_identity(struct lcb_creds *out, struct lcb_aws *aws, const struct lcb_profile *p,
             struct lcb_err *err)
{
    const char *file = env("AWS_WEB_IDENTITY_TOKEN_FILE"), *role = env("AWS_ROLE_ARN");
    const char *sess = env("AWS_ROLE_SESSION_NAME");
    char name[80], *token;
    int rc;

    if (!file && p) {
        file = lcb_profile_get_in(p, "web_identity_token_file", 0);
        role = lcb_profile_get_in(p, "role_arn", 0);
        sess = lcb_profile_get_in(p, "role_session_name", 0);
    }
    if (!file || !*file)
        return 0;
    if (!role || !*role)
        return lcb_err_set(err, LCB_ECONFIG, "web identity token file '%s' without a role: "
                           "set AWS_ROLE_ARN", file);
    if (!(token = read_small_file(file, "web identity token file", err)))
        return -1;
    session_name(name, sizeof(name), sess);
    lcb_creds_release(out);
    rc = lcb_sts_assume_role_web_identity(out, NULL, aws, role, name, token, 0, err);
    lcb_wipe(token, strlen(token));
    free(token);
    if (rc == 0)
        snprintf(out->source, sizeof(out->source), "web identity %s", role);
    else
        lcb_wrap(err, "web identity for %s", role);
    return rc < 0 ? -1 : 1;
}

/* ---- container and instance metadata ---- */

/* AWS_CONTAINER_CREDENTIALS_FULL_URI: https, or http to a loopback address or to the ECS / EKS Pod
 * Identity link-local addresses (botocore's ContainerMetadataFetcher). */
static int
container_uri_allowed(const char *url)
{
    static const char *const hosts[] = { "169.254.170.2", "169.254.170.23", "fd00:ec2::23" };
    char host[256];
    const char *h, *end;
    size_t i;

    if (strncasecmp(url, "https://", 8) == 0)
        return 1;
    if (strncasecmp(url, "http://", 7) != 0)
        return 0;
    h = url + 7;
    if (*h == '[') {
        end = strchr(++h, ']');
        if (!end)
            return 0;
    } else {
        end = h + strcspn(h, ":/?#");
    }
    snprintf(host, sizeof(host), "%.*s", (int)(end - h), h);
    for (i = 0; i < LCB_ARRAY_SIZE(hosts); i++)
        if (strcasecmp(host, hosts[i]) == 0)
            return 1;
    return lcb_http_is_loopback(host);
}

static int
container_token(struct lcb_buf *out, struct lcb_err *err)
{
    const char *file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *tok = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    char *ftok = NULL;

    if (file) {
        if (!(ftok = read_small_file(file, "container authorization token file", err)))
            return -1;
        tok = ftok;
    }
    if (tok && strpbrk(tok, "\r\n")) {
        free(ftok);
        return lcb_err_set(err, LCB_ECONFIG, "the container authorization token contains a line "
                           "break");
    }
    if (tok) {
        lcb_buf_adds(out, tok);
        lcb_redact_add(out->ptr, out->len);
    }
    if (ftok) {
        lcb_wipe(ftok, strlen(ftok));
        free(ftok);
    }
    return 0;
}

/* GET url with up to 3 attempts, 1 s apart (botocore's ContainerMetadataFetcher). */
static int
container_get(struct lcb_http *http, const char *url, const char *token,
              struct lcb_http_resp *resp, struct lcb_err *err)
{
    struct lcb_http_header h[2] = { { "Accept", "application/json" }, { "Authorization", token } };
    struct lcb_http_req req;
    int attempt, rc = -1;

    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.url = url;
    req.headers = h;
    req.nheaders = token && *token ? 2 : 1;
    req.timeout_ms = 2000;
    req.allow_plain_http = 1;
    req.max_body = 64 << 10;
    for (attempt = 1; attempt <= 3; attempt++) {
        rc = lcb_http_send(http, &req, resp, err);
        if (rc == 0 && resp->status == 200)
            return 0;
        if (rc == 0)
            rc = lcb_err_set(err, resp->status >= 500 ? LCB_ETEMP : LCB_EAUTH,
                             "container credentials endpoint answered HTTP %d", resp->status);
        if (err->code == LCB_EINTR || (resp->status >= 400 && resp->status < 500))
            break;
        if (attempt < 3)
            sleep(1);
    }
    return rc;
}

static int
container_fetch(struct lcb_creds *out, struct lcb_aws *aws, struct lcb_err *err)
{
    const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    struct lcb_buf url = LCB_BUF_INIT, tok = LCB_BUF_INIT;
    struct lcb_http_resp resp;
    int rc = -1;

    if (!rel && !full)
        return 0;
    if (rel)
        lcb_buf_addf(&url, "http://169.254.170.2%s", rel);
    else if (container_uri_allowed(full))
        lcb_buf_adds(&url, full);
    else
        return lcb_err_set(err, LCB_ECONFIG, "AWS_CONTAINER_CREDENTIALS_FULL_URI '%s' must be "
                           "https or a loopback or ECS/EKS link-local address", full);
    lcb_http_resp_init(&resp);
    if (container_token(&tok, err) == 0 &&
        container_get(lcb_aws_http(aws), url.ptr, tok.ptr, &resp, err) == 0)
        rc = lcb_creds_from_json(out, resp.body.ptr, resp.body.len, "container", err);
    if (rc < 0)
        lcb_wrap(err, "container credentials from %s", url.ptr);
    lcb_wipe(resp.body.ptr, resp.body.len);
    lcb_http_resp_release(&resp);
    if (tok.len) {
        lcb_redact_remove(tok.ptr, tok.len);
        lcb_wipe(tok.ptr, tok.len);
    }
    lcb_buf_release(&tok);
    lcb_buf_release(&url);
    return rc < 0 ? -1 : 1;
}

static int
imds_call(struct lcb_http *http, const char *method, const char *url, const char *token,
          struct lcb_http_resp *resp, struct lcb_err *err)
{
    struct lcb_http_header h[1];
    struct lcb_http_req req;

    memset(&req, 0, sizeof(req));
    req.method = method;
    req.url = url;
    if (strcmp(method, "PUT") == 0)
        h[0] = (struct lcb_http_header){ "X-aws-ec2-metadata-token-ttl-seconds", "21600" };
    else
        h[0] = (struct lcb_http_header){ "X-aws-ec2-metadata-token", token };
    req.headers = h;
    req.nheaders = token || strcmp(method, "PUT") == 0 ? 1 : 0;
    req.timeout_ms = 1000;
    req.allow_plain_http = 1;
    req.max_body = 64 << 10;
    return lcb_http_send(http, &req, resp, err);
}

/* IMDSv2 token; NULL (v1 fallback) on 403/404/405 or a timeout. */
static char *
imds_token(struct lcb_http *http, const char *base, struct lcb_err *err)
{
    struct lcb_buf url = LCB_BUF_INIT;
    struct lcb_http_resp resp;
    char *tok = NULL;

    lcb_http_resp_init(&resp);
    lcb_buf_addf(&url, "%s/latest/api/token", base);
    if (imds_call(http, "PUT", url.ptr, NULL, &resp, err) == 0 && resp.status == 200) {
        tok = lcb_buf_detach(&resp.body, NULL);
        lcb_redact_add(tok, strlen(tok));
    }
    lcb_http_resp_release(&resp);
    lcb_buf_release(&url);
    return tok;
}

static int
imds_fetch(struct lcb_creds *out, struct lcb_aws *aws, struct lcb_err *err)
{
    const char *base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *mode = env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    const char *off = env("AWS_EC2_METADATA_DISABLED");
    struct lcb_http *http = lcb_aws_http(aws);
    struct lcb_buf url = LCB_BUF_INIT, b = LCB_BUF_INIT;
    struct lcb_http_resp resp;
    char *tok, role[256];
    int rc = 0;

    if (off && strcasecmp(off, "true") == 0)
        return 0;
    if (!base)
        base = mode && strcasecmp(mode, "IPv6") == 0 ? "http://[fd00:ec2::254]"
                                                     : "http://169.254.169.254";
    lcb_buf_adds(&b, base);
    while (b.len && b.ptr[b.len - 1] == '/')
        b.ptr[--b.len] = '\0';
    tok = imds_token(http, b.ptr, err);
    lcb_http_resp_init(&resp);
    lcb_buf_addf(&url, "%s/latest/meta-data/iam/security-credentials/", b.ptr);
    if (imds_call(http, "GET", url.ptr, tok, &resp, err) < 0 || resp.status != 200 ||
        !resp.body.len)
        goto out; /* not on EC2, or no role: this source does not apply */
    snprintf(role, sizeof(role), "%.*s", (int)strcspn(resp.body.ptr, "\r\n"), resp.body.ptr);
    lcb_buf_reset(&url);
    lcb_buf_addf(&url, "%s/latest/meta-data/iam/security-credentials/%s", b.ptr, role);
    if (imds_call(http, "GET", url.ptr, tok, &resp, err) < 0 || resp.status != 200) {
        rc = lcb_err_set(err, LCB_ETEMP, "instance metadata: role %s: HTTP %d", role,
                         resp.status);
        goto out;
    }
    rc = lcb_creds_from_json(out, resp.body.ptr, resp.body.len, "instance metadata (IMDSv2)", err);
    if (rc == 0 && !tok)
        snprintf(out->source, sizeof(out->source), "instance metadata (IMDSv1)");
    rc = rc < 0 ? -1 : 1;
out:
    if (tok) {
        lcb_redact_remove(tok, strlen(tok));
        lcb_wipe(tok, strlen(tok));
        free(tok);
    }
    lcb_wipe(resp.body.ptr, resp.body.len);
    lcb_http_resp_release(&resp);
    lcb_buf_release(&url);
    lcb_buf_release(&b);
    return rc;
}

/* ---- resolution ---- */

static int
try_source(struct lcb_creds_chain *c, enum source s, struct lcb_creds *out, struct lcb_err *err)
{
    const struct lcb_profile *p = c->prof;

    switch (s) {
    case SRC_ENV:
        return c->explicit_profile ? 0 : from_env(out, err);
    case SRC_ASSUME_ROLE:
        if (!p || !lcb_profile_get_in(p, "role_arn", 0) ||
            (!lcb_profile_get_in(p, "source_profile", 0) &&
             !lcb_profile_get_in(p, "credential_source", 0)))
            return 0;
        return assume_role(out, c->aws, p, 0, err) < 0 ? -1 : 1;
    case SRC_WEB_IDENTITY:
        return web_identity(out, c->aws, p, err);
    case SRC_CRED_FILE:
        return p ? from_profile_keys(out, p, 1) : 0;
    case SRC_CONFIG_FILE:
        return p ? from_profile_keys(out, p, 0) : 0;
    case SRC_CONTAINER:
        return container_fetch(out, c->aws, err);
    case SRC_IMDS:
        return imds_fetch(out, c->aws, err);
    default:
        return 0;
    }
}

static int
resolve(struct lcb_creds_chain *c, struct lcb_creds *out, struct lcb_err *err)
{
    enum source s;
    int rc;

    if (c->src != SRC_NONE)
        return try_source(c, c->src, out, err) > 0 ? 0 : -1;
    for (s = SRC_ENV; s <= SRC_IMDS; s++) {
        lcb_err_clear(err);
        rc = try_source(c, s, out, err);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            c->src = s;
            return 0;
        }
    }
    return lcb_err_set(err, LCB_EAUTH,
                       "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                       "use --profile with a shared credentials file, or run with a role "
                       "(ECS task, EC2 instance, web identity)");
}

int
lcb_creds_chain_get(struct lcb_creds_chain *c, const struct lcb_creds **out, struct lcb_err *err)
{
    struct lcb_creds fresh;
    int due = lcb_creds_refresh_due(&c->cur, lcb_now());
    struct lcb_err ignored;

    if (due == 0) {
        *out = &c->cur;
        return 0;
    }
    lcb_creds_init(&fresh);
    if (resolve(c, &fresh, due == 1 ? &ignored : err) < 0) {
        lcb_creds_release(&fresh);
        if (due == 1) {
            lcb_log(LCB_WARN, "aws.creds.refresh_failed",
                    "refreshing credentials from %s failed; using the current ones until they "
                    "are closer to expiry", c->cur.source);
            *out = &c->cur;
            return 0;
        }
        return -1;
    }
    if (fresh.expires && lcb_creds_refresh_due(&fresh, lcb_now()) == 2)
        lcb_log(LCB_WARN, "aws.creds.short", "credentials from %s expire in under 10 minutes",
                fresh.source);
    lcb_creds_copy(&c->cur, &fresh);
    lcb_creds_release(&fresh);
    lcb_log(LCB_DEBUG, "aws.creds", "credentials from %s%s", c->cur.source,
            c->cur.expires ? " (temporary)" : "");
    *out = &c->cur;
    return 0;
}
