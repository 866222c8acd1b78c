/*
 * ssm.h - SSM Parameter Store (JSON 1.1, AmazonSSM) on top of jsonrpc.h.
 *
 * Values of SecureString parameters come back in a struct lcb_secret, so they are registered with
 * the redactor the moment they exist in this process.
 */
#ifndef LCB_AWS_SSM_H
#define LCB_AWS_SSM_H

#include "../core/err.h"
#include "../core/secret.h"
#include "../ext/json.h"
#include "aws.h"

/* One parameter's value, decrypted. type receives "String", "StringList" or "SecureString" (may be
 * NULL). Errors: LCB_ENOTFOUND (ParameterNotFound), LCB_EAUTH, LCB_ETEMP. */
int lcb_ssm_get(struct lcb_secret *value, char *type, size_t type_size, struct lcb_aws *aws,
                const char *name, struct lcb_err *err);

/* Every parameter under path (recursive, decrypted), all pages, as one JSON array of SSM's
 * Parameter objects (Name, Type, Value, Version, LastModifiedDate, ARN, DataType). SecureString
 * values are registered with the redactor. *out is the caller's. */
int lcb_ssm_get_by_path(struct lcb_json **out, struct lcb_aws *aws, const char *path,
                        struct lcb_err *err);
/* DescribeParameters under path (ParameterFilters Path Recursive), all pages: Name, Type, KeyId,
 * Tier, Description, AllowedPattern, DataType, Version, LastModifiedDate. */
int lcb_ssm_describe_by_path(struct lcb_json **out, struct lcb_aws *aws, const char *path,
                             struct lcb_err *err);
/* ListTagsForResource of a parameter: a JSON array of {Key, Value}. */
int lcb_ssm_tags(struct lcb_json **out, struct lcb_aws *aws, const char *name, struct lcb_err *err);

#endif
