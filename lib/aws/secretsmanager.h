/*
 * secretsmanager.h - AWS Secrets Manager (JSON 1.1, target prefix "secretsmanager") on top of
 * jsonrpc.h: list, describe, read, create, put a new version, update, delete with a recovery
 * window, restore (cancel a deletion), tag, and rotation settings.
 *
 * Values come back in a struct lcb_secret registered with the redactor from the moment they exist
 * in this process. A string value that is a JSON object also has its secret-looking members
 * (password, secret, token, key...) registered one by one, so that a database password printed
 * on its own is masked too. A binary value (SecretBinary) holds raw bytes (any byte, NUL
 * included); its base64 form is what gets registered, since that is the only way it is printed.
 * Every write sends a fresh ClientRequestToken (a UUID), which is the new version's id: a retry
 * of the same call is idempotent on the service side.
 *
 * Describe and list answers are Secrets Manager's own JSON objects (SecretListEntry and
 * DescribeSecret: Name, ARN, Description, KmsKeyId, Tags, RotationEnabled, RotationLambdaARN,
 * RotationRules, DeletedDate, VersionIdsToStages / SecretVersionsToStages, dates as epoch
 * seconds); the caller owns them (lcb_json_free).
 *
 * Errors: LCB_ENOTFOUND (ResourceNotFoundException), LCB_EREFUSED (InvalidRequestException: for
 * instance a secret scheduled for deletion; ResourceExistsException; InvalidParameterException;
 * DecryptionFailure / EncryptionFailure: the KMS key; err->aws_code says which), LCB_EAUTH,
 * LCB_ETEMP. No error message ever contains a value.
 */
#ifndef LCB_AWS_SECRETSMANAGER_H
#define LCB_AWS_SECRETSMANAGER_H

#include <stddef.h>

#include "../core/err.h"
#include "../core/secret.h"
#include "../ext/json.h"
#include "aws.h"
#include "jsonrpc.h"

extern const struct lcb_jsonrpc_svc lcb_jsonrpc_secretsmanager; /* secretsmanager */

/* One ListSecrets filter: key is "name", "description", "tag-key", "tag-value" or "all"; a value
 * matches by prefix, "!value" negates it. */
struct lcb_sm_filter {
    const char *key;
    const char *const *values;
    size_t nvalues;
};

/* Every secret that passes all filters (f may be NULL for all secrets; secrets scheduled for
 * deletion are not listed), all pages, as a JSON array of SecretListEntry objects. */
int lcb_sm_list(struct lcb_json **out, struct lcb_aws *aws, const struct lcb_sm_filter *f,
                size_t nf, struct lcb_err *err);

/* DescribeSecret by name or ARN. A secret scheduled for deletion is described (with DeletedDate).
 * Errors: LCB_ENOTFOUND. */
int lcb_sm_describe(struct lcb_json **out, struct lcb_aws *aws, const char *id,
                    struct lcb_err *err);

struct lcb_sm_value {
    char version_id[96];
    int binary;                /* SecretBinary: value holds raw bytes */
    struct lcb_secret value;   /* SecretString (text) or SecretBinary (bytes) */
    double created;            /* the version's CreatedDate (epoch seconds) */
};

void lcb_sm_value_init(struct lcb_sm_value *v);
void lcb_sm_value_release(struct lcb_sm_value *v);
/* Set a value from bytes (binary) or text, registering it as described above. */
void lcb_sm_value_set(struct lcb_sm_value *v, const void *data, size_t len, int binary);

/* GetSecretValue: the version version_id, or the one carrying stage (both NULL: AWSCURRENT).
 * Errors: LCB_ENOTFOUND (no such secret or version), LCB_EREFUSED (InvalidRequestException: the
 * secret is scheduled for deletion; DecryptionFailure). */
int lcb_sm_get_value(struct lcb_sm_value *out, struct lcb_aws *aws, const char *id,
                     const char *version_id, const char *stage, struct lcb_err *err);

struct lcb_sm_create {
    const char *name;
    const char *description;        /* may be NULL */
    const char *kms_key_id;         /* NULL: aws/secretsmanager */
    const struct lcb_sm_value *value; /* NULL: a secret without a version */
    const struct lcb_json *tags;    /* an array of {Key, Value}; NULL or empty: none */
};

/* CreateSecret. arn (may be NULL) receives the ARN, version_id (may be NULL, 96 bytes) the new
 * version. Errors: LCB_EREFUSED (ResourceExistsException; InvalidRequestException when a secret
 * of that name is scheduled for deletion), LCB_ENOTFOUND (the KMS key). */
int lcb_sm_create(struct lcb_buf *arn, char *version_id, struct lcb_aws *aws,
                  const struct lcb_sm_create *req, struct lcb_err *err);
/* PutSecretValue: a new version that becomes AWSCURRENT. */
int lcb_sm_put_value(char *version_id, struct lcb_aws *aws, const char *id,
                     const struct lcb_sm_value *value, struct lcb_err *err);
/* UpdateSecret of the description and/or the KMS key (NULL: unchanged; kms_key_id "" goes back to
 * aws/secretsmanager). */
int lcb_sm_update(struct lcb_aws *aws, const char *id, const char *description,
                  const char *kms_key_id, struct lcb_err *err);
/* DeleteSecret with a recovery window of days (7..30), or at once when days is 0 (force). */
int lcb_sm_delete(struct lcb_aws *aws, const char *id, int days, struct lcb_err *err);
/* RestoreSecret: cancel a scheduled deletion. */
int lcb_sm_restore(struct lcb_aws *aws, const char *id, struct lcb_err *err);
/* TagResource with tags (a non-empty array of {Key, Value}); UntagResource of n keys. */
int lcb_sm_tag(struct lcb_aws *aws, const char *id, const struct lcb_json *tags,
               struct lcb_err *err);
int lcb_sm_untag(struct lcb_aws *aws, const char *id, const char *const *keys, size_t n,
                 struct lcb_err *err);
/* RotateSecret with a Lambda ARN and rules (an object: AutomaticallyAfterDays,
 * ScheduleExpression, Duration; may be NULL), rotating now or only recording the settings. */
int lcb_sm_rotate(struct lcb_aws *aws, const char *id, const char *lambda_arn,
                  const struct lcb_json *rules, int immediately, struct lcb_err *err);

/* CancelRotateSecret: turn automatic rotation off. */
int lcb_sm_cancel_rotation(struct lcb_aws *aws, const char *id, struct lcb_err *err);

/* Database credentials held as a JSON secret ({"username", "password", "host", "port",
 * "dbname"} as RDS and the Secrets Manager rotation templates write them; "engine" is ignored) as a
 * postgres:// URL in url (percent-encoded; registered for redaction). host, port and dbname are
 * fallbacks for what the secret lacks (an RDS-managed master secret holds only username and
 * password); port 0 means 5432. Errors: those of lcb_sm_get_value, and LCB_ECONFIG naming the
 * missing member (never a value) when the secret is not such an object. */
int lcb_sm_db_url(struct lcb_secret *url, struct lcb_aws *aws, const char *id, const char *host,
                  int port, const char *dbname, struct lcb_err *err);
/* The same from the secret's text (pure; for tests). */
int lcb_sm_db_url_from(struct lcb_secret *url, const char *json, const char *host, int port,
                       const char *dbname, struct lcb_err *err);

#endif
