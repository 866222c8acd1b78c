"""CloudWatch signs and routes as "monitoring" (its SigV4 service name and endpoint prefix);
the module is simlib/cloudwatch.py. Control hooks: /monitoring/... (see cloudwatch.py)."""

from .cloudwatch import control, handle  # noqa: F401
