"""SSM Parameter Store (JSON 1.1, X-Amz-Target AmazonSSM.<Op>).

Facts from /work/shared/reference/aws-wire.md 2.3 and 6 and botocore's ssm/2014-11-06 model.
State: one JSON document per region (ctx.region_dir/ssm.json) holding every parameter's
version history and tags.  SecureString values are stored only as the KMS ciphertext that
ctx.kms produced, so reading them back really goes through KMS.

Knob (settable with the control API's POST /delays, or POST /ssm/knobs):
  "ssm.empty_pages" (default 1): in a listing (GetParametersByPath, DescribeParameters) that
  needs more than one page, the first N continuation requests answer an empty page that still
  carries a NextToken, as real SSM does when its internal filtering drops a whole page.
  0 turns that off.
"""

import base64
import binascii
import json
import re

from .core import AwsError, JsonStore

MAX_VERSIONS = 100
STANDARD_MAX = 4096
ADVANCED_MAX = 8192
DEFAULT_KEY = "alias/aws/ssm"
TYPES = ("String", "StringList", "SecureString")
TIERS = ("Standard", "Advanced", "Intelligent-Tiering")
DATA_TYPES = ("text", "aws:ec2:image", "aws:ssm:integration")
NAME_RULES = ('Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). '
              "If formed as a path, it can consist of sub-paths divided by slash symbol; "
              "each sub-path can be formed as a mix of letters, numbers and the following "
              "3 symbols .-_")


# ---------------------------------------------------------------------------------------
# State

def _store(ctx):
    return JsonStore(ctx.region_dir / "ssm.json", default={"params": {}, "knobs": {}})


def _arn(ctx, name):
    tail = name if name.startswith("/") else "/" + name
    return f"arn:aws:ssm:{ctx.region}:{ctx.account_id}:parameter{tail}"


def _user(ctx):
    ident = getattr(getattr(ctx, "request", None), "identity", None) or {}
    return ident.get("arn") or f"arn:aws:iam::{ctx.account_id}:root"


def _empty_pages(ctx, data):
    if "empty_pages" in data.get("knobs", {}):
        return int(data["knobs"]["empty_pages"])
    return int(ctx.delay("ssm.empty_pages", 1))


# ---------------------------------------------------------------------------------------
# Validation helpers

def _validation(msg):
    return AwsError("ValidationException", msg)


def _constraint(value, field, rule):
    return _validation(f"1 validation error detected: Value '{value}' at '{field}' failed to "
                       f"satisfy constraint: {rule}")


def _req(body, key, field=None):
    if key not in body or body[key] is None:
        raise _constraint("null", field or key[0].lower() + key[1:],
                          "Member must not be null")
    return body[key]


def _int_range(body, key, lo, hi, default):
    v = body.get(key)
    if v is None:
        return default
    field = key[0].lower() + key[1:]
    if not isinstance(v, int) or v < lo:
        raise _constraint(v, field, f"Member must have value greater than or equal to {lo}")
    if v > hi:
        raise _constraint(v, field, f"Member must have value less than or equal to {hi}")
    return v


def _check_name(ctx, name):
    """Validate a parameter name for PutParameter; returns the stripped name."""
    if not isinstance(name, str):
        raise _validation("Parameter name must be a string")
    name = name.strip()
    if not name:
        raise _constraint("", "name", "Member must have length greater than or equal to 1")
    if re.search(r"\s", name):
        raise _validation("Parameter name: can't contain spaces")
    if not re.fullmatch(r"[a-zA-Z0-9_.\-/]+", name):
        raise _validation(NAME_RULES)
    bare = name.lstrip("/").lower()
    if bare.startswith("aws") or bare.startswith("ssm"):
        raise _validation(NAME_RULES)
    if "/" in name:
        if not name.startswith("/") or "//" in name or name.endswith("/"):
            raise _validation(NAME_RULES)
        if len(name.strip("/").split("/")) > 15:
            raise AwsError("HierarchyLevelLimitExceededException",
                           "Parameter name: hierarchy can't have more than 15 levels")
    if len(_arn(ctx, name)) - len(f"arn:aws:ssm:{ctx.region}:{ctx.account_id}:") > 1011:
        raise _validation("Parameter name: can't be longer than 1011 characters")
    return name


def _lookup_name(ctx, name):
    """A name as a reader may give it (plain or ARN, optional :selector) -> (name, selector)."""
    if not isinstance(name, str) or not name:
        raise _constraint(name, "name", "Member must have length greater than or equal to 1")
    prefix = f"arn:aws:ssm:{ctx.region}:{ctx.account_id}:parameter"
    if name.startswith("arn:"):
        if not name.startswith(prefix + "/"):
            return name, None
        rest = name[len(prefix):]
        sel = None
        if ":" in rest:
            rest, sel = rest.split(":", 1)
        return rest, sel
    sel = None
    if ":" in name:
        name, sel = name.split(":", 1)
    return name.strip(), sel


def _resolve_param(data, name):
    """Plain or hierarchical name as stored: an ARN tail '/foo' may be the plain 'foo'."""
    params = data["params"]
    if name in params:
        return name
    if name.startswith("/") and name.count("/") == 1 and name[1:] in params:
        return name[1:]
    return None


def _select_version(entry, sel):
    """Pick a history item by ':version' or ':label'; None when it does not exist."""
    hist = entry["history"]
    if sel is None:
        return hist[-1]
    if sel.isdigit():
        for h in hist:
            if h["version"] == int(sel):
                return h
        return None
    for h in hist:
        if sel in h.get("labels", []):
            return h
    return None


def _check_tags(tags):
    if not isinstance(tags, list):
        raise _validation("Tags must be a list")
    out = {}
    for t in tags:
        k, v = t.get("Key"), t.get("Value")
        if not k or v is None:
            raise _validation("Tag keys and values are required")
        if len(k) > 128 or len(v) > 256:
            raise _validation("Tag key or value is too long")
        if not re.fullmatch(r"[\w\s.:/=+\-@]*", k) or not re.fullmatch(r"[\w\s.:/=+\-@]*", v):
            raise _validation(f"Tag '{k}' contains characters that are not allowed")
        if k.lower().startswith("aws:"):
            raise _validation("Tag keys can't start with aws:")
        out[k] = v
    return out


# ---------------------------------------------------------------------------------------
# KMS

def _b64(blob):
    if isinstance(blob, (bytes, bytearray)):
        return base64.b64encode(blob).decode()
    return str(blob)


def _resolve_key(ctx, key_id):
    arn = ctx.kms.resolve_key(key_id)
    if not arn:
        raise AwsError("InvalidKeyId", f"The KMS key {key_id} is not valid or not found")
    return arn


def _encrypt(ctx, key_arn, plaintext, name):
    try:
        blob = ctx.kms.encrypt(key_arn, plaintext.encode("utf-8"),
                               {"PARAMETER_ARN": _arn(ctx, name)})
    except AwsError as e:
        raise AwsError("InvalidKeyId", f"{key_arn}: {e.message or e.code}")
    return _b64(blob)


def _decrypt(ctx, name, h):
    try:
        blob = base64.b64decode(h["cipher"])
    except (binascii.Error, ValueError):
        raise AwsError("InternalServerError", "stored ciphertext is damaged", 500)
    try:
        plain = ctx.kms.decrypt(blob, {"PARAMETER_ARN": _arn(ctx, name)})
    except AwsError as e:
        raise AwsError("InvalidKeyId", f"{h.get('key_id')}: {e.message or e.code}")
    if isinstance(plain, tuple):            # (key_arn, plaintext) style answers
        plain = plain[-1]
    if isinstance(plain, dict):
        plain = plain.get("Plaintext") or plain.get("plaintext")
        if isinstance(plain, str):
            plain = base64.b64decode(plain)
    return plain.decode("utf-8") if isinstance(plain, (bytes, bytearray)) else str(plain)


def _value(ctx, name, h, decrypt):
    if h["type"] != "SecureString":
        return h["value"]
    return _decrypt(ctx, name, h) if decrypt else h["cipher"]


# ---------------------------------------------------------------------------------------
# Rendering

def _parameter(ctx, name, h, decrypt, selector=None):
    p = {"Name": name, "Type": h["type"], "Value": _value(ctx, name, h, decrypt),
         "Version": h["version"], "LastModifiedDate": h["modified"],
         "ARN": _arn(ctx, name), "DataType": h.get("data_type", "text")}
    if selector is not None:
        p["Selector"] = ":" + selector
    return p


def _policies(h):
    out = []
    for pol in h.get("policies") or []:
        out.append({"PolicyText": json.dumps(pol, separators=(",", ":")),
                    "PolicyType": pol.get("Type", ""), "PolicyStatus": "Pending"})
    return out


def _metadata(ctx, name, h):
    m = {"Name": name, "ARN": _arn(ctx, name), "Type": h["type"],
         "LastModifiedDate": h["modified"], "LastModifiedUser": h["user"],
         "Version": h["version"], "Tier": h["tier"], "Policies": _policies(h),
         "DataType": h.get("data_type", "text")}
    if h["type"] == "SecureString":
        m["KeyId"] = h["key_id"]
    if h.get("description"):
        m["Description"] = h["description"]
    if h.get("allowed_pattern"):
        m["AllowedPattern"] = h["allowed_pattern"]
    return m


# ---------------------------------------------------------------------------------------
# Paging: opaque tokens carrying a name cursor and the number of empty pages served

def _token(kind, after, empties):
    raw = json.dumps({"k": kind, "a": after, "e": empties}, separators=(",", ":"))
    return "AAEAA" + base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _untoken(kind, token):
    if token is None:
        return None, 0
    try:
        raw = token[5:] if token.startswith("AAEAA") else "!"
        raw += "=" * (-len(raw) % 4)
        t = json.loads(base64.urlsafe_b64decode(raw.encode()))
        if t["k"] != kind:
            raise ValueError
        return t["a"], int(t["e"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise AwsError("InvalidNextToken", "The specified token is not valid.")


def _page(names, kind, token, limit, empties_allowed):
    """names: the sorted full result.  Returns (page_names, next_token or None)."""
    after, empties = _untoken(kind, token)
    rest = [n for n in names if after is None or n > after]
    if token is not None and empties < empties_allowed and rest:
        return [], _token(kind, after, empties + 1)
    page = rest[:limit]
    if len(rest) > limit:
        return page, _token(kind, page[-1], empties)
    return page, None


# ---------------------------------------------------------------------------------------
# PutParameter

def _pick_tier(requested, old_tier, size, policies):
    if requested == "Intelligent-Tiering":
        tier = "Advanced" if size > STANDARD_MAX or policies else "Standard"
        return "Advanced" if old_tier == "Advanced" else tier
    if requested is None:
        return old_tier or "Standard"
    return requested


def _check_value(value, tier, data_type, ptype):
    if not isinstance(value, str) or value == "":
        raise _constraint("", "value", "Member must have length greater than or equal to 1")
    if "{{" in value and "}}" in value:
        raise _validation('Parameter value can\'t nest another parameter. Do not use "{{}}" '
                          "in the value.")
    size = len(value.encode("utf-8"))
    if tier == "Standard" and size > STANDARD_MAX:
        raise _validation("Standard tier parameters support a maximum parameter value of 4096 "
                          "characters. To create a larger parameter value, upgrade the "
                          "parameter to use the advanced-parameter tier.")
    if size > ADVANCED_MAX:
        raise _validation("Advanced tier parameters support a maximum parameter value of 8192 "
                          "characters.")
    if data_type == "aws:ec2:image":
        if ptype != "String":
            raise _validation("The aws:ec2:image data type is only supported for String "
                              "parameters.")
        if not re.fullmatch(r"ami-([0-9a-f]{8}|[0-9a-f]{17})", value):
            raise _validation(f"Parameter value {value} is not a valid AMI ID (for example "
                              "ami-12345678).")


def _check_pattern(pattern, value):
    if not pattern:
        return
    if len(pattern) > 1024:
        raise _constraint(pattern, "allowedPattern",
                          "Member must have length less than or equal to 1024")
    try:
        rx = re.compile(pattern)
    except re.error as e:
        raise AwsError("InvalidAllowedPatternException",
                       f"The allowed pattern is not a valid regular expression: {e}")
    if not rx.fullmatch(value):
        raise AwsError("ParameterPatternMismatchException",
                       f"Parameter value, cannot be validated against allowedPattern: {pattern}")


def _parse_policies(text):
    if text is None:
        return []
    try:
        pols = json.loads(text)
        if not isinstance(pols, list) or not all(isinstance(p, dict) for p in pols):
            raise ValueError
    except ValueError:
        raise AwsError("InvalidPolicyTypeException",
                       "The policies are not a valid JSON array of policy objects")
    for p in pols:
        if p.get("Type") not in ("Expiration", "ExpirationNotification", "NoChangeNotification"):
            raise AwsError("InvalidPolicyTypeException",
                           f"The policy type {p.get('Type')} is not supported")
    return pols


def put_parameter(ctx, body, data):
    name = _check_name(ctx, _req(body, "Name"))
    value = _req(body, "Value")
    ptype = body.get("Type")
    overwrite = bool(body.get("Overwrite"))
    tags = body.get("Tags")
    if tags is not None and overwrite:
        raise _validation("Invalid request: tags and overwrite can't be used together. To "
                          "create a parameter with tags, please remove overwrite flag. To "
                          "update tags for an existing parameter, please use AddTagsToResource "
                          "or RemoveTagsFromResource.")
    if ptype is not None and ptype not in TYPES:
        raise _constraint(ptype, "type", "Member must satisfy enum value set: "
                          "[SecureString, StringList, String]")
    tier_req = body.get("Tier")
    if tier_req is not None and tier_req not in TIERS:
        raise _constraint(tier_req, "tier", "Member must satisfy enum value set: "
                          "[Standard, Advanced, Intelligent-Tiering]")
    data_type = body.get("DataType") or None
    if data_type is not None and data_type not in DATA_TYPES:
        raise _validation(f"The following data type is not supported: {data_type} (Data type "
                          "names are all lowercase.)")
    desc = body.get("Description")
    if desc is not None and len(desc) > 1024:
        raise _constraint(desc, "description", "Member must have length less than or equal "
                          "to 1024")
    policies = _parse_policies(body.get("Policies"))

    entry = data["params"].get(name)
    old = entry["history"][-1] if entry else None
    if old and not overwrite:
        raise AwsError("ParameterAlreadyExists", "The parameter already exists. To overwrite "
                       "this value, set the overwrite option in the request to true.")
    if not old and ptype is None:
        raise _validation("A parameter type is required when you create a parameter.")
    if old and ptype is not None and ptype != old["type"]:
        raise AwsError("HierarchyTypeMismatchException", "Parameter Store can't change the "
                       f"type of parameter {name} from {old['type']} to {ptype}. Create a new "
                       "parameter instead.")
    ptype = ptype or old["type"]
    if ptype == "StringList" and isinstance(value, str):
        value = re.sub(r"\s*,\s*", ",", value)
    size = len(value.encode("utf-8")) if isinstance(value, str) else 0
    tier = _pick_tier(tier_req, old and old["tier"], size, policies)
    if old and old["tier"] == "Advanced" and tier == "Standard":
        raise _validation("This parameter uses the advanced-parameter tier. You can't downgrade "
                          "a parameter from the advanced-parameter tier to the standard-parameter "
                          "tier. If necessary, you can delete the advanced parameter and recreate "
                          "it as a standard parameter.")
    if policies and tier != "Advanced":
        raise _validation("Parameter policies are supported only for advanced-tier parameters.")
    if data_type is None:
        data_type = old.get("data_type", "text") if old else "text"
    _check_value(value, tier, data_type, ptype)
    pattern = body.get("AllowedPattern")
    if pattern is None and old:
        pattern = old.get("allowed_pattern")
    _check_pattern(pattern, value)
    tagmap = _check_tags(tags) if tags is not None else {}
    if len(tagmap) > 50:
        raise AwsError("TooManyTagsError", "The Tags parameter exceeds the maximum number of "
                       "tags (50).")

    h = {"version": (old["version"] + 1) if old else 1, "type": ptype, "tier": tier,
         "modified": ctx.now(), "user": _user(ctx), "data_type": data_type,
         "description": desc if desc is not None else (old.get("description") if old else None),
         "allowed_pattern": pattern, "policies": policies, "labels": []}
    if ptype == "SecureString":
        key_id = body.get("KeyId") or DEFAULT_KEY
        if len(key_id) > 256 or not re.fullmatch(r"[a-zA-Z0-9:/_-]+", key_id):
            raise _constraint(key_id, "keyId", "Member must satisfy regular expression pattern: "
                              "^([a-zA-Z0-9:/_-]+)$")
        h["key_id"] = key_id
        h["key_arn"] = _resolve_key(ctx, key_id)
        h["cipher"] = _encrypt(ctx, h["key_arn"], value, name)
    else:
        if body.get("KeyId"):
            raise _validation(f"KeyId is only supported for SecureString parameters; this "
                              f"parameter is of type {ptype}.")
        h["value"] = value
    if entry is None:
        entry = data["params"][name] = {"history": [], "tags": {}}
    entry["history"].append(h)
    if len(entry["history"]) > MAX_VERSIONS:
        if entry["history"][0].get("labels"):
            raise AwsError("ParameterMaxVersionLimitExceeded", "You attempted to create a new "
                           f"version of {name} by calling the PutParameter API with the "
                           "overwrite flag. Version 1, the oldest version, can't be deleted "
                           "because it has a label associated with it.")
        entry["history"].pop(0)
    entry["tags"].update(tagmap)
    return {"Version": h["version"], "Tier": tier}


# ---------------------------------------------------------------------------------------
# Readers

def get_parameter(ctx, body, data):
    name, sel = _lookup_name(ctx, _req(body, "Name"))
    stored = _resolve_param(data, name)
    if stored is None:
        raise AwsError("ParameterNotFound", f"Parameter {name} not found.")
    h = _select_version(data["params"][stored], sel)
    if h is None:
        raise AwsError("ParameterVersionNotFound", f"Systems Manager could not find version "
                       f"{sel} of {stored}. Verify the version and try again.")
    return {"Parameter": _parameter(ctx, stored, h, body.get("WithDecryption"), sel)}


def get_parameters(ctx, body, data):
    names = _req(body, "Names")
    if not isinstance(names, list) or not names:
        raise _constraint("[]", "names", "Member must have length greater than or equal to 1")
    if len(names) > 10:
        raise _constraint(names, "names", "Member must have length less than or equal to 10")
    found, invalid, seen = [], [], set()
    for raw in names:
        if raw in seen:
            continue
        seen.add(raw)
        name, sel = _lookup_name(ctx, raw)
        stored = _resolve_param(data, name)
        h = _select_version(data["params"][stored], sel) if stored else None
        if h is None:
            invalid.append(raw)
        else:
            found.append(_parameter(ctx, stored, h, body.get("WithDecryption"), sel))
    return {"Parameters": found, "InvalidParameters": invalid}


def _path_filters(filters):
    """GetParametersByPath accepts Type, KeyId, Label (and DataType) filters only."""
    checks = []
    for f in filters or []:
        key, opt, vals = f.get("Key"), f.get("Option", "Equals"), f.get("Values") or []
        if key not in ("Type", "KeyId", "Label", "DataType"):
            raise AwsError("InvalidFilterKey", f"The following filter key is not valid: {key}. "
                           "Valid filter keys include: [Type, KeyId, Label, DataType].")
        if opt not in ("Equals", "BeginsWith") or (opt == "BeginsWith" and key != "KeyId"):
            raise AwsError("InvalidFilterOption", f"The following filter option is not valid: "
                           f"{opt}. Valid options include: [Equals].")
        if not vals:
            raise AwsError("InvalidFilterValue", f"The following filter values are missing : "
                           f"null for filter key {key}.")
        checks.append((key, opt, vals))
    return checks


def _filter_ok(h, checks):
    for key, opt, vals in checks:
        if key == "Type":
            got = [h["type"]]
        elif key == "KeyId":
            got = [h.get("key_id", ""), h.get("key_arn", "")]
        elif key == "Label":
            got = h.get("labels", [])
        else:
            got = [h.get("data_type", "text")]
        if opt == "BeginsWith":
            if not any(g.startswith(v) for g in got for v in vals):
                return False
        elif not any(g in vals for g in got):
            return False
    return True


def get_parameters_by_path(ctx, body, data):
    path = _req(body, "Path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise _validation("The parameter doesn't meet the parameter name requirements. The "
                          "parameter name must begin with a forward slash \"/\".")
    limit = _int_range(body, "MaxResults", 1, 10, 10)
    checks = _path_filters(body.get("ParameterFilters"))
    prefix = path.rstrip("/") + "/"
    recursive = bool(body.get("Recursive"))
    names = []
    for name in sorted(data["params"]):
        if not name.startswith(prefix) or name == prefix:
            continue
        if not recursive and "/" in name[len(prefix):]:
            continue
        if _filter_ok(data["params"][name]["history"][-1], checks):
            names.append(name)
    page, nxt = _page(names, "path:" + prefix, body.get("NextToken"), limit,
                      _empty_pages(ctx, data))
    out = {"Parameters": [_parameter(ctx, n, data["params"][n]["history"][-1],
                                     body.get("WithDecryption")) for n in page]}
    if nxt:
        out["NextToken"] = nxt
    return out


def _describe_checks(body):
    """DescribeParameters: ParameterFilters (current) or Filters (deprecated), not both."""
    if body.get("Filters") and body.get("ParameterFilters"):
        raise _validation("You can use either Filters or ParameterFilters in a single request.")
    checks = []
    for f in body.get("Filters") or []:
        key, vals = f.get("Key"), f.get("Values") or []
        if key not in ("Name", "Type", "KeyId"):
            raise AwsError("InvalidFilterKey", f"The following filter key is not valid: {key}.")
        checks.append((key, "BeginsWith" if key == "Name" else "Equals", vals))
    for f in body.get("ParameterFilters") or []:
        key, vals = f.get("Key"), f.get("Values") or []
        opt = f.get("Option")
        if not key or not re.fullmatch(r"tag:.+|Name|Type|KeyId|Path|Tier|DataType|Label", key):
            raise AwsError("InvalidFilterKey", f"The following filter key is not valid: {key}.")
        allowed = {"Name": ("Equals", "BeginsWith", "Contains"), "Path": ("Recursive", "OneLevel"),
                   "KeyId": ("Equals", "BeginsWith")}.get(key, ("Equals",))
        if key.startswith("tag:"):
            allowed = ("Equals",)
        opt = opt or allowed[0]
        if opt not in allowed:
            raise AwsError("InvalidFilterOption", f"The following filter option is not valid: "
                           f"{opt}. Valid options include: [{', '.join(allowed)}].")
        if not vals and not key.startswith("tag:"):
            raise AwsError("InvalidFilterValue", f"The following filter values are missing : "
                           f"null for filter key {key}.")
        if len(vals) > 50:
            raise AwsError("InvalidFilterValue", "A filter can have at most 50 values.")
        checks.append((key, opt, vals))
    return checks


def _describe_match(name, entry, checks):
    h = entry["history"][-1]
    for key, opt, vals in checks:
        if key == "Name":
            bare = [v for v in vals]
            if opt == "Equals":
                ok = name in bare or ("/" + name) in bare or name.lstrip("/") in bare
            elif opt == "BeginsWith":
                ok = any(name.startswith(v) or ("/" + name).startswith(v) for v in bare)
            else:
                ok = any(v in name for v in bare)
        elif key == "Path":
            ok = False
            for v in vals:
                prefix = v.rstrip("/") + "/"
                if v == "/" and opt == "Recursive":
                    ok = ok or name.startswith("/")
                elif name.startswith(prefix):
                    ok = ok or opt == "Recursive" or "/" not in name[len(prefix):]
        elif key.startswith("tag:"):
            tk = key[4:]
            ok = tk in entry["tags"] and (not vals or entry["tags"][tk] in vals)
        elif key == "Tier":
            ok = h["tier"] in vals
        elif key == "Label":
            ok = any(lbl in vals for lbl in h.get("labels", []))
        else:
            ok = _filter_ok(h, [(key, opt, vals)])
        if not ok:
            return False
    return True


def describe_parameters(ctx, body, data):
    limit = _int_range(body, "MaxResults", 1, 50, 10)
    checks = _describe_checks(body)
    names = [n for n in sorted(data["params"]) if _describe_match(n, data["params"][n], checks)]
    page, nxt = _page(names, "describe", body.get("NextToken"), limit, _empty_pages(ctx, data))
    out = {"Parameters": [_metadata(ctx, n, data["params"][n]["history"][-1]) for n in page]}
    if nxt:
        out["NextToken"] = nxt
    return out


def get_parameter_history(ctx, body, data):
    name, _ = _lookup_name(ctx, _req(body, "Name"))
    stored = _resolve_param(data, name)
    if stored is None:
        raise AwsError("ParameterNotFound", f"Parameter {name} not found.")
    limit = _int_range(body, "MaxResults", 1, 50, 50)
    hist = data["params"][stored]["history"]
    keys = [f"{h['version']:08d}" for h in hist]
    page, nxt = _page(keys, "history:" + stored, body.get("NextToken"), limit, 0)
    out = []
    for h in hist:
        if f"{h['version']:08d}" not in page:
            continue
        item = _metadata(ctx, stored, h)
        item.pop("ARN", None)
        item["Value"] = _value(ctx, stored, h, body.get("WithDecryption"))
        item["Labels"] = list(h.get("labels", []))
        out.append(item)
    res = {"Parameters": out}
    if nxt:
        res["NextToken"] = nxt
    return res


# ---------------------------------------------------------------------------------------
# Deletes and tags

def delete_parameter(ctx, body, data):
    name, _ = _lookup_name(ctx, _req(body, "Name"))
    stored = _resolve_param(data, name)
    if stored is None:
        raise AwsError("ParameterNotFound", f"Parameter {name} not found.")
    del data["params"][stored]
    return {}


def delete_parameters(ctx, body, data):
    names = _req(body, "Names")
    if not isinstance(names, list) or not names:
        raise _constraint("[]", "names", "Member must have length greater than or equal to 1")
    if len(names) > 10:
        raise _constraint(names, "names", "Member must have length less than or equal to 10")
    deleted, invalid = [], []
    for raw in names:
        name, _ = _lookup_name(ctx, raw)
        stored = _resolve_param(data, name)
        if stored is None:
            invalid.append(raw)
        else:
            del data["params"][stored]
            deleted.append(raw)
    return {"DeletedParameters": deleted, "InvalidParameters": invalid}


def _tag_target(ctx, body, data):
    rtype = _req(body, "ResourceType")
    rid = _req(body, "ResourceId")
    if rtype not in ("Document", "ManagedInstance", "MaintenanceWindow", "Parameter",
                     "PatchBaseline", "OpsItem", "OpsMetadata", "Automation", "Association"):
        raise AwsError("InvalidResourceType", "The resource type isn't valid.")
    if rtype != "Parameter":
        raise AwsError("InvalidResourceId", f"The resource ID {rid} isn't valid. Verify the ID "
                       "and try again.")
    name, _ = _lookup_name(ctx, rid)
    stored = _resolve_param(data, name)
    if stored is None:
        raise AwsError("InvalidResourceId", "The resource ID isn't valid. Verify the ID and try "
                       "again.")
    return data["params"][stored]


def add_tags(ctx, body, data):
    entry = _tag_target(ctx, body, data)
    tags = _check_tags(_req(body, "Tags"))
    merged = dict(entry["tags"], **tags)
    if len(merged) > 50:
        raise AwsError("TooManyTagsError", "The Tags parameter exceeds the maximum number of "
                       "tags (50).")
    entry["tags"] = merged
    return {}


def remove_tags(ctx, body, data):
    entry = _tag_target(ctx, body, data)
    for k in _req(body, "TagKeys"):
        entry["tags"].pop(k, None)
    return {}


def list_tags(ctx, body, data):
    entry = _tag_target(ctx, body, data)
    return {"TagList": [{"Key": k, "Value": v} for k, v in sorted(entry["tags"].items())]}


# ---------------------------------------------------------------------------------------
# Dispatch

WRITERS = {
    "PutParameter": put_parameter,
    "DeleteParameter": delete_parameter,
    "DeleteParameters": delete_parameters,
    "AddTagsToResource": add_tags,
    "RemoveTagsFromResource": remove_tags,
}
READERS = {
    "GetParameter": get_parameter,
    "GetParameters": get_parameters,
    "GetParametersByPath": get_parameters_by_path,
    "DescribeParameters": describe_parameters,
    "GetParameterHistory": get_parameter_history,
    "ListTagsForResource": list_tags,
}


_refreshed = set()


def _refresh_broker_urls(ctx):
    """Once per process and region: the seeded broker/url parameters follow the broker's
    port when a restart had to move it (only while they still hold the value we seeded)."""
    key = (str(ctx.state_dir), ctx.region)
    broker = getattr(getattr(ctx, "world", None), "broker", None)
    if key in _refreshed or broker is None or not getattr(broker, "port", None):
        return
    _refreshed.add(key)
    url = f"http://127.0.0.1:{broker.port}"
    with _store(ctx).update() as data:
        for name, seeded in list(data.get("seeded_urls", {}).items()):
            entry = data["params"].get(name)
            if not entry or seeded == url or entry["history"][-1].get("value") != seeded:
                continue
            put_parameter(ctx, {"Name": name, "Value": url, "Overwrite": True}, data)
            data["seeded_urls"][name] = url


def handle(ctx, request):
    op = request.operation
    body = request.body if isinstance(request.body, dict) else {}
    _refresh_broker_urls(ctx)
    store = _store(ctx)
    if op in WRITERS:
        with store.update() as data:
            return WRITERS[op](ctx, body, data)
    if op in READERS:
        return READERS[op](ctx, body, store.read())
    raise AwsError("InvalidAction", f"The action {op} is not valid for this web service.")


def put_seed_parameter(ctx, name, value, type="String", key_id=None, tags=None,
                       description=None, region=None):
    """Create or overwrite one parameter from another module's seed (e.g. RDS publishing
    /legocity/<env>/payload/db-url).  ctx may belong to any service; the SSM state of
    `region` (default ctx.region) is written.  Returns the new version."""
    sctx = _ssm_ctx(ctx, region)
    body = {"Name": name, "Value": value, "Type": type}
    if key_id:
        body["KeyId"] = key_id
    if description:
        body["Description"] = description
    with _store(sctx).update() as data:
        exists = name in data["params"]
        if exists:
            body["Overwrite"] = True
        elif tags:
            body["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        res = put_parameter(sctx, body, data)
        if exists and tags:
            data["params"][name]["tags"].update(tags)
    return res["Version"]


def _ssm_ctx(ctx, region=None):
    """The SSM context of the same world, whichever service's ctx we were given."""
    world = getattr(ctx, "world", None)
    region = region or ctx.region
    if getattr(ctx, "service", "ssm") == "ssm":
        return ctx if region == ctx.region else ctx.for_region(region)
    return world.context("ssm", region)


def control(ctx, method, path, body):
    """Control hooks under /ssm/...: GET|POST /ssm/knobs {"empty_pages": N};
    POST /ssm/seed {"name": "legocity"} seeds this module alone."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    if parts[:1] == ["ssm"]:
        parts = parts[1:]
    if parts == ["knobs"]:
        with _store(ctx).update() as data:
            if method == "POST":
                for k, v in (body or {}).items():
                    if k != "empty_pages":
                        return 400, {"error": f"unknown knob {k}"}
                    if v is None:
                        data["knobs"].pop(k, None)
                    else:
                        data["knobs"][k] = int(v)
            knobs = dict(data["knobs"])
        knobs.setdefault("empty_pages", _empty_pages(ctx, {"knobs": {}}))
        return 200, knobs
    if parts == ["seed"] and method == "POST":
        seed(ctx, (body or {}).get("name", "legocity"), (body or {}).get("sizes"))
        return 200, {"seeded": "ssm", "region": ctx.region}
    return 404, {"error": f"no such ssm hook: {path}"}


# ---------------------------------------------------------------------------------------
# Seed

def _seed_token(env, what, n=32):
    import hashlib
    return hashlib.sha256(f"legocity/{env}/{what}".encode()).hexdigest()[:n]


def _broker_url(ctx):
    import os
    broker = getattr(getattr(ctx, "world", None), "broker", None)
    if broker is not None and getattr(broker, "port", None):
        return f"http://127.0.0.1:{broker.port}"
    return os.environ.get("LCSIM_BROKER_URL") or "http://127.0.0.1:1026"


def _rds_db_url(ctx, env):
    """postgres:// URL from the RDS seed's ctx.state_dir.parent/rds/seed.json, or None."""
    path = ctx.state_dir.parent / "rds" / "seed.json"
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if isinstance(info.get(env), dict):
        info = info[env]
    elif info.get("env") and info["env"] != env:
        return None
    if info.get("url") or info.get("db_url"):
        return info.get("url") or info.get("db_url")
    ep = info.get("endpoint") if isinstance(info.get("endpoint"), dict) else {}
    host = info.get("host") or info.get("address") or ep.get("address") or \
        ep.get("Address") or (info.get("endpoint") if isinstance(info.get("endpoint"), str)
                              else None)
    port = info.get("port") or ep.get("port") or ep.get("Port") or 5432
    user = info.get("user") or info.get("username") or info.get("master_username")
    pw = info.get("password") or info.get("master_password")
    db = info.get("dbname") or info.get("database") or info.get("db_name") or "payload"
    if not (host and user and pw):
        return None
    from urllib.parse import quote
    return f"postgres://{quote(user, safe='')}:{quote(pw, safe='')}@{host}:{port}/{db}"


def _seed_parameters(ctx, env, sizes):
    """(name, type, value, extra) for one environment; extra: Description, Tier, tags..."""
    base = f"/legocity/{env}"
    stations = ",".join(f"lego-city-{i:04d}" for i in range(1, 13))
    layers = [{"id": f"layer-{i:02d}", "title": f"LegoCity layer {i}",
               "entityType": t, "refresh": 60 * (i % 5 + 1),
               "style": {"color": f"#{(i * 2654435761) % 0xFFFFFF:06x}", "opacity": 0.8}}
              for i, t in enumerate(["WeatherObserved", "Streetlight", "AirQualityObserved",
                                     "ParkingSpot", "TrafficFlowObserved",
                                     "OffStreetParking"] * 6)]
    dashboard = json.dumps({"env": env, "layers": layers, "center": [50.85, 4.35], "zoom": 14},
                           separators=(",", ":"))
    db_url = _rds_db_url(ctx, env) or (
        f"postgres://payload:{_seed_token(env, 'db-password', 24)}@127.0.0.1:5432/payload")
    common = {"Project": "legocity", "Environment": env}
    secret = dict(common, **{"lcbackup:class": "secret"})
    return [
        (f"{base}/broker/url", "String", _broker_url(ctx),
         {"Description": "NGSI-LD broker base URL", "tags": common}),
        (f"{base}/broker/tenant", "String", "legocity", {"tags": common}),
        (f"{base}/broker/context-url", "String",
         "https://legocity.example/ngsi-ld/context.jsonld", {"tags": common}),
        (f"{base}/broker/write-key/env", "SecureString",
         f"BROKER_WRITE_KEY=lcwk_{env}_{_seed_token(env, 'write-key')}",
         {"Description": "write key for the broker (env file line)", "tags": secret}),
        (f"{base}/payload/db-url", "SecureString", db_url,
         {"Description": "PayloadCMS database URL", "tags": secret}),
        (f"{base}/payload/secret", "SecureString", _seed_token(env, "payload-secret", 48),
         {"tags": secret}),
        (f"{base}/payload/public-url", "String", f"https://cms.{env}.legocity.example",
         {"AllowedPattern": r"^https://[a-z0-9.\-]+$", "tags": common}),
        (f"{base}/payload/media/bucket", "String", f"legocity-media-{env}", {"tags": common}),
        (f"{base}/external/weather/api-key", "SecureString",
         f"wk-{_seed_token(env, 'weather', 40)}",
         {"KeyId": "alias/legocity-backups" if env == "prod" else None, "tags": secret}),
        (f"{base}/external/weather/endpoint", "String",
         "https://api.weather.example/v3/observations", {"tags": common}),
        (f"{base}/external/weather/stations", "StringList", stations,
         {"Description": "weather stations polled by update-env", "tags": common}),
        (f"{base}/dashboard/config", "String", dashboard,
         {"Tier": "Advanced", "Description": "dashboard map layers (advanced tier)",
          "tags": common}),
        (f"{base}/proxy/allowed-origins", "StringList",
         f"https://dashboard.{env}.legocity.example,https://cms.{env}.legocity.example",
         {"tags": common}),
        (f"{base}/update-env/schedule", "String", "cron(0/15 * * * ? *)",
         {"AllowedPattern": r"^cron\(.+\)$", "tags": common}),
        (f"{base}/features/flags/map-v2", "String", "true" if env == "dev" else "false",
         {"tags": common}),
        (f"{base}/ops/alerts/email", "String", f"ops+{env}@legocity.example", {}),
    ]


def seed(ctx, name="legocity", sizes=None):
    """LegoCity parameters under /legocity/dev/ and /legocity/prod/ (16 each, up to 5 path
    levels, tags, SecureStrings, one Advanced tier, StringLists) plus one flat name that a
    by-path listing never returns.  Existing parameters (e.g. published by the RDS seed
    through put_seed_parameter) are kept."""
    if name != "legocity":
        return
    with _store(ctx).update() as data:
        for env in ("dev", "prod"):
            for pname, ptype, value, extra in _seed_parameters(ctx, env, sizes):
                if pname in data["params"]:
                    entry = data["params"][pname]
                    entry["tags"] = dict(extra.get("tags") or {}, **entry["tags"])
                    continue
                body = {"Name": pname, "Type": ptype, "Value": value}
                for k in ("Description", "Tier", "AllowedPattern", "KeyId"):
                    if extra.get(k):
                        body[k] = extra[k]
                if body.get("KeyId") and not ctx.kms.resolve_key(body["KeyId"]):
                    del body["KeyId"]
                if extra.get("tags"):
                    body["Tags"] = [{"Key": k, "Value": v} for k, v in extra["tags"].items()]
                put_parameter(ctx, body, data)
        if "legocity-release" not in data["params"]:
            put_parameter(ctx, {"Name": "legocity-release", "Type": "String",
                                "Value": "2026.11.2"}, data)
        # A little history: the prod broker URL was changed once.
        url = "/legocity/prod/broker/url"
        if len(data["params"][url]["history"]) == 1:
            cur = data["params"][url]["history"][-1]["value"]
            data["params"][url]["history"][-1]["value"] = "http://127.0.0.1:1026"
            put_parameter(ctx, {"Name": url, "Value": cur, "Overwrite": True}, data)
        seeded = data.setdefault("seeded_urls", {})
        for env in ("dev", "prod"):
            name = f"/legocity/{env}/broker/url"
            seeded.setdefault(name, data["params"][name]["history"][-1]["value"])
    _refreshed.add((str(ctx.state_dir), ctx.region))
