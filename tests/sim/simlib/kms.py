"""KMS (JSON 1.1, TrentService): keys per region, aliases, data keys, Encrypt/Decrypt.

Ciphertext blobs are opaque but real: "LCK1" | key id (36 ascii) | nonce (16) | ciphertext |
tag (32). The keystream is HMAC-SHA256(key material, nonce | counter), the tag an
HMAC-SHA256 over header, ciphertext and encryption context, so a tampered blob, a wrong
context or another key fails like KMS does. Other modules use ctx.kms (KmsApi).
"""

import base64
import hashlib
import hmac
import json
import os
import uuid

from . import ACCOUNT_ID
from .core import AwsError, JsonStore

MAGIC = b"LCK1"
AWS_MANAGED = ("aws/ssm", "aws/rds", "aws/ebs", "aws/s3", "aws/secretsmanager", "aws/ecs")


class KmsApi:
    """ctx.kms for other modules: resolve_key, encrypt, decrypt, generate_data_key."""

    def __init__(self, world, region):
        self.world = world
        self.region = region

    def _store(self):
        return JsonStore(self.world.service_dir("kms") / self.region / "keys.json",
                         default={"keys": {}, "aliases": {}})

    # -- lookups ---------------------------------------------------------------------------
    def find(self, key_id, create_managed=True):
        """key id / key ARN / alias name / alias ARN -> key record, or None."""
        if not key_id:
            return None
        store = self._store()
        data = store.read()
        kid = key_id
        prefix = f"arn:aws:kms:{self.region}:{ACCOUNT_ID}:"
        if kid.startswith("arn:aws:kms:"):
            if not kid.startswith(prefix):
                return None
            kid = kid[len(prefix):]
            if kid.startswith("key/"):
                kid = kid[4:]
        if kid.startswith("alias/"):
            target = data["aliases"].get(kid)
            if target is None and create_managed and kid[6:] in AWS_MANAGED:
                return self._managed(kid)
            if target is None:
                return None
            kid = target["target"]
        return data["keys"].get(kid)

    def _managed(self, alias):
        rec = self.create_key(f"Default key that protects my {alias[10:]} data when no other "
                              "key is defined", manager="AWS")
        with self._store().update() as d:
            if alias in d["aliases"]:      # another thread won
                return d["keys"][d["aliases"][alias]["target"]]
            d["aliases"][alias] = {"target": rec["KeyId"], "created": self.world.now()}
        return rec

    def resolve_key(self, key_id):
        """Key ARN for any key reference, or None when it does not exist in this region."""
        rec = self.find(key_id)
        return rec["Arn"] if rec else None

    def require(self, key_id, usable=True):
        rec = self.find(key_id)
        if rec is None:
            raise AwsError("NotFoundException", f"Key '{_arnish(self.region, key_id)}' does "
                           "not exist", 400)
        if usable:
            _check_usable(rec)
        return rec

    # -- key management --------------------------------------------------------------------
    def create_key(self, description="", key_usage="ENCRYPT_DECRYPT",
                   key_spec="SYMMETRIC_DEFAULT", tags=None, manager="CUSTOMER"):
        kid = str(uuid.uuid4())
        rec = {
            "AWSAccountId": ACCOUNT_ID, "KeyId": kid,
            "Arn": f"arn:aws:kms:{self.region}:{ACCOUNT_ID}:key/{kid}",
            "CreationDate": self.world.now(), "Enabled": True, "Description": description,
            "KeyUsage": key_usage, "KeyState": "Enabled", "Origin": "AWS_KMS",
            "KeyManager": manager, "CustomerMasterKeySpec": key_spec, "KeySpec": key_spec,
            "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"], "MultiRegion": False,
            "_material": base64.b64encode(os.urandom(32)).decode(),
            "_tags": list(tags or []),
        }
        with self._store().update() as d:
            d["keys"][kid] = rec
        return rec

    def set_state(self, key_id, **changes):
        rec = self.require(key_id, usable=False)
        with self._store().update() as d:
            d["keys"][rec["KeyId"]].update(changes)
            return d["keys"][rec["KeyId"]]

    def create_alias(self, alias, target):
        if not alias.startswith("alias/") or alias.startswith("alias/aws/") or len(alias) < 7:
            raise AwsError("ValidationException" if not alias.startswith("alias/aws/")
                           else "NotAuthorizedException",
                           f"Alias must start with the prefix \"alias/\" and may not use "
                           f"\"alias/aws/\": {alias}", 400)
        rec = self.require(target, usable=False)
        with self._store().update() as d:
            if alias in d["aliases"]:
                raise AwsError("AlreadyExistsException", f"An alias with the name "
                               f"arn:aws:kms:{self.region}:{ACCOUNT_ID}:{alias} already exists",
                               400)
            now = self.world.now()
            d["aliases"][alias] = {"target": rec["KeyId"], "created": now}

    def aliases(self):
        return self._store().read()["aliases"]

    def keys(self):
        return self._store().read()["keys"]

    # -- crypto ----------------------------------------------------------------------------
    def encrypt(self, key_id, plaintext, context=None):
        rec = self.require(key_id)
        nonce = os.urandom(16)
        header = MAGIC + rec["KeyId"].encode() + nonce
        mat = base64.b64decode(rec["_material"])
        ct = _xor(plaintext, _keystream(mat, nonce, len(plaintext)))
        tag = _tag(mat, header + ct, context)
        return header + ct + tag

    def decrypt(self, blob, context=None, key_id=None):
        """(key ARN, plaintext); InvalidCiphertextException, IncorrectKeyException,
        AccessDeniedException (key unknown here), DisabledException."""
        if len(blob) < 4 + 36 + 16 + 32 or not blob.startswith(MAGIC):
            raise AwsError("InvalidCiphertextException", "", 400)
        kid = blob[4:40].decode("ascii", "replace")
        rec = self.find(kid, create_managed=False)
        if rec is None:
            raise AwsError("AccessDeniedException", "The ciphertext refers to a customer "
                           "master key that does not exist, does not exist in this region, or "
                           "you are not allowed to access.", 400)
        if key_id is not None:
            want = self.find(key_id)
            if want is None:
                raise AwsError("NotFoundException", f"Key "
                               f"'{_arnish(self.region, key_id)}' does not exist", 400)
            if want["KeyId"] != rec["KeyId"]:
                raise AwsError("IncorrectKeyException", "The key ID in the request does not "
                               "identify a CMK that can perform this operation.", 400)
        _check_usable(rec)
        mat = base64.b64decode(rec["_material"])
        header, ct, tag = blob[:56], blob[56:-32], blob[-32:]
        if not hmac.compare_digest(tag, _tag(mat, header + ct, context)):
            raise AwsError("InvalidCiphertextException", "", 400)
        return rec["Arn"], _xor(ct, _keystream(mat, blob[40:56], len(ct)))

    def generate_data_key(self, key_id, nbytes=32, context=None):
        plain = os.urandom(nbytes)
        return plain, self.encrypt(key_id, plain, context)


def _arnish(region, key_id):
    if key_id.startswith("arn:") or key_id.startswith("alias/"):
        return key_id
    return f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{key_id}"


def _check_usable(rec):
    state = rec["KeyState"]
    if state == "Disabled":
        raise AwsError("DisabledException", f"{rec['Arn']} is disabled.", 400)
    if state != "Enabled":
        raise AwsError("KMSInvalidStateException", f"{rec['Arn']} is pending deletion.", 400)


def _keystream(mat, nonce, n):
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hmac.new(mat, nonce + i.to_bytes(8, "big"), hashlib.sha256).digest()
        i += 1
    return bytes(out[:n])


def _xor(a, b):
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big") \
        if a else b""


def _tag(mat, data, context):
    ctx = json.dumps(context or {}, sort_keys=True).encode()
    return hmac.new(mat, b"tag" + data + b"|" + ctx, hashlib.sha256).digest()


def _public(rec):
    return {k: v for k, v in rec.items() if not k.startswith("_")}


def _b64_arg(body, name, maxlen):
    v = body.get(name)
    if v is None:
        raise AwsError("ValidationException", f"1 validation error detected: Value null at "
                       f"'{name[0].lower() + name[1:]}' failed to satisfy constraint: Member "
                       "must not be null", 400)
    try:
        data = base64.b64decode(v, validate=True)
    except (ValueError, TypeError):
        raise AwsError("SerializationException", f"{name} is not valid base64", 400)
    if not 1 <= len(data) <= maxlen:
        raise AwsError("ValidationException", f"1 validation error detected: Value at "
                       f"'{name[0].lower() + name[1:]}' failed to satisfy constraint: Member "
                       f"must have length between 1 and {maxlen}", 400)
    return data


def _b64(data):
    return base64.b64encode(data).decode()


def _data_key_len(body):
    spec, nb = body.get("KeySpec"), body.get("NumberOfBytes")
    if spec and nb:
        raise AwsError("ValidationException", "Please specify either number of bytes or key "
                       "spec.", 400)
    if spec:
        if spec not in ("AES_256", "AES_128"):
            raise AwsError("ValidationException", f"1 validation error detected: Value "
                           f"'{spec}' at 'keySpec' failed to satisfy constraint: Member must "
                           "satisfy enum value set: [AES_256, AES_128]", 400)
        return 32 if spec == "AES_256" else 16
    if nb is None:
        raise AwsError("ValidationException", "Please specify either number of bytes or key "
                       "spec.", 400)
    if not isinstance(nb, int) or not 1 <= nb <= 1024:
        raise AwsError("ValidationException", f"1 validation error detected: Value '{nb}' at "
                       "'numberOfBytes' failed to satisfy constraint: Member must have value "
                       "between 1 and 1024", 400)
    return nb


def handle(ctx, req):
    api = KmsApi(ctx.world, ctx.region)
    op, b = req.operation, req.body
    if op == "CreateKey":
        spec = b.get("KeySpec") or b.get("CustomerMasterKeySpec") or "SYMMETRIC_DEFAULT"
        if spec != "SYMMETRIC_DEFAULT":
            raise AwsError("UnsupportedOperationException",
                           f"lcsim supports SYMMETRIC_DEFAULT keys only, not {spec}", 400)
        rec = api.create_key(b.get("Description", ""), b.get("KeyUsage", "ENCRYPT_DECRYPT"),
                             spec, b.get("Tags"))
        return {"KeyMetadata": _public(rec)}
    if op == "DescribeKey":
        return {"KeyMetadata": _public(api.require(b.get("KeyId"), usable=False))}
    if op == "ListKeys":
        keys = sorted(api.keys().values(), key=lambda r: r["CreationDate"])
        return _page([{"KeyId": r["KeyId"], "KeyArn": r["Arn"]} for r in keys], b, "Keys")
    if op == "CreateAlias":
        api.create_alias(b.get("AliasName") or "", b.get("TargetKeyId") or "")
        return {}
    if op == "DeleteAlias":
        name = b.get("AliasName") or ""
        with api._store().update() as d:
            if name not in d["aliases"]:
                raise AwsError("NotFoundException", f"Alias arn:aws:kms:{ctx.region}:"
                               f"{ACCOUNT_ID}:{name} is not found.", 400)
            del d["aliases"][name]
        return {}
    if op == "ListAliases":
        out = []
        target_filter = None
        if b.get("KeyId"):
            target_filter = api.require(b["KeyId"], usable=False)["KeyId"]
        for name, a in sorted(api.aliases().items()):
            if target_filter and a["target"] != target_filter:
                continue
            out.append({"AliasName": name,
                        "AliasArn": f"arn:aws:kms:{ctx.region}:{ACCOUNT_ID}:{name}",
                        "TargetKeyId": a["target"], "CreationDate": a["created"],
                        "LastUpdatedDate": a["created"]})
        return _page(out, b, "Aliases")
    if op in ("EnableKey", "DisableKey"):
        enabled = op == "EnableKey"
        api.set_state(b.get("KeyId"), Enabled=enabled,
                      KeyState="Enabled" if enabled else "Disabled")
        return {}
    if op == "ScheduleKeyDeletion":
        days = int(b.get("PendingWindowInDays", 30))
        if not 7 <= days <= 30:
            raise AwsError("ValidationException", "PendingWindowInDays must be 7..30", 400)
        rec = api.set_state(b.get("KeyId"), Enabled=False, KeyState="PendingDeletion",
                            DeletionDate=ctx.now() + days * 86400)
        return {"KeyId": rec["Arn"], "DeletionDate": rec["DeletionDate"],
                "KeyState": "PendingDeletion", "PendingWindowInDays": days}
    if op == "CancelKeyDeletion":
        rec = api.set_state(b.get("KeyId"), KeyState="Disabled", DeletionDate=None)
        return {"KeyId": rec["Arn"]}
    if op in ("GenerateDataKey", "GenerateDataKeyWithoutPlaintext"):
        n = _data_key_len(b)
        rec = api.require(b.get("KeyId"))
        plain, blob = api.generate_data_key(rec["KeyId"], n, b.get("EncryptionContext"))
        out = {"CiphertextBlob": _b64(blob), "KeyId": rec["Arn"]}
        if op == "GenerateDataKey":
            out["Plaintext"] = _b64(plain)
        return out
    if op == "Encrypt":
        data = _b64_arg(b, "Plaintext", 4096)
        rec = api.require(b.get("KeyId"))
        blob = api.encrypt(rec["KeyId"], data, b.get("EncryptionContext"))
        return {"CiphertextBlob": _b64(blob), "KeyId": rec["Arn"],
                "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    if op == "Decrypt":
        blob = _b64_arg(b, "CiphertextBlob", 6144)
        arn, plain = api.decrypt(blob, b.get("EncryptionContext"), b.get("KeyId"))
        return {"KeyId": arn, "Plaintext": _b64(plain), "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    if op == "ReEncrypt":
        blob = _b64_arg(b, "CiphertextBlob", 6144)
        src, plain = api.decrypt(blob, b.get("SourceEncryptionContext"))
        rec = api.require(b.get("DestinationKeyId"))
        out = api.encrypt(rec["KeyId"], plain, b.get("DestinationEncryptionContext"))
        return {"CiphertextBlob": _b64(out), "SourceKeyId": src, "KeyId": rec["Arn"]}
    raise AwsError("UnknownOperationException", f"lcsim kms does not implement {op}", 400)


def _page(items, body, name):
    limit = body.get("Limit", 100)
    if not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise AwsError("ValidationException", "Limit must be between 1 and 1000", 400)
    start = 0
    if body.get("Marker"):
        try:
            start = int(body["Marker"])
        except ValueError:
            raise AwsError("InvalidMarkerException", "Invalid marker", 400)
    page = items[start:start + limit]
    out = {name: page, "Truncated": start + limit < len(items)}
    if out["Truncated"]:
        out["NextMarker"] = str(start + limit)
    return out


LEGOCITY_ALIAS = "alias/legocity-backups"
LEGOCITY_REGIONS = ("eu-west-1", "eu-central-1")


def seed(ctx, name="legocity", sizes=None):
    """The LegoCity backup key (alias/legocity-backups) in eu-west-1 and eu-central-1."""
    if name != "legocity":
        return
    for region in LEGOCITY_REGIONS:
        api = KmsApi(ctx.world, region)
        if LEGOCITY_ALIAS in api.aliases():
            continue
        rec = api.create_key("LegoCity backup envelope key",
                             tags=[{"TagKey": "app", "TagValue": "legocity"}])
        api.create_alias(LEGOCITY_ALIAS, rec["KeyId"])


def control(ctx, method, path, body):
    """POST /kms/disable {"key"}, POST /kms/enable {"key"}, GET /kms/keys?region=."""
    api = KmsApi(ctx.world, ctx.region)
    parts = [x for x in path.split("?")[0].split("/") if x][1:]
    if parts == ["keys"] and method == "GET":
        return 200, {"keys": [_public(r) for r in api.keys().values()],
                     "aliases": api.aliases()}
    if parts in (["disable"], ["enable"]) and method == "POST":
        en = parts[0] == "enable"
        rec = api.set_state(body["key"], Enabled=en, KeyState="Enabled" if en else "Disabled")
        return 200, _public(rec)
    return 404, {"error": f"no kms control route {method} {path}"}
