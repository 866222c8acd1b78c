/* checkpoint_test.c - checkpoint names, the catalog life of a checkpoint (create, hold, load,
 * list, release, an operator's own hold kept) and the restore plan (order, manifest counts,
 * pending backups, the db_url_param repoint, shell quoting). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/catalog/catalog.h"
#include "../../lib/checkpoint/checkpoint.h"
#include "../../lib/core/mem.h"
#include "../../lib/policy/policy.h"
#include "harness.h"

static char dir[] = "/tmp/lcb-cp-test.XXXXXX";

static void
test_names(void)
{
    char name[LCB_CHECKPOINT_NAME_MAX + 1];

    CHECK(lcb_checkpoint_name_ok("cp-20261128T120107"));
    CHECK(lcb_checkpoint_name_ok("payload-3.0_rc1"));
    CHECK(!lcb_checkpoint_name_ok(""));
    CHECK(!lcb_checkpoint_name_ok("-leading-dash"));
    CHECK(!lcb_checkpoint_name_ok("has space"));
    CHECK(!lcb_checkpoint_name_ok("quote'd"));
    CHECK(!lcb_checkpoint_name_ok("a234567890123456789012345678901234567890123456789012345678901234x"));
    CHECK_STR(lcb_checkpoint_default_name(name, 1795830900), "cp-20261128T015500");
}

static void
add_backup(struct lcb_catalog *cat, const char *kind, const char *target, const char *status,
           const char *manifest, char *id_out)
{
    struct lcb_backup b;
    struct lcb_err err;

    memset(&b, 0, sizeof(b));
    b.kind = lcb_xstrdup(kind);
    b.env = lcb_xstrdup("dev");
    b.target = lcb_xstrdup(target);
    b.status = lcb_xstrdup(status);
    b.started_at = b.taken_at = 1795830900;
    b.manifest = manifest ? lcb_xstrdup(manifest) : NULL;
    CHECK_INT(lcb_catalog_backup_add(cat, &b, &err), 0);
    strcpy(id_out, b.id);
    lcb_backup_release(&b);
}

static struct lcb_catalog *
open_catalog(const char *name)
{
    struct lcb_catalog *cat = NULL;
    struct lcb_err err;
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (lcb_catalog_open(&cat, path, 1, &err) < 0)
        return NULL;
    return cat;
}

static void
test_life(void)
{
    struct lcb_catalog *cat = open_catalog("life.db");
    struct lcb_strlist ids = LCB_STRLIST_INIT;
    struct lcb_checkpoint c, *all = NULL;
    struct lcb_backup b;
    struct lcb_err err;
    char rds[64], brk[64], cfg[64], run[40];
    size_t n = 0, i;

    CHECK(cat != NULL);
    if (!cat)
        return;
    CHECK_INT(lcb_catalog_run_begin(cat, "checkpoint", NULL, "dev", run, &err), 0);
    add_backup(cat, "rds", "db", "completed", NULL, rds);
    add_backup(cat, "broker", "broker", "completed", NULL, brk);
    add_backup(cat, "config", "config", "completed", NULL, cfg);
    lcb_strlist_add(&ids, rds);
    lcb_strlist_add(&ids, brk);
    lcb_strlist_add(&ids, cfg);
    CHECK_INT(lcb_checkpoint_create(cat, run, "cp-a", "migration 42", "dev", "rds,broker,config",
                                    &ids, 0, &err), 0);
    CHECK_INT(lcb_checkpoint_create(cat, run, "cp-a", "again", "dev", "rds", &ids, 0, &err), -1);
    CHECK_INT(err.code, LCB_EREFUSED);
    /* an operator held the broker backup already: that hold must survive the release */
    CHECK_INT(lcb_catalog_backup_get(cat, brk, &b, &err), 0);
    b.hold = lcb_xstrdup("legal: incident 7");
    CHECK_INT(lcb_catalog_backup_update(cat, &b, &err), 0);
    lcb_backup_release(&b);
    for (i = 0; i < ids.n; i++)
        CHECK_INT(lcb_checkpoint_hold(cat, run, ids.items[i], "cp-a", &err), 0);
    CHECK_INT(lcb_checkpoint_load(&c, cat, "cp-a", &err), 0);
    CHECK_STR(c.reason, "migration 42");
    CHECK_INT(c.backups.n, 3);
    CHECK_STR(c.backups.items[0].kind, "rds"); /* rds, broker, config */
    CHECK_STR(c.backups.items[2].kind, "config");
    CHECK_INT(c.held, 2);
    CHECK_STR(lcb_checkpoint_state(&c), "held");
    lcb_checkpoint_release(&c);
    CHECK_INT(lcb_checkpoint_load(&c, cat, "cp-none", &err), -1);
    CHECK_INT(err.code, LCB_ENOTFOUND);
    CHECK_INT(lcb_checkpoint_lift(cat, run, "cp-a", &n, &err), 0);
    CHECK_INT(n, 2);
    CHECK_INT(lcb_catalog_backup_get(cat, brk, &b, &err), 0);
    CHECK_STR(b.hold, "legal: incident 7");
    CHECK_STR(b.checkpoint, "cp-a");
    lcb_backup_release(&b);
    CHECK_INT(lcb_catalog_backup_get(cat, rds, &b, &err), 0);
    CHECK(b.hold == NULL);
    lcb_backup_release(&b);
    CHECK_INT(lcb_checkpoint_lift(cat, run, "cp-a", &n, &err), 0);
    CHECK_INT(n, 0);
    CHECK_INT(lcb_checkpoint_create(cat, run, "cp-b", "second", "dev", "broker", NULL, 1, &err), 0);
    CHECK_INT(lcb_checkpoint_list(&all, &n, cat, "dev", &err), 0);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_STR(all[0].name, "cp-b"); /* newest first */
        CHECK_STR(lcb_checkpoint_state(&all[0]), "held, partial");
        CHECK_STR(lcb_checkpoint_state(&all[1]), "released");
        CHECK(all[1].released_at > 0);
    }
    for (i = 0; i < n; i++)
        lcb_checkpoint_release(&all[i]);
    free(all);
    CHECK_INT(lcb_checkpoint_list(&all, &n, cat, "prod", &err), 0);
    CHECK_INT(n, 0);
    free(all);
    lcb_strlist_release(&ids);
    lcb_catalog_close(cat);
}

static const char policy_text[] =
    "{\"version\":1,\"env\":\"dev\",\"region\":\"eu-west-1\","
    "\"storage\":{\"bucket\":\"legocity-backups-dev\"},"
    "\"defaults\":{\"schedule\":\"@hourly\",\"retention\":{\"keep_last\":3}},"
    "\"targets\":{\"rds\":[{\"instance\":\"db\",\"db_url_param\":\"/legocity/dev/payload/db-url\"}],"
    "\"broker\":[{\"name\":\"broker\",\"url\":\"http://127.0.0.1:1026\"}],"
    "\"config\":[{\"name\":\"config\",\"ssm_paths\":[\"/legocity/dev/\"]}]}}";

static void
line_of(struct lcb_buf *out, const struct lcb_checkpoint_plan *p, size_t i)
{
    lcb_buf_reset(out);
    lcb_checkpoint_step_line(out, &p->steps[i]);
}

static void
test_plan(void)
{
    struct lcb_catalog *cat = open_catalog("plan.db");
    struct lcb_policy *pol = NULL;
    struct lcb_checkpoint c;
    struct lcb_checkpoint_plan p;
    struct lcb_strlist ids = LCB_STRLIST_INIT;
    struct lcb_buf line = LCB_BUF_INIT, want = LCB_BUF_INIT;
    struct lcb_err err;
    char rds[64], brk[64], cfg[64], ebs[64], run[40];
    size_t i;

    CHECK(cat != NULL);
    CHECK_INT(lcb_policy_parse(&pol, "t.json", policy_text, strlen(policy_text), NULL, &err), 0);
    if (!cat || !pol)
        return;
    CHECK_INT(lcb_catalog_run_begin(cat, "checkpoint", NULL, "dev", run, &err), 0);
    add_backup(cat, "broker", "broker", "completed", NULL, brk);
    add_backup(cat, "config", "config", "completed",
               "{\"counts\":{\"ssm-parameters\":16,\"ecs-services\":5,"
               "\"secretsmanager-secrets\":0}}", cfg);
    add_backup(cat, "rds", "db", "completed", NULL, rds);
    add_backup(cat, "ebs", "data", "pending", NULL, ebs);
    lcb_strlist_add(&ids, brk);
    lcb_strlist_add(&ids, cfg);
    lcb_strlist_add(&ids, rds);
    lcb_strlist_add(&ids, ebs);
    CHECK_INT(lcb_checkpoint_create(cat, run, "cp-p", "plan", "dev", "rds,broker,config,ebs", &ids,
                                    0, &err), 0);
    for (i = 0; i < ids.n; i++)
        CHECK_INT(lcb_checkpoint_hold(cat, run, ids.items[i], "cp-p", &err), 0);
    CHECK_INT(lcb_checkpoint_load(&c, cat, "cp-p", &err), 0);
    lcb_checkpoint_plan_init(&p);
    CHECK_INT(lcb_checkpoint_plan_build(&p, &c, pol), 4);
    if (p.n == 4) {
        CHECK_STR(p.steps[0].phase, "config");
        line_of(&line, &p, 0);
        lcb_buf_addf(&want, "lcbackup restore ssm %s --yes", cfg);
        CHECK_STR(lcb_buf_str(&line), lcb_buf_str(&want));
        line_of(&line, &p, 1); /* no secrets counted: no restore secrets step */
        lcb_buf_reset(&want);
        lcb_buf_addf(&want, "lcbackup restore services %s --yes", cfg);
        CHECK_STR(lcb_buf_str(&line), lcb_buf_str(&want));
        CHECK_STR(p.steps[2].phase, "database");
        line_of(&line, &p, 2);
        lcb_buf_reset(&want);
        lcb_buf_addf(&want, "lcbackup restore rds --backup %s --yes --update-param "
                     "/legocity/dev/payload/db-url", rds);
        CHECK_STR(lcb_buf_str(&line), lcb_buf_str(&want));
        CHECK_STR(p.steps[3].phase, "broker");
    }
    CHECK_INT(p.notes.n, 1); /* the pending ebs backup */
    if (p.notes.n)
        CHECK(strstr(p.notes.items[0], "pending") && strstr(p.notes.items[0], "catalog refresh"));
    /* words a shell would read are quoted */
    lcb_strlist_add(&p.steps[0].args, "it's a test");
    line_of(&line, &p, 0);
    CHECK(strstr(lcb_buf_str(&line), " 'it'\\''s a test'") != NULL);
    lcb_checkpoint_plan_release(&p);
    lcb_checkpoint_release(&c);
    lcb_strlist_release(&ids);
    lcb_buf_release(&line);
    lcb_buf_release(&want);
    lcb_policy_free(pol);
    lcb_catalog_close(cat);
}

int
main(void)
{
    char cmd[64];
    int rc;

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_names);
    RUN(test_life);
    RUN(test_plan);
    rc = harness_done();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return rc;
}
