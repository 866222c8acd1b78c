"""STS (Query protocol): GetCallerIdentity, AssumeRole, AssumeRoleWithWebIdentity.

Temporary credentials (ASIA... key, secret, session token, expiration) live in
DIR/sts/sessions.json and are accepted by the SigV4 verifier (lookup_session). Roles that
may be assumed live in DIR/sts/roles.json (defaults below; control API /sts/roles).
"""

import re
import secrets
import string

from . import ACCOUNT_ID
from .core import AwsError, JsonStore, iso8601, xml_elems

DEFAULT_ROLES = ["lcbackup", "lcbackup-restore", "lcbackup-drill", "lcbackup-ecs-task"]
ALNUM = string.ascii_uppercase + string.digits
SESSION_RE = re.compile(r"^[\w+=,.@-]{2,64}$")
ROLE_ARN_RE = re.compile(r"^arn:aws:iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$")


def _store(world, name, default):
    return JsonStore(world.service_dir("sts") / name, default=default)


def _roles(world):
    store = _store(world, "roles.json", {"roles": DEFAULT_ROLES, "reject_web_identity": False})
    return store


def lookup_session(world, access_key):
    """Credentials of a temporary key for the SigV4 verifier, or None."""
    s = _store(world, "sessions.json", {}).read().get(access_key)
    if not s:
        return None
    return {"secret": s["secret"], "token": s["token"], "expiration": s["expiration"],
            "arn": s["arn"], "user_id": s["user_id"], "account": ACCOUNT_ID,
            "session": s["session_name"]}


def _rand(n, chars=ALNUM):
    return "".join(secrets.choice(chars) for _ in range(n))


def _issue(ctx, role_arn, session_name, duration, source):
    m = ROLE_ARN_RE.match(role_arn or "")
    role_name = m.group(2)
    now = ctx.world.server_time()
    ak = "ASIA" + _rand(16)
    role_id = "AROA" + _rand(17)
    session = {
        "secret": _rand(40, string.ascii_letters + string.digits + "+/"),
        "token": "IQoJb3JpZ2luX2VjE" + _rand(300, string.ascii_letters + string.digits),
        "expiration": now + duration,
        "arn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role_name}/{session_name}",
        "user_id": f"{role_id}:{session_name}",
        "role_arn": role_arn,
        "session_name": session_name,
        "source": source,
        "issued": now,
    }
    store = _store(ctx.world, "sessions.json", {})
    with store.update() as d:
        for k in [k for k, v in d.items() if v["expiration"] < now - 86400]:
            del d[k]
        d[ak] = session
    creds = [("AccessKeyId", ak), ("SecretAccessKey", session["secret"]),
             ("SessionToken", session["token"]),
             ("Expiration", iso8601(session["expiration"], millis=False))]
    user = [("AssumedRoleId", session["user_id"]), ("Arn", session["arn"])]
    return creds, user


def _check_role(ctx, role_arn, action, who):
    if not role_arn:
        raise AwsError("ValidationError", "1 validation error detected: Value null at "
                       "'roleArn' failed to satisfy constraint: Member must not be null", 400)
    m = ROLE_ARN_RE.match(role_arn)
    if not m or len(role_arn) < 20 or len(role_arn) > 2048:
        raise AwsError("ValidationError", f"{role_arn} is invalid", 400)
    roles = _roles(ctx.world).read()["roles"]
    if m.group(1) != ACCOUNT_ID or m.group(2) not in roles:
        raise AwsError("AccessDenied", f"User: {who} is not authorized to perform: "
                       f"sts:{action} on resource: {role_arn}", 403)


def _duration(params):
    d = params.get("DurationSeconds")
    if d is None:
        return 3600
    try:
        d = int(d)
    except ValueError:
        raise AwsError("ValidationError", "DurationSeconds must be an integer", 400)
    if d < 900 or d > 43200:
        raise AwsError("ValidationError", f"1 validation error detected: Value '{d}' at "
                       "'durationSeconds' failed to satisfy constraint: Member must have value "
                       "between 900 and 43200", 400)
    return d


def _session_name(params):
    name = params.get("RoleSessionName")
    if not name or not SESSION_RE.match(name):
        raise AwsError("ValidationError", f"1 validation error detected: Value '{name}' at "
                       "'roleSessionName' failed to satisfy constraint: Member must satisfy "
                       "regular expression pattern: [\\w+=,.@-]* and length 2..64", 400)
    return name


def handle(ctx, req):
    op = req.operation
    p = req.params
    if op == "GetCallerIdentity":
        ident = req.identity
        return xml_elems([("UserId", ident["user_id"]), ("Account", ident["account"]),
                          ("Arn", ident["arn"])])
    if op == "AssumeRole":
        role_arn = p.get("RoleArn")
        _check_role(ctx, role_arn, "AssumeRole", req.identity["arn"])
        name = _session_name(p)
        creds, user = _issue(ctx, role_arn, name, _duration(p), req.identity["arn"])
        return xml_elems([("Credentials", creds), ("AssumedRoleUser", user),
                          ("PackedPolicySize", 6 if p.get("Policy") else None)])
    if op == "AssumeRoleWithWebIdentity":
        role_arn = p.get("RoleArn")
        token = p.get("WebIdentityToken") or ""
        if len(token) < 4 or len(token) > 20000:
            raise AwsError("ValidationError", "1 validation error detected: Value at "
                           "'webIdentityToken' failed to satisfy constraint: Member must have "
                           "length between 4 and 20000", 400)
        if _roles(ctx.world).read().get("reject_web_identity"):
            raise AwsError("InvalidIdentityToken", "Couldn't retrieve verification key from "
                           "your identity provider", 400)
        _check_role(ctx, role_arn, "AssumeRoleWithWebIdentity", "web identity")
        name = _session_name(p)
        creds, user = _issue(ctx, role_arn, name, _duration(p), "web-identity")
        return xml_elems([("Credentials", creds), ("SubjectFromWebIdentityToken", "lcsim"),
                          ("AssumedRoleUser", user), ("Provider", "lcsim.local"),
                          ("Audience", "sts.amazonaws.com")])
    raise AwsError("InvalidAction", f"Could not find operation {op} for version 2011-06-15", 400)


def control(ctx, method, path, body):
    """GET/POST /sts/roles {"name"}; DELETE /sts/roles/<name>; POST /sts/web-identity
    {"reject": bool}; GET /sts/sessions; POST /sts/expire {"access_key"}."""
    parts = [x for x in path.split("?")[0].split("/") if x][1:]
    store = _roles(ctx.world)
    if parts[:1] == ["roles"]:
        with store.update() as d:
            if method == "POST":
                if body["name"] not in d["roles"]:
                    d["roles"].append(body["name"])
            elif method == "DELETE" and len(parts) > 1:
                d["roles"] = [r for r in d["roles"] if r != parts[1]]
            return 200, {"roles": d["roles"]}
    if parts[:1] == ["web-identity"] and method == "POST":
        with store.update() as d:
            d["reject_web_identity"] = bool(body.get("reject"))
            return 200, {"reject_web_identity": d["reject_web_identity"]}
    if parts[:1] == ["sessions"]:
        s = _store(ctx.world, "sessions.json", {}).read()
        return 200, {"sessions": [{"access_key": k, "arn": v["arn"], "role_arn": v["role_arn"],
                                   "expiration": v["expiration"], "source": v["source"]}
                                  for k, v in s.items()]}
    if parts[:1] == ["expire"] and method == "POST":
        with _store(ctx.world, "sessions.json", {}).update() as d:
            if body["access_key"] not in d:
                return 404, {"error": "no such session"}
            d[body["access_key"]]["expiration"] = ctx.world.server_time() - 1
        return 200, {"expired": body["access_key"]}
    return 404, {"error": f"no sts control route {method} {path}"}
