/* secretsmanager.c - AWS Secrets Manager; see secretsmanager.h. */
#include "secretsmanager.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/mem.h"
#include "../ext/crypto.h"

const struct lcb_jsonrpc_svc lcb_jsonrpc_secretsmanager = { "secretsmanager", "secretsmanager" };

void
lcb_sm_value_init(struct lcb_sm_value *v)
{
    memset(v, 0, sizeof(*v));
}

void
lcb_sm_value_release(struct lcb_sm_value *v)
{
    lcb_secret_release(&v->value);
    lcb_sm_value_init(v);
}

/* Members of a JSON secret whose values are secrets on their own. */
static int
secret_member(const char *key)
{
    static const char *const words[] = { "password", "passwd", "secret", "token", "key",
                                         "credential", "private" };
    size_t i, n;
    const char *p;

    for (i = 0; i < LCB_ARRAY_SIZE(words); i++) {
        n = strlen(words[i]);
        for (p = key; *p; p++)
            if (strncasecmp(p, words[i], n) == 0)
                return 1;
    }
    return 0;
}

/* A JSON object's secret-looking string members, registered for redaction. */
static void
register_members(const char *text, size_t len)
{
    struct lcb_json *j = NULL;
    struct lcb_json *m;
    struct lcb_err ignored;
    const char *s;

    if (len == 0 || text[0] != '{' || lcb_json_parse(&j, text, len, &ignored) < 0)
        return;
    for (m = lcb_json_child(j); m; m = lcb_json_next(m))
        if ((s = lcb_json_str(m)) && secret_member(lcb_json_key(m)))
            lcb_redact_add(s, strlen(s));
    lcb_json_free(j);
}

void
lcb_sm_value_set(struct lcb_sm_value *v, const void *data, size_t len, int binary)
{
    struct lcb_buf b64 = LCB_BUF_INIT;

    lcb_secret_set(&v->value, data, len);
    v->binary = binary;
    if (binary) {
        /* raw bytes are never printed; their base64 form might be */
        lcb_base64_encode(&b64, data, len);
        lcb_redact_add(b64.ptr, b64.len);
        lcb_wipe(b64.ptr, b64.len);
        lcb_buf_release(&b64);
    } else {
        register_members(data, len);
    }
}

/* A version 4 UUID for ClientRequestToken. */
static int
new_token(char out[40], struct lcb_err *err)
{
    unsigned char r[16];

    if (lcb_random(r, sizeof(r), err) < 0)
        return -1;
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    snprintf(out, 40,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
             r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
             r[15]);
    return 0;
}

static int
call(struct lcb_json **out, struct lcb_aws *aws, const char *op, const struct lcb_json *in,
     struct lcb_err *err)
{
    return lcb_jsonrpc_call(out, aws, &lcb_jsonrpc_secretsmanager, op, in, NULL, err);
}

/* Call op with {"SecretId": id} plus what in holds (in may be NULL), ignoring the answer. */
static int
call_on(struct lcb_aws *aws, const char *op, const char *id, struct lcb_json *in,
        struct lcb_err *err)
{
    struct lcb_json *own = in ? in : lcb_json_new_object(), *ans = NULL;
    int rc;

    lcb_json_set(own, "SecretId", lcb_json_new_str(id));
    rc = call(&ans, aws, op, own, err);
    lcb_json_free(ans);
    lcb_json_free(own);
    return rc;
}

static struct lcb_json *
filters_json(const struct lcb_sm_filter *f, size_t nf)
{
    struct lcb_json *arr = lcb_json_new_array(), *o, *vals;
    size_t i, k;

    for (i = 0; i < nf; i++) {
        o = lcb_json_push(arr, lcb_json_new_object());
        lcb_json_add_str(o, "Key", f[i].key);
        vals = lcb_json_add(o, "Values", lcb_json_new_array());
        for (k = 0; k < f[i].nvalues; k++)
            lcb_json_push(vals, lcb_json_new_str(f[i].values[k]));
    }
    return arr;
}

int
lcb_sm_list(struct lcb_json **out, struct lcb_aws *aws, const struct lcb_sm_filter *f, size_t nf,
            struct lcb_err *err)
{
    struct lcb_json *in = lcb_json_new_object(), *page = NULL, *list, *e, *next;
    struct lcb_pager pg;
    int rc;

    *out = lcb_json_new_array();
    if (nf)
        lcb_json_add(in, "Filters", filters_json(f, nf));
    lcb_json_add_num(in, "MaxResults", 100);
    lcb_pager_init(&pg, "NextToken", "NextToken");
    while ((rc = lcb_jsonrpc_page(&page, aws, &lcb_jsonrpc_secretsmanager, "ListSecrets", in, NULL,
                                  &pg, err)) > 0) {
        list = lcb_json_get(page, "SecretList");
        for (e = lcb_json_child(list); e; e = next) {
            next = lcb_json_next(e);
            lcb_json_push(*out, lcb_json_detach(list, e));
        }
    }
    lcb_json_free(page);
    lcb_json_free(in);
    lcb_pager_release(&pg);
    if (rc < 0) {
        lcb_json_free(*out);
        *out = NULL;
        return lcb_wrap(err, "list secrets");
    }
    return 0;
}

int
lcb_sm_describe(struct lcb_json **out, struct lcb_aws *aws, const char *id, struct lcb_err *err)
{
    struct lcb_json *in = lcb_json_new_object();
    int rc;

    lcb_json_add_str(in, "SecretId", id);
    rc = call(out, aws, "DescribeSecret", in, err);
    lcb_json_free(in);
    return rc < 0 ? lcb_wrap(err, "describe secret %s", id) : 0;
}

/* The value of a GetSecretValue answer into out. */
static int
take_value(struct lcb_sm_value *out, const struct lcb_json *ans, const char *id,
           struct lcb_err *err)
{
    const char *s = lcb_json_get_str(ans, "SecretString");
    const char *b = lcb_json_get_str(ans, "SecretBinary");
    const char *vid = lcb_json_get_str(ans, "VersionId");
    struct lcb_buf raw = LCB_BUF_INIT;

    if (s) {
        lcb_sm_value_set(out, s, strlen(s), 0);
    } else if (b) {
        if (lcb_base64_decode(&raw, b, strlen(b)) < 0) {
            lcb_buf_release(&raw);
            return lcb_err_set(err, LCB_ECORRUPT, "secret %s: SecretBinary is not base64", id);
        }
        lcb_sm_value_set(out, raw.ptr ? raw.ptr : "", raw.len, 1);
        lcb_wipe(raw.ptr, raw.len);
        lcb_buf_release(&raw);
    } else {
        return lcb_err_set(err, LCB_ECORRUPT, "secret %s: the answer has no value", id);
    }
    snprintf(out->version_id, sizeof(out->version_id), "%s", vid ? vid : "");
    out->created = lcb_json_get_num(ans, "CreatedDate", 0);
    return 0;
}

int
lcb_sm_get_value(struct lcb_sm_value *out, struct lcb_aws *aws, const char *id,
                 const char *version_id, const char *stage, struct lcb_err *err)
{
    struct lcb_json *in = lcb_json_new_object(), *ans = NULL;
    int rc = -1;

    lcb_sm_value_release(out);
    lcb_json_add_str(in, "SecretId", id);
    if (version_id)
        lcb_json_add_str(in, "VersionId", version_id);
    if (stage)
        lcb_json_add_str(in, "VersionStage", stage);
    if (call(&ans, aws, "GetSecretValue", in, err) < 0)
        lcb_wrap(err, "value of secret %s", id);
    else
        rc = take_value(out, ans, id, err);
    lcb_json_free(ans);
    lcb_json_free(in);
    return rc;
}

/* SecretString or SecretBinary (base64) of v into the request object. */
static void
add_value(struct lcb_json *in, const struct lcb_sm_value *v)
{
    struct lcb_buf b64 = LCB_BUF_INIT;

    if (!v->binary) {
        lcb_json_add_str(in, "SecretString", lcb_secret_get(&v->value));
        return;
    }
    lcb_base64_encode(&b64, v->value.ptr ? v->value.ptr : "", v->value.len);
    lcb_json_add_str(in, "SecretBinary", lcb_buf_str(&b64));
    lcb_wipe(b64.ptr, b64.len);
    lcb_buf_release(&b64);
}

int
lcb_sm_create(struct lcb_buf *arn, char *version_id, struct lcb_aws *aws,
              const struct lcb_sm_create *req, struct lcb_err *err)
{
    struct lcb_json *in = lcb_json_new_object(), *ans = NULL;
    char token[40];
    int rc = -1;

    if (new_token(token, err) < 0)
        goto out;
    lcb_json_add_str(in, "Name", req->name);
    lcb_json_add_str(in, "ClientRequestToken", token);
    if (req->description)
        lcb_json_add_str(in, "Description", req->description);
    if (req->kms_key_id && *req->kms_key_id)
        lcb_json_add_str(in, "KmsKeyId", req->kms_key_id);
    if (req->value)
        add_value(in, req->value);
    if (req->tags && lcb_json_size(req->tags))
        lcb_json_add(in, "Tags", lcb_json_dup(req->tags));
    if (call(&ans, aws, "CreateSecret", in, err) < 0) {
        lcb_wrap(err, "create secret %s", req->name);
        goto out;
    }
    if (arn)
        lcb_buf_adds(arn, lcb_json_get_str(ans, "ARN") ? lcb_json_get_str(ans, "ARN") : "");
    if (version_id)
        snprintf(version_id, 96, "%s",
                 lcb_json_get_str(ans, "VersionId") ? lcb_json_get_str(ans, "VersionId") : "");
    rc = 0;
out:
    lcb_json_free(ans);
    lcb_json_free(in);
    return rc;
}

int
lcb_sm_put_value(char *version_id, struct lcb_aws *aws, const char *id,
                 const struct lcb_sm_value *value, struct lcb_err *err)
{
    struct lcb_json *in = lcb_json_new_object(), *ans = NULL;
    char token[40];
    int rc = -1;

    if (new_token(token, err) < 0)
        goto out;
    lcb_json_add_str(in, "SecretId", id);
    lcb_json_add_str(in, "ClientRequestToken", token);
    add_value(in, value);
    if (call(&ans, aws, "PutSecretValue", in, err) < 0) {
        lcb_wrap(err, "put a new version of secret %s", id);
        goto out;
    }
    if (version_id)
        snprintf(version_id, 96, "%s",
                 lcb_json_get_str(ans, "VersionId") ? lcb_json_get_str(ans, "VersionId") : "");
    rc = 0;
out:
    lcb_json_free(ans);
    lcb_json_free(in);
    return rc;
}

int
lcb_sm_update(struct lcb_aws *aws, const char *id, const char *description,
              const char *kms_key_id, struct lcb_err *err)
{
    struct lcb_json *in = lcb_json_new_object();

    if (description)
        lcb_json_add_str(in, "Description", description);
    if (kms_key_id)
        lcb_json_add_str(in, "KmsKeyId", kms_key_id);
    if (call_on(aws, "UpdateSecret", id, in, err) < 0)
        return lcb_wrap(err, "update secret %s", id);
    return 0;
}

int
lcb_sm_delete(struct lcb_aws *aws, const char *id, int days, struct lcb_err *err)
{
    struct lcb_json *in = lcb_json_new_object();

    if (days > 0)
        lcb_json_add_num(in, "RecoveryWindowInDays", days);
    else
        lcb_json_add_bool(in, "ForceDeleteWithoutRecovery", 1);
    if (call_on(aws, "DeleteSecret", id, in, err) < 0)
        return lcb_wrap(err, "delete secret %s", id);
    return 0;
}

int
lcb_sm_restore(struct lcb_aws *aws, const char *id, struct lcb_err *err)
{
    if (call_on(aws, "RestoreSecret", id, NULL, err) < 0)
        return lcb_wrap(err, "cancel the deletion of secret %s", id);
    return 0;
}

int
lcb_sm_tag(struct lcb_aws *aws, const char *id, const struct lcb_json *tags, struct lcb_err *err)
{
    struct lcb_json *in = lcb_json_new_object();

    lcb_json_add(in, "Tags", lcb_json_dup(tags));
    if (call_on(aws, "TagResource", id, in, err) < 0)
        return lcb_wrap(err, "tag secret %s", id);
    return 0;
}

int
lcb_sm_untag(struct lcb_aws *aws, const char *id, const char *const *keys, size_t n,
             struct lcb_err *err)
{
    struct lcb_json *in = lcb_json_new_object(), *list;
    size_t i;

    list = lcb_json_add(in, "TagKeys", lcb_json_new_array());
    for (i = 0; i < n; i++)
        lcb_json_push(list, lcb_json_new_str(keys[i]));
    if (call_on(aws, "UntagResource", id, in, err) < 0)
        return lcb_wrap(err, "untag secret %s", id);
    return 0;
}

int
lcb_sm_rotate(struct lcb_aws *aws, const char *id, const char *lambda_arn,
              const struct lcb_json *rules, int immediately, struct lcb_err *err)
{
    struct lcb_json *in = lcb_json_new_object();
    char token[40];

    if (new_token(token, err) < 0) {
        lcb_json_free(in);
        return -1;
    }
    lcb_json_add_str(in, "ClientRequestToken", token);
    if (lambda_arn)
        lcb_json_add_str(in, "RotationLambdaARN", lambda_arn);
    if (rules)
        lcb_json_add(in, "RotationRules", lcb_json_dup(rules));
    lcb_json_add_bool(in, "RotateImmediately", immediately);
    if (call_on(aws, "RotateSecret", id, in, err) < 0)
        return lcb_wrap(err, "rotation settings of secret %s", id);
    return 0;
}

int
lcb_sm_cancel_rotation(struct lcb_aws *aws, const char *id, struct lcb_err *err)
{
    if (call_on(aws, "CancelRotateSecret", id, NULL, err) < 0)
        return lcb_wrap(err, "turn off the rotation of secret %s", id);
    return 0;
}

/* ---- database credentials ---- */

static void
add_encoded(struct lcb_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p;

    for (p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            lcb_buf_addch(out, (char)*p);
        } else {
            lcb_buf_addch(out, '%');
            lcb_buf_addch(out, hex[*p >> 4]);
            lcb_buf_addch(out, hex[*p & 15]);
        }
    }
}

/* A member as text: strings as they are, numbers (a port) printed. */
static const char *
member_text(const struct lcb_json *j, const char *key, char *num, size_t size)
{
    const struct lcb_json *m = lcb_json_get(j, key);

    if (lcb_json_type(m) == LCB_JSON_NUMBER) {
        snprintf(num, size, "%.0f", lcb_json_num(m, 0));
        return num;
    }
    return lcb_json_str(m);
}

int
lcb_sm_db_url_from(struct lcb_secret *url, const char *json, const char *host, int port,
                   const char *dbname, struct lcb_err *err)
{
    struct lcb_json *j = NULL;
    struct lcb_buf u = LCB_BUF_INIT;
    const char *user, *pass, *h, *p, *db;
    char portbuf[24], nb[24];
    struct lcb_err perr;

    if (lcb_json_parse(&j, json, strlen(json), &perr) < 0 ||
        lcb_json_type(j) != LCB_JSON_OBJECT) {
        lcb_json_free(j);
        return lcb_err_set(err, LCB_ECONFIG, "the secret is not a JSON object of database "
                           "credentials (username, password, host, port, dbname)");
    }
    user = lcb_json_get_str(j, "username");
    pass = lcb_json_get_str(j, "password");
    h = lcb_json_get_str(j, "host") ? lcb_json_get_str(j, "host") : host;
    snprintf(portbuf, sizeof(portbuf), "%d", port > 0 ? port : 5432);
    p = member_text(j, "port", nb, sizeof(nb)) ? member_text(j, "port", nb, sizeof(nb)) : portbuf;
    db = lcb_json_get_str(j, "dbname") ? lcb_json_get_str(j, "dbname") : dbname;
    if (!user || !pass || !h || !db) {
        lcb_json_free(j);
        return lcb_err_set(err, LCB_ECONFIG, "the database credentials secret has no %s",
                           !user ? "username" : !pass ? "password" : !h ? "host" : "dbname");
    }
    lcb_buf_adds(&u, "postgres://");
    add_encoded(&u, user);
    lcb_buf_addch(&u, ':');
    add_encoded(&u, pass);
    lcb_buf_addf(&u, "@%s%s%s:%s/", strchr(h, ':') ? "[" : "", h, strchr(h, ':') ? "]" : "", p);
    add_encoded(&u, db);
    lcb_secret_set(url, u.ptr, u.len);
    lcb_wipe(u.ptr, u.len);
    lcb_buf_release(&u);
    lcb_json_free(j);
    return 0;
}

int
lcb_sm_db_url(struct lcb_secret *url, struct lcb_aws *aws, const char *id, const char *host,
              int port, const char *dbname, struct lcb_err *err)
{
    struct lcb_sm_value v;
    int rc;

    lcb_sm_value_init(&v);
    if (lcb_sm_get_value(&v, aws, id, NULL, NULL, err) < 0)
        return -1;
    if (v.binary)
        rc = lcb_err_set(err, LCB_ECONFIG, "secret %s is binary, not database credentials", id);
    else if ((rc = lcb_sm_db_url_from(url, lcb_secret_get(&v.value), host, port, dbname, err)) <
             0)
        lcb_wrap(err, "secret %s", id);
    lcb_sm_value_release(&v);
    return rc;
}
