/* sts.c - STS over the Query protocol; see sts.h. */
#include "sts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/mem.h"
#include "query.h"

void
lcb_sts_identity_init(struct lcb_sts_identity *id)
{
    id->account = NULL;
    id->arn = NULL;
    id->user_id = NULL;
}

void
lcb_sts_identity_release(struct lcb_sts_identity *id)
{
    free(id->account);
    free(id->arn);
    free(id->user_id);
    lcb_sts_identity_init(id);
}

int
lcb_sts_get_caller_identity(struct lcb_sts_identity *out, struct lcb_aws *aws,
                            const struct lcb_creds *creds, struct lcb_err *err)
{
    struct lcb_query q;
    struct lcb_query_resp r;
    const char *account;
    int rc = -1;

    lcb_query_init(&q, &lcb_query_sts, "GetCallerIdentity");
    q.creds = creds;
    lcb_query_resp_init(&r);
    if (lcb_query_call(&r, aws, &q, err) < 0)
        goto out;
    account = lcb_xml_get(r.result, "Account");
    if (!account || !*account) {
        lcb_err_set(err, LCB_ECORRUPT, "sts GetCallerIdentity answer without an Account");
        goto out;
    }
    lcb_sts_identity_release(out);
    out->account = lcb_xstrdup(account);
    out->arn = lcb_xstrdup(lcb_xml_get(r.result, "Arn") ? lcb_xml_get(r.result, "Arn") : "");
    out->user_id =
        lcb_xstrdup(lcb_xml_get(r.result, "UserId") ? lcb_xml_get(r.result, "UserId") : "");
    rc = 0;
out:
    lcb_query_resp_release(&r);
    lcb_query_release(&q);
    return rc;
}

/* Read <Credentials> and <AssumedRoleUser> from an AssumeRole* result. */
static int
read_creds(struct lcb_creds *out, struct lcb_buf *assumed_arn, const struct lcb_query_resp *r,
           const char *source, struct lcb_err *err)
{
    struct lcb_xml_node *c = lcb_xml_child(r->result, "Credentials");
    const char *akid = lcb_xml_get(c, "AccessKeyId"), *secret = lcb_xml_get(c, "SecretAccessKey");
    const char *token = lcb_xml_get(c, "SessionToken"), *exp = lcb_xml_get(c, "Expiration");
    time_t expires;

    if (!akid || !*akid || !secret || !*secret || !token || !*token)
        return lcb_err_set(err, LCB_ECORRUPT, "sts answer without complete Credentials");
    if (!exp || lcb_time_parse(exp, &expires) < 0)
        return lcb_err_set(err, LCB_ECORRUPT, "sts answer with a bad Expiration \"%s\"",
                           exp ? exp : "");
    if (strlen(akid) >= sizeof(out->access_key_id))
        return lcb_err_set(err, LCB_ECORRUPT, "sts answer with an overlong AccessKeyId");
    snprintf(out->access_key_id, sizeof(out->access_key_id), "%s", akid);
    lcb_secret_set(&out->secret, secret, strlen(secret));
    lcb_secret_set(&out->token, token, strlen(token));
    out->expires = expires;
    snprintf(out->source, sizeof(out->source), "%s", source);
    if (assumed_arn) {
        lcb_buf_reset(assumed_arn);
        lcb_buf_adds(assumed_arn, lcb_xml_get(r->result, "AssumedRoleUser/Arn")
                                      ? lcb_xml_get(r->result, "AssumedRoleUser/Arn")
                                      : "");
    }
    return 0;
}

static int
assume(struct lcb_creds *out, struct lcb_buf *assumed_arn, struct lcb_aws *aws,
       struct lcb_query *q, const char *source, struct lcb_err *err)
{
    struct lcb_query_resp r;
    int rc;

    lcb_query_resp_init(&r);
    rc = lcb_query_call(&r, aws, q, err);
    if (rc == 0)
        rc = read_creds(out, assumed_arn, &r, source, err);
    lcb_query_resp_release(&r);
    return rc;
}

int
lcb_sts_assume_role(struct lcb_creds *out, struct lcb_buf *assumed_arn, struct lcb_aws *aws,
                    const struct lcb_creds *source, const struct lcb_sts_assume_role *p,
                    struct lcb_err *err)
{
    struct lcb_query q;
    int rc;

    if (!p->role_arn || !*p->role_arn || !p->session_name || !*p->session_name)
        return lcb_err_set(err, LCB_EUSAGE, "sts AssumeRole needs a role ARN and a session name");
    lcb_query_init(&q, &lcb_query_sts, "AssumeRole");
    q.creds = source;
    q.region = p->region;
    lcb_query_add(&q, "RoleArn", p->role_arn);
    lcb_query_add(&q, "RoleSessionName", p->session_name);
    if (p->duration_secs > 0)
        lcb_query_add_int(&q, "DurationSeconds", p->duration_secs);
    lcb_query_add(&q, "ExternalId", p->external_id);
    if (p->serial_number) {
        lcb_query_add(&q, "SerialNumber", p->serial_number);
        lcb_query_add(&q, "TokenCode", p->token_code);
    }
    lcb_query_add(&q, "Policy", p->policy);
    rc = assume(out, assumed_arn, aws, &q, "sts assume-role", err);
    lcb_query_release(&q);
    return rc;
}

int
lcb_sts_assume_role_web_identity(struct lcb_creds *out, struct lcb_buf *assumed_arn,
                                 struct lcb_aws *aws, const char *role_arn,
                                 const char *session_name, const char *token, int duration_secs,
                                 struct lcb_err *err)
{
    struct lcb_query q;
    int rc;

    if (!role_arn || !*role_arn || !session_name || !*session_name || !token || !*token)
        return lcb_err_set(err, LCB_EUSAGE,
                           "sts AssumeRoleWithWebIdentity needs a role ARN, a session name and a "
                           "token");
    lcb_query_init(&q, &lcb_query_sts, "AssumeRoleWithWebIdentity");
    q.anonymous = 1;
    lcb_query_add(&q, "RoleArn", role_arn);
    lcb_query_add(&q, "RoleSessionName", session_name);
    lcb_query_add(&q, "WebIdentityToken", token);
    if (duration_secs > 0)
        lcb_query_add_int(&q, "DurationSeconds", duration_secs);
    rc = assume(out, assumed_arn, aws, &q, "sts web identity", err);
    lcb_query_release(&q);
    return rc;
}
