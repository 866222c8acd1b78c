"""S3 (REST-XML, path-style): buckets, objects, multipart uploads, checksums, conditional
writes, SSE-KMS, Object Lock, tagging.

Objects live on disk (DIR/s3/data/<id>, parts in DIR/s3/parts/<upload>/<n>) and are
streamed in and out; metadata lives in DIR/s3/s3.db (sqlite, keys in UTF-8 byte order).
"""

import base64
import hashlib
import json
import os
import pathlib
import re
import secrets
import shutil
import threading
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, quote, quote_plus, unquote

from . import ACCOUNT_ID, NAMESPACES, sigv4
from .checksums import Checksum, composite
from .core import (AwsError, Response, SqliteStore, iso8601, parse_iso8601, rfc1123,
                   xml_elems, xml_escape)

NS = NAMESPACES["s3"]
MIB = 1 << 20
MIN_PART = 5 * MIB
MAX_PUT = 5 << 30
OWNER_ID = hashlib.sha256(ACCOUNT_ID.encode()).hexdigest()
OWNER = [("ID", OWNER_ID), ("DisplayName", "lcbackup")]
STORAGE_CLASSES = ("STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
                   "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "OUTPOSTS",
                   "EXPRESS_ONEZONE")
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets(name TEXT PRIMARY KEY, region TEXT NOT NULL,
    created REAL NOT NULL, object_lock INTEGER NOT NULL DEFAULT 0, lock_rule TEXT,
    tags TEXT);
CREATE TABLE IF NOT EXISTS objects(bucket TEXT NOT NULL, key TEXT NOT NULL,
    size INTEGER NOT NULL, etag TEXT NOT NULL, modified REAL NOT NULL, file TEXT NOT NULL,
    meta TEXT NOT NULL, PRIMARY KEY(bucket, key));
CREATE TABLE IF NOT EXISTS uploads(upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL,
    key TEXT NOT NULL, initiated REAL NOT NULL, meta TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS uploads_key ON uploads(bucket, key, initiated);
CREATE TABLE IF NOT EXISTS parts(upload_id TEXT NOT NULL, part INTEGER NOT NULL,
    size INTEGER NOT NULL, etag TEXT NOT NULL, modified REAL NOT NULL, file TEXT NOT NULL,
    checksum TEXT, PRIMARY KEY(upload_id, part));
"""

_stores = {}
_stores_lock = threading.Lock()


class Store:
    def __init__(self, root):
        self.root = pathlib.Path(root)
        self.data = self.root / "data"
        self.parts = self.root / "parts"
        self.tmp = self.root / "tmp"
        for d in (self.data, self.parts, self.tmp):
            d.mkdir(parents=True, exist_ok=True)
        self.db = SqliteStore(self.root / "s3.db", SCHEMA)


def store(ctx):
    root = str(ctx.state_dir)
    with _stores_lock:
        s = _stores.get(root)
        if s is None or not s.root.exists():
            s = _stores[root] = Store(root)
        return s


def reset(ctx):
    with _stores_lock:
        s = _stores.pop(str(ctx.state_dir), None)
    if s:
        s.db.close()


def shutdown(ctx):
    reset(ctx)


# ---------------------------------------------------------------------------------------
# Routing

def _split(req):
    """(bucket, key) from the path-style wire path (decoded once)."""
    path = req.path
    if not path.startswith("/"):
        path = "/" + path
    bucket, _, key = path[1:].partition("/")
    return unquote(bucket) or None, (unquote(key) if key else None)


def operation_name(req):
    bucket, key = _split(req)
    q = {k for k, _ in req.query_params}
    m = req.method
    req.log_fields = {"bucket": bucket, "key": key}
    if "uploadId" in q:
        req.log_fields["upload_id"] = req.query_get("uploadId")
    if "partNumber" in q:
        req.log_fields["part_number"] = req.query_get("partNumber")
    if bucket is None:
        return "ListBuckets" if m == "GET" else "Unknown"
    if key is None:
        if m == "PUT":
            for flag, op in (("object-lock", "PutObjectLockConfiguration"),
                             ("versioning", "PutBucketVersioning"),
                             ("tagging", "PutBucketTagging")):
                if flag in q:
                    return op
            return "CreateBucket"
        if m == "HEAD":
            return "HeadBucket"
        if m == "DELETE":
            return "DeleteBucketTagging" if "tagging" in q else "DeleteBucket"
        if m == "POST":
            return "DeleteObjects" if "delete" in q else "Unknown"
        for flag, op in (("location", "GetBucketLocation"), ("uploads", "ListMultipartUploads"),
                         ("object-lock", "GetObjectLockConfiguration"),
                         ("versioning", "GetBucketVersioning"), ("tagging", "GetBucketTagging")):
            if flag in q:
                return op
        return "ListObjectsV2" if req.query_get("list-type") == "2" else "ListObjects"
    if m == "PUT":
        if "uploadId" in q:
            return "UploadPart"
        for flag, op in (("tagging", "PutObjectTagging"), ("retention", "PutObjectRetention"),
                         ("legal-hold", "PutObjectLegalHold")):
            if flag in q:
                return op
        return "CopyObject" if req.headers.get("x-amz-copy-source") else "PutObject"
    if m in ("GET", "HEAD"):
        if m == "GET":
            if "uploadId" in q:
                return "ListParts"
            for flag, op in (("tagging", "GetObjectTagging"), ("retention", "GetObjectRetention"),
                             ("legal-hold", "GetObjectLegalHold")):
                if flag in q:
                    return op
            return "GetObject"
        return "HeadObject"
    if m == "DELETE":
        if "uploadId" in q:
            return "AbortMultipartUpload"
        return "DeleteObjectTagging" if "tagging" in q else "DeleteObject"
    if m == "POST":
        if "uploads" in q:
            return "CreateMultipartUpload"
        if "uploadId" in q:
            return "CompleteMultipartUpload"
    return "Unknown"


def handle(ctx, req):
    op = req.operation or operation_name(req)
    fn = OPS.get(op)
    if fn is None:
        raise AwsError("NotImplemented", "A header or query you provided implies "
                       "functionality that is not implemented", 501)
    bucket, key = _split(req)
    st = store(ctx)
    if op == "ListBuckets":
        return fn(ctx, req, st)
    if op == "CreateBucket":
        return fn(ctx, req, st, bucket)
    b = _bucket(st, bucket)
    _check_region(req, b)
    if key is None:
        return fn(ctx, req, st, b)
    if len(key.encode()) > 1024:
        raise AwsError("KeyTooLongError", "Your key is too long", 400)
    return fn(ctx, req, st, b, key)


def _bucket(st, name):
    rows = st.db.query("SELECT * FROM buckets WHERE name=?", (name,))
    if not rows:
        raise AwsError("NoSuchBucket", "The specified bucket does not exist", 404,
                       {"BucketName": name})
    return dict(rows[0])


def _check_region(req, b):
    if req.region == b["region"]:
        return
    presigned = req.query_has("X-Amz-Credential")
    headers = {"x-amz-bucket-region": b["region"]}
    if presigned:
        raise AwsError("AuthorizationQueryParametersError", "Error parsing the "
                       f"X-Amz-Credential parameter; the region '{req.region}' is wrong; "
                       f"expecting '{b['region']}'", 400, {"Region": b["region"]}, headers)
    raise AwsError("AuthorizationHeaderMalformed", "The authorization header is malformed; "
                   f"the region '{req.region}' is wrong; expecting '{b['region']}'", 400,
                   {"Region": b["region"]}, headers)


# ---------------------------------------------------------------------------------------
# Request bodies

def _body_reader(req):
    """Decoded body reader and its expected decoded length (aws-chunked aware)."""
    h = req.headers
    sha = h.get("x-amz-content-sha256") or ""
    enc = (h.get("Content-Encoding") or "").lower()
    chunked = "aws-chunked" in enc or sha.startswith("STREAMING-")
    if chunked:
        dl = h.get("x-amz-decoded-content-length")
        if dl is None:
            raise AwsError("MissingContentLength", "You must provide the Content-Length HTTP "
                           "header.", 411)
        signing = None
        if sha in sigv4.STREAMING_SIGNED and req.identity:
            signing = req.identity.get("signing")
        return sigv4.AwsChunkedReader(req.stream, signing), int(dl), True
    if "chunked" in (h.get("Transfer-Encoding") or "").lower():
        raise AwsError("NotImplemented", "A header you provided implies functionality that "
                       "is not implemented", 501, {"Header": "Transfer-Encoding"})
    if req.content_length is None and req.method == "PUT":
        raise AwsError("MissingContentLength", "You must provide the Content-Length HTTP "
                       "header.", 411)
    return req.stream, int(req.content_length or 0), False


def _check_payload_sha(req, sha256_hex):
    if req.payload_sha256 and req.payload_sha256 != sha256_hex:
        raise AwsError("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' "
                       "header does not match what was computed.", 400,
                       {"ClientComputedContentSHA256": req.payload_sha256,
                        "S3ComputedContentSHA256": sha256_hex})


def _small_body(req, limit=2 * MIB):
    """A small request body (XML documents), fully read and verified."""
    h = req.headers
    sha = h.get("x-amz-content-sha256") or ""
    if "aws-chunked" in (h.get("Content-Encoding") or "").lower() or sha.startswith("STREAMING-"):
        reader, length, _ = _body_reader(req)
        if length > limit:
            raise AwsError("MaxMessageLengthExceeded", "Your request was too big.", 400)
        data = reader.read(length)
        reader.read(-1)
        trailers = reader.trailers
    else:
        data = req.stream.read(limit + 1)
        trailers = None
        if len(data) > limit:
            raise AwsError("MaxMessageLengthExceeded", "Your request was too big.", 400)
    _check_payload_sha(req, hashlib.sha256(data).hexdigest())
    md5 = h.get("Content-MD5")
    if md5 is not None:
        _check_md5(md5, hashlib.md5(data).digest())
    _check_header_checksums(req, {a: Checksum(a).update(data) for a in _declared_algos(req)},
                            trailers)
    return data


def _declared_algos(req):
    out = []
    for a in Checksum.ALGORITHMS:
        if req.headers.get(f"x-amz-checksum-{a.lower()}") is not None:
            out.append(a)
    trailer = (req.headers.get("x-amz-trailer") or "").lower()
    if trailer.startswith("x-amz-checksum-"):
        a = trailer[len("x-amz-checksum-"):].upper()
        if a in Checksum.ALGORITHMS and a not in out:
            out.append(a)
    sdk = (req.headers.get("x-amz-sdk-checksum-algorithm") or "").upper()
    if len(out) > 1:
        raise AwsError("InvalidRequest", "Expecting a single x-amz-checksum- header. "
                       "Multiple checksum Types are not allowed.", 400)
    if sdk and out and sdk != out[0]:
        raise AwsError("InvalidRequest", "Value for x-amz-sdk-checksum-algorithm header is "
                       "invalid.", 400)
    return out


def _check_md5(header_value, digest):
    try:
        want = base64.b64decode(header_value, validate=True)
    except ValueError:
        want = b""
    if len(want) != 16:
        raise AwsError("InvalidDigest", "The Content-MD5 you specified was invalid.", 400,
                       {"Content-MD5": header_value})
    if want != digest:
        raise AwsError("BadDigest", "The Content-MD5 you specified did not match what we "
                       "received.", 400, {"ExpectedDigest": header_value,
                                          "CalculatedDigest": base64.b64encode(digest).decode()})


def _check_header_checksums(req, computed, trailers=None):
    """computed: {ALGO: Checksum}. Checks x-amz-checksum-* headers (and trailers)."""
    out = {}
    for a, c in computed.items():
        name = f"x-amz-checksum-{a.lower()}"
        given = req.headers.get(name)
        if given is None and trailers is not None:
            given = trailers.get(name)
        if given is None:
            raise AwsError("InvalidRequest", f"The {name} trailer was declared but not sent.",
                           400)
        if given != c.b64():
            raise AwsError("BadDigest", f"The {a} you specified did not match the calculated "
                           "checksum.", 400)
        out[a] = given
    return out


def _receive(req, st, want_algos=(), max_size=MAX_PUT):
    """Stream the request body into a temp file, verifying the signed payload hash,
    Content-MD5 and x-amz-checksum-*. Returns dict(path, size, md5 (raw), checksums)."""
    reader, length, chunked = _body_reader(req)
    if length > max_size:
        raise AwsError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed "
                       "size", 400, {"ProposedSize": length, "MaxSizeAllowed": max_size})
    algos = list(_declared_algos(req))
    for a in want_algos:
        if a not in algos:
            algos.append(a)
    hashers = {a: Checksum(a) for a in algos}
    md5 = hashlib.md5()
    sha = hashlib.sha256() if req.payload_sha256 else None
    path = st.tmp / f"{uuid.uuid4().hex}"
    size = 0
    try:
        with open(path, "wb") as f:
            left = length
            while left > 0:
                chunk = reader.read(min(MIB, left))
                if not chunk:
                    break
                left -= len(chunk)
                size += len(chunk)
                f.write(chunk)
                md5.update(chunk)
                if sha:
                    sha.update(chunk)
                for h in hashers.values():
                    h.update(chunk)
            if chunked:
                reader.read(-1)          # the final chunk and trailers
        if size != length:
            raise AwsError("IncompleteBody", "You did not provide the number of bytes "
                           "specified by the Content-Length HTTP header", 400)
        if sha:
            _check_payload_sha(req, sha.hexdigest())
        if req.headers.get("Content-MD5") is not None:
            _check_md5(req.headers.get("Content-MD5"), md5.digest())
        declared = {a: hashers[a] for a in _declared_algos(req)}
        got = _check_header_checksums(req, declared,
                                      reader.trailers if chunked else None)
        for a in want_algos:
            got.setdefault(a, hashers[a].b64())
        return {"path": path, "size": size, "md5": md5.digest(), "checksums": got}
    except BaseException:
        path.unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------------------
# Helpers

def _xml(root, inner):
    return (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"{NS}\">{inner}"
            f"</{root}>").encode()


def _xml_response(root, inner, status=200, headers=None):
    return Response(status, _xml(root, inner), headers, "application/xml")


def _parse_xml(data):
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not "
                       "validate against our published schema", 400)
    for el in root.iter():
        if "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    return root


def _qint(req, name, default, lo, hi, cap=None):
    v = req.query_get(name)
    if v is None:
        return default
    try:
        n = int(v)
    except ValueError:
        raise AwsError("InvalidArgument", f"Provided {name} not an integer or within integer "
                       "range", 400, {"ArgumentName": name, "ArgumentValue": v})
    if n < lo or (hi is not None and n > hi):
        raise AwsError("InvalidArgument", f"Argument {name} must be an integer between {lo} "
                       f"and {hi}", 400, {"ArgumentName": name, "ArgumentValue": v})
    return min(n, cap) if cap else n


def _encoder(req):
    enc = req.query_get("encoding-type")
    if enc is None:
        return lambda s: s
    if enc != "url":
        raise AwsError("InvalidArgument", "Invalid Encoding Method specified in Request", 400,
                       {"ArgumentName": "encoding-type", "ArgumentValue": enc})
    return lambda s: quote_plus(s, safe="/") if s is not None else s


def _parse_tagging(text):
    tags = parse_qsl(text, keep_blank_values=True)
    _validate_tags(tags)
    return tags


def _validate_tags(tags):
    if len(tags) > 10:
        raise AwsError("BadRequest", "Object tags cannot be greater than 10", 400)
    seen = set()
    for k, v in tags:
        if not k or len(k) > 128 or len(v) > 256:
            raise AwsError("InvalidTag", "The TagKey or TagValue you have provided is invalid",
                           400, {"TagKey": k})
        if k in seen:
            raise AwsError("InvalidTag", "Cannot provide multiple Tags with the same key", 400,
                           {"TagKey": k})
        seen.add(k)


def _user_meta(req):
    meta = {}
    total = 0
    for k in set(req.headers.keys()):
        lk = k.lower()
        if lk.startswith("x-amz-meta-"):
            v = ",".join(req.headers.get_all(k))
            meta[lk[len("x-amz-meta-"):]] = v
            total += len(lk) - len("x-amz-meta-") + len(v)
    if total > 2048:
        raise AwsError("MetadataTooLarge", "Your metadata headers exceed the maximum allowed "
                       "metadata size.", 400, {"Size": total, "MaxSizeAllowed": 2048})
    return meta


def _object_meta(ctx, req, b, multipart=False):
    """Metadata shared by PutObject and CreateMultipartUpload (SSE, lock, tags, meta)."""
    h = req.headers
    meta = {"content_type": h.get("Content-Type") or "binary/octet-stream",
            "user": _user_meta(req)}
    for name, field in (("Content-Disposition", "content_disposition"),
                        ("Cache-Control", "cache_control"),
                        ("Content-Language", "content_language"), ("Expires", "expires")):
        if h.get(name) is not None:
            meta[field] = h.get(name)
    enc = h.get("Content-Encoding")
    if enc:
        enc = ",".join(e.strip() for e in enc.split(",") if e.strip().lower() != "aws-chunked")
        if enc:
            meta["content_encoding"] = enc
    sc = h.get("x-amz-storage-class") or "STANDARD"
    if sc not in STORAGE_CLASSES:
        raise AwsError("InvalidStorageClass", "The storage class you specified is not valid",
                       400, {"StorageClassRequested": sc})
    meta["storage_class"] = sc
    sse = h.get("x-amz-server-side-encryption")
    kms_key = h.get("x-amz-server-side-encryption-aws-kms-key-id")
    if kms_key and sse not in ("aws:kms", "aws:kms:dsse"):
        raise AwsError("InvalidArgument", "Server Side Encryption with KMS managed key "
                       "requires HTTP header x-amz-server-side-encryption : aws:kms", 400)
    if sse:
        if sse not in ("AES256", "aws:kms", "aws:kms:dsse"):
            raise AwsError("InvalidArgument", "The encryption method specified is not "
                           "supported", 400, {"ArgumentName": "x-amz-server-side-encryption",
                                              "ArgumentValue": sse})
        meta["sse"] = sse
        if sse.startswith("aws:kms"):
            kms = ctx.kms.__class__(ctx.world, b["region"])
            ref = kms_key or "alias/aws/s3"
            rec = kms.find(ref)
            if rec is None:
                raise AwsError("KMS.NotFoundException", f"Invalid keyId '{ref}'", 400)
            if rec["KeyState"] != "Enabled":
                raise AwsError("KMS.DisabledException", f"{rec['Arn']} is disabled.", 400)
            meta["kms_key"] = rec["Arn"]
            if h.get("x-amz-server-side-encryption-context"):
                meta["kms_context"] = h.get("x-amz-server-side-encryption-context")
            if h.get("x-amz-server-side-encryption-bucket-key-enabled"):
                meta["bucket_key"] = h.get(
                    "x-amz-server-side-encryption-bucket-key-enabled").lower() == "true"
    if h.get("x-amz-tagging") is not None:
        meta["tags"] = _parse_tagging(h.get("x-amz-tagging"))
    mode = h.get("x-amz-object-lock-mode")
    until = h.get("x-amz-object-lock-retain-until-date")
    hold = h.get("x-amz-object-lock-legal-hold")
    if mode or until or hold:
        if not b["object_lock"]:
            raise AwsError("InvalidRequest", "Bucket is missing Object Lock Configuration", 400)
        if bool(mode) != bool(until):
            raise AwsError("InvalidArgument", "x-amz-object-lock-retain-until-date and "
                           "x-amz-object-lock-mode must both be supplied", 400)
        if mode:
            meta.update(_retention(ctx, mode, until))
        if hold:
            if hold not in ("ON", "OFF"):
                raise AwsError("InvalidArgument", "Legal Hold must be either of 'ON' or 'OFF'",
                               400)
            meta["legal_hold"] = hold
        if not multipart and h.get("Content-MD5") is None and not _declared_algos(req):
            raise AwsError("InvalidRequest", "Content-MD5 OR x-amz-checksum- HTTP header is "
                           "required for Put Object requests with Object Lock parameters", 400)
    elif b["object_lock"] and b.get("lock_rule"):
        rule = json.loads(b["lock_rule"])
        secs = rule.get("Days", 0) * 86400 + rule.get("Years", 0) * 365 * 86400
        meta["lock_mode"] = rule["Mode"]
        meta["lock_until"] = ctx.now() + secs
    return meta


def _retention(ctx, mode, until):
    if mode not in ("GOVERNANCE", "COMPLIANCE"):
        raise AwsError("InvalidArgument", "Unknown wormMode directive.", 400,
                       {"ArgumentName": "x-amz-object-lock-mode", "ArgumentValue": mode})
    try:
        t = parse_iso8601(until)
    except ValueError:
        raise AwsError("InvalidArgument", "The retain until date must be provided in ISO 8601 "
                       "format", 400)
    if t <= ctx.now():
        raise AwsError("InvalidArgument", "The retain until date must be in the future!", 400)
    return {"lock_mode": mode, "lock_until": t}


def _object_headers(row, meta, req, full=True):
    h = [("ETag", f"\"{row['etag']}\""), ("Last-Modified", rfc1123(row["modified"])),
         ("Content-Type", meta.get("content_type", "binary/octet-stream")),
         ("Accept-Ranges", "bytes")]
    for field, name in (("content_disposition", "Content-Disposition"),
                        ("cache_control", "Cache-Control"), ("content_encoding",
                                                             "Content-Encoding"),
                        ("content_language", "Content-Language"), ("expires", "Expires")):
        if meta.get(field):
            h.append((name, meta[field]))
    for k, v in sorted(meta.get("user", {}).items()):
        h.append((f"x-amz-meta-{k}", v))
    if meta.get("sse"):
        h.append(("x-amz-server-side-encryption", meta["sse"]))
        if meta.get("kms_key"):
            h.append(("x-amz-server-side-encryption-aws-kms-key-id", meta["kms_key"]))
        if meta.get("bucket_key"):
            h.append(("x-amz-server-side-encryption-bucket-key-enabled", "true"))
    if meta.get("storage_class", "STANDARD") != "STANDARD":
        h.append(("x-amz-storage-class", meta["storage_class"]))
    if meta.get("lock_mode"):
        h.append(("x-amz-object-lock-mode", meta["lock_mode"]))
        h.append(("x-amz-object-lock-retain-until-date", iso8601(meta["lock_until"])))
    if meta.get("legal_hold"):
        h.append(("x-amz-object-lock-legal-hold", meta["legal_hold"]))
    if meta.get("tags"):
        h.append(("x-amz-tagging-count", str(len(meta["tags"]))))
    if full and (req.headers.get("x-amz-checksum-mode") or "").upper() == "ENABLED":
        for a, v in meta.get("checksums", {}).items():
            h.append((f"x-amz-checksum-{a.lower()}", v))
        if meta.get("checksums"):
            h.append(("x-amz-checksum-type", meta.get("checksum_type", "FULL_OBJECT")))
    # response-* overrides (presigned GETs)
    for q, name in (("response-content-type", "Content-Type"),
                    ("response-content-disposition", "Content-Disposition"),
                    ("response-cache-control", "Cache-Control"),
                    ("response-content-encoding", "Content-Encoding"),
                    ("response-content-language", "Content-Language"),
                    ("response-expires", "Expires")):
        v = req.query_get(q)
        if v is not None:
            h = [(k, x) for k, x in h if k != name] + [(name, v)]
    return h


def _get_object_row(st, bucket, key):
    rows = st.db.query("SELECT * FROM objects WHERE bucket=? AND key=?", (bucket, key))
    if not rows:
        raise AwsError("NoSuchKey", "The specified key does not exist.", 404, {"Key": key})
    row = dict(rows[0])
    return row, json.loads(row["meta"])


def _strip_etag(v):
    v = v.strip()
    if v.startswith("W/"):
        v = v[2:]
    return v.strip('"')


def _etag_list(value):
    return [_strip_etag(x) for x in value.split(",")]


def _write_conditions(req, existing):
    """If-None-Match: * / If-Match on PutObject and CompleteMultipartUpload."""
    inm = req.headers.get("If-None-Match")
    im = req.headers.get("If-Match")
    if inm is not None:
        if inm.strip() != "*":
            raise AwsError("NotImplemented", "A header you provided implies functionality "
                           "that is not implemented", 501, {"Header": "If-None-Match"})
        if existing is not None:
            raise AwsError("PreconditionFailed", "At least one of the pre-conditions you "
                           "specified did not hold", 412, {"Condition": "If-None-Match"})
    if im is not None:
        if existing is None:
            raise AwsError("NoSuchKey", "The specified key does not exist.", 404)
        if existing["etag"] not in _etag_list(im) and im.strip() != "*":
            raise AwsError("PreconditionFailed", "At least one of the pre-conditions you "
                           "specified did not hold", 412, {"Condition": "If-Match"})


def _commit_object(ctx, req, st, bucket, key, src_path, size, etag, meta):
    """Move the data file into place and record it atomically, honouring conditions."""
    fid = uuid.uuid4().hex
    dest = st.data / fid
    os.replace(src_path, dest)
    old_file = None
    try:
        with st.db.tx() as c:
            rows = c.execute("SELECT etag, file FROM objects WHERE bucket=? AND key=?",
                             (bucket, key)).fetchall()
            existing = dict(rows[0]) if rows else None
            _write_conditions(req, existing)
            if existing:
                old_file = existing["file"]
            c.execute("INSERT OR REPLACE INTO objects(bucket, key, size, etag, modified, file, "
                      "meta) VALUES(?,?,?,?,?,?,?)",
                      (bucket, key, size, etag, ctx.now(), fid, json.dumps(meta)))
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    if old_file:
        (st.data / old_file).unlink(missing_ok=True)


def _locked(ctx, meta):
    """Why a delete is refused, or None."""
    if meta.get("legal_hold") == "ON":
        return "legal hold"
    if meta.get("lock_mode") and meta.get("lock_until", 0) > ctx.now():
        return meta["lock_mode"]
    return None


def _check_delete(ctx, req, meta):
    why = _locked(ctx, meta)
    if why is None:
        return
    bypass = (req.headers.get("x-amz-bypass-governance-retention") or "").lower() == "true"
    if why == "GOVERNANCE" and bypass:
        return
    raise AwsError("AccessDenied", "Access Denied because object protected by object lock.",
                   403)


def _file_chunks(path, start, length):
    f = open(path, "rb")

    def gen():
        try:
            f.seek(start)
            left = length
            while left > 0:
                chunk = f.read(min(MIB, left))
                if not chunk:
                    break
                left -= len(chunk)
                yield chunk
        finally:
            f.close()
    return gen()


# ---------------------------------------------------------------------------------------
# Buckets

def list_buckets(ctx, req, st):
    rows = st.db.query("SELECT name, created, region FROM buckets ORDER BY name")
    items = "".join(f"<Bucket><Name>{xml_escape(r['name'])}</Name><CreationDate>"
                    f"{iso8601(r['created'])}</CreationDate><BucketRegion>{r['region']}"
                    f"</BucketRegion></Bucket>" for r in rows)
    return _xml_response("ListAllMyBucketsResult",
                         f"<Owner>{xml_elems(OWNER)}</Owner><Buckets>{items}</Buckets>")


def create_bucket(ctx, req, st, name):
    if not name or not BUCKET_RE.match(name) or ".." in name or \
            re.match(r"^\d+\.\d+\.\d+\.\d+$", name):
        raise AwsError("InvalidBucketName", "The specified bucket is not valid.", 400,
                       {"BucketName": name})
    body = _small_body(req)
    region = "us-east-1"
    if body.strip():
        root = _parse_xml(body)
        lc = root.find("LocationConstraint")
        if lc is not None and (lc.text or "").strip():
            region = lc.text.strip()
    if region == "EU":
        region = "eu-west-1"
    if req.region != region and req.region != "us-east-1":
        if body.strip() and region != "us-east-1":
            raise AwsError("IllegalLocationConstraintException", f"The {region} location "
                           f"constraint is incompatible for the region specific endpoint this "
                           "request was sent to.", 400)
        raise AwsError("IllegalLocationConstraintException", "The unspecified location "
                       "constraint is incompatible for the region specific endpoint this "
                       "request was sent to.", 400)
    lock = (req.headers.get("x-amz-bucket-object-lock-enabled") or "").lower() == "true"
    with st.db.tx() as c:
        rows = c.execute("SELECT region FROM buckets WHERE name=?", (name,)).fetchall()
        if rows:
            raise AwsError("BucketAlreadyOwnedByYou", "Your previous request to create the "
                           "named bucket succeeded and you already own it.", 409,
                           {"BucketName": name})
        c.execute("INSERT INTO buckets(name, region, created, object_lock) VALUES(?,?,?,?)",
                  (name, region, ctx.now(), 1 if lock else 0))
    return Response(200, b"", [("Location", f"/{name}")])


def head_bucket(ctx, req, st, b):
    return Response(200, b"", [("x-amz-bucket-region", b["region"]),
                               ("x-amz-access-point-alias", "false"),
                               ("Content-Length", "0")])


def get_bucket_location(ctx, req, st, b):
    loc = "" if b["region"] == "us-east-1" else b["region"]
    return _xml_response("LocationConstraint", xml_escape(loc))


def delete_bucket(ctx, req, st, b):
    with st.db.tx() as c:
        n = c.execute("SELECT COUNT(*) FROM objects WHERE bucket=?", (b["name"],)).fetchone()[0]
        if n:
            raise AwsError("BucketNotEmpty", "The bucket you tried to delete is not empty",
                           409, {"BucketName": b["name"]})
        ups = [r[0] for r in c.execute("SELECT upload_id FROM uploads WHERE bucket=?",
                                       (b["name"],))]
        for u in ups:
            c.execute("DELETE FROM parts WHERE upload_id=?", (u,))
        c.execute("DELETE FROM uploads WHERE bucket=?", (b["name"],))
        c.execute("DELETE FROM buckets WHERE name=?", (b["name"],))
    for u in ups:
        shutil.rmtree(st.parts / u, ignore_errors=True)
    return Response(204, b"")


def get_object_lock_configuration(ctx, req, st, b):
    if not b["object_lock"]:
        raise AwsError("ObjectLockConfigurationNotFoundError", "Object Lock configuration "
                       "does not exist for this bucket", 404, {"BucketName": b["name"]})
    inner = "<ObjectLockEnabled>Enabled</ObjectLockEnabled>"
    if b.get("lock_rule"):
        r = json.loads(b["lock_rule"])
        period = f"<Days>{r['Days']}</Days>" if r.get("Days") else f"<Years>{r['Years']}</Years>"
        inner += f"<Rule><DefaultRetention><Mode>{r['Mode']}</Mode>{period}</DefaultRetention>" \
                 f"</Rule>"
    return _xml_response("ObjectLockConfiguration", inner)


def put_object_lock_configuration(ctx, req, st, b):
    root = _parse_xml(_small_body(req))
    enabled = (root.findtext("ObjectLockEnabled") or "").strip()
    if enabled != "Enabled":
        raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not "
                       "validate against our published schema", 400)
    rule = None
    dr = root.find("Rule/DefaultRetention")
    if dr is not None:
        mode = (dr.findtext("Mode") or "").strip()
        days, years = dr.findtext("Days"), dr.findtext("Years")
        if mode not in ("GOVERNANCE", "COMPLIANCE") or bool(days) == bool(years):
            raise AwsError("MalformedXML", "The XML you provided was not well-formed or did "
                           "not validate against our published schema", 400)
        rule = {"Mode": mode}
        if days:
            rule["Days"] = int(days)
        else:
            rule["Years"] = int(years)
    with st.db.tx() as c:
        c.execute("UPDATE buckets SET object_lock=1, lock_rule=? WHERE name=?",
                  (json.dumps(rule) if rule else None, b["name"]))
    return Response(200, b"")


def get_bucket_versioning(ctx, req, st, b):
    inner = "<Status>Enabled</Status>" if b["object_lock"] else ""
    return _xml_response("VersioningConfiguration", inner)


def put_bucket_versioning(ctx, req, st, b):
    _small_body(req)
    raise AwsError("NotImplemented", "lcsim does not simulate S3 versioning", 501)


def get_bucket_tagging(ctx, req, st, b):
    tags = json.loads(b.get("tags") or "null")
    if not tags:
        raise AwsError("NoSuchTagSet", "The TagSet does not exist", 404,
                       {"BucketName": b["name"]})
    return _xml_response("Tagging", "<TagSet>" + "".join(
        f"<Tag><Key>{xml_escape(k)}</Key><Value>{xml_escape(v)}</Value></Tag>"
        for k, v in tags) + "</TagSet>")


def put_bucket_tagging(ctx, req, st, b):
    root = _parse_xml(_small_body(req))
    tags = [((t.findtext("Key") or ""), (t.findtext("Value") or ""))
            for t in root.findall("TagSet/Tag")]
    with st.db.tx() as c:
        c.execute("UPDATE buckets SET tags=? WHERE name=?", (json.dumps(tags), b["name"]))
    return Response(204, b"")


def delete_bucket_tagging(ctx, req, st, b):
    with st.db.tx() as c:
        c.execute("UPDATE buckets SET tags=NULL WHERE name=?", (b["name"],))
    return Response(204, b"")


# ---------------------------------------------------------------------------------------
# Listing

def _walk(st, bucket, prefix, after, delimiter, limit):
    """Up to `limit` entries after `after` (exclusive): ("key", row) or ("prefix", p), and
    whether more exist. Common prefixes are rolled up and skipped in one step."""
    out = []
    lo = after or ""
    strict = True
    last_cp = None
    while True:
        op = ">" if strict else ">="
        rows = st.db.query(f"SELECT * FROM objects WHERE bucket=? AND key {op} ? AND key >= ? "
                           "ORDER BY key LIMIT 1001", (bucket, lo, prefix))
        if not rows:
            return out, False
        jumped = False
        for r in rows:
            key = r["key"]
            if not key.startswith(prefix):
                return out, False
            if delimiter:
                i = key.find(delimiter, len(prefix))
                if i >= 0:
                    cp = key[:i + len(delimiter)]
                    if cp == last_cp or (after and cp == after):
                        lo, strict, jumped = cp + "\U0010ffff", False, True
                        break
                    if len(out) >= limit:
                        return out, True
                    out.append(("prefix", cp))
                    last_cp = cp
                    lo, strict, jumped = cp + "\U0010ffff", False, True
                    break
            if len(out) >= limit:
                return out, True
            out.append(("key", dict(r)))
        if not jumped:
            lo, strict = rows[-1]["key"], True
            if len(rows) < 1001:
                return out, False


def _contents(r, enc, fetch_owner):
    meta = json.loads(r["meta"])
    parts = [("Key", enc(r["key"])), ("LastModified", iso8601(r["modified"])),
             ("ETag", f"\"{r['etag']}\""), ("Size", r["size"]),
             ("StorageClass", meta.get("storage_class", "STANDARD"))]
    if fetch_owner:
        parts.append(("Owner", OWNER))
    for a in meta.get("checksums", {}):
        parts.append(("ChecksumAlgorithm", a))
        parts.append(("ChecksumType", meta.get("checksum_type", "FULL_OBJECT")))
    return "<Contents>" + xml_elems(parts) + "</Contents>"


def _token(value):
    return base64.urlsafe_b64encode(json.dumps({"a": value}).encode()).decode()


def _untoken(tok):
    try:
        return json.loads(base64.urlsafe_b64decode(tok.encode()))["a"]
    except (ValueError, KeyError, TypeError):
        raise AwsError("InvalidArgument", "The continuation token provided is incorrect", 400,
                       {"ArgumentName": "continuation-token"})


def list_objects_v2(ctx, req, st, b):
    enc = _encoder(req)
    prefix = req.query_get("prefix", "")
    delimiter = req.query_get("delimiter", "")
    max_keys = _qint(req, "max-keys", 1000, 0, None, cap=1000)
    start_after = req.query_get("start-after", "")
    token = req.query_get("continuation-token")
    after = _untoken(token) if token else start_after
    if token is not None and not token:
        raise AwsError("InvalidArgument", "The continuation token provided is incorrect", 400)
    entries, more = _walk(st, b["name"], prefix, after, delimiter, max_keys)
    fetch_owner = (req.query_get("fetch-owner") or "").lower() == "true"
    parts = [f"<Name>{xml_escape(b['name'])}</Name>",
             f"<Prefix>{xml_escape(enc(prefix))}</Prefix>"]
    if start_after:
        parts.append(f"<StartAfter>{xml_escape(enc(start_after))}</StartAfter>")
    if token:
        parts.append(f"<ContinuationToken>{xml_escape(token)}</ContinuationToken>")
    parts.append(f"<KeyCount>{len(entries)}</KeyCount><MaxKeys>{max_keys}</MaxKeys>")
    if delimiter:
        parts.append(f"<Delimiter>{xml_escape(enc(delimiter))}</Delimiter>")
    parts.append(f"<IsTruncated>{'true' if more else 'false'}</IsTruncated>")
    if more:
        kind, last = entries[-1]
        parts.append(f"<NextContinuationToken>"
                     f"{_token(last if kind == 'prefix' else last['key'])}"
                     f"</NextContinuationToken>")
    if req.query_get("encoding-type"):
        parts.append("<EncodingType>url</EncodingType>")
    for kind, e in entries:
        if kind == "key":
            parts.append(_contents(e, enc, fetch_owner))
    for kind, e in entries:
        if kind == "prefix":
            parts.append(f"<CommonPrefixes><Prefix>{xml_escape(enc(e))}</Prefix>"
                         "</CommonPrefixes>")
    return _xml_response("ListBucketResult", "".join(parts))


def list_objects(ctx, req, st, b):
    enc = _encoder(req)
    prefix = req.query_get("prefix", "")
    delimiter = req.query_get("delimiter", "")
    marker = req.query_get("marker", "")
    max_keys = _qint(req, "max-keys", 1000, 0, None, cap=1000)
    entries, more = _walk(st, b["name"], prefix, marker, delimiter, max_keys)
    parts = [f"<Name>{xml_escape(b['name'])}</Name>",
             f"<Prefix>{xml_escape(enc(prefix))}</Prefix>",
             f"<Marker>{xml_escape(enc(marker))}</Marker>", f"<MaxKeys>{max_keys}</MaxKeys>"]
    if delimiter:
        parts.append(f"<Delimiter>{xml_escape(enc(delimiter))}</Delimiter>")
    parts.append(f"<IsTruncated>{'true' if more else 'false'}</IsTruncated>")
    if more and delimiter:
        kind, last = entries[-1]
        parts.append(f"<NextMarker>{xml_escape(enc(last if kind == 'prefix' else last['key']))}"
                     "</NextMarker>")
    if req.query_get("encoding-type"):
        parts.append("<EncodingType>url</EncodingType>")
    for kind, e in entries:
        if kind == "key":
            parts.append(_contents(e, enc, True))
    for kind, e in entries:
        if kind == "prefix":
            parts.append(f"<CommonPrefixes><Prefix>{xml_escape(enc(e))}</Prefix>"
                         "</CommonPrefixes>")
    return _xml_response("ListBucketResult", "".join(parts))


# ---------------------------------------------------------------------------------------
# Objects

def put_object(ctx, req, st, b, key):
    meta = _object_meta(ctx, req, b)
    # refuse early (before reading a large body) when a condition already fails
    rows = st.db.query("SELECT etag FROM objects WHERE bucket=? AND key=?", (b["name"], key))
    _write_conditions(req, dict(rows[0]) if rows else None)
    got = _receive(req, st)
    if got["checksums"]:
        meta["checksums"] = got["checksums"]
        meta["checksum_type"] = "FULL_OBJECT"
    etag = got["md5"].hex()
    if meta.get("sse", "").startswith("aws:kms"):
        # SSE-KMS ETags are not the MD5 of the data
        etag = hashlib.md5(got["md5"] + meta["kms_key"].encode()).hexdigest()
    _commit_object(ctx, req, st, b["name"], key, got["path"], got["size"], etag, meta)
    h = [("ETag", f"\"{etag}\"")]
    for a, v in got["checksums"].items():
        h.append((f"x-amz-checksum-{a.lower()}", v))
    if got["checksums"]:
        h.append(("x-amz-checksum-type", "FULL_OBJECT"))
    h += _sse_headers(meta)
    h.append(("Content-Length", "0"))
    return Response(200, b"", h)


def _sse_headers(meta):
    h = []
    if meta.get("sse"):
        h.append(("x-amz-server-side-encryption", meta["sse"]))
        if meta.get("kms_key"):
            h.append(("x-amz-server-side-encryption-aws-kms-key-id", meta["kms_key"]))
        if meta.get("bucket_key"):
            h.append(("x-amz-server-side-encryption-bucket-key-enabled", "true"))
    return h


def copy_object(ctx, req, st, b, key):
    src = unquote(req.headers.get("x-amz-copy-source")).lstrip("/")
    src_bucket, _, src_key = src.partition("/")
    src_key = src_key.split("?versionId=")[0]
    sb = _bucket(st, src_bucket)
    row, meta = _get_object_row(st, sb["name"], src_key)
    _read_conditions(req, row, prefix="x-amz-copy-source-")
    directive = (req.headers.get("x-amz-metadata-directive") or "COPY").upper()
    if directive == "REPLACE":
        new_meta = _object_meta(ctx, req, b)
        for k in ("checksums", "checksum_type"):
            if k in meta:
                new_meta[k] = meta[k]
    else:
        if sb["name"] == b["name"] and src_key == key and not any(
                req.headers.get(h) for h in ("x-amz-server-side-encryption",
                                             "x-amz-storage-class")):
            raise AwsError("InvalidRequest", "This copy request is illegal because it is trying "
                           "to copy an object to itself without changing the object's metadata, "
                           "storage class, website redirect location or encryption attributes.",
                           400)
        new_meta = dict(meta)
        over = _object_meta(ctx, req, b)
        for k in ("sse", "kms_key", "storage_class", "lock_mode", "lock_until", "legal_hold"):
            if k in over and (k != "storage_class" or req.headers.get("x-amz-storage-class")):
                new_meta[k] = over[k]
        if (req.headers.get("x-amz-tagging-directive") or "COPY").upper() == "REPLACE":
            new_meta["tags"] = over.get("tags", [])
    tmp = st.tmp / uuid.uuid4().hex
    shutil.copyfile(st.data / row["file"], tmp)
    etag = row["etag"]
    if new_meta.get("sse", "").startswith("aws:kms") and "-" not in etag:
        etag = hashlib.md5(bytes.fromhex(etag) + new_meta["kms_key"].encode()).hexdigest()
    _commit_object(ctx, req, st, b["name"], key, tmp, row["size"], etag, new_meta)
    inner = f"<LastModified>{iso8601(ctx.now())}</LastModified><ETag>\"{etag}\"</ETag>"
    return _xml_response("CopyObjectResult", inner, headers=_sse_headers(new_meta))


def _read_conditions(req, row, prefix=""):
    h = req.headers
    im, inm = h.get(prefix + "If-Match"), h.get(prefix + "If-None-Match")
    ims, ius = h.get(prefix + "If-Modified-Since"), h.get(prefix + "If-Unmodified-Since")
    if im is not None and row["etag"] not in _etag_list(im) and im.strip() != "*":
        raise AwsError("PreconditionFailed", "At least one of the pre-conditions you specified "
                       "did not hold", 412, {"Condition": "If-Match"})
    if ius is not None and im is None and _http_date(ius) is not None and \
            int(row["modified"]) > _http_date(ius):
        raise AwsError("PreconditionFailed", "At least one of the pre-conditions you specified "
                       "did not hold", 412, {"Condition": "If-Unmodified-Since"})
    not_modified = False
    if inm is not None:
        not_modified = row["etag"] in _etag_list(inm) or inm.strip() == "*"
    elif ims is not None and _http_date(ims) is not None:
        not_modified = int(row["modified"]) <= _http_date(ims)
    if not_modified:
        if prefix:
            raise AwsError("PreconditionFailed", "At least one of the pre-conditions you "
                           "specified did not hold", 412)
        raise _NotModified(row)


class _NotModified(Exception):
    def __init__(self, row):
        self.row = row


def _http_date(v):
    import email.utils
    try:
        return email.utils.parsedate_to_datetime(v).timestamp()
    except (TypeError, ValueError):
        return None


def _parse_range(value, size):
    """(start, end) inclusive, None for 'ignore the header', or raise InvalidRange."""
    m = re.match(r"^bytes=(\d*)-(\d*)$", value.strip())
    if not m or (m.group(1) == "" and m.group(2) == ""):
        return None
    a, z = m.group(1), m.group(2)
    if a == "":
        n = int(z)
        if n == 0 or size == 0:
            raise _invalid_range(value, size)
        return max(0, size - n), size - 1
    start = int(a)
    end = int(z) if z else size - 1
    if z and end < start:
        return None
    if start >= size:
        raise _invalid_range(value, size)
    return start, min(end, size - 1)


def _invalid_range(value, size):
    return AwsError("InvalidRange", "The requested range is not satisfiable", 416,
                    {"RangeRequested": value, "ActualObjectSize": size},
                    {"Content-Range": f"bytes */{size}"})


def get_object(ctx, req, st, b, key, head=False):
    row, meta = _get_object_row(st, b["name"], key)
    try:
        _read_conditions(req, row)
    except _NotModified:
        return Response(304, b"", [("ETag", f"\"{row['etag']}\""),
                                   ("Last-Modified", rfc1123(row["modified"]))])
    if meta.get("storage_class") in ("GLACIER", "DEEP_ARCHIVE") and not head:
        raise AwsError("InvalidObjectState", "The operation is not valid for the object's "
                       "storage class", 403, {"StorageClass": meta["storage_class"]})
    if meta.get("kms_key") and not head:
        rec = ctx.kms.__class__(ctx.world, b["region"]).find(meta["kms_key"])
        if rec is None or rec["KeyState"] != "Enabled":
            raise AwsError("KMS.DisabledException" if rec else "KMS.NotFoundException",
                           f"{meta['kms_key']} is not usable.", 400)
    size = row["size"]
    start, end = 0, size - 1
    status = 200
    extra = []
    part = req.query_get("partNumber")
    rng = req.headers.get("Range")
    if part is not None:
        pn = _qint(req, "partNumber", 1, 1, 10000)
        sizes = meta.get("part_sizes") or [size]
        if pn > len(sizes):
            raise AwsError("InvalidPartNumber", "The requested partnumber is not satisfiable",
                           416, {"PartNumberRequested": pn, "ActualPartCount": len(sizes)})
        start = sum(sizes[:pn - 1])
        end = start + sizes[pn - 1] - 1
        if meta.get("part_sizes"):
            extra.append(("x-amz-mp-parts-count", str(len(sizes))))
            status = 206
        if size:
            extra.append(("Content-Range", f"bytes {start}-{end}/{size}"))
    elif rng:
        r = _parse_range(rng, size)
        if r:
            start, end = r
            status = 206
            extra.append(("Content-Range", f"bytes {start}-{end}/{size}"))
    length = max(0, end - start + 1)
    headers = _object_headers(row, meta, req, full=(status == 200)) + extra
    headers.append(("Content-Length", str(length)))
    if head:
        return Response(status, b"", headers)
    body = _file_chunks(st.data / row["file"], start, length) if length else b""
    r = Response(status, body, headers, length=length)
    return r


def head_object(ctx, req, st, b, key):
    return get_object(ctx, req, st, b, key, head=True)


def delete_object(ctx, req, st, b, key):
    with st.db.tx() as c:
        rows = c.execute("SELECT * FROM objects WHERE bucket=? AND key=?",
                         (b["name"], key)).fetchall()
        if not rows:
            return Response(204, b"")
        row = dict(rows[0])
        if req.headers.get("If-Match") is not None and \
                row["etag"] not in _etag_list(req.headers.get("If-Match")):
            raise AwsError("PreconditionFailed", "At least one of the pre-conditions you "
                           "specified did not hold", 412, {"Condition": "If-Match"})
        _check_delete(ctx, req, json.loads(row["meta"]))
        c.execute("DELETE FROM objects WHERE bucket=? AND key=?", (b["name"], key))
    (st.data / row["file"]).unlink(missing_ok=True)
    return Response(204, b"")


def delete_objects(ctx, req, st, b):
    if req.headers.get("Content-MD5") is None and not _declared_algos(req):
        raise AwsError("InvalidRequest", "Missing required header for this request: "
                       "Content-MD5", 400)
    root = _parse_xml(_small_body(req))
    quiet = (root.findtext("Quiet") or "").strip().lower() == "true"
    objs = root.findall("Object")
    if not objs or len(objs) > 1000:
        raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not "
                       "validate against our published schema", 400)
    out = []
    for o in objs:
        key = o.findtext("Key") or ""
        try:
            delete_object(ctx, req, st, b, key)
            if not quiet:
                out.append(f"<Deleted><Key>{xml_escape(key)}</Key></Deleted>")
        except AwsError as e:
            out.append(f"<Error><Key>{xml_escape(key)}</Key><Code>{e.code}</Code>"
                       f"<Message>{xml_escape(e.message)}</Message></Error>")
    return _xml_response("DeleteResult", "".join(out))


# -- tagging, retention, legal hold ----------------------------------------------------

def _update_meta(st, bucket, key, fn):
    with st.db.tx() as c:
        rows = c.execute("SELECT meta FROM objects WHERE bucket=? AND key=?",
                         (bucket, key)).fetchall()
        if not rows:
            raise AwsError("NoSuchKey", "The specified key does not exist.", 404, {"Key": key})
        meta = json.loads(rows[0]["meta"])
        fn(meta)
        c.execute("UPDATE objects SET meta=? WHERE bucket=? AND key=?",
                  (json.dumps(meta), bucket, key))
        return meta


def get_object_tagging(ctx, req, st, b, key):
    _, meta = _get_object_row(st, b["name"], key)
    tags = "".join(f"<Tag><Key>{xml_escape(k)}</Key><Value>{xml_escape(v)}</Value></Tag>"
                   for k, v in meta.get("tags", []))
    return _xml_response("Tagging", f"<TagSet>{tags}</TagSet>")


def put_object_tagging(ctx, req, st, b, key):
    root = _parse_xml(_small_body(req))
    tags = [((t.findtext("Key") or ""), (t.findtext("Value") or ""))
            for t in root.findall("TagSet/Tag")]
    _validate_tags(tags)
    _update_meta(st, b["name"], key, lambda m: m.__setitem__("tags", tags))
    return Response(200, b"")


def delete_object_tagging(ctx, req, st, b, key):
    _update_meta(st, b["name"], key, lambda m: m.pop("tags", None))
    return Response(204, b"")


def _need_lock_bucket(b):
    if not b["object_lock"]:
        raise AwsError("InvalidRequest", "Bucket is missing Object Lock Configuration", 400)


def get_object_retention(ctx, req, st, b, key):
    _need_lock_bucket(b)
    _, meta = _get_object_row(st, b["name"], key)
    if not meta.get("lock_mode"):
        raise AwsError("NoSuchObjectLockConfiguration", "The specified object does not have a "
                       "ObjectLock configuration", 404)
    return _xml_response("Retention", f"<Mode>{meta['lock_mode']}</Mode><RetainUntilDate>"
                         f"{iso8601(meta['lock_until'])}</RetainUntilDate>")


def put_object_retention(ctx, req, st, b, key):
    _need_lock_bucket(b)
    if req.headers.get("Content-MD5") is None and not _declared_algos(req):
        raise AwsError("InvalidRequest", "Content-MD5 OR x-amz-checksum- HTTP header is "
                       "required for Put Object requests with Object Lock parameters", 400)
    root = _parse_xml(_small_body(req))
    mode = (root.findtext("Mode") or "").strip()
    until = (root.findtext("RetainUntilDate") or "").strip()
    bypass = (req.headers.get("x-amz-bypass-governance-retention") or "").lower() == "true"
    new = _retention(ctx, mode, until) if mode or until else {}
    if bool(mode) != bool(until):
        raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not "
                       "validate against our published schema", 400)

    def apply(m):
        cur_mode, cur_until = m.get("lock_mode"), m.get("lock_until", 0)
        active = cur_mode and cur_until > ctx.now()
        if active:
            weaker = (not new or new["lock_until"] < cur_until or
                      (cur_mode == "COMPLIANCE" and new.get("lock_mode") != "COMPLIANCE"))
            if weaker and (cur_mode == "COMPLIANCE" or not bypass):
                raise AwsError("AccessDenied", "Access Denied because object protected by "
                               "object lock.", 403)
        m.pop("lock_mode", None)
        m.pop("lock_until", None)
        m.update(new)
    _update_meta(st, b["name"], key, apply)
    return Response(200, b"")


def get_object_legal_hold(ctx, req, st, b, key):
    _need_lock_bucket(b)
    _, meta = _get_object_row(st, b["name"], key)
    if not meta.get("legal_hold"):
        raise AwsError("NoSuchObjectLockConfiguration", "The specified object does not have a "
                       "ObjectLock configuration", 404)
    return _xml_response("LegalHold", f"<Status>{meta['legal_hold']}</Status>")


def put_object_legal_hold(ctx, req, st, b, key):
    _need_lock_bucket(b)
    root = _parse_xml(_small_body(req))
    status = (root.findtext("Status") or "").strip()
    if status not in ("ON", "OFF"):
        raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not "
                       "validate against our published schema", 400)
    _update_meta(st, b["name"], key, lambda m: m.__setitem__("legal_hold", status))
    return Response(200, b"")


# ---------------------------------------------------------------------------------------
# Multipart

def _upload(st, upload_id, bucket, key):
    rows = st.db.query("SELECT * FROM uploads WHERE upload_id=?", (upload_id,))
    if not rows or rows[0]["bucket"] != bucket or rows[0]["key"] != key:
        raise AwsError("NoSuchUpload", "The specified upload does not exist. The upload ID may "
                       "be invalid, or the upload may have been aborted or completed.", 404,
                       {"UploadId": upload_id})
    u = dict(rows[0])
    u["meta"] = json.loads(u["meta"])
    return u


def create_multipart_upload(ctx, req, st, b, key):
    _small_body(req)
    meta = _object_meta(ctx, req, b, multipart=True)
    algo = (req.headers.get("x-amz-checksum-algorithm") or "").upper()
    ctype = (req.headers.get("x-amz-checksum-type") or "").upper()
    if algo:
        if algo not in Checksum.ALGORITHMS:
            raise AwsError("InvalidRequest", "Checksum algorithm provided is unsupported. "
                           "Please try again with any of the valid types: [CRC32, CRC32C, "
                           "CRC64NVME, SHA1, SHA256]", 400)
        ctype = ctype or ("FULL_OBJECT" if algo == "CRC64NVME" else "COMPOSITE")
        if ctype == "FULL_OBJECT" and algo.startswith("SHA"):
            raise AwsError("InvalidRequest", f"The FULL_OBJECT checksum type cannot be used "
                           f"with the {algo.lower()} checksum algorithm.", 400)
        meta["mp_algo"] = algo
        meta["mp_type"] = ctype
    upload_id = secrets.token_urlsafe(48)
    with st.db.tx() as c:
        c.execute("INSERT INTO uploads(upload_id, bucket, key, initiated, meta) "
                  "VALUES(?,?,?,?,?)", (upload_id, b["name"], key, ctx.now(), json.dumps(meta)))
    (st.parts / upload_id).mkdir(parents=True, exist_ok=True)
    req.log_fields["upload_id"] = upload_id
    inner = xml_elems([("Bucket", b["name"]), ("Key", key), ("UploadId", upload_id)])
    h = _sse_headers(meta)
    if algo:
        h += [("x-amz-checksum-algorithm", algo), ("x-amz-checksum-type", ctype)]
    return _xml_response("InitiateMultipartUploadResult", inner, headers=h)


def upload_part(ctx, req, st, b, key):
    upload_id = req.query_get("uploadId")
    pn = _qint(req, "partNumber", 0, 1, 10000)
    u = _upload(st, upload_id, b["name"], key)
    algo = u["meta"].get("mp_algo")
    given = _declared_algos(req)
    if algo and given and given[0] != algo:
        raise AwsError("InvalidRequest", f"Checksum Type mismatch occurred, expected checksum "
                       f"Type: {algo.lower()}, actual checksum Type: {given[0].lower()}", 400)
    got = _receive(req, st, want_algos=[algo] if algo else [])
    fid = f"{pn}-{uuid.uuid4().hex[:8]}"
    dest = st.parts / upload_id / fid
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(got["path"], dest)
    etag = got["md5"].hex()
    old = None
    try:
        with st.db.tx() as c:
            if not c.execute("SELECT 1 FROM uploads WHERE upload_id=?", (upload_id,)).fetchall():
                raise AwsError("NoSuchUpload", "The specified upload does not exist.", 404)
            rows = c.execute("SELECT file FROM parts WHERE upload_id=? AND part=?",
                             (upload_id, pn)).fetchall()
            old = rows[0]["file"] if rows else None
            c.execute("INSERT OR REPLACE INTO parts(upload_id, part, size, etag, modified, "
                      "file, checksum) VALUES(?,?,?,?,?,?,?)",
                      (upload_id, pn, got["size"], etag, ctx.now(), fid,
                       json.dumps(got["checksums"])))
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    if old:
        (st.parts / upload_id / old).unlink(missing_ok=True)
    h = [("ETag", f"\"{etag}\""), ("Content-Length", "0")]
    for a, v in got["checksums"].items():
        if not algo or a == algo or a in given:
            h.append((f"x-amz-checksum-{a.lower()}", v))
    h += _sse_headers(u["meta"])
    return Response(200, b"", h)


def complete_multipart_upload(ctx, req, st, b, key):
    upload_id = req.query_get("uploadId")
    u = _upload(st, upload_id, b["name"], key)
    root = _parse_xml(_small_body(req))
    listed = []
    for p in root.findall("Part"):
        try:
            n = int((p.findtext("PartNumber") or "").strip())
        except ValueError:
            raise AwsError("MalformedXML", "The XML you provided was not well-formed or did "
                           "not validate against our published schema", 400)
        cks = {a: (p.findtext(f"Checksum{a}") or "").strip() for a in Checksum.ALGORITHMS
               if p.find(f"Checksum{a}") is not None}
        listed.append((n, _strip_etag(p.findtext("ETag") or ""), cks))
    if not listed:
        raise AwsError("MalformedXML", "The XML you provided was not well-formed or did not "
                       "validate against our published schema", 400)
    for i in range(1, len(listed)):
        if listed[i][0] <= listed[i - 1][0]:
            raise AwsError("InvalidPartOrder", "The list of parts was not in ascending order. "
                           "Parts must be ordered by part number.", 400,
                           {"UploadId": upload_id})
    stored = {r["part"]: dict(r) for r in st.db.query(
        "SELECT * FROM parts WHERE upload_id=?", (upload_id,))}
    algo = u["meta"].get("mp_algo")
    for n, etag, cks in listed:
        p = stored.get(n)
        pc = json.loads(p["checksum"] or "{}") if p else {}
        if p is None or p["etag"] != etag or any(pc.get(a) != v for a, v in cks.items()):
            raise AwsError("InvalidPart", "One or more of the specified parts could not be "
                           "found.  The part may not have been uploaded, or the specified "
                           "entity tag may not match the part's entity tag.", 400,
                           {"UploadId": upload_id, "PartNumber": n, "ETag": etag})
    for n, _, _ in listed[:-1]:
        if stored[n]["size"] < MIN_PART:
            raise AwsError("EntityTooSmall", "Your proposed upload is smaller than the minimum "
                           "allowed object size.", 400,
                           {"ProposedSize": stored[n]["size"], "MinSizeAllowed": MIN_PART,
                            "PartNumber": n, "ETag": stored[n]["etag"]})
    rows = st.db.query("SELECT etag FROM objects WHERE bucket=? AND key=?", (b["name"], key))
    _write_conditions(req, dict(rows[0]) if rows else None)
    total = sum(stored[n]["size"] for n, _, _ in listed)
    mp_size = req.headers.get("x-amz-mp-object-size")
    if mp_size is not None and mp_size.strip() != str(total):
        raise AwsError("InvalidRequest", f"The provided 'x-amz-mp-object-size' header value "
                       f"{mp_size} does not match what was computed: {total}", 400)
    # assemble
    tmp = st.tmp / uuid.uuid4().hex
    full = Checksum(algo) if algo and u["meta"].get("mp_type") == "FULL_OBJECT" else None
    with open(tmp, "wb") as out:
        for n, _, _ in listed:
            with open(st.parts / upload_id / stored[n]["file"], "rb") as f:
                while True:
                    chunk = f.read(MIB)
                    if not chunk:
                        break
                    out.write(chunk)
                    if full:
                        full.update(chunk)
    md5s = b"".join(bytes.fromhex(stored[n]["etag"]) for n, _, _ in listed)
    etag = f"{hashlib.md5(md5s).hexdigest()}-{len(listed)}"
    meta = dict(u["meta"])
    meta["part_sizes"] = [stored[n]["size"] for n, _, _ in listed]
    if algo:
        if full:
            value = full.b64()
        else:
            value = composite(algo, [json.loads(stored[n]["checksum"])[algo]
                                     for n, _, _ in listed])
        given = req.headers.get(f"x-amz-checksum-{algo.lower()}")
        if given is not None and given != value:
            tmp.unlink(missing_ok=True)
            raise AwsError("BadDigest", f"The {algo} you specified did not match the calculated "
                           "checksum.", 400)
        meta["checksums"] = {algo: value}
        meta["checksum_type"] = u["meta"]["mp_type"]
    for k in ("mp_algo", "mp_type"):
        meta.pop(k, None)
    # commit first (the write conditions are checked atomically there): on 412 the upload
    # stays open and the client may retry Complete
    _commit_object(ctx, req, st, b["name"], key, tmp, total, etag, meta)
    with st.db.tx() as c:
        c.execute("DELETE FROM uploads WHERE upload_id=?", (upload_id,))
        c.execute("DELETE FROM parts WHERE upload_id=?", (upload_id,))
    shutil.rmtree(st.parts / upload_id, ignore_errors=True)
    inner = [("Location", f"http://{req.headers.get('Host')}/{b['name']}/{quote(key)}"),
             ("Bucket", b["name"]), ("Key", key), ("ETag", f"\"{etag}\"")]
    for a, v in meta.get("checksums", {}).items():
        inner.append((f"Checksum{a}", v))
        inner.append(("ChecksumType", meta["checksum_type"]))
    return _xml_response("CompleteMultipartUploadResult", xml_elems(inner),
                         headers=_sse_headers(meta))


def abort_multipart_upload(ctx, req, st, b, key):
    upload_id = req.query_get("uploadId")
    _upload(st, upload_id, b["name"], key)
    with st.db.tx() as c:
        c.execute("DELETE FROM uploads WHERE upload_id=?", (upload_id,))
        c.execute("DELETE FROM parts WHERE upload_id=?", (upload_id,))
    shutil.rmtree(st.parts / upload_id, ignore_errors=True)
    return Response(204, b"")


def list_multipart_uploads(ctx, req, st, b):
    enc = _encoder(req)
    prefix = req.query_get("prefix", "")
    delimiter = req.query_get("delimiter", "")
    key_marker = req.query_get("key-marker", "")
    uid_marker = req.query_get("upload-id-marker", "")
    max_uploads = _qint(req, "max-uploads", 1000, 0, None, cap=1000)
    rows = [dict(r) for r in st.db.query(
        "SELECT * FROM uploads WHERE bucket=? ORDER BY key, initiated, upload_id", (b["name"],))]
    items, cps, more = [], [], False
    passed_marker = not uid_marker
    for r in rows:
        k = r["key"]
        if not k.startswith(prefix):
            continue
        if key_marker:
            if k < key_marker:
                continue
            if k == key_marker:
                if not uid_marker:
                    continue
                if not passed_marker:
                    if r["upload_id"] == uid_marker:
                        passed_marker = True
                    continue
        if delimiter:
            i = k.find(delimiter, len(prefix))
            if i >= 0:
                cp = k[:i + len(delimiter)]
                if cp in cps or (key_marker and cp == key_marker):
                    continue
                if len(items) + len(cps) >= max_uploads:
                    more = True
                    break
                cps.append(cp)
                continue
        if len(items) + len(cps) >= max_uploads:
            more = True
            break
        items.append(r)
    out = [f"<Bucket>{xml_escape(b['name'])}</Bucket>",
           f"<KeyMarker>{xml_escape(enc(key_marker))}</KeyMarker>",
           f"<UploadIdMarker>{xml_escape(uid_marker)}</UploadIdMarker>"]
    if more and items:
        out.append(f"<NextKeyMarker>{xml_escape(enc(items[-1]['key']))}</NextKeyMarker>"
                   f"<NextUploadIdMarker>{items[-1]['upload_id']}</NextUploadIdMarker>")
    elif more and cps:
        out.append(f"<NextKeyMarker>{xml_escape(enc(cps[-1]))}</NextKeyMarker>")
    out.append(f"<MaxUploads>{max_uploads}</MaxUploads>")
    if delimiter:
        out.append(f"<Delimiter>{xml_escape(enc(delimiter))}</Delimiter>")
    out.append(f"<Prefix>{xml_escape(enc(prefix))}</Prefix>")
    out.append(f"<IsTruncated>{'true' if more else 'false'}</IsTruncated>")
    for r in items:
        m = json.loads(r["meta"])
        parts = [("Key", enc(r["key"])), ("UploadId", r["upload_id"]),
                 ("Initiator", [("ID", f"arn:aws:iam::{ACCOUNT_ID}:user/lcbackup-test"),
                                ("DisplayName", "lcbackup-test")]),
                 ("Owner", OWNER), ("StorageClass", m.get("storage_class", "STANDARD")),
                 ("Initiated", iso8601(r["initiated"]))]
        if m.get("mp_algo"):
            parts.append(("ChecksumAlgorithm", m["mp_algo"]))
            parts.append(("ChecksumType", m["mp_type"]))
        out.append("<Upload>" + xml_elems(parts) + "</Upload>")
    for cp in cps:
        out.append(f"<CommonPrefixes><Prefix>{xml_escape(enc(cp))}</Prefix></CommonPrefixes>")
    if req.query_get("encoding-type"):
        out.append("<EncodingType>url</EncodingType>")
    return _xml_response("ListMultipartUploadsResult", "".join(out))


def list_parts(ctx, req, st, b, key):
    upload_id = req.query_get("uploadId")
    u = _upload(st, upload_id, b["name"], key)
    max_parts = _qint(req, "max-parts", 1000, 0, None, cap=1000)
    marker = _qint(req, "part-number-marker", 0, 0, None)
    rows = [dict(r) for r in st.db.query(
        "SELECT * FROM parts WHERE upload_id=? AND part>? ORDER BY part LIMIT ?",
        (upload_id, marker, max_parts + 1))]
    more = len(rows) > max_parts
    rows = rows[:max_parts]
    m = u["meta"]
    out = [("Bucket", b["name"]), ("Key", key), ("UploadId", upload_id),
           ("PartNumberMarker", marker),
           ("NextPartNumberMarker", rows[-1]["part"] if rows else marker),
           ("MaxParts", max_parts), ("IsTruncated", more),
           ("Initiator", [("ID", f"arn:aws:iam::{ACCOUNT_ID}:user/lcbackup-test"),
                          ("DisplayName", "lcbackup-test")]),
           ("Owner", OWNER), ("StorageClass", m.get("storage_class", "STANDARD"))]
    if m.get("mp_algo"):
        out.append(("ChecksumAlgorithm", m["mp_algo"]))
        out.append(("ChecksumType", m["mp_type"]))
    xml = xml_elems(out)
    for r in rows:
        p = [("PartNumber", r["part"]), ("LastModified", iso8601(r["modified"])),
             ("ETag", f"\"{r['etag']}\""), ("Size", r["size"])]
        for a, v in json.loads(r["checksum"] or "{}").items():
            p.append((f"Checksum{a}", v))
        xml += "<Part>" + xml_elems(p) + "</Part>"
    return _xml_response("ListPartsResult", xml)


OPS = {
    "ListBuckets": list_buckets, "CreateBucket": create_bucket, "HeadBucket": head_bucket,
    "DeleteBucket": delete_bucket, "GetBucketLocation": get_bucket_location,
    "GetObjectLockConfiguration": get_object_lock_configuration,
    "PutObjectLockConfiguration": put_object_lock_configuration,
    "GetBucketVersioning": get_bucket_versioning, "PutBucketVersioning": put_bucket_versioning,
    "GetBucketTagging": get_bucket_tagging, "PutBucketTagging": put_bucket_tagging,
    "DeleteBucketTagging": delete_bucket_tagging,
    "ListObjectsV2": list_objects_v2, "ListObjects": list_objects,
    "PutObject": put_object, "CopyObject": copy_object, "GetObject": get_object,
    "HeadObject": head_object, "DeleteObject": delete_object, "DeleteObjects": delete_objects,
    "GetObjectTagging": get_object_tagging, "PutObjectTagging": put_object_tagging,
    "DeleteObjectTagging": delete_object_tagging,
    "GetObjectRetention": get_object_retention, "PutObjectRetention": put_object_retention,
    "GetObjectLegalHold": get_object_legal_hold, "PutObjectLegalHold": put_object_legal_hold,
    "CreateMultipartUpload": create_multipart_upload, "UploadPart": upload_part,
    "CompleteMultipartUpload": complete_multipart_upload,
    "AbortMultipartUpload": abort_multipart_upload,
    "ListMultipartUploads": list_multipart_uploads, "ListParts": list_parts,
}


# ---------------------------------------------------------------------------------------
# Seed and control hooks

LEGOCITY_BUCKETS = (("legocity-backups-dev", "eu-west-1", False),
                    ("legocity-backups-prod", "eu-west-1", True),
                    ("legocity-backups-dr", "eu-central-1", False))


def create_bucket_direct(ctx, name, region, object_lock=False):
    st = store(ctx)
    with st.db.tx() as c:
        c.execute("INSERT OR IGNORE INTO buckets(name, region, created, object_lock) "
                  "VALUES(?,?,?,?)", (name, region, ctx.now(), 1 if object_lock else 0))


def seed(ctx, name="legocity", sizes=None):
    if name != "legocity":
        return
    for bucket, region, lock in LEGOCITY_BUCKETS:
        create_bucket_direct(ctx, bucket, region, lock)


def control(ctx, method, path, body):
    """GET /s3/multipart[?bucket=] open uploads; GET /s3/objects?bucket=&prefix= stored
    objects with metadata; POST /s3/corrupt {"bucket","key","offset"} flips one stored byte
    (metadata unchanged) so readers can be tested against silent corruption;
    POST /s3/buckets {"name","region","object_lock"} creates a bucket directly."""
    st = store(ctx)
    split = path.split("?", 1)
    parts = [x for x in split[0].split("/") if x][1:]
    q = dict(parse_qsl(split[1])) if len(split) > 1 else {}
    if parts == ["multipart"] and method == "GET":
        ups = []
        for r in st.db.query("SELECT * FROM uploads ORDER BY bucket, key, initiated"):
            if q.get("bucket") and r["bucket"] != q["bucket"]:
                continue
            ps = st.db.query("SELECT COUNT(*) AS n, COALESCE(SUM(size),0) AS bytes FROM parts "
                             "WHERE upload_id=?", (r["upload_id"],))[0]
            ups.append({"bucket": r["bucket"], "key": r["key"], "upload_id": r["upload_id"],
                        "initiated": r["initiated"], "parts": ps["n"], "bytes": ps["bytes"]})
        return 200, {"uploads": ups}
    if parts == ["objects"] and method == "GET":
        rows = st.db.query("SELECT * FROM objects WHERE bucket=? AND key>=? ORDER BY key",
                           (q.get("bucket", ""), q.get("prefix", "")))
        return 200, {"objects": [{"key": r["key"], "size": r["size"], "etag": r["etag"],
                                  "modified": r["modified"], "meta": json.loads(r["meta"])}
                                 for r in rows if r["key"].startswith(q.get("prefix", ""))]}
    if parts == ["corrupt"] and method == "POST":
        rows = st.db.query("SELECT file, size FROM objects WHERE bucket=? AND key=?",
                           (body["bucket"], body["key"]))
        if not rows or rows[0]["size"] == 0:
            return 404, {"error": "no such (non-empty) object"}
        off = int(body.get("offset", rows[0]["size"] // 2)) % rows[0]["size"]
        with open(st.data / rows[0]["file"], "r+b") as f:
            f.seek(off)
            byte = f.read(1)
            f.seek(off)
            f.write(bytes([byte[0] ^ 0xFF]))
        return 200, {"corrupted": body["key"], "offset": off}
    if parts == ["buckets"] and method == "POST":
        create_bucket_direct(ctx, body["name"], body.get("region", ctx.region),
                             bool(body.get("object_lock")))
        return 200, {"created": body["name"]}
    if parts == ["buckets"] and method == "GET":
        return 200, {"buckets": [dict(r) for r in st.db.query("SELECT * FROM buckets")]}
    return 404, {"error": f"no s3 control route {method} {path}"}
