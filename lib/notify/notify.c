/* notify.c - notices of failed runs and their publication to SNS; see notify.h. */
#include "notify.h"

#include <stdio.h>
#include <string.h>

#include "../aws/sns.h"
#include "../core/clock.h"
#include "../core/secret.h"

int
lcb_notice_wanted(const struct lcb_notice *n, int on_success)
{
    if (n->exit_code == 64)
        return 0;
    if (n->status && strcmp(n->status, "succeeded") == 0)
        return on_success;
    return 1;
}

static int
is_drill(const char *command)
{
    return command && strncmp(command, "drill", 5) == 0;
}

const char *
lcb_notice_next_step(const char *command, int exit_code)
{
    switch (exit_code) {
    case 0:
        return "nothing to do.";
    case 2:
        return "some items failed and are listed in the run (`lcbackup show RUN`); fix them and "
               "run the command again, or let the next scheduled run retry them.";
    case 3:
        return "the restored copy failed a check or missed its RTO/RPO target: read the drill "
               "report (`lcbackup report`) and treat that backup as suspect until a drill passes.";
    case 65:
        return "an archive, checksum or file is corrupt: do not restore from it; verify the other "
               "backups (`lcbackup verify ID`) and take a new backup.";
    case 66:
        return "a backup, snapshot or catalog entry is missing: check `lcbackup list` and "
               "`lcbackup catalog check`.";
    case 69:
        return "AWS refused the request (quota or resource state): check the message, the "
               "service quotas and the resource, then run again.";
    case 73:
        return "another lcbackup run holds the catalog lock: check that it is alive, then run "
               "again (or use --lock-timeout).";
    case 74:
        return "a local I/O error: check disk space and permissions of the catalog and temporary "
               "directories.";
    case 75:
        return is_drill(command)
                   ? "a temporary failure (throttling, timeout, network) stopped the drill: run "
                     "it again; `lcbackup doctor` checks connectivity."
                   : "a temporary failure (throttling, timeout, network) after retries: the next "
                     "scheduled run tries again; if it repeats, run `lcbackup doctor`.";
    case 77:
        return "AWS denied access: check the credentials and the role's permissions with "
               "`lcbackup doctor`.";
    case 78:
        return "configuration missing or invalid: run `lcbackup policy check` and `lcbackup "
               "doctor`.";
    case 130:
    case 143:
        return "the run was interrupted; its partial work is marked as such: run it again.";
    default:
        return "an unexpected failure: read the run's log, run again with -v, and report it with "
               "`lcbackup version` if it repeats.";
    }
}

static const char *
code_meaning(int exit_code)
{
    switch (exit_code) {
    case 0: return "everything done";
    case 2: return "partial: some items failed";
    case 3: return "drill verification failed";
    case 65: return "data: corrupt archive or checksum mismatch";
    case 66: return "not found";
    case 69: return "refused by the service";
    case 70: return "internal error";
    case 73: return "locked by another run";
    case 74: return "local I/O error";
    case 75: return "temporary: throttled, timeout or network";
    case 77: return "AWS authentication or permission denied";
    case 78: return "configuration missing or invalid";
    case 130: return "interrupted (SIGINT)";
    case 143: return "interrupted (SIGTERM)";
    default: return "unexpected failure";
    }
}

void
lcb_notice_subject(struct lcb_buf *out, const struct lcb_notice *n)
{
    const char *what = is_drill(n->command) && n->exit_code == 3 ? "drill failed" : n->status;

    lcb_buf_addf(out, "lcbackup %s: %s %s", n->env && *n->env ? n->env : "-",
                 n->command ? n->command : "?", what ? what : "failed");
    if (n->exit_code)
        lcb_buf_addf(out, " (exit %d)", n->exit_code);
}

void
lcb_notice_body(struct lcb_buf *out, const struct lcb_notice *n)
{
    char t[LCB_TIME_LEN];

    lcb_buf_addf(out, "lcbackup %s %s in environment %s", n->command ? n->command : "?",
                 n->status ? n->status : "failed", n->env && *n->env ? n->env : "-");
    if (n->host && *n->host)
        lcb_buf_addf(out, " on %s", n->host);
    lcb_buf_addf(out, " at %s.\n\n", lcb_time_fmt(n->at, t));
    if (n->error && *n->error)
        lcb_buf_addf(out, "What failed: %s\n", n->error);
    lcb_buf_addf(out, "Exit code:   %d (%s)\n", n->exit_code, code_meaning(n->exit_code));
    if (n->run_id && *n->run_id)
        lcb_buf_addf(out, "Run:         %s (lcbackup show %s)\n", n->run_id, n->run_id);
    if (n->policy && *n->policy)
        lcb_buf_addf(out, "Policy:      %s\n", n->policy);
    lcb_buf_addf(out, "\nNext step: %s\n", lcb_notice_next_step(n->command, n->exit_code));
}

int
lcb_notice_publish(struct lcb_buf *message_id, struct lcb_aws *aws, const char *topic_arn,
                   const struct lcb_notice *n, struct lcb_err *err)
{
    struct lcb_buf subject = LCB_BUF_INIT, body = LCB_BUF_INIT, red_s = LCB_BUF_INIT,
                   red_b = LCB_BUF_INIT;
    char code[16];
    struct lcb_sns_attr attrs[4];
    int rc;

    lcb_notice_subject(&subject, n);
    lcb_notice_body(&body, n);
    snprintf(code, sizeof(code), "%d", n->exit_code);
    attrs[0] = (struct lcb_sns_attr){ "env", "String", n->env && *n->env ? n->env : "-" };
    attrs[1] = (struct lcb_sns_attr){ "command", "String", n->command ? n->command : "?" };
    attrs[2] = (struct lcb_sns_attr){ "status", "String", n->status ? n->status : "failed" };
    attrs[3] = (struct lcb_sns_attr){ "exit_code", "Number", code };
    rc = lcb_sns_publish(message_id, aws, topic_arn, lcb_redact_str(&red_s, lcb_buf_str(&subject)),
                         lcb_redact_str(&red_b, lcb_buf_str(&body)), attrs, 4, err);
    lcb_buf_release(&subject);
    lcb_buf_release(&body);
    lcb_buf_release(&red_s);
    lcb_buf_release(&red_b);
    return rc;
}

void
lcb_notice_emf(struct lcb_buf *out, time_t at)
{
    lcb_buf_addf(out, "{\"Timestamp\":%lld000,\"CloudWatchMetrics\":[{\"Namespace\":\"%s\","
                 "\"Dimensions\":[[\"Env\"]],\"Metrics\":[{\"Name\":\"RunFailed\","
                 "\"Unit\":\"Count\"}]}]}",
                 (long long)at, LCB_ALARM_NAMESPACE);
}
