/*
 * ecs.h - Amazon ECS (JSON 1.1, AmazonEC2ContainerServiceV20141113, lowerCamel members) on top of
 * jsonrpc.h: the services of a cluster and the task definitions they run, and what it takes to
 * put them back (RegisterTaskDefinition, CreateService, UpdateService, TagResource).
 *
 * Answers are the service's own JSON objects (lcb_json), as DescribeServices and
 * DescribeTaskDefinition return them, so that an export keeps every field AWS knows about, even
 * those this client has never heard of. The two pure functions at the end turn a described task
 * definition or service back into a request (docs: /work/shared/reference/aws-wire.md 2.4: the
 * read-only fields stripped, tags only when there are some, roleArn -> role, launchType only
 * without a capacity provider strategy).
 *
 * Ownership: every *out document is the caller's (lcb_json_free). Parameters are borrowed.
 * Errors come from lcb_jsonrpc_call(): ClusterNotFoundException, ServiceNotFoundException and
 * ClientException "Unable to describe task definition" are LCB_ENOTFOUND (66) where noted,
 * AccessDeniedException LCB_EAUTH (77), throttling LCB_ETEMP (75), InvalidParameterException
 * and the other refusals LCB_EREFUSED (69) or as lcb_aws_classify() maps them.
 */
#ifndef LCB_AWS_ECS_H
#define LCB_AWS_ECS_H

#include <stddef.h>

#include "../core/err.h"
#include "../core/opt.h"
#include "../ext/json.h"
#include "aws.h"

#define LCB_ECS_LIST_PAGE 100    /* ListServices maxResults (the service's default is 10) */
#define LCB_ECS_DESCRIBE_MAX 10  /* names per DescribeServices */

/* ListServices of cluster, every page of up to 100: the service ARNs appended to out in the
 * service's order. Returns 0, or -1 (LCB_ENOTFOUND: ClusterNotFoundException; LCB_ECORRUPT: a
 * repeated token). */
int lcb_ecs_list_services(struct lcb_strlist *out, struct lcb_aws *aws, const char *cluster,
                          struct lcb_err *err);

/* DescribeServices of n names or ARNs with include ["TAGS"], in calls of up to 10. *services
 * receives an array of Service objects (tags included), *failures an array of {arn, reason,
 * detail} (unknown services: reason "MISSING"; they are not an error). failures may be NULL.
 * Returns 0, or -1 (LCB_ENOTFOUND: the cluster does not exist). */
int lcb_ecs_describe_services(struct lcb_json **services, struct lcb_json **failures,
                              struct lcb_aws *aws, const char *cluster, const char *const *names,
                              size_t n, struct lcb_err *err);

/* DescribeTaskDefinition of ref ("family", "family:rev" or an ARN) with include ["TAGS"]: *out is
 * {"taskDefinition": {...}, "tags": [{key, value}...]} ("tags" always present, maybe empty).
 * Returns 0, or -1 (LCB_ENOTFOUND: no such task definition). */
int lcb_ecs_describe_task_definition(struct lcb_json **out, struct lcb_aws *aws, const char *ref,
                                     struct lcb_err *err);

/* ListTaskDefinitions of family (familyPrefix; ECS matches it as a prefix), ACTIVE only, newest
 * first: up to max ARNs (at most 100) appended to out. Returns 0, or -1. */
int lcb_ecs_list_task_definitions(struct lcb_strlist *out, struct lcb_aws *aws, const char *family,
                                  int max, struct lcb_err *err);

/* RegisterTaskDefinition with request (see lcb_ecs_register_request): *out is the answer's
 * taskDefinition object (a new revision). Not retried blindly after a timeout or 5xx (there is no
 * client token). Returns 0, or -1 (LCB_EREFUSED: ClientException, e.g. "Tags can not be
 * empty."). */
int lcb_ecs_register_task_definition(struct lcb_json **out, struct lcb_aws *aws,
                                     const struct lcb_json *request, struct lcb_err *err);

/* CreateService / UpdateService with request: *out is the answer's service object. A request
 * for CreateService should carry a clientToken (then retries are safe). Returns 0, or -1
 * (LCB_EREFUSED: InvalidParameterException such as "Creation of service was not idempotent";
 * LCB_ENOTFOUND: ServiceNotFoundException, ClusterNotFoundException). */
int lcb_ecs_create_service(struct lcb_json **out, struct lcb_aws *aws,
                           const struct lcb_json *request, struct lcb_err *err);
int lcb_ecs_update_service(struct lcb_json **out, struct lcb_aws *aws,
                           const struct lcb_json *request, struct lcb_err *err);

/* TagResource of arn with tags (a non-empty array of {key, value}); UntagResource of n keys.
 * Returns 0, or -1. */
int lcb_ecs_tag_resource(struct lcb_aws *aws, const char *arn, const struct lcb_json *tags,
                         struct lcb_err *err);
int lcb_ecs_untag_resource(struct lcb_aws *aws, const char *arn, const char *const *keys,
                           size_t n, struct lcb_err *err);

/* Pure. The fields of a described task definition that RegisterTaskDefinition refuses or
 * recomputes (taskDefinitionArn, revision, status, requiresAttributes, compatibilities,
 * registeredAt, registeredBy, deregisteredAt, deleteRequestedAt). NULL-terminated. */
extern const char *const lcb_ecs_taskdef_read_only[];

/* Pure. The RegisterTaskDefinition request for td (a taskDefinition object as described) and
 * tags (an array of {key, value}, or NULL): the read-only fields stripped, empty
 * repositoryCredentials.credentialsParameter dropped, and "tags" only when not empty. The
 * caller owns the result. */
struct lcb_json *lcb_ecs_register_request(const struct lcb_json *td, const struct lcb_json *tags);

/* Pure. The CreateService request that re-creates svc (a Service object as described, tags
 * included) in cluster, running task_definition (an ARN or family:revision): the read-only and
 * runtime fields dropped, roleArn sent as role unless it is the service-linked role (and never
 * with awsvpc), launchType only without a capacityProviderStrategy, tags only when not empty.
 * client_token may be NULL. The caller owns the result. */
struct lcb_json *lcb_ecs_create_request(const struct lcb_json *svc, const char *cluster,
                                        const char *task_definition, const char *client_token);

/* Pure. The service's name in an ARN ("arn:...:service/cluster/name" or the older
 * "arn:...:service/name") or a plain name, into out (size bytes). */
void lcb_ecs_service_name(const char *arn_or_name, char *out, size_t size);

#endif
