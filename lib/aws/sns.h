/*
 * sns.h - Amazon SNS over the Query protocol (Version 2010-03-31): publish a notification to a
 * topic, create and list topics. Requests go to the topic's own region (taken from its ARN).
 *
 * SNS's error codes are its own (InvalidParameter 400, NotFound 404, AuthorizationError 403);
 * lcb_aws_send() maps them: LCB_ENOTFOUND (the topic does not exist), LCB_EAUTH, LCB_EREFUSED
 * (InvalidParameter: err->aws_code says which), LCB_ETEMP.
 */
#ifndef LCB_AWS_SNS_H
#define LCB_AWS_SNS_H

#include <stddef.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "aws.h"
#include "query.h"

extern const struct lcb_query_svc lcb_query_sns; /* sns 2010-03-31 */

#define LCB_SNS_SUBJECT_MAX 100 /* printable ASCII, no line breaks */

/* Pure. The region field of a topic ARN ("arn:aws:sns:eu-west-1:123456789012:name") into out
 * (size bytes). Returns 0, or -1 when arn is not an SNS topic ARN. */
int lcb_sns_arn_region(const char *arn, char *out, size_t size);
/* Pure. subject cut to what SNS accepts: printable ASCII (anything else becomes '?'), no line
 * breaks, at most LCB_SNS_SUBJECT_MAX characters ("..." marks a cut). out has room for
 * LCB_SNS_SUBJECT_MAX + 1 bytes. Returns out. */
char *lcb_sns_subject(const char *subject, char *out);

struct lcb_sns_attr {
    const char *name;
    const char *type;  /* "String" or "Number" */
    const char *value;
};

/* Publish message (at most 256 KiB) with subject (may be NULL; cleaned with lcb_sns_subject) and
 * message attributes to topic_arn. message_id (may be NULL) receives the MessageId. Errors:
 * LCB_ENOTFOUND, LCB_EREFUSED, LCB_EAUTH, LCB_ETEMP; LCB_EUSAGE for a malformed ARN. */
int lcb_sns_publish(struct lcb_buf *message_id, struct lcb_aws *aws, const char *topic_arn,
                    const char *subject, const char *message, const struct lcb_sns_attr *attrs,
                    size_t nattrs, struct lcb_err *err);

/* CreateTopic name in the client's region (idempotent); arn receives its ARN. */
int lcb_sns_create_topic(struct lcb_buf *arn, struct lcb_aws *aws, const char *name,
                         struct lcb_err *err);

/* Is topic_arn among the topics of its region (ListTopics, all pages)? Returns 1, 0, or -1. */
int lcb_sns_topic_exists(struct lcb_aws *aws, const char *topic_arn, struct lcb_err *err);

#endif
