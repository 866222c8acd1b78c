"""SigV4 verification with botocore's own signer.

The incoming request is rebuilt as a botocore AWSRequest holding exactly the headers the
client signed; botocore's SigV4Auth / S3SigV4Auth / SigV4QueryAuth / S3SigV4QueryAuth then
recompute the canonical request, string to sign and signature with the stored secret, and
we compare. Auth failures come back as AwsError in the shape the protocol uses.
"""

import calendar
import datetime
import email.utils
import hashlib
import hmac
import re
from urllib.parse import quote, unquote

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from .core import AwsError

MAX_SKEW = 15 * 60
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")
STREAMING_UNSIGNED = ("STREAMING-UNSIGNED-PAYLOAD-TRAILER",)
SIGV4_TS = "%Y%m%dT%H%M%SZ"

_AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256\s+(.*)$", re.S)


def parse_query(query):
    """Raw query string -> list of decoded (name, value); '+' stays '+' (SigV4 rule)."""
    pairs = []
    if not query:
        return pairs
    for part in query.split("&"):
        if part == "":
            continue
        k, _, v = part.partition("=")
        pairs.append((unquote(k), unquote(v)))
    return pairs


def parse_authorization(value):
    """Authorization header -> dict(access_key, date, region, service, signed, signature)."""
    m = _AUTH_RE.match(value.strip())
    if not m:
        return None
    fields = {}
    for item in re.split(r"\s*,\s*", m.group(1).strip()):
        k, _, v = item.partition("=")
        fields[k.strip()] = v.strip()
    try:
        cred = fields["Credential"].split("/")
        if len(cred) != 5 or cred[4] != "aws4_request":
            return None
        return {
            "access_key": cred[0], "date": cred[1], "region": cred[2], "service": cred[3],
            "signed": [h.strip().lower() for h in fields["SignedHeaders"].split(";") if h],
            "signature": fields["Signature"],
        }
    except KeyError:
        return None


def scope_of(headers, query_pairs):
    """(service, region, access_key) from the SigV4 scope, or (None, None, None)."""
    auth = headers.get("Authorization")
    if auth:
        p = parse_authorization(auth)
        if p:
            return p["service"], p["region"], p["access_key"]
        return None, None, None
    for k, v in query_pairs:
        if k == "X-Amz-Credential":
            cred = v.split("/")
            if len(cred) == 5:
                return cred[3], cred[2], cred[0]
    return None, None, None


# ---------------------------------------------------------------------------------------
# Protocol-shaped auth errors

_SIG_MSG = ("The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. "
            "Consult the service documentation for details.")


def auth_error(protocol, kind, detail="", fields=None):
    """kind: signature, unknown_key, skew, missing, malformed, expired_token,
    invalid_token, presign_expired."""
    s3 = protocol == "rest-xml"
    ec2 = protocol == "ec2"
    js = protocol == "json"
    f = dict(fields or {})
    if kind == "signature":
        if s3:
            return AwsError("SignatureDoesNotMatch",
                            "The request signature we calculated does not match the signature "
                            "you provided. Check your key and signing method.", 403, f)
        if ec2:
            return AwsError("AuthFailure",
                            "AWS was not able to validate the provided access credentials", 401)
        msg = _SIG_MSG
        if detail:
            msg += "\n\nThe Canonical String for this request should have been\n'" + detail + "'"
        if js:
            return AwsError("InvalidSignatureException", msg, 400)
        return AwsError("SignatureDoesNotMatch", msg, 403)
    if kind == "unknown_key":
        if s3:
            return AwsError("InvalidAccessKeyId", "The AWS Access Key Id you provided does not "
                            "exist in our records.", 403, f)
        if ec2:
            return AwsError("AuthFailure",
                            "AWS was not able to validate the provided access credentials", 401)
        if js:
            return AwsError("UnrecognizedClientException",
                            "The security token included in the request is invalid.", 400)
        return AwsError("InvalidClientTokenId",
                        "The security token included in the request is invalid.", 403)
    if kind == "invalid_token":
        if s3:
            return AwsError("InvalidToken",
                            "The provided token is malformed or otherwise invalid.", 400, f)
        return auth_error(protocol, "unknown_key")
    if kind == "expired_token":
        if s3:
            return AwsError("ExpiredToken", "The provided token has expired.", 400, f)
        if js:
            return AwsError("ExpiredTokenException",
                            "The security token included in the request is expired", 400)
        if ec2:
            return AwsError("AuthFailure",
                            "AWS was not able to validate the provided access credentials", 401)
        return AwsError("ExpiredToken",
                        "The security token included in the request is expired", 403)
    if kind == "skew":
        if s3:
            return AwsError("RequestTimeTooSkewed", "The difference between the request time "
                            "and the current time is too large.", 403, f)
        if ec2:
            return AwsError("RequestExpired", "Request has expired.", 400)
        if js:
            return AwsError("InvalidSignatureException", detail, 400)
        return AwsError("SignatureDoesNotMatch", detail, 403)
    if kind == "presign_expired":
        if s3:
            return AwsError("AccessDenied", "Request has expired", 403, f)
        return auth_error(protocol, "skew", "Signature expired")
    if kind == "missing":
        if s3:
            return AwsError("AccessDenied", "Access Denied", 403)
        if ec2:
            return AwsError("AuthFailure",
                            "AWS was not able to validate the provided access credentials", 401)
        if js:
            return AwsError("MissingAuthenticationTokenException",
                            "Missing Authentication Token", 400)
        return AwsError("MissingAuthenticationToken",
                        "Request is missing Authentication Token", 403)
    # malformed
    if s3:
        return AwsError("AuthorizationHeaderMalformed",
                        "The authorization header is malformed; " + detail, 400)
    if js:
        return AwsError("IncompleteSignatureException", detail, 400)
    return AwsError("IncompleteSignature", detail, 400)


# ---------------------------------------------------------------------------------------
# botocore signers that sign exactly the headers the client listed

class _Exact:
    """Mixin: headers_to_sign is what the client listed (botocore's blacklist would drop a
    signed user-agent, which AWS itself accepts)."""

    def headers_to_sign(self, request):
        m = HTTPHeaders()
        for name, value in request.headers.items():
            if name.lower() in request.context["signed"]:
                m[name.lower()] = value
        return m


class _Hdr(_Exact, SigV4Auth):
    pass


class _S3Hdr(_Exact, S3SigV4Auth):
    pass


class _Qry(_Exact, SigV4QueryAuth):
    pass


class _S3Qry(_Exact, S3SigV4QueryAuth):
    pass


def _ts_from_date_header(value):
    t = email.utils.parsedate_to_datetime(value)
    return t.astimezone(datetime.timezone.utc).strftime(SIGV4_TS)


def _ts_epoch(ts):
    return calendar.timegm(datetime.datetime.strptime(ts, SIGV4_TS).timetuple())


def _skew_text(ts, now):
    def f(x):
        return datetime.datetime.fromtimestamp(x, datetime.timezone.utc).strftime(SIGV4_TS)
    t = _ts_epoch(ts)
    if t < now:
        return (f"Signature expired: {ts} is now earlier than {f(now - MAX_SKEW)} "
                f"({f(now)} - 15 min.)")
    return (f"Signature not yet current: {ts} is still later than {f(now + MAX_SKEW)} "
            f"({f(now)} + 15 min.)")


def verify(req, lookup, server_now):
    """Check req's SigV4 signature. lookup(access_key) -> dict(secret, token, expiration,
    arn, user_id, account) or None. Returns the identity dict (with 'signing' info for
    aws-chunked bodies). Sets req.payload_sha256 for S3 header-signed requests."""
    proto = req.protocol
    s3 = proto == "rest-xml"
    qp = req.query_params
    auth = req.headers.get("Authorization")
    presigned = False
    if (auth and auth.startswith("AWS ")) or any(k == "AWSAccessKeyId" for k, _ in qp):
        raise AwsError("InvalidRequest", "The authorization mechanism you have provided is not "
                       "supported. Please use AWS4-HMAC-SHA256.", 400) if s3 else \
            auth_error(proto, "malformed", "only AWS4-HMAC-SHA256 signatures are supported")
    if auth:
        a = parse_authorization(auth)
        if a is None:
            raise auth_error(proto, "malformed", "Authorization header requires Credential, "
                             "SignedHeaders and Signature in AWS4-HMAC-SHA256 form")
        ts = req.headers.get("X-Amz-Date")
        if ts is None and req.headers.get("Date"):
            ts = _ts_from_date_header(req.headers.get("Date"))
        token = req.headers.get("X-Amz-Security-Token")
    elif any(k == "X-Amz-Signature" for k, _ in qp):
        presigned = True
        q = dict(qp)
        cred = q.get("X-Amz-Credential", "").split("/")
        if len(cred) != 5 or q.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
            raise auth_error(proto, "malformed", "invalid X-Amz-Credential or X-Amz-Algorithm")
        a = {"access_key": cred[0], "date": cred[1], "region": cred[2], "service": cred[3],
             "signed": [h.lower() for h in q.get("X-Amz-SignedHeaders", "").split(";") if h],
             "signature": q.get("X-Amz-Signature", "")}
        ts = q.get("X-Amz-Date")
        token = q.get("X-Amz-Security-Token")
    else:
        raise auth_error(proto, "missing")

    ak = a["access_key"]
    s3f = {"AWSAccessKeyId": ak}
    if not ts or not re.match(r"^\d{8}T\d{6}Z$", ts):
        raise auth_error(proto, "malformed", "missing or invalid X-Amz-Date")
    cred = lookup(ak)
    if cred is None:
        raise auth_error(proto, "unknown_key", fields=s3f)
    if cred.get("token"):
        if not token:
            raise auth_error(proto, "unknown_key", fields=s3f)
        if not hmac.compare_digest(token, cred["token"]):
            raise auth_error(proto, "invalid_token", fields=s3f)
        if cred.get("expiration") and server_now >= cred["expiration"]:
            raise auth_error(proto, "expired_token", fields=s3f)
    elif token:
        raise auth_error(proto, "invalid_token", fields=s3f)

    t = _ts_epoch(ts)
    if presigned:
        try:
            expires = int(dict(qp).get("X-Amz-Expires", "0"))
        except ValueError:
            expires = -1
        if expires < 1 or expires > 604800:
            raise AwsError("AuthorizationQueryParametersError",
                           "X-Amz-Expires must be between 1 and 604800 seconds", 400) \
                if s3 else auth_error(proto, "malformed", "invalid X-Amz-Expires")
        if server_now > t + expires:
            raise auth_error(proto, "presign_expired", fields={
                "X-Amz-Expires": expires, "Expires": _iso(t + expires),
                "ServerTime": _iso(server_now)})
        if t > server_now + MAX_SKEW:
            raise auth_error(proto, "skew", _skew_text(ts, server_now), {
                "RequestTime": ts, "ServerTime": _iso(server_now),
                "MaxAllowedSkewMilliseconds": 900000})
    elif abs(server_now - t) > MAX_SKEW:
        raise auth_error(proto, "skew", _skew_text(ts, server_now), {
            "RequestTime": ts, "ServerTime": _iso(server_now),
            "MaxAllowedSkewMilliseconds": 900000})

    signed = a["signed"]
    if "host" not in signed:
        raise auth_error(proto, "malformed" if not s3 else "signature",
                         "'Host' must be a signed header", s3f)
    content_sha = req.headers.get("X-Amz-Content-SHA256")
    if s3 and not presigned:
        if content_sha is None:
            raise AwsError("InvalidRequest", "Missing required header for this request: "
                           "x-amz-content-sha256", 400)
        if not (content_sha == UNSIGNED or content_sha in STREAMING_SIGNED
                or content_sha in STREAMING_UNSIGNED or re.match(r"^[0-9a-f]{64}$", content_sha)):
            raise AwsError("InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                           "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value.", 400,
                           {"ArgumentName": "x-amz-content-sha256",
                            "ArgumentValue": content_sha})

    # Rebuild the request as botocore sees it.
    host = req.headers.get("Host", "")
    path = quote(unquote(req.path), safe="/~") if s3 else req.path
    areq = AWSRequest(method=req.method, url=f"http://{host}{path}",
                      data=b"" if s3 else req.raw_body)
    areq.context["timestamp"] = ts
    areq.context["signed"] = set(signed)
    for name in signed:
        values = req.headers.get_all(name)
        if values is None:
            raise auth_error(proto, "signature", fields=s3f)
        for v in values:
            areq.headers[name] = v
    if content_sha is not None and "x-amz-content-sha256" not in signed and not presigned:
        areq.headers["X-Amz-Content-SHA256"] = content_sha
    areq.params = [(k, v) for k, v in qp if not (presigned and k == "X-Amz-Signature")]
    creds = Credentials(ak, cred["secret"], cred.get("token"))
    cls = (_S3Qry if presigned else _S3Hdr) if s3 else (_Qry if presigned else _Hdr)
    signer = cls(creds, a["service"], a["region"])
    canonical = signer.canonical_request(areq)
    sts = signer.string_to_sign(areq, canonical)
    # botocore computes the scope from the timestamp; a client whose scope date differs
    # signed a different string, which the comparison below catches.
    if a["date"] != ts[:8]:
        raise auth_error(proto, "signature", canonical, s3f)
    expected = signer.signature(sts, areq)
    if not hmac.compare_digest(expected, a["signature"]):
        f = dict(s3f, StringToSign=sts, SignatureProvided=a["signature"],
                 CanonicalRequest=canonical)
        raise auth_error(proto, "signature", canonical, f)

    if not s3 and content_sha is not None and content_sha != UNSIGNED:
        if content_sha != hashlib.sha256(req.raw_body).hexdigest():
            raise auth_error(proto, "signature", canonical)
    if s3 and not presigned and re.match(r"^[0-9a-f]{64}$", content_sha or ""):
        req.payload_sha256 = content_sha

    identity = {k: cred.get(k) for k in ("arn", "user_id", "account", "session")}
    identity["access_key"] = ak
    identity["signing"] = {
        "key": _signing_key(cred["secret"], a["date"], a["region"], a["service"]),
        "scope": f"{a['date']}/{a['region']}/{a['service']}/aws4_request",
        "timestamp": ts, "seed": a["signature"],
    }
    return identity


def _iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def _signing_key(secret, date, region, service):
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


# ---------------------------------------------------------------------------------------
# aws-chunked bodies

class AwsChunkedReader:
    """Decodes an aws-chunked body from `raw` (file-like). read(n) returns decoded bytes;
    after EOF, .trailers holds the trailing headers (lower-case names). With `signing`
    (identity['signing']) chunk signatures are verified (STREAMING-AWS4-HMAC-SHA256-*)."""

    def __init__(self, raw, signing=None, protocol="rest-xml"):
        self.raw = raw
        self.signing = signing
        self.protocol = protocol
        self.prev = signing["seed"] if signing else None
        self.buf = b""
        self.eof = False
        self.trailers = {}

    def _line(self):
        line = self.raw.readline(65537)
        if not line.endswith(b"\n"):
            raise AwsError("IncompleteBody", "The request body terminated unexpectedly", 400)
        return line.rstrip(b"\r\n")

    def _next_chunk(self):
        header = self._line().decode("latin-1")
        size_hex, _, ext = header.partition(";")
        try:
            size = int(size_hex.strip(), 16)
        except ValueError:
            raise AwsError("InvalidChunkSizeError", "Invalid chunk header", 400)
        sig = None
        if ext.startswith("chunk-signature="):
            sig = ext[len("chunk-signature="):].strip()
        data = self.raw.read(size) if size else b""
        if len(data) != size:
            raise AwsError("IncompleteBody", "The request body terminated unexpectedly", 400)
        if self.signing:
            if sig is None:
                raise auth_error(self.protocol, "signature")
            s = self.signing
            sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", s["timestamp"], s["scope"], self.prev,
                             EMPTY_SHA256, hashlib.sha256(data).hexdigest()])
            want = hmac.new(s["key"], sts.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(want, sig):
                raise auth_error(self.protocol, "signature")
            self.prev = sig
        if size:
            self._line()  # CRLF after data
            return data
        # last chunk: trailers until a blank line (or EOF)
        while True:
            line = self.raw.readline(65537)
            if not line or line in (b"\r\n", b"\n"):
                break
            k, _, v = line.decode("latin-1").partition(":")
            self.trailers[k.strip().lower()] = v.strip()
        self.eof = True
        return b""

    def read(self, n=-1):
        while not self.eof and (n < 0 or len(self.buf) < n):
            self.buf += self._next_chunk()
        if n < 0:
            out, self.buf = self.buf, b""
        else:
            out, self.buf = self.buf[:n], self.buf[n:]
        return out
