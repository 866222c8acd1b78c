/*
 * sts.h - AWS STS (Query protocol, Version 2011-06-15): who am I, and temporary credentials.
 *
 * GetCallerIdentity validates credentials and gives the account id (doctor, RDS/SSM ARNs).
 * AssumeRole serves creds.c's role_arn + source_profile (the DR-account copies): it is signed with
 * the source credentials the caller passes, so it never re-enters the credential chain.
 * AssumeRoleWithWebIdentity is sent unsigned (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN).
 *
 * Ownership: struct lcb_sts_identity is caller-owned (_init/_release). Credentials come back in
 * creds.h's struct lcb_creds (caller-initialised; secret and token in struct lcb_secret, so they are
 * redacted and wiped on release; expires from the answer's Expiration; source "sts assume-role" or
 * "sts web identity"). assumed_arn, when not NULL, receives AssumedRoleUser/Arn.
 */
#ifndef LCB_AWS_STS_H
#define LCB_AWS_STS_H

#include "../core/buf.h"
#include "../core/err.h"
#include "creds.h"

struct lcb_aws;

struct lcb_sts_identity {
    char *account; /* "123456789012" */
    char *arn;     /* "arn:aws:iam::123456789012:user/lcbackup" */
    char *user_id; /* "AIDACKCEVSQ6C2EXAMPLE" */
};

void lcb_sts_identity_init(struct lcb_sts_identity *id);
void lcb_sts_identity_release(struct lcb_sts_identity *id);

/* GetCallerIdentity with the client's credentials (creds NULL) or the given ones. Returns 0, or -1:
 * LCB_EAUTH (InvalidClientTokenId, SignatureDoesNotMatch, ExpiredToken, no credentials),
 * LCB_ETEMP (network, throttling after retries), LCB_ECORRUPT (an answer without Account). */
int lcb_sts_get_caller_identity(struct lcb_sts_identity *out, struct lcb_aws *aws,
                                const struct lcb_creds *creds, struct lcb_err *err);

struct lcb_sts_assume_role {
    const char *role_arn;     /* required */
    const char *session_name; /* required; creds.c uses "lcbackup-<epoch>" as botocore does */
    int duration_secs;        /* 0: the service default (3600); else 900..43200 */
    const char *external_id;  /* profile external_id, or NULL */
    const char *serial_number; /* mfa_serial, or NULL (then token_code is ignored) */
    const char *token_code;
    const char *policy;        /* an inline session policy (JSON), or NULL */
    const char *region;        /* STS region; NULL: the client's */
};

/* AssumeRole signed with source (NULL: the client's own credentials). Returns 0, or -1:
 * LCB_EAUTH (AccessDenied, the source credentials are bad), LCB_EUSAGE/LCB_EREFUSED
 * (ValidationError, bad duration), LCB_ETEMP, LCB_ECORRUPT (credentials missing in the answer). */
int lcb_sts_assume_role(struct lcb_creds *out, struct lcb_buf *assumed_arn, struct lcb_aws *aws,
                        const struct lcb_creds *source, const struct lcb_sts_assume_role *p,
                        struct lcb_err *err);

/* AssumeRoleWithWebIdentity, sent unsigned: token is the OIDC token (the file's content). Returns
 * 0, or -1: LCB_EAUTH (InvalidIdentityToken, ExpiredTokenException, AccessDenied), LCB_ETEMP
 * (IDPCommunicationError after retries), LCB_ECORRUPT. */
int lcb_sts_assume_role_web_identity(struct lcb_creds *out, struct lcb_buf *assumed_arn,
                                     struct lcb_aws *aws,
                                     const char *role_arn, const char *session_name,
                                     const char *token, int duration_secs, struct lcb_err *err);

#endif
