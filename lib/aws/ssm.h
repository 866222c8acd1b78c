/*
 * ssm.h - SSM Parameter Store (JSON 1.1, AmazonSSM) on top of jsonrpc.h.
 *
 * Values come back in a struct lcb_secret; those of SecureString parameters stay registered with the
 * redactor from the moment they exist in this process (a String's value is not a secret).
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

/* PutParameter with request, an object of SSM's members (Name, Value, Type, KeyId, Overwrite,
 * Tags, Tier, Description, AllowedPattern, DataType). SSM refuses Tags together with Overwrite
 * (create with tags, or overwrite then lcb_ssm_add_tags). *version (may be NULL) receives the new
 * version. Errors: LCB_EREFUSED (ParameterAlreadyExists, ValidationException,
 * HierarchyTypeMismatchException, ParameterPatternMismatchException; err->aws_code says which),
 * LCB_ENOTFOUND (InvalidKeyId is not "not found": it is LCB_EREFUSED), LCB_EAUTH, LCB_ETEMP. The
 * error never contains the value. */
int lcb_ssm_put(long long *version, struct lcb_aws *aws, const struct lcb_json *request,
                struct lcb_err *err);
/* AddTagsToResource of parameter name with tags (a non-empty array of {Key, Value}). */
int lcb_ssm_add_tags(struct lcb_aws *aws, const char *name, const struct lcb_json *tags,
                     struct lcb_err *err);
/* RemoveTagsFromResource of n tag keys. */
int lcb_ssm_remove_tags(struct lcb_aws *aws, const char *name, const char *const *keys, size_t n,
                        struct lcb_err *err);
/* DeleteParameter. Errors: LCB_ENOTFOUND (ParameterNotFound), LCB_EAUTH, LCB_ETEMP. */
int lcb_ssm_delete(struct lcb_aws *aws, const char *name, struct lcb_err *err);

#endif
