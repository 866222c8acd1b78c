"""lcsim: a local AWS + NGSI-LD simulator for lcbackup's tests.

See tests/sim/CONTRACT.md for the interface between the framework (core, server, sigv4,
control, seed) and the service modules (s3, sts, kms, ssm, ecs, ec2, rds, broker).
"""

# Services the AWS endpoint routes, and the wire protocol each one speaks.
PROTOCOLS = {
    "s3": "rest-xml",
    "sts": "query",
    "rds": "query",
    "ec2": "ec2",
    "ssm": "json",
    "ecs": "json",
    "kms": "json",
    "secretsmanager": "json",
    "sns": "query",
    "monitoring": "query",      # CloudWatch (simlib/cloudwatch.py)
}

# X-Amz-Target prefix -> service (used only when a request carries no SigV4 scope).
TARGET_PREFIXES = {
    "AmazonSSM": "ssm",
    "AmazonEC2ContainerServiceV20141113": "ecs",
    "TrentService": "kms",
    "secretsmanager": "secretsmanager",
}

# XML namespaces of the Query/EC2 protocols.
NAMESPACES = {
    "rds": "http://rds.amazonaws.com/doc/2014-10-31/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "ec2": "http://ec2.amazonaws.com/doc/2016-11-15/",
    "s3": "http://s3.amazonaws.com/doc/2006-03-01/",
    "sns": "http://sns.amazonaws.com/doc/2010-03-31/",
    "monitoring": "http://monitoring.amazonaws.com/doc/2010-08-01/",
}

DEFAULT_REGION = "eu-west-1"
ACCOUNT_ID = "123456789012"
