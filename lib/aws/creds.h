/*
 * creds.h - AWS credentials from the SDK chain, and the shared config/credentials files.
 *
 * Chain order (botocore's, aws-wire.md 4.1): environment (AWS_ACCESS_KEY_ID...; skipped when a
 * profile was given explicitly with --profile), profile role_arn + source_profile or
 * credential_source (STS AssumeRole), web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, or
 * the profile's web_identity_token_file; STS AssumeRoleWithWebIdentity, unsigned), the shared
 * credentials file, the config file, credential_process is not supported, ECS container credentials
 * (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI with AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]),
 * EC2 IMDSv2 (AWS_EC2_METADATA_SERVICE_ENDPOINT, AWS_EC2_METADATA_DISABLED).
 *
 * Temporary credentials are refreshed when fewer than 15 minutes remain (advisory: a failed refresh
 * keeps the old ones) and must be refreshed when fewer than 10 remain (mandatory: a failed refresh
 * is an error), as botocore does. STS calls go through lcb_aws_send(), so they honour
 * AWS_ENDPOINT_URL_STS and retries.
 *
 * Secrets live in struct lcb_secret (redacted from every log line, wiped on release).
 */
#ifndef LCB_AWS_CREDS_H
#define LCB_AWS_CREDS_H

#include <stddef.h>
#include <time.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "../core/secret.h"

struct lcb_aws;
struct lcb_profile;
struct lcb_creds_chain;

#define LCB_CREDS_ADVISORY_SECS (15 * 60)
#define LCB_CREDS_MANDATORY_SECS (10 * 60)

struct lcb_creds {
    char access_key_id[128];
    struct lcb_secret secret;
    struct lcb_secret token; /* empty for long-term keys */
    time_t expires;          /* 0: does not expire */
    char source[96];         /* "environment", "profile dev (credentials file)", "container"... */
    char account_id[16];     /* when the source says (AWS_ACCOUNT_ID, container/IMDS AccountId) */
};

void lcb_creds_init(struct lcb_creds *c);
void lcb_creds_release(struct lcb_creds *c);
void lcb_creds_copy(struct lcb_creds *dst, const struct lcb_creds *src);

/* ---- shared config and credentials files ---- */

/* Load profile name from AWS_CONFIG_FILE (~/.aws/config; "[profile x]" or "[default]") and
 * AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials; "[x]"). Missing files are fine. name NULL:
 * AWS_PROFILE, else "default". Returns 0, or -1: LCB_ECONFIG (a file is malformed, or an explicit
 * profile exists in neither file). */
int lcb_profile_load(struct lcb_profile **out, const char *name, int explicit_name,
                     struct lcb_err *err);
void lcb_profile_free(struct lcb_profile *p);
const char *lcb_profile_name(const struct lcb_profile *p);
/* A key of the profile's config section, else of its credentials section (borrowed), or NULL. */
const char *lcb_profile_get(const struct lcb_profile *p, const char *key);
/* A key from the credentials-file section only (or the config file's, when cred_file is 0). */
const char *lcb_profile_get_in(const struct lcb_profile *p, const char *key, int cred_file);
/* A nested per-service key from the profile's "services" section ("s3", "endpoint_url"). */
const char *lcb_profile_service_get(const struct lcb_profile *p, const char *service,
                                    const char *key);
/* Another profile from the same files (for source_profile), or NULL. */
struct lcb_profile *lcb_profile_sibling(const struct lcb_profile *p, const char *name);

/* ---- the chain ---- */

/* Make the chain for aws's profile. Nothing is fetched yet. explicit_profile: --profile was given. */
int lcb_creds_chain_new(struct lcb_creds_chain **out, struct lcb_aws *aws,
                        const struct lcb_profile *prof, int explicit_profile, struct lcb_err *err);
void lcb_creds_chain_free(struct lcb_creds_chain *c);
/* Current credentials (borrowed until the next call), resolving or refreshing as needed. Returns 0,
 * or -1: LCB_EAUTH (no source has credentials, or STS refused), LCB_ETEMP (an endpoint failed),
 * LCB_ECONFIG (a source is misconfigured: unreadable token file, forbidden container URI). */
int lcb_creds_chain_get(struct lcb_creds_chain *c, const struct lcb_creds **out,
                        struct lcb_err *err);

/* ---- parsers (exposed for tests) ---- */

/* Container / IMDS JSON: AccessKeyId, SecretAccessKey, Token, Expiration (ISO-8601), AccountId.
 * Returns 0, or -1 (LCB_EAUTH: missing fields or an IMDS Code other than Success). */
int lcb_creds_from_json(struct lcb_creds *out, const char *text, size_t len, const char *source,
                        struct lcb_err *err);
/* An STS AssumeRole* response's <Credentials>. Returns 0, or -1 (LCB_EAUTH). */
int lcb_creds_from_sts_xml(struct lcb_creds *out, const char *xml, size_t len, const char *source,
                           struct lcb_err *err);
/* Does c need a refresh at time now: 0 no, 1 advisory, 2 mandatory (or no creds at all). */
int lcb_creds_refresh_due(const struct lcb_creds *c, time_t now);

/* The text of the first <tag>...</tag> in xml with the five XML entities decoded, appended to out;
 * returns 0, or -1 when absent. (For the few STS fields creds.c needs without an XML library.) */
int lcb_creds_xml_text(struct lcb_buf *out, const char *xml, size_t len, const char *tag);

#endif
