#!/usr/bin/python3
"""t5lib.py - run a Python snippet (stdin) against the simulated AWS through botocore, for the
t5xxx tests: one interpreter for many calls (each /usr/bin/aws call costs seconds).

  $PY t5lib.py <<'EOF'
  print(sm.get_secret_value(SecretId="legocity/dev/mapbox/token")["SecretString"])
  EOF

Names available: sm (secretsmanager), sns, cw (cloudwatch), ssm, rds, client(name), json, base64.
Environment: the simulator's (AWS_ENDPOINT_URL, AWS_REGION, credentials).
"""
import base64
import json
import os
import sys

import botocore.config
import botocore.session


def client(name):
    s = botocore.session.Session()
    return s.create_client(name, region_name=os.environ.get("AWS_REGION", "eu-west-1"),
                           endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                           config=botocore.config.Config(retries={"total_max_attempts": 1}))


class Lazy(dict):
    def __missing__(self, key):
        names = {"sm": "secretsmanager", "sns": "sns", "cw": "cloudwatch", "ssm": "ssm",
                 "rds": "rds"}
        if key not in names:
            raise KeyError(key)
        self[key] = client(names[key])
        return self[key]


env = Lazy(json=json, base64=base64, client=client, __builtins__=__builtins__)
exec(compile(sys.stdin.read(), "<t5lib>", "exec"), env)
