/* job.c - config backups as `lcbackup run` takes them (lib/jobs/jobs.h), and the options and
 * dry-run calls shared with `lcbackup backup config`; see backup.h. */
#include <stdio.h>
#include <string.h>

#include "../jobs/jobs.h"
#include "../policy/policy.h"
#include "backup.h"
#include "secrets.h"

void
lcb_config_backup_opts_from(struct lcb_config_backup_opts *o, const struct lcb_policy *p,
                            const struct lcb_target *t, const char *env,
                            struct lcb_strlist *paths, struct lcb_strlist *clusters)
{
    size_t i;
    char dflt[300];

    memset(o, 0, sizeof(*o));
    o->env = env ? env : p ? p->env : NULL;
    o->target = t ? t->name : "config";
    if (p) {
        o->policy = p->file;
        o->bucket = p->bucket;
        o->prefix = p->prefix;
        o->kms_key = p->kms_key;
        o->object_lock = p->object_lock;
    }
    for (i = 0; t && paths->n == 0 && i < t->nssm_paths; i++)
        lcb_strlist_add(paths, t->ssm_paths[i]);
    for (i = 0; t && clusters->n == 0 && i < t->necs_clusters; i++)
        lcb_strlist_add(clusters, t->ecs_clusters[i]);
    if (t) {
        o->secret_prefixes = t->secret_prefixes;
        o->nsecret_prefixes = t->nsecret_prefixes;
        o->secret_tags = t->tags;
        o->nsecret_tags = t->ntags;
    }
    if (paths->n == 0 && (!t || t->necs_clusters + t->nsecret_prefixes + t->ntags == 0) &&
        clusters->n == 0) {
        snprintf(dflt, sizeof(dflt), "/legocity/%s/", o->env ? o->env : "dev");
        lcb_strlist_add(paths, dflt);
    }
    o->paths = paths;
    o->clusters = clusters;
}

void
lcb_config_backup_calls(struct lcb_buf *out, const struct lcb_config_backup_opts *o)
{
    const char *prefix = o->prefix && *o->prefix ? o->prefix : "lcbackup";
    size_t i;

    for (i = 0; i < o->paths->n; i++) {
        lcb_buf_addf(out, "ssm GetParametersByPath {\"Path\":\"%s\",\"Recursive\":true,"
                     "\"WithDecryption\":true,\"MaxResults\":10} (every page)\n",
                     o->paths->items[i]);
        lcb_buf_addf(out, "ssm DescribeParameters {\"ParameterFilters\":[{\"Key\":\"Path\","
                     "\"Option\":\"Recursive\",\"Values\":[\"%s\"]}],\"MaxResults\":50} (every "
                     "page)\n", o->paths->items[i]);
        lcb_buf_addf(out, "ssm ListTagsForResource {\"ResourceType\":\"Parameter\","
                     "\"ResourceId\":\"<each parameter under %s>\"}\n", o->paths->items[i]);
    }
    for (i = 0; i < o->clusters->n; i++) {
        lcb_buf_addf(out, "ecs ListServices {\"cluster\":\"%s\",\"maxResults\":100} (every "
                     "page)\n", o->clusters->items[i]);
        lcb_buf_addf(out, "ecs DescribeServices {\"cluster\":\"%s\",\"services\":[\"<10 at a "
                     "time>\"],\"include\":[\"TAGS\"]}\n", o->clusters->items[i]);
        lcb_buf_addf(out, "ecs DescribeTaskDefinition {\"taskDefinition\":\"<each service's>\","
                     "\"include\":[\"TAGS\"]}\n");
    }
    lcb_config_backup_secret_calls(out, o);
    if (!o->key_file && o->kms_key)
        lcb_buf_addf(out, "kms GenerateDataKey {\"KeyId\":\"%s\",\"KeySpec\":\"AES_256\","
                     "\"EncryptionContext\":{\"lcbackup:archive\":\"<backup id>\"}}\n",
                     o->kms_key);
    lcb_buf_addf(out, "s3 PutObject s3://%s/%s/%s/config/%s/<backup id>.tar.zst (If-None-Match: "
                 "*%s%s)\n", o->bucket ? o->bucket : "?", prefix, o->env ? o->env : "default",
                 o->target, o->kms_key ? ", SSE aws:kms " : "", o->kms_key ? o->kms_key : "");
    lcb_buf_addf(out, "s3 PutObject s3://%s/%s/%s/config/%s/<backup id>.tar.zst.manifest.json "
                 "(If-None-Match: *)\n", o->bucket ? o->bucket : "?", prefix,
                 o->env ? o->env : "default", o->target);
}

int
lcb_job_backup_config(const struct lcb_job_ctx *jc, const struct lcb_target *t,
                      struct lcb_job_result *res, struct lcb_err *err)
{
    struct lcb_strlist paths = LCB_STRLIST_INIT, clusters = LCB_STRLIST_INIT;
    struct lcb_config_backup_opts o;
    struct lcb_config_backup_result r;
    struct lcb_buf calls = LCB_BUF_INIT;
    int rc = 0;

    lcb_config_backup_opts_from(&o, jc->policy, t, jc->env, &paths, &clusters);
    o.policy = jc->policy_file;
    if (!o.bucket) {
        rc = lcb_err_set(err, LCB_ECONFIG, "no bucket: the policy has no storage.bucket");
    } else if (jc->dry_run) {
        lcb_config_backup_calls(&calls, &o);
        fputs(lcb_buf_str(&calls), jc->out);
    } else if ((rc = lcb_config_backup(&r, jc->cat, jc->aws, &o, err)) == 0) {
        snprintf(res->backup_id, sizeof(res->backup_id), "%s", r.id);
        snprintf(res->location, sizeof(res->location), "%s", r.location);
    }
    lcb_buf_release(&calls);
    lcb_strlist_release(&paths);
    lcb_strlist_release(&clusters);
    return rc;
}
