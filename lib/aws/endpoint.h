/*
 * endpoint.h - where a request to a service in a region goes, and how S3 buckets are addressed.
 *
 * Precedence (botocore configprovider, aws-wire.md 4.4): AWS_ENDPOINT_URL_<SERVICE> >
 * AWS_ENDPOINT_URL > the profile's services section (`services = x`, `[services x]` with a nested
 * `<service> = \n endpoint_url = ...`) > the profile's endpoint_url > the AWS default for the region
 * (https://<service>.<region>.amazonaws.com, .amazonaws.com.cn in China). AWS_IGNORE_CONFIGURED_
 * ENDPOINT_URLS=true (or the profile's ignore_configured_endpoint_urls) ignores every override.
 *
 * S3 addressing: with an override, path-style (/bucket/key on the given host); against AWS,
 * virtual-hosted (bucket.s3.<region>.amazonaws.com/key), except for bucket names that are not valid
 * DNS labels or contain dots (TLS wildcard certificates do not cover them), which use path-style.
 */
#ifndef LCB_AWS_ENDPOINT_H
#define LCB_AWS_ENDPOINT_H

#include <stddef.h>

#include "../core/buf.h"
#include "../core/err.h"

struct lcb_profile;

struct lcb_endpoint {
    char scheme[8];     /* "https" or "http" */
    char host[256];     /* without port; IPv6 without brackets */
    int port;           /* 0: the scheme's default */
    char base_path[256]; /* path prefix from an override URL, without a trailing '/'; usually "" */
    int overridden;     /* from an override (not AWS's default) */
    const char *source; /* "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "profile services",
                           "profile endpoint_url", "default" (static strings) */
};

/* Resolve service ("s3", "rds"...) in region. env: a getenv-like lookup (NULL: getenv), for tests.
 * Returns 0, or -1: LCB_ECONFIG (malformed override URL, empty region for a default endpoint). */
int lcb_endpoint_resolve(struct lcb_endpoint *out, const char *service, const char *region,
                         const struct lcb_profile *prof, const char *(*env)(const char *name),
                         struct lcb_err *err);

/* "https://host[:port]" (brackets around IPv6) + base_path, appended to out. */
void lcb_endpoint_base_url(struct lcb_buf *out, const struct lcb_endpoint *ep);
/* The Host header value: host, with ":port" when it is not the scheme's default. */
void lcb_endpoint_host_header(struct lcb_buf *out, const struct lcb_endpoint *ep);

/* Where an S3 request goes: host_out gets the Host header value; path_out the raw (not encoded)
 * path; virtual-hosted or path-style as described above. key may be NULL (bucket operations);
 * bucket NULL gives "/" (ListBuckets). */
void lcb_endpoint_s3(const struct lcb_endpoint *ep, const char *bucket, const char *key,
                     struct lcb_buf *host_out, struct lcb_buf *path_out);
/* May bucket be addressed virtual-hosted over TLS (a DNS label chain without dots, 3..63)? */
int lcb_endpoint_bucket_dns_ok(const char *bucket);

/* The SDK's environment name for a service's endpoint ("s3" -> "AWS_ENDPOINT_URL_S3"; from the
 * service id where it differs: "monitoring" -> "AWS_ENDPOINT_URL_CLOUDWATCH", "secretsmanager" ->
 * "AWS_ENDPOINT_URL_SECRETS_MANAGER"). */
void lcb_endpoint_env_name(struct lcb_buf *out, const char *service);

#endif
