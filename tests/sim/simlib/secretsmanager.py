"""Secrets Manager (JSON 1.1, X-Amz-Target secretsmanager.<Op>).

Facts from botocore's secretsmanager/2017-10-17 model (shapes, errors, the ListSecrets filter
rules) and AWS's documented behaviour.  State: one JSON document per region
(ctx.region_dir/secrets.json).  Values are stored only as the KMS ciphertext ctx.kms produced
under the encryption context {"SecretARN", "SecretVersionId"}, so reading one back really goes
through KMS (a disabled key fails with DecryptionFailure).

Operations: CreateSecret, DescribeSecret, GetSecretValue (VersionId / VersionStage),
PutSecretValue (VersionStages), UpdateSecret, ListSecrets (Filters, SortOrder, MaxResults
1..100, NextToken; IncludePlannedDeletion of newer APIs), ListSecretVersionIds, DeleteSecret
(RecoveryWindowInDays 7..30, default 30, or ForceDeleteWithoutRecovery), RestoreSecret,
TagResource, UntagResource, RotateSecret (settings stored and described; there is no Lambda:
RotateImmediately records LastRotatedDate without changing the value), CancelRotateSecret.

Rules kept: ClientRequestToken is the new version's id and makes a write idempotent (the same
token with another value is ResourceExistsException); a new AWSCURRENT version moves the old
one to AWSPREVIOUS; versions without a stage are deprecated (not in VersionIdsToStages); a
secret scheduled for deletion shows DeletedDate, is absent from ListSecrets, and refuses
GetSecretValue, PutSecretValue, UpdateSecret, TagResource and CreateSecret of its name with
InvalidRequestException until RestoreSecret; it is purged once world time passes its deletion
date.  KmsKeyId is described only when a customer key was given (aws/secretsmanager
otherwise).

Seed (legocity): secrets under legocity/dev/ and legocity/prod/ (the payload database
credentials as JSON {username, password, engine, host, port, dbname} matching DIR/rds/seed.json,
strings, a binary TLS bundle, a secret with two versions, one with rotation settings, one
scheduled for deletion) and other-app/api-key outside both prefixes.

Control: GET /secretsmanager/secrets?region= (metadata, no values).
"""

import base64
import binascii
import json
import re
import secrets as _random
import string
import uuid

from .core import AwsError, JsonStore

DEFAULT_KEY = "alias/aws/secretsmanager"
MAX_VALUE = 65536
NAME_RE = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
TOKEN_RE = re.compile(r"^[A-Za-z0-9-]{32,64}$")
FILTER_KEYS = ("description", "name", "tag-key", "tag-value", "primary-region",
               "owning-service", "all")
FILTER_VALUE_RE = re.compile(r"^!?[a-zA-Z0-9 :_@/+=.\-]*$")
MARKED = "You can't perform this operation on the secret because it was marked for deletion."
NOT_FOUND = "Secrets Manager can't find the specified secret."
DAY = 86400


# ---------------------------------------------------------------------------------------
# State

def _store(ctx):
    return JsonStore(ctx.region_dir / "secrets.json", default={"secrets": {}, "seq": 0})


def _suffix():
    return "".join(_random.choice(string.ascii_letters + string.digits) for _ in range(6))


def _arn(ctx, name):
    return f"arn:aws:secretsmanager:{ctx.region}:{ctx.account_id}:secret:{name}-{_suffix()}"


def _purge(ctx, data):
    """Secrets whose recovery window has ended are gone for good."""
    now = ctx.now()
    for name in [n for n, s in data["secrets"].items()
                 if s.get("deletion_date") and s["deletion_date"] <= now]:
        del data["secrets"][name]


def _find(ctx, data, secret_id):
    """A secret by name, full ARN or partial ARN (without the random suffix)."""
    if not isinstance(secret_id, str) or not secret_id:
        raise _param("Invalid SecretId: must be a non-empty string")
    _purge(ctx, data)
    secs = data["secrets"]
    if secret_id in secs:
        return secs[secret_id]
    if secret_id.startswith("arn:"):
        for s in secs.values():
            if s["arn"] == secret_id or s["arn"][:-7] == secret_id:
                return s
    raise AwsError("ResourceNotFoundException", NOT_FOUND)


def _live(s):
    if s.get("deleted"):
        raise AwsError("InvalidRequestException", MARKED)
    return s


# ---------------------------------------------------------------------------------------
# Validation

def _param(msg):
    return AwsError("InvalidParameterException", msg)


def _constraint(value, field, rule):
    return AwsError("ValidationException", f"1 validation error detected: Value '{value}' at "
                    f"'{field}' failed to satisfy constraint: {rule}")


def _check_name(name):
    if not isinstance(name, str) or not name:
        raise _constraint("null", "name", "Member must not be null")
    if len(name) > 512:
        raise _constraint(name, "name", "Member must have length less than or equal to 512")
    if not NAME_RE.match(name):
        raise _param("Invalid name. Must be a valid name containing alphanumeric characters, "
                     "or any of the following: -/_+=.@!")
    return name


def _check_token(token):
    if token is None:
        return str(uuid.uuid4())
    if not isinstance(token, str) or not TOKEN_RE.match(token):
        raise _param("ClientRequestToken must be 32-64 letters, digits or hyphens.")
    return token


def _check_tags(tags):
    if not isinstance(tags, list):
        raise _param("Tags must be a list of {Key, Value}.")
    out = []
    for t in tags:
        k, v = (t or {}).get("Key"), (t or {}).get("Value", "")
        if not isinstance(k, str) or not 1 <= len(k) <= 128:
            raise _param("Invalid tag key: must be 1-128 characters.")
        if not isinstance(v, str) or len(v) > 256:
            raise _param(f"Invalid value for tag {k}: must be at most 256 characters.")
        if k.lower().startswith("aws:"):
            raise _param("Invalid tag key: the aws: prefix is reserved.")
        out.append({"Key": k, "Value": v})
    return out


def _value_of(body):
    """(kind, bytes) from SecretString / SecretBinary, or None when the request has neither."""
    s, b = body.get("SecretString"), body.get("SecretBinary")
    if s is not None and b is not None:
        raise _param("You can't specify both a binary secret value and a string secret value "
                     "in the same secret.")
    if s is not None:
        if not isinstance(s, str):
            raise _param("SecretString must be a string.")
        raw = s.encode("utf-8")
        kind = "string"
    elif b is not None:
        try:
            raw = base64.b64decode(b, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise AwsError("SerializationException", "SecretBinary is not valid base64")
        kind = "binary"
    else:
        return None
    if len(raw) > MAX_VALUE:
        raise _param("The secret value exceeds the maximum size of 65536 bytes.")
    return kind, raw


# ---------------------------------------------------------------------------------------
# KMS

def _key_for(ctx, key_id):
    ref = key_id or DEFAULT_KEY
    rec = ctx.kms.find(ref)
    if rec is None:
        raise AwsError("ResourceNotFoundException" if key_id else "EncryptionFailure",
                       f"KMS key {ref} not found" if key_id else
                       "Secrets Manager can't encrypt the protected secret text using the "
                       "provided KMS key.")
    return rec["Arn"]


def _encrypt(ctx, s, vid, raw):
    try:
        blob = ctx.kms.encrypt(s.get("kms_key") or DEFAULT_KEY, raw,
                               {"SecretARN": s["arn"], "SecretVersionId": vid})
    except AwsError as e:
        raise AwsError("EncryptionFailure", "Secrets Manager can't encrypt the protected "
                       f"secret text using the provided KMS key: {e.code}")
    return base64.b64encode(blob).decode()


def _decrypt(ctx, s, vid, v):
    try:
        _, raw = ctx.kms.decrypt(base64.b64decode(v["cipher"]),
                                 {"SecretARN": s["arn"], "SecretVersionId": vid})
    except AwsError as e:
        raise AwsError("DecryptionFailure", "Secrets Manager can't decrypt the protected "
                       f"secret text using the provided KMS key: {e.code}")
    return raw


# ---------------------------------------------------------------------------------------
# Versions

def _stages(s):
    return {vid: list(v["stages"]) for vid, v in s["versions"].items() if v["stages"]}


def _move_stage(s, stage, to_vid):
    for vid, v in s["versions"].items():
        if stage in v["stages"] and vid != to_vid:
            v["stages"].remove(stage)
            if stage == "AWSCURRENT":
                for w in s["versions"].values():
                    if "AWSPREVIOUS" in w["stages"]:
                        w["stages"].remove("AWSPREVIOUS")
                v["stages"].append("AWSPREVIOUS")


def _add_version(ctx, s, token, value, stages=None):
    """Add (or idempotently find) the version `token` with value (kind, raw). Returns its id."""
    kind, raw = value
    old = s["versions"].get(token)
    if old is not None:
        if old["kind"] != kind or _decrypt(ctx, s, token, old) != raw:
            raise AwsError("ResourceExistsException", "A resource with the ID you requested "
                           "already exists.")
        return token
    stages = list(stages) if stages else ["AWSCURRENT"]
    now = ctx.now()
    s["versions"][token] = {"kind": kind, "cipher": _encrypt(ctx, s, token, raw),
                            "created": now, "stages": []}
    for st in stages:
        _move_stage(s, st, token)
        s["versions"][token]["stages"].append(st)
    s["changed"] = now
    # Deprecated versions (no stage) beyond the newest 100 are dropped, as AWS does.
    dead = sorted((v["created"], vid) for vid, v in s["versions"].items() if not v["stages"])
    for _, vid in dead[:-100]:
        del s["versions"][vid]
    return token


def _pick_version(s, body):
    vid, stage = body.get("VersionId"), body.get("VersionStage")
    if vid is not None:
        v = s["versions"].get(vid)
        if v is None or (stage is not None and stage not in v["stages"]):
            raise AwsError("ResourceNotFoundException", "Secrets Manager can't find the "
                           f"specified secret value for VersionId: {vid}")
        return vid, v
    stage = stage or "AWSCURRENT"
    for vid, v in s["versions"].items():
        if stage in v["stages"]:
            return vid, v
    raise AwsError("ResourceNotFoundException", "Secrets Manager can't find the specified "
                   f"secret value for staging label: {stage}")


# ---------------------------------------------------------------------------------------
# Rendering

def _day(t):
    return float(int(t // DAY) * DAY)


def _entry(s, describe):
    e = {"ARN": s["arn"], "Name": s["name"], "CreatedDate": s["created"],
         "LastChangedDate": s["changed"], "Tags": list(s["tags"])}
    if s.get("description") is not None:
        e["Description"] = s["description"]
    if s.get("kms_key") and s["kms_key"] not in (DEFAULT_KEY, "aws/secretsmanager"):
        e["KmsKeyId"] = s["kms_key"]
    if s.get("accessed"):
        e["LastAccessedDate"] = _day(s["accessed"])
    if s.get("deleted"):
        e["DeletedDate"] = s["deleted"]
    rot = s.get("rotation") or {}
    if rot.get("lambda") or rot.get("enabled"):
        e["RotationEnabled"] = bool(rot.get("enabled"))
        if rot.get("lambda"):
            e["RotationLambdaARN"] = rot["lambda"]
        if rot.get("rules"):
            e["RotationRules"] = dict(rot["rules"])
        if rot.get("last"):
            e["LastRotatedDate"] = rot["last"]
    e["VersionIdsToStages" if describe else "SecretVersionsToStages"] = _stages(s)
    return e


# ---------------------------------------------------------------------------------------
# Operations

def create_secret(ctx, body, data):
    name = _check_name(body.get("Name"))
    token = _check_token(body.get("ClientRequestToken"))
    value = _value_of(body)
    desc = body.get("Description")
    if desc is not None and (not isinstance(desc, str) or len(desc) > 2048):
        raise _param("Description must be a string of at most 2048 characters.")
    _purge(ctx, data)
    s = data["secrets"].get(name)
    if s is not None:
        if s.get("deleted"):
            raise AwsError("InvalidRequestException", "You can't create this secret because a "
                           "secret with this name is already scheduled for deletion.")
        if value is not None and token in s["versions"]:
            _add_version(ctx, s, token, value)       # an idempotent retry of the same create
            return {"ARN": s["arn"], "Name": name, "VersionId": token}
        raise AwsError("ResourceExistsException", f"The operation failed because the secret "
                       f"{name} already exists.")
    key = body.get("KmsKeyId") or None
    if key:
        _key_for(ctx, key)
    now = ctx.now()
    data["seq"] = data.get("seq", 0) + 1
    s = {"name": name, "arn": _arn(ctx, name), "description": desc, "kms_key": key,
         "created": now, "changed": now, "accessed": None, "deleted": None,
         "deletion_date": None, "tags": _check_tags(body.get("Tags") or []),
         "rotation": {}, "versions": {}, "seq": data["seq"]}
    out = {"ARN": s["arn"], "Name": name}
    if value is not None:
        out["VersionId"] = _add_version(ctx, s, token, value)
    data["secrets"][name] = s
    return out


def describe_secret(ctx, body, data):
    return _entry(_find(ctx, data, body.get("SecretId")), True)


def get_secret_value(ctx, body, data):
    s = _live(_find(ctx, data, body.get("SecretId")))
    _refresh_seed_db(ctx, s)
    vid, v = _pick_version(s, body)
    raw = _decrypt(ctx, s, vid, v)
    s["accessed"] = ctx.now()
    out = {"ARN": s["arn"], "Name": s["name"], "VersionId": vid,
           "VersionStages": list(v["stages"]), "CreatedDate": v["created"]}
    if v["kind"] == "binary":
        out["SecretBinary"] = base64.b64encode(raw).decode()
    else:
        out["SecretString"] = raw.decode("utf-8")
    return out


def put_secret_value(ctx, body, data):
    s = _live(_find(ctx, data, body.get("SecretId")))
    token = _check_token(body.get("ClientRequestToken"))
    value = _value_of(body)
    if value is None:
        raise _param("You must provide either SecretString or SecretBinary.")
    stages = body.get("VersionStages")
    if stages is not None and (not isinstance(stages, list) or not stages or
                               not all(isinstance(x, str) and x for x in stages)):
        raise _param("VersionStages must be a non-empty list of labels.")
    vid = _add_version(ctx, s, token, value, stages)
    return {"ARN": s["arn"], "Name": s["name"], "VersionId": vid,
            "VersionStages": list(s["versions"][vid]["stages"])}


def update_secret(ctx, body, data):
    s = _live(_find(ctx, data, body.get("SecretId")))
    value = _value_of(body)
    if "KmsKeyId" in body and body["KmsKeyId"] is not None:
        key = body["KmsKeyId"] or None
        if key:
            _key_for(ctx, key)
        if key != s.get("kms_key"):
            # Existing versions are re-encrypted under the new key, as AWS does lazily.
            plains = {vid: _decrypt(ctx, s, vid, v) for vid, v in s["versions"].items()}
            s["kms_key"] = key
            for vid, raw in plains.items():
                s["versions"][vid]["cipher"] = _encrypt(ctx, s, vid, raw)
    if body.get("Description") is not None:
        s["description"] = body["Description"]
    s["changed"] = ctx.now()
    out = {"ARN": s["arn"], "Name": s["name"]}
    if value is not None:
        out["VersionId"] = _add_version(ctx, s, _check_token(body.get("ClientRequestToken")),
                                        value)
    return out


def _matches(s, f):
    key, values = f.get("Key"), f.get("Values")
    if key not in FILTER_KEYS:
        raise _param(f"Invalid filter key: {key}")
    if not isinstance(values, list) or not values or len(values) > 10:
        raise _param("A filter needs 1 to 10 values.")
    tags = s["tags"]
    fields = {
        "name": [s["name"]],
        "description": [s.get("description") or ""],
        "tag-key": [t["Key"] for t in tags],
        "tag-value": [t["Value"] for t in tags],
        "primary-region": [],
        "owning-service": [],
    }
    for v in values:
        if not isinstance(v, str) or len(v) > 512 or not FILTER_VALUE_RE.match(v):
            raise _param(f"Invalid filter value: {v}")
        neg = v.startswith("!")
        word = v[1:] if neg else v
        if key == "all":
            hay = [x.lower() for xs in fields.values() for x in xs]
            hit = all(any(h.startswith(w.lower()) or ("/" + w.lower()) in h for h in hay)
                      for w in word.split())
        elif key == "description":
            hit = any(x.lower().startswith(word.lower()) for x in fields[key])
        else:
            hit = any(x.startswith(word) for x in fields[key])
        if hit != neg:
            return True
    return False


def list_secrets(ctx, body, data):
    _purge(ctx, data)
    limit = body.get("MaxResults")
    if limit is None:
        limit = 100
    if not isinstance(limit, int) or limit < 1 or limit > 100:
        raise _constraint(limit, "maxResults", "Member must have value between 1 and 100")
    filters = body.get("Filters") or []
    if not isinstance(filters, list) or len(filters) > 10:
        raise _param("Filters must be a list of at most 10 filters.")
    order = body.get("SortOrder") or "asc"
    if order not in ("asc", "desc"):
        raise _param("SortOrder must be asc or desc.")
    rows = [s for s in data["secrets"].values()
            if (body.get("IncludePlannedDeletion") or not s.get("deleted"))
            and all(_matches(s, f) for f in filters)]
    rows.sort(key=lambda s: (s["created"], s["seq"]), reverse=(order == "desc"))
    start = _untoken(body.get("NextToken"))
    page = rows[start:start + limit]
    out = {"SecretList": [_entry(s, False) for s in page]}
    if start + limit < len(rows):
        out["NextToken"] = _token(start + limit)
    return out


def _token(pos):
    raw = json.dumps({"p": pos}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _untoken(token):
    if token is None:
        return 0
    try:
        t = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(t["p"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise AwsError("InvalidNextTokenException", "The NextToken value is invalid.")


def list_secret_version_ids(ctx, body, data):
    s = _find(ctx, data, body.get("SecretId"))
    versions = sorted(s["versions"].items(), key=lambda kv: kv[1]["created"], reverse=True)
    out = []
    for vid, v in versions:
        if not v["stages"] and not body.get("IncludeDeprecated"):
            continue
        out.append({"VersionId": vid, "VersionStages": list(v["stages"]),
                    "CreatedDate": v["created"]})
    return {"ARN": s["arn"], "Name": s["name"], "Versions": out}


def delete_secret(ctx, body, data):
    s = _find(ctx, data, body.get("SecretId"))
    window = body.get("RecoveryWindowInDays")
    force = bool(body.get("ForceDeleteWithoutRecovery"))
    if force and window is not None:
        raise _param("You can't use ForceDeleteWithoutRecovery in conjunction with "
                     "RecoveryWindowInDays.")
    if window is not None and (not isinstance(window, int) or not 7 <= window <= 30):
        raise _param("The RecoveryWindowInDays value must be between 7 and 30 days "
                     "(inclusive).")
    if s.get("deleted") and not force:
        raise AwsError("InvalidRequestException", MARKED)
    now = ctx.now()
    if force:
        del data["secrets"][s["name"]]
        return {"ARN": s["arn"], "Name": s["name"], "DeletionDate": now}
    s["deleted"] = now
    s["deletion_date"] = now + (window or 30) * DAY
    return {"ARN": s["arn"], "Name": s["name"], "DeletionDate": s["deletion_date"]}


def restore_secret(ctx, body, data):
    s = _find(ctx, data, body.get("SecretId"))
    s["deleted"] = None
    s["deletion_date"] = None
    return {"ARN": s["arn"], "Name": s["name"]}


def tag_resource(ctx, body, data):
    s = _live(_find(ctx, data, body.get("SecretId")))
    tags = _check_tags(body.get("Tags") if body.get("Tags") is not None else None)
    merged = {t["Key"]: t["Value"] for t in s["tags"]}
    for t in tags:
        merged[t["Key"]] = t["Value"]
    if len(merged) > 50:
        raise _param("A secret can have at most 50 tags.")
    order = [t["Key"] for t in s["tags"]] + [t["Key"] for t in tags
                                             if t["Key"] not in {x["Key"] for x in s["tags"]}]
    s["tags"] = [{"Key": k, "Value": merged[k]} for k in order]
    return {}


def untag_resource(ctx, body, data):
    s = _live(_find(ctx, data, body.get("SecretId")))
    keys = body.get("TagKeys")
    if not isinstance(keys, list):
        raise _param("TagKeys must be a list.")
    s["tags"] = [t for t in s["tags"] if t["Key"] not in keys]
    return {}


def rotate_secret(ctx, body, data):
    s = _live(_find(ctx, data, body.get("SecretId")))
    rot = s.setdefault("rotation", {})
    lam = body.get("RotationLambdaARN") or rot.get("lambda")
    rules = body.get("RotationRules") or rot.get("rules")
    if not lam:
        raise AwsError("InvalidRequestException", "No Lambda rotation function ARN is "
                       "associated with this secret.")
    if rules:
        days = rules.get("AutomaticallyAfterDays")
        if days is not None and (not isinstance(days, int) or not 1 <= days <= 1000):
            raise _param("AutomaticallyAfterDays must be between 1 and 1000.")
        if days is None and not rules.get("ScheduleExpression"):
            raise _param("RotationRules needs AutomaticallyAfterDays or ScheduleExpression.")
    rot.update({"enabled": True, "lambda": lam, "rules": rules})
    out = {"ARN": s["arn"], "Name": s["name"]}
    if body.get("RotateImmediately", True):
        rot["last"] = ctx.now()
        cur, _ = _pick_version(s, {})
        out["VersionId"] = cur
    s["changed"] = ctx.now()
    return out


def cancel_rotate_secret(ctx, body, data):
    s = _live(_find(ctx, data, body.get("SecretId")))
    rot = s.setdefault("rotation", {})
    rot["enabled"] = False
    return {"ARN": s["arn"], "Name": s["name"]}


OPERATIONS = {
    "CreateSecret": create_secret,
    "DescribeSecret": describe_secret,
    "GetSecretValue": get_secret_value,
    "PutSecretValue": put_secret_value,
    "UpdateSecret": update_secret,
    "ListSecrets": list_secrets,
    "ListSecretVersionIds": list_secret_version_ids,
    "DeleteSecret": delete_secret,
    "RestoreSecret": restore_secret,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "RotateSecret": rotate_secret,
    "CancelRotateSecret": cancel_rotate_secret,
}

READ_ONLY = ("DescribeSecret", "ListSecrets", "ListSecretVersionIds")


def handle(ctx, request):
    fn = OPERATIONS.get(request.operation)
    if fn is None:
        raise AwsError("UnknownOperationException",
                       f"lcsim secretsmanager does not implement {request.operation}")
    body = request.body or {}
    store = _store(ctx)
    if request.operation in READ_ONLY:
        return fn(ctx, body, store.read())
    with store.update() as data:
        return fn(ctx, body, data)


# ---------------------------------------------------------------------------------------
# Seed

def _seed_db_info(ctx):
    path = ctx.world.state_root / "rds" / "seed.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _db_value(info):
    return json.dumps({"username": info["username"], "password": info["password"],
                       "engine": "postgres", "host": info["host"], "port": info["port"],
                       "dbname": info["database"]}, separators=(",", ":"))


def _refresh_seed_db(ctx, s):
    """The seeded database credentials follow the RDS seed's port when PostgreSQL moved (an
    `lcsim up` after `down` may get another port), as long as nobody changed the value."""
    if not s.get("seed_db"):
        return
    info = _seed_db_info(ctx)
    if not info or not info.get("password"):
        return
    vid, v = _pick_version(s, {})
    raw = _decrypt(ctx, s, vid, v)
    try:
        cur = json.loads(raw)
    except ValueError:
        return
    if cur.get("password") == info["password"] and cur.get("port") != info["port"]:
        v["cipher"] = _encrypt(ctx, s, vid, _db_value(info).encode())


def _seed_create(ctx, data, name, value, description, tags, key=None):
    if name in data["secrets"]:
        return data["secrets"][name]
    body = {"Name": name, "Description": description,
            "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
    if key and ctx.kms.resolve_key(key):
        body["KmsKeyId"] = key
    if isinstance(value, bytes):
        body["SecretBinary"] = base64.b64encode(value).decode()
    elif value is not None:
        body["SecretString"] = value
    create_secret(ctx, body, data)
    return data["secrets"][name]


def _hex(n):
    return uuid.uuid4().hex[:n]


def seed(ctx, name="legocity", sizes=None):
    if name != "legocity":
        return
    info = _seed_db_info(ctx)
    with _store(ctx).update() as data:
        for env in ("dev", "prod"):
            p = f"legocity/{env}/"
            base = {"Project": "legocity", "Env": env}
            key = "alias/legocity-backups" if env == "prod" else None
            if info and info.get("password"):
                s = _seed_create(ctx, data, p + "payload/db-credentials", _db_value(info),
                                 "PayloadCMS database credentials (lcsim seed)",
                                 dict(base, Component="payload-cms"), key)
                s["seed_db"] = True
            _seed_create(ctx, data, p + "payload/secret-key", "pl-" + _hex(32),
                         "PAYLOAD_SECRET", dict(base, Component="payload-cms"), key)
            _seed_create(ctx, data, p + "broker/api-key", "ak-" + _hex(24),
                         "Orion-LD API key", dict(base, Component="broker"))
            _seed_create(ctx, data, p + "mapbox/token", "pk.ey" + _hex(40),
                         "Map tiles token", dict(base, Component="frontend"))
            _seed_create(ctx, data, p + "tls/client-bundle",
                         b"\x30\x82\x01\x0a\x00\xff" + uuid.uuid4().bytes + b"\x00\x01",
                         "mTLS client bundle (DER)", dict(base, Component="gateway"))
            smtp = _seed_create(ctx, data, p + "smtp/credentials",
                                json.dumps({"user": "mailer", "password": "Sm-" + _hex(16)}),
                                "Outgoing mail", dict(base, Component="notifications"))
            if len(smtp["versions"]) == 1:       # a little history: rotated once by hand
                put_secret_value(ctx, {"SecretId": smtp["name"], "SecretString": json.dumps(
                    {"user": "mailer", "password": "Sm-" + _hex(16)})}, data)
            rot = _seed_create(ctx, data, p + "keycloak/admin", "kc-" + _hex(20),
                               "Keycloak admin password", dict(base, Component="identity"))
            if not rot["rotation"]:
                rot["rotation"] = {"enabled": True, "rules": {"AutomaticallyAfterDays": 30},
                                   "lambda": f"arn:aws:lambda:{ctx.region}:{ctx.account_id}:"
                                   f"function:legocity-{env}-rotate-keycloak",
                                   "last": ctx.now() - 5 * DAY}
            old = _seed_create(ctx, data, p + "legacy/ftp-password", "ftp-" + _hex(12),
                               "Retired FTP upload account", dict(base, Component="legacy"))
            if not old.get("deleted"):
                delete_secret(ctx, {"SecretId": old["name"], "RecoveryWindowInDays": 7}, data)
        _seed_create(ctx, data, "other-app/api-key", "oa-" + _hex(20), "Not LegoCity's",
                     {"Project": "other"})


def control(ctx, method, path, body):
    """GET /secretsmanager/secrets?region=: every secret's metadata (no values)."""
    parts = [x for x in path.split("?")[0].split("/") if x][1:]
    if parts == ["secrets"] and method == "GET":
        data = _store(ctx).read()
        return 200, {"secrets": [_entry(s, True) for s in data["secrets"].values()]}
    return 404, {"error": f"no secretsmanager control route {method} {path}"}
