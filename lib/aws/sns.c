/* sns.c - Amazon SNS; see sns.h. */
#include "sns.h"

#include <stdio.h>
#include <string.h>

#include "../core/mem.h"

const struct lcb_query_svc lcb_query_sns = { "sns", "2010-03-31", 0 };

int
lcb_sns_arn_region(const char *arn, char *out, size_t size)
{
    const char *p, *e;

    if (!arn || strncmp(arn, "arn:", 4) != 0 || !(p = strstr(arn, ":sns:")))
        return -1;
    p += 5;
    if (!(e = strchr(p, ':')) || e == p || (size_t)(e - p) >= size || !strchr(e + 1, ':'))
        return -1;
    snprintf(out, size, "%.*s", (int)(e - p), p);
    return 0;
}

char *
lcb_sns_subject(const char *subject, char *out)
{
    size_t n = 0, len = strlen(subject);
    const unsigned char *p;

    for (p = (const unsigned char *)subject; *p && n < LCB_SNS_SUBJECT_MAX; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t')
            out[n++] = ' ';
        else if (*p < 32 || *p >= 127)
            out[n++] = '?';
        else
            out[n++] = (char)*p;
    }
    if (len > LCB_SNS_SUBJECT_MAX)
        memcpy(out + LCB_SNS_SUBJECT_MAX - 3, "...", 3);
    out[n] = '\0';
    if (n == 0)
        snprintf(out, LCB_SNS_SUBJECT_MAX + 1, "lcbackup");
    return out;
}

int
lcb_sns_publish(struct lcb_buf *message_id, struct lcb_aws *aws, const char *topic_arn,
                const char *subject, const char *message, const struct lcb_sns_attr *attrs,
                size_t nattrs, struct lcb_err *err)
{
    struct lcb_query q;
    struct lcb_query_resp r;
    char region[64], subj[LCB_SNS_SUBJECT_MAX + 1], name[64];
    size_t i;
    int rc;

    if (lcb_sns_arn_region(topic_arn, region, sizeof(region)) < 0)
        return lcb_err_set(err, LCB_EUSAGE, "'%s' is not an SNS topic ARN", topic_arn);
    lcb_query_init(&q, &lcb_query_sns, "Publish");
    q.region = region;
    lcb_query_add(&q, "TopicArn", topic_arn);
    lcb_query_add(&q, "Message", message);
    if (subject)
        lcb_query_add(&q, "Subject", lcb_sns_subject(subject, subj));
    for (i = 0; i < nattrs; i++) {
        snprintf(name, sizeof(name), "MessageAttributes.entry.%zu.Name", i + 1);
        lcb_query_add(&q, name, attrs[i].name);
        snprintf(name, sizeof(name), "MessageAttributes.entry.%zu.Value.DataType", i + 1);
        lcb_query_add(&q, name, attrs[i].type);
        snprintf(name, sizeof(name), "MessageAttributes.entry.%zu.Value.StringValue", i + 1);
        lcb_query_add(&q, name, attrs[i].value);
    }
    lcb_query_resp_init(&r);
    rc = lcb_query_call(&r, aws, &q, err);
    if (rc < 0)
        lcb_wrap(err, "publish to %s", topic_arn);
    else if (message_id)
        lcb_buf_adds(message_id, lcb_xml_get(r.result, "MessageId") ?
                     lcb_xml_get(r.result, "MessageId") : "");
    lcb_query_resp_release(&r);
    lcb_query_release(&q);
    return rc;
}

int
lcb_sns_create_topic(struct lcb_buf *arn, struct lcb_aws *aws, const char *name,
                     struct lcb_err *err)
{
    struct lcb_query q;
    struct lcb_query_resp r;
    const char *a;
    int rc = -1;

    lcb_query_init(&q, &lcb_query_sns, "CreateTopic");
    lcb_query_add(&q, "Name", name);
    lcb_query_resp_init(&r);
    if (lcb_query_call(&r, aws, &q, err) < 0) {
        lcb_wrap(err, "create SNS topic %s", name);
    } else if (!(a = lcb_xml_get(r.result, "TopicArn")) || !*a) {
        lcb_err_set(err, LCB_ECORRUPT, "CreateTopic %s: the answer has no TopicArn", name);
    } else {
        lcb_buf_adds(arn, a);
        rc = 0;
    }
    lcb_query_resp_release(&r);
    lcb_query_release(&q);
    return rc;
}

int
lcb_sns_topic_exists(struct lcb_aws *aws, const char *topic_arn, struct lcb_err *err)
{
    struct lcb_query q;
    struct lcb_query_resp r;
    struct lcb_pager pg;
    struct lcb_xml_node *t;
    char region[64];
    int rc = 0, found = 0;

    if (lcb_sns_arn_region(topic_arn, region, sizeof(region)) < 0)
        return lcb_err_set(err, LCB_EUSAGE, "'%s' is not an SNS topic ARN", topic_arn);
    lcb_query_init(&q, &lcb_query_sns, "ListTopics");
    q.region = region;
    lcb_query_resp_init(&r);
    lcb_pager_init(&pg, LCB_QUERY_NEXT_TOKEN);
    while (!found && (rc = lcb_query_page(&r, aws, &q, &pg, err)) > 0)
        for (t = lcb_xml_path(r.result, "Topics/member"); t; t = lcb_xml_next(t, "member"))
            if (lcb_xml_get(t, "TopicArn") && strcmp(lcb_xml_get(t, "TopicArn"), topic_arn) == 0)
                found = 1;
    lcb_query_resp_release(&r);
    lcb_pager_release(&pg);
    lcb_query_release(&q);
    if (!found && rc < 0)
        return lcb_wrap(err, "list SNS topics in %s", region);
    return found;
}
