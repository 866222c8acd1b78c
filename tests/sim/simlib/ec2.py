"""EC2 / EBS (EC2 query dialect, Version 2016-11-15): volumes, snapshots, tags, instances.

Facts from /work/shared/reference/aws-wire.md 1.4, 2.2 and 6 and botocore's ec2/2016-11-15
model.  Per region: ctx.region_dir/ec2.json (records) plus real data files:
  volumes/<vol-id>.img     a sparse file of the declared size (GiB)
  snapshots/<snap-id>.img  a sparse copy of the volume taken when the snapshot started
so that "snapshot -> new volume" carries the bytes (control hooks below read and write them).

Asynchronous changes (control API POST /delays and /holds):
  "ebs.snapshot" (default 2 s)        pending -> completed, progress 0% .. 100%
  "ebs.snapshot_copy" (default 2 s)   a CopySnapshot copy: pending -> completed
  "ebs.volume" (default 1 s)          creating -> available
  "ebs.snapshot_interval" (default 0) minimum seconds between two snapshots of one volume
                                      (else SnapshotCreationPerVolumeRateExceeded)
  "ebs.snapshot_quota" (default 10000) snapshots per region (else SnapshotLimitExceeded);
                                      also settable per region with POST /ec2/knobs
  "ebs.copy_limit" (default 20)       concurrent CopySnapshot copies pending in a destination
                                      region (else ResourceLimitExceeded)
Control hooks (/ec2/..., ?region=R, default eu-west-1):
  PUT  /ec2/volume/<id>/content      write bytes at ?offset=N (default 0): the raw request body
                                     with Content-Type: application/octet-stream, or JSON
                                     {"base64": ..., "offset": N}
  GET  /ec2/volume/<id>/content      read back the written extent (offset 0 .. highest byte
                                     written): JSON {"base64", "bytes", "sha256"}; with
                                     ?raw=1 the bytes themselves (application/octet-stream)
  GET  /ec2/snapshot/<id>/content    the same for a snapshot's data
  POST /ec2/snapshot/<id>/fail       {"message": ...}: the snapshot goes to state "error"
  GET|POST /ec2/knobs                {"snapshot_quota": N}
  GET  /ec2/seed                     the seeded instance and volume ids
  POST /ec2/seed                     seed this module alone
"""

import base64
import binascii
import errno
import hashlib
import json
import os
import random
import re
import secrets

from .core import AwsError, JsonStore, iso8601, xml_escape

GIB = 1 << 30
BOOT_DEVICES = ("/dev/xvda", "/dev/sda1")
VOLUME_TYPES = {  # volume type -> (min GiB, max GiB)
    "standard": (1, 1024), "gp2": (1, 16384), "gp3": (1, 16384), "io1": (4, 16384),
    "io2": (4, 65536), "st1": (125, 16384), "sc1": (125, 16384),
}
REGION_AZS = {"us-east-1": "abcdef"}
COPY_VOLUME_ID = "vol-ffffffff"          # what AWS reports as volumeId of a copied snapshot

SEED_INSTANCE = "i-0b40ce7da7a5e0001"
SEED_ROOT_VOLUME = "vol-0b40ce7da7a5e0b01"
SEED_DATA_VOLUME = "vol-0b40ce7da7a5e0d01"


# ---------------------------------------------------------------------------------------
# State and files

def _store(ctx):
    return JsonStore(ctx.region_dir / "ec2.json",
                     default={"volumes": {}, "snapshots": {}, "instances": {}, "tokens": {},
                              "knobs": {}, "seq": 0})


def _vol_path(ctx, vid):
    d = ctx.region_dir / "volumes"
    d.mkdir(exist_ok=True)
    return d / f"{vid}.img"


def _snap_path(ctx, sid):
    d = ctx.region_dir / "snapshots"
    d.mkdir(exist_ok=True)
    return d / f"{sid}.img"


def _sparse_copy(src, dst, size=None):
    """Copy src to dst keeping holes (SEEK_DATA/SEEK_HOLE); dst is sized to `size` bytes."""
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        fin, fout = fi.fileno(), fo.fileno()
        end = os.fstat(fin).st_size
        os.ftruncate(fout, end if size is None else size)
        pos = 0
        while pos < end:
            try:
                start = os.lseek(fin, pos, os.SEEK_DATA)
            except OSError as e:
                if e.errno == errno.ENXIO:
                    break
                raise
            stop = os.lseek(fin, start, os.SEEK_HOLE)
            while start < stop:
                chunk = os.pread(fin, min(1 << 20, stop - start), start)
                if not chunk:
                    break
                os.pwrite(fout, chunk, start)
                start += len(chunk)
            pos = stop


def _new_id(prefix, data):
    while True:
        rid = f"{prefix}-0{secrets.token_hex(8)}"
        if rid not in data["volumes"] and rid not in data["snapshots"]:
            return rid


def _seq(data):
    data["seq"] = data.get("seq", 0) + 1
    return data["seq"]


# ---------------------------------------------------------------------------------------
# Parameter parsing (EC2 dialect: flattened lists `Name.N`, structures `Name.N.Member`)

def _bool(params, key, default=False):
    v = params.get(key)
    if v is None or v == "":
        return default
    if v.lower() in ("true", "1"):
        return True
    if v.lower() in ("false", "0"):
        return False
    raise AwsError("InvalidParameterValue", f"Value ({v}) for parameter {key} is invalid. "
                   "Expected a boolean.")


def _int(params, key, default=None):
    v = params.get(key)
    if v is None or v == "":
        return default
    try:
        return int(v)
    except ValueError:
        raise AwsError("InvalidParameterValue", f"Value ({v}) for parameter {key} is invalid. "
                       "Expected an integer.")


def _required(params, key):
    v = params.get(key)
    if v is None or v == "":
        raise AwsError("MissingParameter", f"The request must contain the parameter {key}")
    return v


def _indexed(params, prefix):
    """{N: {rest: value}} for keys `prefix.N` / `prefix.N.rest`."""
    out = {}
    plen = len(prefix) + 1
    for k, v in params.items():
        if not k.startswith(prefix + "."):
            continue
        n, _, rest = k[plen:].partition(".")
        if not n.isdigit():
            continue
        out.setdefault(int(n), {})[rest] = v
    return [out[n] for n in sorted(out)]


def _list(params, prefix):
    return [item[""] for item in _indexed(params, prefix) if "" in item]


def _tags_from(item_fields, prefix="Tag"):
    """Tags inside one structure: {'Tag.1.Key': k, 'Tag.1.Value': v} -> [(k, v)]."""
    sub = {k: v for k, v in item_fields.items() if k.startswith(prefix + ".")}
    return [(t.get("Key"), t.get("Value", "")) for t in _indexed(sub, prefix)]


def _filters(params):
    out = []
    for f in _indexed(params, "Filter"):
        name = f.get("Name")
        if not name:
            raise AwsError("InvalidParameterValue", "The filter 'null' is invalid")
        vals = [v for k, v in sorted(f.items(), key=lambda kv: _num_key(kv[0]))
                if k.startswith("Value.")]
        out.append((name, vals))
    return out


def _num_key(k):
    tail = k.rpartition(".")[2]
    return int(tail) if tail.isdigit() else 0


def _check_tags(pairs, existing=None):
    tags = dict(existing or {})
    for k, v in pairs:
        if k is None or k == "":
            raise AwsError("InvalidParameterValue", "Tag key must not be empty")
        if k.lower().startswith("aws:"):
            raise AwsError("InvalidParameterValue", "Tag keys starting with 'aws:' are "
                           "reserved for internal use")
        if len(k) > 127:
            raise AwsError("InvalidParameterValue", f"Tag key exceeds the maximum length of "
                           f"127 characters: {k}")
        if v is not None and len(v) > 255:
            raise AwsError("InvalidParameterValue", f"Tag value exceeds the maximum length of "
                           f"255 characters: {v}")
        tags[k] = v or ""
    if len(tags) > 50:
        raise AwsError("TagLimitExceeded", "The maximum number of Tags for a resource has been "
                       "reached.")
    return tags


def _tag_specs(params, resource_type):
    """TagSpecification.N.ResourceType + .Tag.M.Key/Value for the one allowed type."""
    tags = {}
    for spec in _indexed(params, "TagSpecification"):
        rtype = spec.get("ResourceType")
        if rtype != resource_type:
            raise AwsError("InvalidParameterValue", f"'{rtype}' is not a valid taggable "
                           "resource type for this operation.")
        tags = _check_tags(_tags_from(spec), tags)
    return tags


def _wild(pattern):
    """EC2 filter values: * and ? wildcards, \\ escapes them."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z", re.S)


def _match_filters(filters, fields, tags, kind):
    """fields: filter name -> list of the resource's values for it."""
    for name, vals in filters:
        if name.startswith("tag:"):
            k = name[4:]
            have = [tags[k]] if k in tags else []
        elif name == "tag-key":
            have = list(tags)
        elif name == "tag-value":
            have = list(tags.values())
        elif name in fields:
            have = fields[name]
        else:
            raise AwsError("InvalidParameterValue", f"The filter '{name}' is invalid")
        pats = [_wild(v) for v in vals]
        if not any(p.match(str(h)) for p in pats for h in have):
            return False
    return True


def _page(items, kind, params, lo, hi):
    """items in stable order (dicts with "seq").  MaxResults in lo..hi, larger values are
    capped at hi; returns (page, next_token)."""
    limit = _int(params, "MaxResults")
    if limit is None:
        limit = _int(params, "maxResults")
    token = params.get("NextToken") or params.get("nextToken")
    after = 0
    if token:
        try:
            t = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            if t["k"] != kind:
                raise ValueError
            after = int(t["s"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise AwsError("InvalidParameterValue", f"Invalid value '{token}' for nextToken")
    rest = [i for i in items if i["seq"] > after]
    if limit is None:
        return rest, None
    if limit < lo:
        raise AwsError("InvalidParameterValue", f"Value ( {limit} ) for parameter maxResults "
                       f"is invalid. Expecting a value greater than {lo - 1}.")
    limit = min(limit, hi)
    if len(rest) <= limit:
        return rest, None
    page = rest[:limit]
    raw = json.dumps({"k": kind, "s": page[-1]["seq"]}, separators=(",", ":")).encode()
    return page, base64.urlsafe_b64encode(raw).decode().rstrip("=")


# ---------------------------------------------------------------------------------------
# XML

def _x(tag, value):
    if value is None:
        return ""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{tag}>{xml_escape(value)}</{tag}>"


def _tagset(tags, always=False):
    if not tags and not always:
        return ""
    items = "".join(f"<item>{_x('key', k)}{_x('value', v)}</item>" for k, v in tags.items())
    return f"<tagSet>{items}</tagSet>"


def _volume_xml(v):
    atts = "".join(
        f"<item>{_x('volumeId', v['volumeId'])}{_x('instanceId', a['instanceId'])}"
        f"{_x('device', a['device'])}{_x('status', a['status'])}"
        f"{_x('attachTime', iso8601(a['attachTime']))}"
        f"{_x('deleteOnTermination', a.get('deleteOnTermination', False))}</item>"
        for a in v.get("attachments", []))
    return (f"{_x('volumeId', v['volumeId'])}{_x('size', v['size'])}"
            f"<snapshotId>{xml_escape(v.get('snapshotId') or '')}</snapshotId>"
            f"{_x('availabilityZone', v['availabilityZone'])}{_x('status', v['state'])}"
            f"{_x('createTime', iso8601(v['createTime']))}<attachmentSet>{atts}</attachmentSet>"
            f"{_tagset(v['tags'])}{_x('volumeType', v['volumeType'])}{_x('iops', v.get('iops'))}"
            f"{_x('throughput', v.get('throughput'))}{_x('encrypted', v['encrypted'])}"
            f"{_x('kmsKeyId', v.get('kmsKeyId'))}"
            f"{_x('multiAttachEnabled', v.get('multiAttachEnabled', False))}")


def _snapshot_xml(s, state_tag="status"):
    msg = _x("statusMessage", s.get("stateMessage")) if state_tag == "status" else ""
    return (f"{_x('snapshotId', s['snapshotId'])}{_x('volumeId', s['volumeId'])}"
            f"{_x(state_tag, s['state'])}{msg}{_x('startTime', iso8601(s['startTime']))}"
            f"{_x('progress', s['progress'])}{_x('ownerId', s['ownerId'])}"
            f"{_x('volumeSize', s['volumeSize'])}"
            f"<description>{xml_escape(s.get('description') or '')}</description>"
            f"{_x('encrypted', s['encrypted'])}{_x('kmsKeyId', s.get('kmsKeyId'))}"
            f"{_tagset(s['tags'])}"
            + (_x('storageTier', 'standard') if state_tag == "status" else ""))


def _ok():
    return "<return>true</return>"


# ---------------------------------------------------------------------------------------
# Asynchronous state

def _advance_snapshot(ctx, s):
    if s["state"] != "pending":
        return
    name = "ebs.snapshot_copy" if s.get("copiedFrom") else "ebs.snapshot"
    delay = ctx.delay(name, 2.0)
    elapsed = ctx.now() - s["startTime"]
    if ctx.hold(name) or elapsed < delay:
        pct = 0 if delay <= 0 else min(99, int(100 * elapsed / delay))
        s["progress"] = f"{max(0, pct)}%"
        return
    if s.get("failAfter"):
        s["state"] = "error"
        s["stateMessage"] = s.pop("failAfter")
        return
    s["state"] = "completed"
    s["progress"] = "100%"
    s["completionTime"] = s["startTime"] + delay


def _advance_volume(ctx, v):
    if v["state"] != "creating":
        return
    if ctx.hold("ebs.volume") or ctx.now() - v["createTime"] < ctx.delay("ebs.volume", 1.0):
        return
    v["state"] = "error" if v.get("failAfter") else "available"


def _get_volume(ctx, data, vid):
    v = data["volumes"].get(vid)
    if v is None:
        raise AwsError("InvalidVolume.NotFound", f"The volume '{vid}' does not exist.")
    _advance_volume(ctx, v)
    return v


def _get_snapshot(ctx, data, sid):
    s = data["snapshots"].get(sid)
    if s is None:
        raise AwsError("InvalidSnapshot.NotFound", f"The snapshot '{sid}' does not exist.")
    _advance_snapshot(ctx, s)
    return s


# ---------------------------------------------------------------------------------------
# KMS

def _default_ebs_key(ctx):
    arn = ctx.kms.resolve_key("alias/aws/ebs")
    return arn or f"arn:aws:kms:{ctx.region}:{ctx.account_id}:key/aws-ebs-default"


def _encryption(ctx, params, inherit_key=None):
    """(encrypted, key_arn, key_ok) from Encrypted / KmsKeyId (checked asynchronously by AWS:
    an unknown key makes the resource fail later, not the call)."""
    enc = _bool(params, "Encrypted") or inherit_key is not None
    key = params.get("KmsKeyId")
    if key and not _bool(params, "Encrypted"):
        raise AwsError("InvalidParameterDependency", "The parameter KmsKeyId requires the "
                       "parameter Encrypted to be set.")
    if not enc:
        return False, None, True
    if key:
        arn = ctx.kms.resolve_key(key)
        if not arn:
            return True, key, False
        return True, arn, True
    return True, inherit_key or _default_ebs_key(ctx), True


# ---------------------------------------------------------------------------------------
# Volumes

def _check_az(ctx, az):
    letters = REGION_AZS.get(ctx.region, "abc")
    if not (az.startswith(ctx.region) and len(az) == len(ctx.region) + 1
            and az[-1] in letters):
        raise AwsError("InvalidParameterValue", f"Invalid availability zone: [{az}]")


def _volume_perf(params, vtype, size):
    iops = _int(params, "Iops")
    thr = _int(params, "Throughput")
    if thr is not None and vtype != "gp3":
        raise AwsError("InvalidParameterCombination", "The parameter throughput is only "
                       "supported for gp3 volumes.")
    if vtype == "gp3":
        iops = 3000 if iops is None else iops
        thr = 125 if thr is None else thr
        if not 3000 <= iops <= 16000 or not 125 <= thr <= 1000:
            raise AwsError("InvalidParameterValue", "gp3 volumes support 3000-16000 IOPS and "
                           "125-1000 MiB/s throughput.")
        return iops, thr
    if vtype in ("io1", "io2"):
        if iops is None:
            raise AwsError("InvalidParameterCombination", f"The parameter iops must be "
                           f"specified for {vtype} volumes.")
        if not 100 <= iops <= 64000:
            raise AwsError("InvalidParameterValue", f"Volume iops of {iops} is not in the "
                           "range 100-64000.")
        return iops, None
    if iops is not None:
        raise AwsError("InvalidParameterCombination", f"The parameter iops is not supported "
                       f"for {vtype} volumes.")
    if vtype == "gp2":
        return max(100, min(16000, 3 * size)), None
    return None, None


def create_volume(ctx, params, data):
    az = params.get("AvailabilityZone")
    if not az:
        if params.get("AvailabilityZoneId"):
            raise AwsError("InvalidParameterValue", "lcsim: use AvailabilityZone, not "
                           "AvailabilityZoneId")
        raise AwsError("MissingParameter", "The request must contain the parameter "
                       "AvailabilityZone")
    _check_az(ctx, az)
    token = params.get("ClientToken")
    if token and token in data["tokens"] and data["tokens"][token] in data["volumes"]:
        return _volume_xml(_get_volume(ctx, data, data["tokens"][token]))
    snap = None
    if params.get("SnapshotId"):
        snap = _get_snapshot(ctx, data, params["SnapshotId"])
        if snap["state"] != "completed":
            raise AwsError("IncorrectState", f"Snapshot is in invalid state - {snap['state']}")
    size = _int(params, "Size")
    if size is None and snap is None:
        raise AwsError("MissingParameter", "The request must contain the parameter size or "
                       "snapshotId")
    if size is None:
        size = snap["volumeSize"]
    if snap is not None and size < snap["volumeSize"]:
        raise AwsError("InvalidParameterValue", f"Volume of size {size}GB is smaller than "
                       f"snapshot '{snap['snapshotId']}', expect size >= "
                       f"{snap['volumeSize']}GB")
    vtype = params.get("VolumeType") or "gp2"
    if vtype not in VOLUME_TYPES:
        raise AwsError("InvalidParameterValue", f"Value ({vtype}) for parameter volumeType is "
                       "invalid. Valid values: standard, io1, io2, gp2, sc1, st1, gp3")
    lo, hi = VOLUME_TYPES[vtype]
    if not lo <= size <= hi:
        raise AwsError("InvalidParameterValue", f"Volume of {size}GiB is not in the range "
                       f"{lo}-{hi}GiB for volume type {vtype}.")
    iops, thr = _volume_perf(params, vtype, size)
    tags = _tag_specs(params, "volume")
    enc, key, key_ok = _encryption(ctx, params, snap and snap.get("kmsKeyId"))
    multi = _bool(params, "MultiAttachEnabled")
    if multi and vtype not in ("io1", "io2"):
        raise AwsError("InvalidParameterCombination", "Multi-Attach is supported only on io1 "
                       "and io2 volumes.")
    _dry_run(params)
    vid = _new_id("vol", data)
    path = _vol_path(ctx, vid)
    if snap is not None:
        _sparse_copy(_snap_path(ctx, snap["snapshotId"]), path, size * GIB)
    else:
        with open(path, "wb") as f:
            f.truncate(size * GIB)
    v = {"volumeId": vid, "size": size, "snapshotId": snap["snapshotId"] if snap else "",
         "availabilityZone": az, "state": "creating", "createTime": ctx.now(),
         "attachments": [], "tags": tags, "volumeType": vtype, "iops": iops,
         "throughput": thr, "encrypted": enc, "kmsKeyId": key if enc else None,
         "multiAttachEnabled": multi, "seq": _seq(data),
         "contentBytes": snap["contentBytes"] if snap else 0}
    if not key_ok:
        v["failAfter"] = f"The KMS key {key} is not valid"
    data["volumes"][vid] = v
    if token:
        data["tokens"][token] = vid
    return _volume_xml(v)


VOLUME_FILTERS = ("attachment.attach-time", "attachment.delete-on-termination",
                  "attachment.device", "attachment.instance-id", "attachment.status",
                  "availability-zone", "create-time", "encrypted", "multi-attach-enabled",
                  "fast-restored", "size", "snapshot-id", "status", "volume-id", "volume-type")


def _volume_fields(v):
    atts = v.get("attachments", [])
    return {
        "attachment.attach-time": [iso8601(a["attachTime"]) for a in atts],
        "attachment.delete-on-termination": [str(a.get("deleteOnTermination", False)).lower()
                                             for a in atts],
        "attachment.device": [a["device"] for a in atts],
        "attachment.instance-id": [a["instanceId"] for a in atts],
        "attachment.status": [a["status"] for a in atts],
        "availability-zone": [v["availabilityZone"]],
        "create-time": [iso8601(v["createTime"])],
        "encrypted": [str(v["encrypted"]).lower()],
        "multi-attach-enabled": [str(v.get("multiAttachEnabled", False)).lower()],
        "fast-restored": ["false"],
        "size": [str(v["size"])],
        "snapshot-id": [v.get("snapshotId") or ""],
        "status": [v["state"]],
        "volume-id": [v["volumeId"]],
        "volume-type": [v["volumeType"]],
    }


def describe_volumes(ctx, params, data):
    ids = _list(params, "VolumeId")
    if ids and (params.get("MaxResults") or params.get("maxResults")):
        raise AwsError("InvalidParameterCombination", "The parameter volumeSet cannot be used "
                       "with the parameter maxResults")
    filters = _filters(params)
    for vid in ids:
        _get_volume(ctx, data, vid)
    vols = []
    for v in sorted(data["volumes"].values(), key=lambda v: v["seq"]):
        _advance_volume(ctx, v)
        if ids and v["volumeId"] not in ids:
            continue
        if _match_filters(filters, _volume_fields(v), v["tags"], "volume"):
            vols.append(v)
    _dry_run(params)
    page, nxt = _page(vols, "volumes", params, 5, 500)
    items = "".join(f"<item>{_volume_xml(v)}</item>" for v in page)
    return f"<volumeSet>{items}</volumeSet>{_x('nextToken', nxt)}"


def delete_volume(ctx, params, data):
    v = _get_volume(ctx, data, _required(params, "VolumeId"))
    if v["attachments"]:
        a = v["attachments"][0]
        raise AwsError("VolumeInUse", f"Volume {v['volumeId']} is currently attached to "
                       f"{a['instanceId']}")
    if v["state"] == "creating":
        raise AwsError("IncorrectState", f"The volume '{v['volumeId']}' is 'creating'")
    _dry_run(params)
    del data["volumes"][v["volumeId"]]
    for inst in data["instances"].values():
        inst["volumes"] = [b for b in inst["volumes"] if b["volumeId"] != v["volumeId"]]
    try:
        _vol_path(ctx, v["volumeId"]).unlink()
    except FileNotFoundError:
        pass
    return _ok()


def _get_instance(data, iid):
    inst = data["instances"].get(iid)
    if inst is None:
        raise AwsError("InvalidInstanceID.NotFound", f"The instance ID '{iid}' does not exist")
    return inst


def attach_volume(ctx, params, data):
    v = _get_volume(ctx, data, _required(params, "VolumeId"))
    inst = _get_instance(data, _required(params, "InstanceId"))
    device = _required(params, "Device")
    if v["availabilityZone"] != inst["availabilityZone"]:
        raise AwsError("InvalidVolume.ZoneMismatch", f"The volume '{v['volumeId']}' is not in "
                       f"the same availability zone as instance '{inst['instanceId']}'")
    if v["state"] != "available":
        raise AwsError("IncorrectState", f"vol '{v['volumeId']}' is not 'available'.")
    if any(b["device"] == device for b in inst["volumes"]):
        raise AwsError("InvalidParameterValue", f"Invalid value '{device}' for unixDevice. "
                       "Attachment point is already in use")
    _dry_run(params)
    now = ctx.now()
    att = {"instanceId": inst["instanceId"], "device": device, "status": "attached",
           "attachTime": now, "deleteOnTermination": False}
    v["attachments"] = [att]
    v["state"] = "in-use"
    inst["volumes"].append({"device": device, "volumeId": v["volumeId"],
                            "deleteOnTermination": False, "attachTime": now})
    return (f"{_x('attachTime', iso8601(now))}{_x('device', device)}"
            f"{_x('instanceId', inst['instanceId'])}{_x('status', 'attaching')}"
            f"{_x('volumeId', v['volumeId'])}")


def detach_volume(ctx, params, data):
    v = _get_volume(ctx, data, _required(params, "VolumeId"))
    if not v["attachments"]:
        raise AwsError("IncorrectState", f"Volume '{v['volumeId']}' is in the 'available' "
                       "state.")
    _dry_run(params)
    att = v["attachments"][0]
    inst = data["instances"].get(att["instanceId"])
    if inst:
        inst["volumes"] = [b for b in inst["volumes"] if b["volumeId"] != v["volumeId"]]
    v["attachments"] = []
    v["state"] = "available"
    return (f"{_x('attachTime', iso8601(att['attachTime']))}{_x('device', att['device'])}"
            f"{_x('instanceId', att['instanceId'])}{_x('status', 'detaching')}"
            f"{_x('volumeId', v['volumeId'])}")


# ---------------------------------------------------------------------------------------
# Snapshots

def _quota(ctx, data):
    if "snapshot_quota" in data["knobs"]:
        return int(data["knobs"]["snapshot_quota"])
    return int(ctx.delay("ebs.snapshot_quota", 10000))


def _check_quota(ctx, data, adding):
    if len(data["snapshots"]) + adding > _quota(ctx, data):
        raise AwsError("SnapshotLimitExceeded", "The maximum number of snapshots has been "
                       "reached.")


def _check_rate(ctx, data, v):
    interval = ctx.delay("ebs.snapshot_interval", 0)
    last = v.get("lastSnapshotAt")
    if interval > 0 and last is not None and ctx.now() - last < interval:
        raise AwsError("SnapshotCreationPerVolumeRateExceeded", "The maximum per volume "
                       "CreateSnapshot request rate has been exceeded. Use an increasing or "
                       "variable sleep interval between requests.")


def _take_snapshot(ctx, data, v, description, tags, now):
    sid = _new_id("snap", data)
    _sparse_copy(_vol_path(ctx, v["volumeId"]), _snap_path(ctx, sid))
    s = {"snapshotId": sid, "volumeId": v["volumeId"], "state": "pending", "progress": "0%",
         "startTime": now, "ownerId": ctx.account_id, "volumeSize": v["size"],
         "description": description, "encrypted": v["encrypted"],
         "kmsKeyId": v.get("kmsKeyId"), "tags": tags, "seq": _seq(data),
         "contentBytes": v.get("contentBytes", 0)}
    v["lastSnapshotAt"] = now
    data["snapshots"][sid] = s
    return s


def create_snapshot(ctx, params, data):
    v = _get_volume(ctx, data, _required(params, "VolumeId"))
    tags = _tag_specs(params, "snapshot")
    if v["state"] not in ("available", "in-use"):
        raise AwsError("IncorrectState", f"The volume '{v['volumeId']}' is '{v['state']}'")
    _check_quota(ctx, data, 1)
    _check_rate(ctx, data, v)
    _dry_run(params)
    s = _take_snapshot(ctx, data, v, params.get("Description") or "", tags, ctx.now())
    return _snapshot_xml(s)


def create_snapshots(ctx, params, data):
    inst = _get_instance(data, _required(params, "InstanceSpecification.InstanceId"))
    exclude_boot = _bool(params, "InstanceSpecification.ExcludeBootVolume")
    excluded = set(_list(params, "InstanceSpecification.ExcludeDataVolumeId"))
    if len(excluded) > 40:
        raise AwsError("InvalidParameterValue", "At most 40 data volumes can be excluded.")
    copy_from = params.get("CopyTagsFromSource")
    if copy_from not in (None, "", "volume"):
        raise AwsError("InvalidParameterValue", f"Value ({copy_from}) for parameter "
                       "CopyTagsFromSource is invalid.")
    tags = _tag_specs(params, "snapshot")
    picked = []
    for b in inst["volumes"]:
        boot = b["device"] in BOOT_DEVICES
        if (boot and exclude_boot) or (not boot and b["volumeId"] in excluded):
            continue
        picked.append(_get_volume(ctx, data, b["volumeId"]))
    if not picked:
        raise AwsError("InvalidParameterValue", "The instance has no volumes left to snapshot "
                       "after the exclusions.")
    _check_quota(ctx, data, len(picked))
    for v in picked:
        _check_rate(ctx, data, v)
    _dry_run(params)
    now = ctx.now()
    items = []
    for v in picked:
        st = dict(v["tags"]) if copy_from == "volume" else {}
        st.update(tags)
        s = _take_snapshot(ctx, data, v, params.get("Description") or "", st, now)
        items.append(f"<item>{_snapshot_xml(s, state_tag='state')}</item>")
    return f"<snapshotSet>{''.join(items)}</snapshotSet>"


def _snapshot_fields(ctx, s):
    return {
        "description": [s.get("description") or ""],
        "encrypted": [str(s["encrypted"]).lower()],
        "owner-alias": [],
        "owner-id": [s["ownerId"]],
        "progress": [s["progress"]],
        "snapshot-id": [s["snapshotId"]],
        "start-time": [iso8601(s["startTime"])],
        "status": [s["state"]],
        "storage-tier": ["standard"],
        "volume-id": [s["volumeId"]],
        "volume-size": [str(s["volumeSize"])],
    }


def describe_snapshots(ctx, params, data):
    ids = _list(params, "SnapshotId")
    if ids and params.get("MaxResults"):
        raise AwsError("InvalidParameterCombination", "The parameter snapshotSet cannot be "
                       "used with the parameter maxResults")
    owners = _list(params, "Owner")
    filters = _filters(params)
    for sid in ids:
        _get_snapshot(ctx, data, sid)
    mine = not owners or any(o in ("self", ctx.account_id) for o in owners)
    snaps = []
    for s in sorted(data["snapshots"].values(), key=lambda s: s["seq"]):
        _advance_snapshot(ctx, s)
        if not mine or (ids and s["snapshotId"] not in ids):
            continue
        if _match_filters(filters, _snapshot_fields(ctx, s), s["tags"], "snapshot"):
            snaps.append(s)
    _dry_run(params)
    page, nxt = _page(snaps, "snapshots", params, 5, 1000)
    items = "".join(f"<item>{_snapshot_xml(s)}</item>" for s in page)
    return f"<snapshotSet>{items}</snapshotSet>{_x('nextToken', nxt)}"


def delete_snapshot(ctx, params, data):
    s = _get_snapshot(ctx, data, _required(params, "SnapshotId"))
    _dry_run(params)
    del data["snapshots"][s["snapshotId"]]
    try:
        _snap_path(ctx, s["snapshotId"]).unlink()
    except FileNotFoundError:
        pass
    return _ok()


def copy_snapshot(ctx, params, data):
    src_region = _required(params, "SourceRegion")
    src_id = _required(params, "SourceSnapshotId")
    dest = params.get("DestinationRegion")
    if dest and dest != ctx.region:
        raise AwsError("InvalidParameterValue", f"DestinationRegion {dest} does not match the "
                       f"region of this endpoint ({ctx.region}); send CopySnapshot to the "
                       "destination region.")
    if not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", src_region):
        raise AwsError("InvalidParameterValue", f"Invalid value '{src_region}' for "
                       "SourceRegion")
    sctx = ctx if src_region == ctx.region else ctx.for_region(src_region)
    sstore = _store(sctx) if sctx is not ctx else None
    src_data = sstore.read() if sstore else data
    src = src_data["snapshots"].get(src_id)
    if src is None and sctx is ctx:
        raise AwsError("InvalidSnapshot.NotFound", f"The snapshot '{src_id}' does not exist.")
    if src is not None:
        _advance_snapshot(sctx, src)
        if src["state"] != "completed":
            raise AwsError("IncorrectState", f"Snapshot '{src_id}' is in invalid state - "
                           f"{src['state']}")
    tags = _tag_specs(params, "snapshot")
    enc, key, key_ok = _encryption(ctx, params, None)
    if src is not None and src["encrypted"] and not enc:
        enc, key, key_ok = True, _default_ebs_key(ctx), True
    _check_quota(ctx, data, 1)
    limit = int(ctx.delay("ebs.copy_limit", 20))
    for x in data["snapshots"].values():
        _advance_snapshot(ctx, x)
    copying = sum(1 for x in data["snapshots"].values()
                  if x.get("copiedFrom") and x["state"] == "pending")
    if copying >= limit:
        raise AwsError("ResourceLimitExceeded", f"Too many snapshot copies in progress. The "
                       f"limit is {limit} for this destination region.")
    _dry_run(params)
    sid = _new_id("snap", data)
    if src is None:
        # A cross-region copy of a snapshot the source region does not have is accepted;
        # the copy stays pending, then fails (what AWS does with a wrong SourceRegion).
        src = {"volumeSize": 0, "encrypted": enc, "contentBytes": 0,
               "fail": f"the source snapshot {src_id} does not exist in {src_region}"}
        open(_snap_path(ctx, sid), "wb").close()
    else:
        _sparse_copy(_snap_path(sctx, src_id), _snap_path(ctx, sid))
    desc = params.get("Description")
    if desc is None:
        desc = f"[Copied {src_id} from {src_region}]"
    s = {"snapshotId": sid, "volumeId": COPY_VOLUME_ID, "state": "pending", "progress": "0%",
         "startTime": ctx.now(), "ownerId": ctx.account_id, "volumeSize": src["volumeSize"],
         "description": desc, "encrypted": enc, "kmsKeyId": key if enc else None,
         "tags": tags, "seq": _seq(data), "contentBytes": src.get("contentBytes", 0),
         "copiedFrom": f"{src_region}/{src_id}"}
    if not key_ok:
        s["failAfter"] = f"The KMS key {key} is not valid in {ctx.region}"
    if src.get("fail"):
        s["failAfter"] = src["fail"]
    data["snapshots"][sid] = s
    return f"{_x('snapshotId', sid)}{_tagset(tags)}"


# ---------------------------------------------------------------------------------------
# Tags

def _resource(data, rid):
    """(kind, record) for a taggable id; errors as EC2 reports them."""
    if rid.startswith("vol-"):
        if rid not in data["volumes"]:
            raise AwsError("InvalidVolume.NotFound", f"The volume '{rid}' does not exist.")
        return "volume", data["volumes"][rid]
    if rid.startswith("snap-"):
        if rid not in data["snapshots"]:
            raise AwsError("InvalidSnapshot.NotFound", f"The snapshot '{rid}' does not exist.")
        return "snapshot", data["snapshots"][rid]
    if rid.startswith("i-"):
        if rid not in data["instances"]:
            raise AwsError("InvalidInstanceID.NotFound", f"The instance ID '{rid}' does not "
                           "exist")
        return "instance", data["instances"][rid]
    raise AwsError("InvalidID", f"The ID '{rid}' is not valid")


def create_tags(ctx, params, data):
    ids = _list(params, "ResourceId")
    if not ids:
        raise AwsError("MissingParameter", "The request must contain the parameter resourceIdSet")
    pairs = [(t.get("Key"), t.get("Value", "")) for t in _indexed(params, "Tag")]
    if not pairs:
        raise AwsError("MissingParameter", "The request must contain the parameter tagSet")
    recs = [_resource(data, rid)[1] for rid in ids]
    new = [_check_tags(pairs, r["tags"]) for r in recs]
    _dry_run(params)
    for r, tags in zip(recs, new):
        r["tags"] = tags
    return _ok()


def delete_tags(ctx, params, data):
    ids = _list(params, "ResourceId")
    if not ids:
        raise AwsError("MissingParameter", "The request must contain the parameter resourceIdSet")
    specs = _indexed(params, "Tag")
    recs = [_resource(data, rid)[1] for rid in ids]
    _dry_run(params)
    for r in recs:
        if not specs:
            r["tags"] = {k: v for k, v in r["tags"].items() if k.startswith("aws:")}
            continue
        for t in specs:
            k = t.get("Key")
            if k in r["tags"] and ("Value" not in t or r["tags"][k] == t["Value"]):
                del r["tags"][k]
    return _ok()


def describe_tags(ctx, params, data):
    filters = _filters(params)
    rows = []
    for kind, coll in (("instance", "instances"), ("snapshot", "snapshots"),
                       ("volume", "volumes")):
        for rid in sorted(data[coll]):
            for k, v in sorted(data[coll][rid]["tags"].items()):
                fields = {"key": [k], "value": [v], "resource-id": [rid],
                          "resource-type": [kind]}
                if _match_filters(filters, fields, data[coll][rid]["tags"], "tag"):
                    rows.append({"seq": len(rows) + 1, "rid": rid, "kind": kind, "k": k, "v": v})
    _dry_run(params)
    page, nxt = _page(rows, "tags", params, 5, 1000)
    items = "".join(f"<item>{_x('resourceId', r['rid'])}{_x('resourceType', r['kind'])}"
                    f"{_x('key', r['k'])}{_x('value', r['v'])}</item>" for r in page)
    return f"<tagSet>{items}</tagSet>{_x('nextToken', nxt)}"


# ---------------------------------------------------------------------------------------
# Instances (read-only; the seed creates them)

def describe_instances(ctx, params, data):
    ids = _list(params, "InstanceId")
    filters = _filters(params)
    for iid in ids:
        _get_instance(data, iid)
    items = []
    for iid in sorted(data["instances"]):
        inst = data["instances"][iid]
        if ids and iid not in ids:
            continue
        fields = {"instance-id": [iid], "availability-zone": [inst["availabilityZone"]],
                  "instance-state-name": ["running"],
                  "block-device-mapping.volume-id": [b["volumeId"] for b in inst["volumes"]]}
        if not _match_filters(filters, fields, inst["tags"], "instance"):
            continue
        bdm = "".join(
            f"<item>{_x('deviceName', b['device'])}<ebs>{_x('volumeId', b['volumeId'])}"
            f"{_x('status', 'attached')}{_x('attachTime', iso8601(b['attachTime']))}"
            f"{_x('deleteOnTermination', b.get('deleteOnTermination', False))}</ebs></item>"
            for b in inst["volumes"])
        items.append(
            f"<item>{_x('reservationId', inst['reservationId'])}{_x('ownerId', ctx.account_id)}"
            f"<groupSet/><instancesSet><item>{_x('instanceId', iid)}"
            f"{_x('imageId', inst['imageId'])}<instanceState><code>16</code><name>running"
            f"</name></instanceState>{_x('instanceType', inst['instanceType'])}"
            f"{_x('launchTime', iso8601(inst['launchTime']))}<placement>"
            f"{_x('availabilityZone', inst['availabilityZone'])}</placement>"
            f"{_x('rootDeviceType', 'ebs')}{_x('rootDeviceName', '/dev/xvda')}"
            f"<blockDeviceMapping>{bdm}</blockDeviceMapping>{_tagset(inst['tags'])}"
            f"</item></instancesSet></item>")
    return f"<reservationSet>{''.join(items)}</reservationSet>"


# ---------------------------------------------------------------------------------------
# Dispatch

def _dry_run(params):
    if _bool(params, "DryRun"):
        raise AwsError("DryRunOperation", "Request would have succeeded, but DryRun flag is "
                       "set.", status=412)


OPERATIONS = {
    "CreateVolume": create_volume,
    "DescribeVolumes": describe_volumes,
    "DeleteVolume": delete_volume,
    "AttachVolume": attach_volume,
    "DetachVolume": detach_volume,
    "CreateSnapshot": create_snapshot,
    "CreateSnapshots": create_snapshots,
    "DescribeSnapshots": describe_snapshots,
    "DeleteSnapshot": delete_snapshot,
    "CopySnapshot": copy_snapshot,
    "CreateTags": create_tags,
    "DeleteTags": delete_tags,
    "DescribeTags": describe_tags,
    "DescribeInstances": describe_instances,
}


_allowed = {}
# Real parameters newer than Debian's botocore model (aws-wire.md 2.2).
NEWER_PARAMS = {"CreateVolume": {"AvailabilityZoneId", "VolumeInitializationRate", "Operator"},
                "CreateSnapshot": {"Location"}, "CreateSnapshots": {"Location"},
                "CopySnapshot": {"CompletionDurationMinutes"}}


def _check_known_params(op, params):
    """EC2 refuses parameters its API does not have (UnknownParameter); the allowed wire names
    come from botocore's own model (queryName, else capitalised locationName, else name)."""
    if not _allowed:
        import botocore
        path = os.path.join(os.path.dirname(botocore.__file__), "data", "ec2", "2016-11-15",
                            "service-2.json")
        with open(path, encoding="utf-8") as f:
            model = json.load(f)
        for name in OPERATIONS:
            shape = model["shapes"][model["operations"][name]["input"]["shape"]]
            names = {"Action", "Version"}
            for member, m in shape["members"].items():
                loc = m.get("locationName")
                names.add(m.get("queryName") or (loc[0].upper() + loc[1:] if loc else member))
            _allowed[name] = names | NEWER_PARAMS.get(name, set())
    for key in params:
        top = key.split(".", 1)[0]
        if top not in _allowed[op]:
            raise AwsError("UnknownParameter", f"The parameter {top} is not recognized")


def handle(ctx, request):
    params = request.params or {}
    op = params.get("Action")
    fn = OPERATIONS.get(op)
    if fn is None:
        raise AwsError("InvalidAction", f"The action {op} is not valid for this web service.")
    _check_known_params(op, params)
    if params.get("Version") not in (None, "2016-11-15"):
        raise AwsError("InvalidParameterValue", f"lcsim speaks EC2 API 2016-11-15, not "
                       f"{params.get('Version')}")
    # Describes also persist the states they observed (pending -> completed is one-way).
    with _store(ctx).update() as data:
        return fn(ctx, params, data)


# ---------------------------------------------------------------------------------------
# Content hooks and control

def write_content(ctx, vid, content, offset=0):
    """Write bytes into a volume's file at offset; returns the new content extent."""
    with _store(ctx).update() as data:
        v = data["volumes"].get(vid)
        if v is None:
            raise AwsError("InvalidVolume.NotFound", f"The volume '{vid}' does not exist.", 404)
        if offset < 0 or offset + len(content) > v["size"] * GIB:
            raise AwsError("InvalidParameterValue", "content does not fit in the volume")
        with open(_vol_path(ctx, vid), "r+b") as f:
            f.seek(offset)
            f.write(content)
        v["contentBytes"] = max(v.get("contentBytes", 0), offset + len(content))
        return v["contentBytes"]


def read_content(ctx, kind, rid):
    """The written extent of a volume's or snapshot's data (bytes)."""
    data = _store(ctx).read()
    coll = data["volumes" if kind == "volume" else "snapshots"]
    rec = coll.get(rid)
    if rec is None:
        raise AwsError("InvalidVolume.NotFound" if kind == "volume" else
                       "InvalidSnapshot.NotFound", f"The {kind} '{rid}' does not exist.", 404)
    path = _vol_path(ctx, rid) if kind == "volume" else _snap_path(ctx, rid)
    with open(path, "rb") as f:
        return f.read(rec.get("contentBytes", 0))


def _content_reply(content):
    return {"bytes": len(content), "sha256": hashlib.sha256(content).hexdigest(),
            "base64": base64.b64encode(content).decode()}


def control(ctx, method, path, body):
    from urllib.parse import parse_qsl
    route, _, qs = path.partition("?")
    query = dict(parse_qsl(qs))
    parts = [p for p in route.split("/") if p]
    if parts[:1] == ["ec2"]:
        parts = parts[1:]
    if len(parts) == 3 and parts[0] in ("volume", "snapshot") and parts[2] == "content":
        if method == "GET":
            content = read_content(ctx, parts[0], parts[1])
            if query.get("raw") in ("1", "true"):
                return 200, content
            return 200, _content_reply(content)
        if method == "PUT" and parts[0] == "volume":
            if isinstance(body, (bytes, bytearray)):
                content, offset = bytes(body), int(query.get("offset", 0))
            elif "base64" in body:
                content, offset = base64.b64decode(body["base64"]), int(body.get("offset", 0))
            else:
                content = body.get("text", "").encode()
                offset = int(body.get("offset", 0))
            end = write_content(ctx, parts[1], content, offset)
            return 200, {"volumeId": parts[1], "written": len(content), "contentBytes": end}
    if len(parts) == 3 and parts[0] == "snapshot" and parts[2] == "fail" and method == "POST":
        with _store(ctx).update() as data:
            s = data["snapshots"].get(parts[1])
            if s is None:
                return 404, {"error": f"no snapshot {parts[1]} in {ctx.region}"}
            s["state"] = "error"
            s["stateMessage"] = (body or {}).get("message") or "lcsim: injected failure"
            return 200, {"snapshotId": s["snapshotId"], "state": "error"}
    if parts == ["knobs"]:
        with _store(ctx).update() as data:
            if method == "POST":
                for k, v in (body or {}).items():
                    if k == "region":
                        continue
                    if k != "snapshot_quota":
                        return 400, {"error": f"unknown knob {k}"}
                    if v is None:
                        data["knobs"].pop(k, None)
                    else:
                        data["knobs"][k] = int(v)
            return 200, {"snapshot_quota": _quota(ctx, data)}
    if parts == ["seed"] and method == "GET":
        return 200, JsonStore(ctx.state_dir / "seed.json").read()
    if parts == ["seed"] and method == "POST":
        seed(ctx, (body or {}).get("name", "legocity"), (body or {}).get("sizes"))
        return 200, JsonStore(ctx.state_dir / "seed.json").read()
    return 404, {"error": f"no such ec2 hook: {method} {path}"}


# ---------------------------------------------------------------------------------------
# Seed

def _broker_content(ctx, sizes):
    """Deterministic bytes for the broker's data volume: a header naming what it is, an
    index of entity ids and pseudo-random payload (a stand-in for the database files)."""
    rng = random.Random(20261128)
    n = int((sizes or {}).get("ebs_content_kib", 3072))
    header = (f"LCSIM-EBS v1\nvolume=legocity-broker-data\nregion={ctx.region}\n"
              "contents=orion-ld mongodb data files (simulated)\n").encode()
    index = "\n".join(f"urn:ngsi-ld:WeatherObserved:lego-city-{i:04d}"
                      for i in range(1, 201)).encode() + b"\n"
    payload = rng.randbytes(max(0, n * 1024 - len(header) - len(index)))
    return header + index + payload


def seed(ctx, name="legocity", sizes=None):
    """The broker's EC2 instance with a root and a data volume in <region>a; the data volume
    carries real (deterministic) content.  Ids are fixed so tests and docs can name them."""
    if name != "legocity":
        return
    az = ctx.region + "a"
    now = ctx.now()
    with _store(ctx).update() as data:
        if SEED_INSTANCE in data["instances"]:
            return
        inst = {"instanceId": SEED_INSTANCE, "availabilityZone": az, "launchTime": now,
                "imageId": "ami-0c1bea58988a98915", "instanceType": "m6i.large",
                "reservationId": "r-0b40ce7da7a5e0001", "volumes": [],
                "tags": {"Name": "legocity-broker", "lcbackup:role": "broker"}}
        data["instances"][SEED_INSTANCE] = inst
        for vid, dev, size, tags in (
                (SEED_ROOT_VOLUME, "/dev/xvda", 8, {"Name": "legocity-broker-root"}),
                (SEED_DATA_VOLUME, "/dev/sdf", 50,
                 {"Name": "legocity-broker-data", "lcbackup:target": "broker-data"})):
            with open(_vol_path(ctx, vid), "wb") as f:
                f.truncate(size * GIB)
            data["volumes"][vid] = {
                "volumeId": vid, "size": size, "snapshotId": "", "availabilityZone": az,
                "state": "in-use", "createTime": now, "tags": tags, "volumeType": "gp3",
                "iops": 3000, "throughput": 125, "encrypted": False, "kmsKeyId": None,
                "multiAttachEnabled": False, "seq": _seq(data), "contentBytes": 0,
                "attachments": [{"instanceId": SEED_INSTANCE, "device": dev,
                                 "status": "attached", "attachTime": now,
                                 "deleteOnTermination": dev == "/dev/xvda"}]}
            inst["volumes"].append({"device": dev, "volumeId": vid, "attachTime": now,
                                    "deleteOnTermination": dev == "/dev/xvda"})
    content = _broker_content(ctx, sizes)
    write_content(ctx, SEED_DATA_VOLUME, content)
    write_content(ctx, SEED_ROOT_VOLUME, b"LCSIM-EBS v1\nvolume=legocity-broker-root\n")
    JsonStore(ctx.state_dir / "seed.json").write({
        "region": ctx.region, "instance_id": SEED_INSTANCE, "availability_zone": az,
        "root_volume_id": SEED_ROOT_VOLUME, "data_volume_id": SEED_DATA_VOLUME,
        "data_sha256": hashlib.sha256(content).hexdigest(), "data_bytes": len(content)})
