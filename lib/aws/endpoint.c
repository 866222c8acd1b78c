/* endpoint.c - see endpoint.h. */
#include "endpoint.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/mem.h"
#include "creds.h"

static const char *
env_default(const char *name)
{
    return getenv(name);
}

static int
truthy(const char *v)
{
    return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

void
lcb_endpoint_env_name(struct lcb_buf *out, const char *service)
{
    /* the name comes from the SDK's service id where it is not the signing name */
    static const char *const ids[][2] = { { "monitoring", "cloudwatch" },
                                          { "secretsmanager", "secrets-manager" } };
    const char *p;
    size_t i;

    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        if (strcmp(service, ids[i][0]) == 0)
            service = ids[i][1];
    lcb_buf_adds(out, "AWS_ENDPOINT_URL_");
    for (p = service; *p; p++)
        lcb_buf_addch(out, (*p == '-' || *p == ' ') ? '_' : (char)toupper((unsigned char)*p));
}

/* Split "scheme://host[:port][/path]" into ep. */
static int
parse_url(struct lcb_endpoint *ep, const char *url, struct lcb_err *err)
{
    const char *p = strstr(url, "://"), *host, *end, *port = NULL;
    size_t hlen;

    if (!p || (size_t)(p - url) >= sizeof(ep->scheme))
        goto bad;
    snprintf(ep->scheme, sizeof(ep->scheme), "%.*s", (int)(p - url), url);
    if (strcasecmp(ep->scheme, "http") != 0 && strcasecmp(ep->scheme, "https") != 0)
        goto bad;
    host = p + 3;
    if (*host == '[') {
        end = strchr(host, ']');
        if (!end)
            goto bad;
        hlen = (size_t)(end - host - 1);
        host++;
        end++;
    } else {
        end = host + strcspn(host, ":/?#");
        hlen = (size_t)(end - host);
    }
    if (hlen == 0 || hlen >= sizeof(ep->host))
        goto bad;
    snprintf(ep->host, sizeof(ep->host), "%.*s", (int)hlen, host);
    if (*end == ':') {
        char *stop;
        long v;
        port = end + 1;
        v = strtol(port, &stop, 10);
        if (stop == port || v < 1 || v > 65535 || (*stop && *stop != '/'))
            goto bad;
        ep->port = (int)v;
        end = stop;
    }
    if (*end && *end != '/')
        goto bad;
    snprintf(ep->base_path, sizeof(ep->base_path), "%s", end);
    while (*ep->base_path && ep->base_path[strlen(ep->base_path) - 1] == '/')
        ep->base_path[strlen(ep->base_path) - 1] = '\0';
    if ((strcmp(ep->scheme, "https") == 0 && ep->port == 443) ||
        (strcmp(ep->scheme, "http") == 0 && ep->port == 80))
        ep->port = 0;
    return 0;
bad:
    return lcb_err_set(err, LCB_ECONFIG,
                       "endpoint '%s' is not a URL such as https://host or http://127.0.0.1:4566",
                       url);
}

static int
default_endpoint(struct lcb_endpoint *ep, const char *service, const char *region,
                 struct lcb_err *err)
{
    const char *suffix;

    if (!region || !*region)
        return lcb_err_set(err, LCB_ECONFIG,
                           "no AWS region for %s: give --region or set AWS_REGION", service);
    suffix = strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
    snprintf(ep->scheme, sizeof(ep->scheme), "https");
    if (strcmp(service, "s3") == 0 && strcmp(region, "us-east-1") == 0)
        snprintf(ep->host, sizeof(ep->host), "s3.amazonaws.com"); /* what botocore uses */
    else
        snprintf(ep->host, sizeof(ep->host), "%s.%s.%s", service, region, suffix);
    ep->source = "default";
    return 0;
}

int
lcb_endpoint_resolve(struct lcb_endpoint *out, const char *service, const char *region,
                     const struct lcb_profile *prof, const char *(*env)(const char *name),
                     struct lcb_err *err)
{
    struct lcb_buf name = LCB_BUF_INIT;
    const char *url = NULL, *v;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!env)
        env = env_default;
    if (truthy(env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) ||
        (prof && truthy(lcb_profile_get(prof, "ignore_configured_endpoint_urls"))))
        return default_endpoint(out, service, region, err);
    lcb_endpoint_env_name(&name, service);
    if ((v = env(lcb_buf_str(&name))) && *v) {
        url = v;
        out->source = "AWS_ENDPOINT_URL_<SERVICE>";
    } else if ((v = env("AWS_ENDPOINT_URL")) && *v) {
        url = v;
        out->source = "AWS_ENDPOINT_URL";
    } else if (prof && (v = lcb_profile_service_get(prof, service, "endpoint_url")) && *v) {
        url = v;
        out->source = "profile services section";
    } else if (prof && (v = lcb_profile_get(prof, "endpoint_url")) && *v) {
        url = v;
        out->source = "profile endpoint_url";
    }
    lcb_buf_release(&name);
    if (!url)
        return default_endpoint(out, service, region, err);
    if ((rc = parse_url(out, url, err)) < 0)
        return rc;
    out->overridden = 1;
    return 0;
}

void
lcb_endpoint_host_header(struct lcb_buf *out, const struct lcb_endpoint *ep)
{
    int v6 = strchr(ep->host, ':') != NULL;

    lcb_buf_addf(out, "%s%s%s", v6 ? "[" : "", ep->host, v6 ? "]" : "");
    if (ep->port)
        lcb_buf_addf(out, ":%d", ep->port);
}

void
lcb_endpoint_base_url(struct lcb_buf *out, const struct lcb_endpoint *ep)
{
    lcb_buf_addf(out, "%s://", ep->scheme);
    lcb_endpoint_host_header(out, ep);
    lcb_buf_adds(out, ep->base_path);
}

int
lcb_endpoint_bucket_dns_ok(const char *b)
{
    size_t n = strlen(b), i, digits_dots = 0;

    if (n < 3 || n > 63 || !isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]))
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)b[i];
        if (!(islower(c) || isdigit(c) || c == '-'))
            return 0; /* upper case, dots (TLS wildcards), anything else: path-style */
        if (isdigit(c))
            digits_dots++;
    }
    return digits_dots != n;
}

void
lcb_endpoint_s3(const struct lcb_endpoint *ep, const char *bucket, const char *key,
                struct lcb_buf *host_out, struct lcb_buf *path_out)
{
    int virtual_hosted = bucket && !ep->overridden && lcb_endpoint_bucket_dns_ok(bucket);

    if (virtual_hosted)
        lcb_buf_addf(host_out, "%s.", bucket);
    lcb_endpoint_host_header(host_out, ep);
    lcb_buf_adds(path_out, ep->base_path);
    if (!bucket) {
        lcb_buf_addch(path_out, '/');
        return;
    }
    if (!virtual_hosted)
        lcb_buf_addf(path_out, "/%s", bucket);
    if (key)
        lcb_buf_addf(path_out, "/%s", key);
    else if (virtual_hosted)
        lcb_buf_addch(path_out, '/');
}
