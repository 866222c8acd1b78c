/*
 * drill.h - the restore drill model: what was restored from which backup, the phases it went
 * through with their timings, each check with its result, and RTO and RPO against the policy's
 * targets; the report JSON the catalog keeps (drills.report) and reads back for `lcbackup report`.
 *
 * A drill holds one component per policy target drilled (rds, ebs, broker, config). A component's
 * clock starts when its request phase starts:
 *   request       the restore is asked for (RestoreDBInstanceFromDBSnapshot, CreateVolume, the
 *                 archive opened and verified, ...)
 *   provisioning  waiting until the restored copy is usable (instance available, entities written)
 *   checks        the checks run against the restored copy
 *   teardown      the throwaway resources are removed
 * RTO is request start to checks end (restored and verified; teardown is not part of it). RPO is
 * the age of the recovery point (the backup's taken_at) when the component started. A component
 * passes when every check passes and both targets (when set) are met.
 *
 * Pure except for lcb_drill_now_ms() (the monotonic clock). Ownership: struct lcb_drill_run is
 * caller-owned (_init/_release) and owns its components and their checks; pointers returned by the
 * _add functions are borrowed and valid until the next add of the same kind.
 */
#ifndef LCB_DRILL_DRILL_H
#define LCB_DRILL_DRILL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../core/buf.h"
#include "../core/err.h"

struct lcb_json;

enum lcb_check_result { LCB_CHECK_PASS, LCB_CHECK_FAIL, LCB_CHECK_SKIP, LCB_CHECK_ERROR };

enum lcb_phase {
    LCB_PHASE_REQUEST,
    LCB_PHASE_PROVISION,
    LCB_PHASE_CHECKS,
    LCB_PHASE_TEARDOWN,
    LCB_PHASE_COUNT
};

struct lcb_drill_check {
    char *name; /* "amcheck", "rows public.users", "sql users exist" */
    enum lcb_check_result result;
    char *detail;   /* what was found, "200 rows, fingerprint 200 (tolerance 0%)" */
    char *relation; /* the relation a failure concerns ("public.users_email_idx"), or NULL */
    double secs;
};

struct lcb_drill_phase_time {
    double start; /* seconds from the drill's start; -1: never entered */
    double secs;
};

struct lcb_drill_comp {
    char *kind;   /* rds | ebs | broker | config */
    char *target; /* the policy target's name */
    char *backup_id;
    char *source;    /* what the backup was taken of */
    char *restored;  /* where it was restored: instance id, volume id, tenant */
    time_t taken_at; /* the recovery point; 0: unknown */
    time_t started_at;
    struct lcb_drill_phase_time phases[LCB_PHASE_COUNT];
    int64_t phase_open_ms[LCB_PHASE_COUNT]; /* monotonic start of a running phase; 0: none */
    struct lcb_drill_check *checks;
    size_t nchecks, cchecks;
    double rto;         /* seconds; -1: not restored and verified */
    int64_t rto_target; /* seconds; 0: none */
    int64_t rpo;        /* seconds; -1: unknown */
    int64_t rpo_target;
    char *status; /* passed | failed | error | interrupted | running */
    char *error;  /* why it could not complete, or NULL */
};

struct lcb_drill_swept {
    char *kind; /* "rds instance", "ebs volume" */
    char *id;
    char *reason; /* "expired 2026-11-28T12:00:00Z", "drill drill-... abandoned" */
    int ok;       /* deleted (or already gone) */
};

struct lcb_drill_run {
    char id[64];
    char *env;
    char *policy;
    char *pick;
    time_t started_at, ended_at;
    int64_t start_ms; /* monotonic */
    struct lcb_drill_comp *comps;
    size_t ncomps, ccomps;
    struct lcb_drill_swept *swept;
    size_t nswept, cswept;
    char *status; /* passed | failed | interrupted | running */
};

void lcb_drill_run_init(struct lcb_drill_run *r, const char *id, time_t now, int64_t now_ms);
void lcb_drill_run_release(struct lcb_drill_run *r);

/* A new component (status running, no phases yet). Borrowed. */
struct lcb_drill_comp *lcb_drill_comp_add(struct lcb_drill_run *r, const char *kind,
                                          const char *target);
void lcb_drill_comp_set(char **field, const char *value);
/* Record a check. detail is printf-style; relation may be NULL. Returns the check (borrowed). */
struct lcb_drill_check *lcb_drill_check_add(struct lcb_drill_comp *c, const char *name,
                                            enum lcb_check_result result, const char *relation,
                                            const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Phase timing from the monotonic clock now_ms (the run's start_ms is the origin). Ending a phase
 * that was never begun does nothing; beginning one twice keeps the first start. */
void lcb_drill_phase_begin(struct lcb_drill_run *r, struct lcb_drill_comp *c, enum lcb_phase p,
                           int64_t now_ms);
void lcb_drill_phase_end(struct lcb_drill_run *r, struct lcb_drill_comp *c, enum lcb_phase p,
                         int64_t now_ms);
/* Close every phase still open (a failure or an interruption left it running). */
void lcb_drill_phases_close(struct lcb_drill_run *r, struct lcb_drill_comp *c, int64_t now_ms);

/* Work out RTO (when the checks phase ended and the component did not fail outright), RPO (from
 * taken_at and started_at), and the status: "error" when error is set, "interrupted" when
 * interrupted, else "failed" when a check failed or errored or a target was missed, else
 * "passed". */
void lcb_drill_comp_finish(struct lcb_drill_comp *c, int64_t rto_target, int64_t rpo_target,
                           int interrupted);
/* The run's status from its components ("passed" only when every one passed and there is at
 * least one); "interrupted" when interrupted. Sets r->status and returns it. */
const char *lcb_drill_run_finish(struct lcb_drill_run *r, time_t now, int interrupted);
/* Counts over the run's checks. */
void lcb_drill_run_counts(const struct lcb_drill_run *r, int *passed, int *failed, int *skipped);

/* RTO met? 1 yes, 0 no, -1 no target (or no RTO). Likewise RPO. */
int lcb_drill_rto_ok(const struct lcb_drill_comp *c);
int lcb_drill_rpo_ok(const struct lcb_drill_comp *c);

const char *lcb_check_result_name(enum lcb_check_result r);
const char *lcb_phase_name(enum lcb_phase p);

/* Record a swept resource. */
void lcb_drill_swept_add(struct lcb_drill_run *r, const char *kind, const char *id,
                         const char *reason, int ok);

/* ---- the report JSON ---- */

/* The whole run as the report JSON object (docs/drills.md), appended to out (pretty or compact). */
void lcb_drill_report_json(const struct lcb_drill_run *r, struct lcb_buf *out, int pretty);
/* Read a report back into r (initialised here). Returns 0, or -1 with LCB_ECORRUPT naming the
 * member that is wrong. */
int lcb_drill_report_parse(struct lcb_drill_run *r, const struct lcb_json *j, struct lcb_err *err);

/* ---- pure rules ---- */

/* Evaluate a policy check's expectation (">= 1", "= 0", "== 'text'", "!= x", "< 5", "> 0",
 * "<= 3") against a query's first cell (NULL: SQL NULL, which meets nothing but "= null"/"== null"
 * ...). Numbers compare numerically when both sides are numbers, otherwise as text ('quotes'
 * around the wanted text are optional). Returns 1 met, 0 not met, -1 when expect cannot be read. */
int lcb_drill_expect(const char *expect, const char *value);

/* How to choose the recovery point. */
struct lcb_drill_pick {
    int random;     /* 0: latest */
    int64_t within; /* random-within:DUR: seconds */
};
/* "latest" or "random-within:7d" (NULL: latest). Returns 0, or -1 with LCB_EUSAGE. */
int lcb_drill_pick_parse(struct lcb_drill_pick *p, const char *s, struct lcb_err *err);
/* Choose among n recovery points (taken_at, newest first as the catalog lists them): latest
 * gives 0; random-within gives one of those taken within `within` seconds of now, by rnd (any
 * unsigned value; the choice is rnd modulo the candidates). Returns the index, or -1 when none
 * qualifies. */
long lcb_drill_pick_choose(const struct lcb_drill_pick *p, const time_t *taken_at, size_t n,
                           time_t now, unsigned rnd);

/* Components: "rds,broker" into a bit set of kinds (1 << LCB_KIND_*); NULL or "" means all four.
 * Returns 0, or -1 with LCB_EUSAGE naming an unknown one. */
int lcb_drill_components_parse(unsigned *set, const char *s, struct lcb_err *err);

/* The throwaway copy's name: "lcb-drill-<instance>-<yyyymmddhhmmss>" in lower case, a valid RDS
 * instance identifier (at most 63 characters: the instance part is shortened as needed). */
void lcb_drill_resource_name(char *out, size_t size, const char *instance, time_t t);

/* Tags every drill resource carries. */
#define LCB_DRILL_TAG_ID "lcbackup:drill-id"
#define LCB_DRILL_TAG_EXPIRES "lcbackup:drill-expires"
#define LCB_DRILL_PREFIX "lcb-drill-"
/* When a component's resources may be swept, from the component's start: its wait for the
 * restore and its teardown are each bounded by the drill timeout, so start + 2 x timeout + a
 * margin (a quarter of the timeout, at least 5 and at most 60 minutes). */
time_t lcb_drill_expiry(time_t start, int64_t timeout);

/* May a resource carrying these tag values be swept now? expires: the expiry tag (NULL or
 * unreadable: only the drill's state decides); drill_status: the status the catalog holds for the
 * drill named by the id tag (NULL: unknown to this catalog). A resource of a drill this catalog
 * knows to be running is never due; otherwise it is due when its expiry has passed, or when the
 * drill that made it is over (any other status). reason receives why (or why not). Returns 1 when
 * due. */
int lcb_drill_sweep_due(const char *expires, const char *drill_status, time_t now, char *reason,
                        size_t size);

/* The relation an amcheck error names: `index "users_email_idx"` -> users_email_idx (the first
 * double-quoted name after "index" or "relation"), into out. Returns 1 when found. */
int lcb_drill_amcheck_relation(const char *message, char *out, size_t size);

#endif
