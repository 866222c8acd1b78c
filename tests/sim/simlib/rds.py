"""RDS (Query protocol, 2014-10-31) on real local PostgreSQL 15 clusters.

Every DB instance is a real cluster (simlib.pgcluster) listening on 127.0.0.1; its Endpoint is
127.0.0.1 and the cluster's port. A DB snapshot is a real pg_basebackup copy; restoring one
starts a new cluster from a copy of its files; point-in-time restore replays the source's
archived WAL up to RestoreTime. Cross-region CopyDBSnapshot copies the files into the
destination region's directory.

State: one JSON document per region (ctx.region_dir/rds.json) with the instances and snapshots;
clusters under ctx.region_dir/clusters/, snapshot files under ctx.region_dir/snapshots/.
Slow work (initdb, pg_basebackup, restores) runs in background threads; a record carries a
`transition` {state, final, until, hold, job, done} and reports `state` until its work is done,
ctx.now() >= until (the ctx.delay knob) and ctx.hold(hold) is off. Times in records are world
times (ctx.now()); PostgreSQL works in real time, so recovery targets are converted.

Knobs (POST /delays): rds.instance (1 s), rds.snapshot (1 s), rds.copy (= rds.snapshot),
rds.modify (1 s), rds.delete (0.5 s), rds.automated (0 s): the least time a state change takes
(the real work may take longer); rds.wal_archive (5 s): how stale LatestRestorableTime may get
before a Describe archives WAL again (RDS: about 5 minutes; set 300 for realism).
Holds (POST /holds): the same names keep the state until released; the instance shows
`backing-up` while one of its snapshots is `creating`.
Automated snapshots (rds:<id>-YYYY-MM-DD-HH-MM) are taken when an instance is created or
restored with BackupRetentionPeriod > 0; they are the bases of point-in-time restores and
disappear with the instance. Storage "encryption" is metadata only (KmsKeyId is checked
against simlib.kms in the region; the files are not encrypted).
Control hooks: see control() below. Seed: see seed() (sizes: payload_scale, payload_<table>,
entities, env).
"""

import base64
import datetime
import json
import pathlib
import re
import threading
import time
import traceback
import uuid
from urllib.parse import parse_qsl, urlsplit

from . import pgcluster
from .core import AwsError, JsonStore, iso8601, parse_iso8601, xml_elems

ENGINE = "postgres"
DEFAULT_QUOTA = 100
DEFAULT_SG = "sg-0a1b2c3d4e5f60718"
DEFAULT_VPC = "vpc-0f1e2d3c4b5a69788"
HOSTED_ZONE = "Z29XKXDKYMONMX"

_JOBS = set()
_JOBS_LOCK = threading.Lock()
_ENGINE_VERSION = None


# ---------------------------------------------------------------------------------------
# helpers

def _store(ctx):
    return JsonStore(ctx.region_dir / "rds.json",
                     default={"instances": {}, "snapshots": {}, "quota": DEFAULT_QUOTA})


def engine_version():
    """The real server's version, e.g. "15.18"."""
    global _ENGINE_VERSION
    if _ENGINE_VERSION is None:
        import subprocess
        out = subprocess.run([str(pgcluster.PGBIN / "postgres"), "--version"],
                             capture_output=True, text=True).stdout
        m = re.search(r"PostgreSQL\) (\d+\.\d+)", out)
        _ENGINE_VERSION = m.group(1) if m else pgcluster.ENGINE_VERSION
    return _ENGINE_VERSION


def _offset(ctx):
    """World time minus real time (the control API's clock offset)."""
    return ctx.now() - time.time()


def _inst_arn(ctx, ident, region=None):
    return "arn:aws:rds:%s:%s:db:%s" % (region or ctx.region, ctx.account_id, ident)


def _snap_arn(ctx, ident, region=None):
    return "arn:aws:rds:%s:%s:snapshot:%s" % (region or ctx.region, ctx.account_id, ident)


def _invalid(msg):
    return AwsError("InvalidParameterValue", msg, 400)


def _missing(name):
    return AwsError("MissingParameter",
                    "The request must contain the parameter %s" % name, 400)


_IDENT_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")


def _check_ident(value, param, maxlen):
    """RDS identifier rules: 1..maxlen letters, digits, hyphens; a letter first; no '--';
    no trailing hyphen. Returns the lower-cased identifier."""
    if value is None or value == "":
        raise _missing(param)
    if (len(value) > maxlen or not _IDENT_RE.match(value) or "--" in value
            or value.endswith("-")):
        raise _invalid("The parameter %s is not a valid identifier. Identifiers must begin "
                       "with a letter; must contain only ASCII letters, digits, and hyphens; "
                       "and must not end with a hyphen or contain two consecutive hyphens."
                       % param)
    return value.lower()


def _param(req, name, default=None):
    v = req.params.get(name)
    return default if v is None else v


def _bool(req, name, default=None):
    v = req.params.get(name)
    if v is None or v == "":
        return default
    if v.lower() in ("true", "1"):
        return True
    if v.lower() in ("false", "0"):
        return False
    raise _invalid("Invalid boolean value %r for %s" % (v, name))


def _int(req, name, default=None, lo=None, hi=None):
    v = req.params.get(name)
    if v is None or v == "":
        return default
    try:
        n = int(v)
    except ValueError:
        raise _invalid("Invalid value %r for %s" % (v, name)) from None
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        raise _invalid("Invalid value %d for %s: must be between %s and %s" % (n, name, lo, hi))
    return n


def _members(params, prefix, member):
    """Values of a Query list `prefix.member.N` (or `prefix.member.N` spelled `member`),
    ordered by N; each value is the plain value or a dict of sub-fields."""
    rx = re.compile(r"^%s\.(?:%s|member)\.(\d+)(?:\.(.+))?$" % (re.escape(prefix),
                                                                  re.escape(member)))
    items = {}
    for k, v in params.items():
        m = rx.match(k)
        if not m:
            continue
        n = int(m.group(1))
        if m.group(2) is None:
            items[n] = v
        else:
            cur = items.setdefault(n, {})
            if isinstance(cur, dict):
                cur[m.group(2)] = v
    return [items[n] for n in sorted(items)]


def _tags(req, prefix="Tags"):
    tags = []
    for t in _members(req.params, prefix, "Tag"):
        if not isinstance(t, dict) or not t.get("Key"):
            raise _invalid("Tag keys must not be empty")
        key, value = t["Key"], t.get("Value", "")
        if key.lower().startswith(("aws:", "rds:")):
            raise _invalid("Tag keys must not begin with aws: or rds:")
        if len(key) > 128 or len(value) > 256:
            raise _invalid("Tag key %r or its value is too long" % key)
        tags = [x for x in tags if x["Key"] != key] + [{"Key": key, "Value": value}]
    if len(tags) > 50:
        raise AwsError("TagQuotaPerResourceExceeded", "Too many tags (max 50)", 400)
    return tags


def _filters(req):
    out = []
    for f in _members(req.params, "Filters", "Filter"):
        if not isinstance(f, dict) or not f.get("Name"):
            raise _invalid("Filter name must be set")
        values = [v for k, v in sorted(f.items(), key=lambda kv: _num_key(kv[0]))
                  if re.match(r"^Values\.(?:Value|member)\.\d+$", k)]
        out.append((f["Name"], values))
    return out


def _num_key(k):
    m = re.search(r"(\d+)$", k)
    return int(m.group(1)) if m else 0


def _sg_ids(req):
    return [v for v in _members(req.params, "VpcSecurityGroupIds", "VpcSecurityGroupId")
            if isinstance(v, str) and v]


def _merge_tags(base, extra):
    out = [dict(t) for t in base]
    for t in extra:
        out = [x for x in out if x["Key"] != t["Key"]] + [dict(t)]
    return out


def _ts(value):
    return None if value is None else iso8601(value)


def _resource_id():
    return "db-" + base64.b32encode(uuid.uuid4().bytes).decode().rstrip("=")[:26]


def _page(items, req):
    """Marker/MaxRecords pagination (20..100, default 100) over items sorted by key."""
    max_records = _int(req, "MaxRecords", 100)
    if not 20 <= max_records <= 100:
        raise _invalid("Invalid value %d for MaxRecords. Must be between 20 and 100"
                       % max_records)
    items = sorted(items, key=lambda kv: kv[0])
    marker = req.params.get("Marker")
    if marker:
        try:
            after = base64.urlsafe_b64decode(marker.encode()).decode()
            if not after.startswith("k:"):
                raise ValueError(marker)
        except ValueError:
            raise _invalid("Invalid Marker %r" % marker) from None
        items = [kv for kv in items if kv[0] > after[2:]]
    page, rest = items[:max_records], items[max_records:]
    next_marker = None
    if rest:
        next_marker = base64.urlsafe_b64encode(("k:" + page[-1][0]).encode()).decode()
    return [v for _, v in page], next_marker


# ---------------------------------------------------------------------------------------
# jobs and transitions

def _spawn(ctx, kind, ident, job, fn, *args):
    """Run fn(*args) in a thread; record done/error on the record's transition."""
    def body():
        updates, error = {}, None
        try:
            updates = fn(*args) or {}
        except Exception as exc:  # the record shows 'failed'; the log says why
            error = "%s: %s" % (type(exc).__name__, exc)
            ctx.log("rds job %s %s failed: %s\n%s" % (kind, ident, error,
                                                     traceback.format_exc(limit=5)))
        _finish(ctx, kind, ident, job, updates, error)
        with _JOBS_LOCK:
            _JOBS.discard(threading.current_thread())

    t = threading.Thread(target=body, name="rds-%s-%s" % (kind, ident), daemon=True)
    with _JOBS_LOCK:
        _JOBS.add(t)
    t.start()
    return t


def _finish(ctx, kind, ident, job, updates, error):
    with _store(ctx).update() as data:
        rec = data[kind].get(ident)
        if rec is None or (rec.get("transition") or {}).get("job") != job:
            return
        rec.update(updates)
        tr = rec["transition"]
        tr["done"] = True
        if error:
            tr["final"] = "failed"
            tr["until"] = 0
            rec["error"] = error


def _transition(ctx, state, final, delay_name, default_delay, hold=None):
    return {"state": state, "final": final, "job": uuid.uuid4().hex[:12], "done": False,
            "started": ctx.now(), "until": ctx.now() + ctx.delay(delay_name, default_delay),
            "hold": hold or delay_name}


def _settle(ctx, data):
    """Finish every transition whose work is done, whose delay passed and that is not held;
    drop records that finished deleting."""
    now = ctx.now()
    for kind in ("instances", "snapshots"):
        for ident in list(data[kind]):
            rec = data[kind][ident]
            tr = rec.get("transition")
            if not tr or not tr.get("done"):
                continue
            if tr["final"] != "failed" and (now < tr["until"] or ctx.hold(tr["hold"])):
                continue
            del rec["transition"]
            if tr["final"] == "deleted":
                del data[kind][ident]
            else:
                rec["status"] = tr["final"]


def _inst_status(data, rec):
    if rec.get("held_state"):
        return rec["held_state"]
    tr = rec.get("transition")
    if tr:
        return tr["state"]
    for s in data["snapshots"].values():
        if s.get("instance_id") == rec["id"] and s.get("transition") and s.get("backing_up"):
            return "backing-up"
    return rec["status"]


def _snap_status(rec):
    tr = rec.get("transition")
    return tr["state"] if tr else rec["status"]


def _progress(ctx, rec):
    tr = rec.get("transition")
    if not tr:
        return 100 if rec["status"] == "available" else 0
    if tr.get("done"):
        return 95
    span = max(tr["until"] - tr["started"], 1.0)
    return int(min(90, 100 * (ctx.now() - tr["started"]) / span))


def _get_instance(data, ident):
    if ident and ident.startswith("arn:"):
        ident = ident.rsplit(":", 1)[-1]
    rec = data["instances"].get((ident or "").lower())
    if rec is None:
        raise AwsError("DBInstanceNotFound", "DBInstance %s not found." % ident, 404)
    return rec


def _get_snapshot(ctx, data, ident):
    key = (ident or "").lower()
    if key.startswith("arn:"):
        parts = ident.split(":", 6)
        if len(parts) < 7 or parts[5] != "snapshot" or parts[3] != ctx.region:
            raise AwsError("DBSnapshotNotFound", "DBSnapshot %s not found." % ident, 404)
        key = parts[6].lower()
    rec = data["snapshots"].get(key)
    if rec is None:
        raise AwsError("DBSnapshotNotFound", "DBSnapshot %s not found." % ident, 404)
    return rec


def _require_available(data, rec):
    st = _inst_status(data, rec)
    if st != "available":
        raise AwsError("InvalidDBInstanceState",
                       "Instance %s is not currently in the available state (it is %s)."
                       % (rec["id"], st), 400)


def _manual_count(data):
    return sum(1 for s in data["snapshots"].values() if s["type"] == "manual")


def _check_quota(data, extra=1):
    if _manual_count(data) + extra > data.get("quota", DEFAULT_QUOTA):
        raise AwsError("SnapshotQuotaExceeded",
                       "The request cannot be processed because it would exceed the maximum "
                       "number of snapshots (%d)." % data.get("quota", DEFAULT_QUOTA), 400)


def _resolve_kms(ctx, key_id):
    """A KMS key id/alias/ARN -> key ARN in ctx.region, or KMSKeyNotAccessibleFault."""
    try:
        api = ctx.kms
    except ImportError:
        api = None
    arn = None
    if api is not None and hasattr(api, "resolve_key"):
        arn = api.resolve_key(key_id)
    elif key_id.startswith("arn:aws:kms:"):
        arn = key_id
    elif key_id:
        kind = "alias" if key_id.startswith("alias/") else "key"
        arn = "arn:aws:kms:%s:%s:%s" % (ctx.region, ctx.account_id,
                                        key_id if kind == "alias" else "key/" + key_id)
    if not arn or (arn.startswith("arn:aws:kms:") and arn.split(":")[3] != ctx.region):
        raise AwsError("KMSKeyNotAccessibleFault",
                       "The specified KMS key %s does not exist or is not accessible in %s."
                       % (key_id, ctx.region), 400)
    return arn


def _default_kms(ctx):
    try:
        return _resolve_kms(ctx, "alias/aws/rds")
    except AwsError:
        return "arn:aws:kms:%s:%s:key/aws-rds-default" % (ctx.region, ctx.account_id)


# ---------------------------------------------------------------------------------------
# XML

def _tag_xml(tags):
    return [("Tag", [("Key", t["Key"]), ("Value", t["Value"])]) for t in tags]


def _instance_xml(ctx, data, rec, status=None):
    status = status or _inst_status(data, rec)
    pairs = [
        ("DBInstanceIdentifier", rec["id"]),
        ("DBInstanceClass", rec["class"]),
        ("Engine", ENGINE),
        ("DBInstanceStatus", status),
        ("MasterUsername", rec["master_user"]),
        ("DBName", rec.get("db_name")),
    ]
    if rec.get("port") and status not in ("creating",):
        pairs.append(("Endpoint", [("Address", "127.0.0.1"), ("Port", rec["port"]),
                                   ("HostedZoneId", HOSTED_ZONE)]))
    pairs += [
        ("AllocatedStorage", rec["allocated_storage"]),
        ("InstanceCreateTime", _ts(rec.get("create_time")) if status != "creating" else None),
        ("PreferredBackupWindow", "03:00-03:30"),
        ("BackupRetentionPeriod", rec["backup_retention"]),
        ("DBSecurityGroups", []),
        ("VpcSecurityGroups", [("VpcSecurityGroupMembership",
                                [("VpcSecurityGroupId", sg), ("Status", "active")])
                               for sg in rec["vpc_sgs"]]),
        ("DBParameterGroups", [("DBParameterGroup",
                                [("DBParameterGroupName", "default.postgres15"),
                                 ("ParameterApplyStatus", "in-sync")])]),
        ("AvailabilityZone", rec["az"]),
        ("DBSubnetGroup", [("DBSubnetGroupName", rec["subnet_group"]),
                           ("DBSubnetGroupDescription", rec["subnet_group"]),
                           ("VpcId", rec.get("vpc_id", DEFAULT_VPC)),
                           ("SubnetGroupStatus", "Complete"), ("Subnets", [])]),
        ("PreferredMaintenanceWindow", "sun:04:00-sun:04:30"),
        ("PendingModifiedValues", []),
        ("LatestRestorableTime", _ts(rec.get("lrt")) if rec["backup_retention"] > 0 else None),
        ("MultiAZ", False),
        ("EngineVersion", rec["engine_version"]),
        ("AutoMinorVersionUpgrade", True),
        ("ReadReplicaDBInstanceIdentifiers", []),
        ("LicenseModel", "postgresql-license"),
        ("OptionGroupMemberships", [("OptionGroupMembership",
                                     [("OptionGroupName", "default:postgres-15"),
                                      ("Status", "in-sync")])]),
        ("PubliclyAccessible", rec["publicly_accessible"]),
        ("StorageType", rec.get("storage_type", "gp2")),
        ("DbInstancePort", 0),
        ("StorageEncrypted", rec["encrypted"]),
        ("KmsKeyId", rec.get("kms_key_id")),
        ("DbiResourceId", rec["dbi_resource_id"]),
        ("CACertificateIdentifier", "rds-ca-rsa2048-g1"),
        ("CopyTagsToSnapshot", rec.get("copy_tags_to_snapshot", False)),
        ("DBInstanceArn", _inst_arn(ctx, rec["id"])),
        ("IAMDatabaseAuthenticationEnabled", False),
        ("DeletionProtection", rec.get("deletion_protection", False)),
        ("TagList", _tag_xml(rec["tags"])),
    ]
    return [("DBInstance", pairs)]


def _snapshot_xml(ctx, rec, status=None):
    status = status or _snap_status(rec)
    pairs = [
        ("DBSnapshotIdentifier", rec["id"]),
        ("DBInstanceIdentifier", rec["instance_id"]),
        ("SnapshotCreateTime", _ts(rec["create_time"])),
        ("Engine", ENGINE),
        ("AllocatedStorage", rec["allocated_storage"]),
        ("Status", status),
        ("Port", rec.get("port") or 5432),
        ("AvailabilityZone", rec["az"]),
        ("VpcId", rec.get("vpc_id", DEFAULT_VPC)),
        ("InstanceCreateTime", _ts(rec.get("instance_create_time"))),
        ("MasterUsername", rec["master_user"]),
        ("EngineVersion", rec["engine_version"]),
        ("LicenseModel", "postgresql-license"),
        ("SnapshotType", rec["type"]),
        ("OptionGroupName", "default:postgres-15"),
        ("PercentProgress", _progress(ctx, rec)),
        ("SourceRegion", rec.get("source_region")),
        ("SourceDBSnapshotIdentifier", rec.get("source_snapshot_arn")),
        ("StorageType", rec.get("storage_type", "gp2")),
        ("Encrypted", rec["encrypted"]),
        ("KmsKeyId", rec.get("kms_key_id")),
        ("DBSnapshotArn", _snap_arn(ctx, rec["id"])),
        ("IAMDatabaseAuthenticationEnabled", False),
        ("ProcessorFeatures", []),
        ("DbiResourceId", rec.get("dbi_resource_id")),
        ("TagList", _tag_xml(rec["tags"])),
        ("OriginalSnapshotCreateTime", _ts(rec.get("original_create_time",
                                                   rec["create_time"]))),
        ("SnapshotDatabaseTime", _ts(rec.get("database_time"))),
        ("SnapshotTarget", "region"),
    ]
    return [("DBSnapshot", pairs)]


# ---------------------------------------------------------------------------------------
# instances

def _new_instance(ctx, ident, req, master_user, **over):
    rec = {
        "id": ident,
        "class": _param(req, "DBInstanceClass") or over.get("class") or "db.t3.micro",
        "master_user": master_user,
        "db_name": over.get("db_name"),
        "allocated_storage": over.get("allocated_storage", 20),
        "backup_retention": over.get("backup_retention", 1),
        "vpc_sgs": _sg_ids(req) or over.get("vpc_sgs") or [DEFAULT_SG],
        "subnet_group": _param(req, "DBSubnetGroupName") or over.get("subnet_group")
        or "default",
        "publicly_accessible": _bool(req, "PubliclyAccessible",
                                     over.get("publicly_accessible", False)),
        "az": _param(req, "AvailabilityZone") or ctx.region + "a",
        "engine_version": over.get("engine_version") or engine_version(),
        "encrypted": over.get("encrypted", False),
        "kms_key_id": over.get("kms_key_id"),
        "storage_type": _param(req, "StorageType") or over.get("storage_type", "gp2"),
        "copy_tags_to_snapshot": _bool(req, "CopyTagsToSnapshot",
                                       over.get("copy_tags_to_snapshot", False)),
        "deletion_protection": _bool(req, "DeletionProtection", False),
        "dbi_resource_id": _resource_id(),
        "tags": over.get("tags", []),
        "status": "creating",
        "create_time": ctx.now(),
        "cluster_dir": str(ctx.region_dir / "clusters" / ("%s-%s" % (ident,
                                                                     uuid.uuid4().hex[:8]))),
        "port": None,
        "lrt": None,
        "hb_time": None,
        "hb_lsn": None,
        "restored_from": over.get("restored_from"),
    }
    return rec


def create_db_instance(ctx, req):
    ident = _check_ident(_param(req, "DBInstanceIdentifier"), "DBInstanceIdentifier", 63)
    engine = (_param(req, "Engine") or "").lower()
    if not engine:
        raise _missing("Engine")
    if engine != ENGINE:
        raise _invalid("Invalid DB engine: %s (the simulator runs postgres only)" % engine)
    if not _param(req, "DBInstanceClass"):
        raise _missing("DBInstanceClass")
    user = _param(req, "MasterUsername")
    password = _param(req, "MasterUserPassword")
    if not user:
        raise _invalid("The parameter MasterUsername must be provided and must not be blank.")
    if not re.match(r"^[A-Za-z][A-Za-z0-9_]{0,62}$", user) or user.lower() == "rdsadmin":
        raise _invalid("MasterUsername %s cannot be used. It is a reserved word used by the "
                       "engine or contains invalid characters." % user)
    if not password:
        raise _invalid("The parameter MasterUserPassword must be provided and must not be "
                       "blank.")
    if len(password) < 8 or len(password) > 128 or re.search(r'[/"@ ]', password):
        raise _invalid("The parameter MasterUserPassword is not a valid password. Only "
                       "printable ASCII characters besides '/', '@', '\"', ' ' may be used; "
                       "at least 8 characters.")
    storage = _int(req, "AllocatedStorage", None, 20, 65536)
    if storage is None:
        raise _missing("AllocatedStorage")
    db_name = _param(req, "DBName")
    if db_name and not re.match(r"^[A-Za-z][A-Za-z0-9_]{0,62}$", db_name):
        raise _invalid("DBName %s must begin with a letter and contain only letters, digits "
                       "and underscores (at most 63)." % db_name)
    retention = _int(req, "BackupRetentionPeriod", 1, 0, 35)
    encrypted = _bool(req, "StorageEncrypted", False)
    kms = _param(req, "KmsKeyId")
    if kms and not encrypted:
        raise AwsError("InvalidParameterCombination",
                       "KmsKeyId requires StorageEncrypted=true", 400)
    kms_arn = (_resolve_kms(ctx, kms) if kms else _default_kms(ctx)) if encrypted else None
    tags = _tags(req)
    with _store(ctx).update() as data:
        _settle(ctx, data)
        if ident in data["instances"]:
            raise AwsError("DBInstanceAlreadyExists", "DB instance already exists", 400)
        rec = _new_instance(ctx, ident, req, user, db_name=db_name,
                            allocated_storage=storage, backup_retention=retention,
                            encrypted=encrypted, kms_key_id=kms_arn, tags=tags)
        rec["transition"] = _transition(ctx, "creating", "available", "rds.instance", 1.0)
        data["instances"][ident] = rec
        out = _instance_xml(ctx, data, rec)
    _spawn(ctx, "instances", ident, rec["transition"]["job"], _job_create, ctx, ident,
           password)
    return xml_elems(out)


def _job_create(ctx, ident, password):
    rec = _store(ctx).read()["instances"][ident]
    cl = pgcluster.Cluster.create(rec["cluster_dir"], rec["master_user"], password)
    name = rec.get("db_name")
    if name and not cl.query("SELECT 1 FROM pg_database WHERE datname = '%s'" % name):
        cl.psql('CREATE DATABASE "%s"' % name)
    return _after_start(ctx, ident, cl)


def _after_start(ctx, ident, cl):
    """A new cluster is up: take its automated snapshot (the PITR base) and a heartbeat."""
    data = _store(ctx).read()
    rec = data["instances"][ident]
    if rec["backup_retention"] > 0:
        _automated_snapshot(ctx, rec, cl)
    hb = cl.heartbeat()
    lsn = cl.query("SELECT pg_current_wal_insert_lsn()")[0][0]
    return {"port": cl.port, "hb_time": hb + _offset(ctx), "lrt": int(hb + _offset(ctx)),
            "hb_lsn": lsn}


def _snapshot_record(ctx, ident, inst, stype, tags):
    now = ctx.now()
    return {
        "id": ident, "instance_id": inst["id"], "type": stype, "create_time": now,
        "instance_create_time": inst.get("create_time"), "allocated_storage":
        inst["allocated_storage"], "az": inst["az"], "vpc_id": inst.get("vpc_id", DEFAULT_VPC),
        "master_user": inst["master_user"], "engine_version": inst["engine_version"],
        "encrypted": inst["encrypted"], "kms_key_id": inst.get("kms_key_id"),
        "storage_type": inst.get("storage_type", "gp2"),
        "dbi_resource_id": inst["dbi_resource_id"], "tags": tags, "status": "creating",
        "instance_class": inst["class"], "db_name": inst.get("db_name"),
        "dir": str(ctx.region_dir / "snapshots" / ("%s-%s" % (ident.replace(":", "_"),
                                                              uuid.uuid4().hex[:8]))),
        "cluster_dir": inst["cluster_dir"], "backing_up": True, "port": inst.get("port"),
    }


def _automated_snapshot(ctx, inst, cl):
    stamp = datetime.datetime.fromtimestamp(ctx.now(), datetime.timezone.utc)
    tags = list(inst["tags"]) if inst.get("copy_tags_to_snapshot") else []
    with _store(ctx).update() as data:
        ident = "rds:%s-%s" % (inst["id"], stamp.strftime("%Y-%m-%d-%H-%M"))
        n = 2
        while ident in data["snapshots"]:
            ident = "rds:%s-%s-%d" % (inst["id"], stamp.strftime("%Y-%m-%d-%H-%M"), n)
            n += 1
        rec = _snapshot_record(ctx, ident, inst, "automated", tags)
        rec["transition"] = _transition(ctx, "creating", "available", "rds.automated", 0)
        data["snapshots"][ident] = rec
    try:
        updates = _do_base_backup(ctx, cl, rec["dir"])
        _finish(ctx, "snapshots", ident, rec["transition"]["job"], updates, None)
    except Exception as exc:
        _finish(ctx, "snapshots", ident, rec["transition"]["job"], {}, str(exc))
        raise


def _do_base_backup(ctx, cl, dest):
    info = cl.base_backup(dest)
    off = _offset(ctx)
    return {"pg_start": info["start_time"], "pg_end": info["end_time"],
            "database_time": info["end_time"] + off, "size_bytes": info["size_bytes"]}


def _cluster(rec):
    return pgcluster.Cluster(rec["cluster_dir"])


def _refresh_lrt(ctx, ident, lag=None):
    """Advance an instance's LatestRestorableTime like RDS's periodic WAL archiving.

    When the last heartbeat is older than the lag: if nothing was written since it, the
    restorable time is simply now; otherwise commit a heartbeat, switch and archive WAL."""
    data = _store(ctx).read()
    rec = data["instances"].get(ident)
    if rec is None or rec.get("transition") or rec["backup_retention"] <= 0:
        return
    lag = ctx.delay("rds.wal_archive", 5.0) if lag is None else lag
    if rec.get("hb_time") and ctx.now() - rec["hb_time"] < lag:
        return
    try:
        cl = _cluster(rec)
        lsn = cl.query("SELECT pg_current_wal_insert_lsn()")[0][0]
        if lsn == rec.get("hb_lsn"):
            hb = time.time()
        else:
            hb = cl.heartbeat()
            lsn = cl.query("SELECT pg_current_wal_insert_lsn()")[0][0]
    except (pgcluster.PgError, OSError, ValueError, IndexError) as exc:
        ctx.log("rds: heartbeat of %s failed: %s" % (ident, exc))
        return
    off = _offset(ctx)
    with _store(ctx).update() as data:
        r = data["instances"].get(ident)
        if r is not None:
            r["hb_time"] = hb + off
            r["hb_lsn"] = lsn
            r["lrt"] = max(r.get("lrt") or 0, int(hb + off))


def describe_db_instances(ctx, req):
    ident = _param(req, "DBInstanceIdentifier")
    filters = _filters(req)
    with _store(ctx).update() as data:
        _settle(ctx, data)
        if ident:
            recs = [_get_instance(data, ident)]
        else:
            recs = list(data["instances"].values())
        recs = [r for r in recs if _match_instance(ctx, r, filters)]
        ids = [r["id"] for r in recs if _inst_status(data, r) in ("available", "backing-up",
                                                                 "modifying")]
    for i in ids:
        _refresh_lrt(ctx, i)
    with _store(ctx).update() as data:
        _settle(ctx, data)
        items = [(i, data["instances"][i]) for i in
                 [r["id"] for r in recs] if i in data["instances"]]
        page, marker = _page(items, req)
        body = [("DBInstances", [x for r in page for x in _instance_xml(ctx, data, r)])]
    if marker:
        body.append(("Marker", marker))
    return xml_elems(body)


INSTANCE_FILTERS = ("db-instance-id", "dbi-resource-id", "engine", "db-cluster-id", "domain")


def _match_instance(ctx, rec, filters):
    for name, values in filters:
        if name not in INSTANCE_FILTERS:
            raise _invalid("Unrecognized filter name: %s" % name)
        if name == "db-instance-id":
            ok = any(v.lower() in (rec["id"], _inst_arn(ctx, rec["id"]).lower())
                     for v in values)
        elif name == "dbi-resource-id":
            ok = rec["dbi_resource_id"] in values
        elif name == "engine":
            ok = ENGINE in values
        else:
            ok = False
        if not ok:
            return False
    return True


def delete_db_instance(ctx, req):
    ident = _param(req, "DBInstanceIdentifier")
    if not ident:
        raise _missing("DBInstanceIdentifier")
    skip = _bool(req, "SkipFinalSnapshot", False)
    final = _param(req, "FinalDBSnapshotIdentifier")
    if skip and final:
        raise AwsError("InvalidParameterCombination", "FinalDBSnapshotIdentifier can not be "
                       "specified when SkipFinalSnapshot is enabled", 400)
    if not skip and not final:
        raise AwsError("InvalidParameterCombination", "FinalDBSnapshotIdentifier is required "
                       "unless SkipFinalSnapshot is specified.", 400)
    if final:
        final = _check_ident(final, "FinalDBSnapshotIdentifier", 255)
    with _store(ctx).update() as data:
        _settle(ctx, data)
        rec = _get_instance(data, ident)
        st = _inst_status(data, rec)
        if st not in ("available", "failed", "stopped", "storage-full",
                      "incompatible-parameters", "incompatible-restore"):
            raise AwsError("InvalidDBInstanceState", "Instance %s is currently %s; it cannot "
                           "be deleted." % (rec["id"], st), 400)
        if rec.get("deletion_protection"):
            raise AwsError("InvalidParameterCombination", "Cannot delete protected DB "
                           "Instance, please disable deletion protection and try again.", 400)
        snap = None
        if final:
            if final in data["snapshots"]:
                raise AwsError("DBSnapshotAlreadyExists", "Cannot create the snapshot because "
                               "a snapshot with the identifier %s already exists." % final, 400)
            _check_quota(data)
            tags = list(rec["tags"]) if rec.get("copy_tags_to_snapshot") else []
            snap = _snapshot_record(ctx, final, rec, "manual", tags)
            snap["backing_up"] = False
            snap["transition"] = _transition(ctx, "creating", "available", "rds.snapshot", 1.0)
            data["snapshots"][final] = snap
        rec["transition"] = _transition(ctx, "deleting", "deleted", "rds.delete", 0.5)
        out = _instance_xml(ctx, data, rec)
    _spawn(ctx, "instances", rec["id"], rec["transition"]["job"], _job_delete, ctx, rec,
           snap)
    return xml_elems(out)


def _job_delete(ctx, rec, snap):
    cl = _cluster(rec)
    if snap is not None:
        try:
            if not cl.is_running():
                cl.start()
            updates = _do_base_backup(ctx, cl, snap["dir"])
            _finish(ctx, "snapshots", snap["id"], snap["transition"]["job"], updates, None)
        except Exception as exc:
            _finish(ctx, "snapshots", snap["id"], snap["transition"]["job"], {}, str(exc))
            raise
    cl.remove()
    with _store(ctx).update() as data:
        for sid in list(data["snapshots"]):
            s = data["snapshots"][sid]
            if s["type"] == "automated" and s["instance_id"] == rec["id"] \
                    and s.get("cluster_dir") == rec["cluster_dir"]:
                pgcluster.remove_snapshot(s["dir"])
                del data["snapshots"][sid]
    return {}


def modify_db_instance(ctx, req):
    ident = _param(req, "DBInstanceIdentifier")
    if not ident:
        raise _missing("DBInstanceIdentifier")
    if _param(req, "NewDBInstanceIdentifier"):
        raise _invalid("NewDBInstanceIdentifier is not supported by the simulator")
    password = _param(req, "MasterUserPassword")
    if password is not None and (len(password) < 8 or re.search(r'[/"@ ]', password)):
        raise _invalid("The parameter MasterUserPassword is not a valid password.")
    with _store(ctx).update() as data:
        _settle(ctx, data)
        rec = _get_instance(data, ident)
        _require_available(data, rec)
        if _param(req, "DBInstanceClass"):
            rec["class"] = _param(req, "DBInstanceClass")
        storage = _int(req, "AllocatedStorage", None, 20, 65536)
        if storage is not None:
            rec["allocated_storage"] = max(storage, rec["allocated_storage"])
        old_retention = rec["backup_retention"]
        rec["backup_retention"] = _int(req, "BackupRetentionPeriod", old_retention, 0, 35)
        if _sg_ids(req):
            rec["vpc_sgs"] = _sg_ids(req)
        if _param(req, "DBSubnetGroupName"):
            rec["subnet_group"] = _param(req, "DBSubnetGroupName")
        for key, param in (("publicly_accessible", "PubliclyAccessible"),
                           ("deletion_protection", "DeletionProtection"),
                           ("copy_tags_to_snapshot", "CopyTagsToSnapshot")):
            v = _bool(req, param)
            if v is not None:
                rec[key] = v
        need_base = old_retention == 0 and rec["backup_retention"] > 0
        rec["transition"] = _transition(ctx, "modifying", "available", "rds.modify", 1.0)
        out = _instance_xml(ctx, data, rec)
        snapshot_rec = dict(rec)
    _spawn(ctx, "instances", rec["id"], rec["transition"]["job"], _job_modify, ctx,
           snapshot_rec, password, need_base)
    return xml_elems(out)


def _job_modify(ctx, rec, password, need_base):
    cl = _cluster(rec)
    if password is not None:
        cl.psql("ALTER ROLE \"%s\" PASSWORD '%s'" % (rec["master_user"].replace('"', '""'),
                                                    password.replace("'", "''")))
    if need_base:
        _automated_snapshot(ctx, rec, cl)
    return {}


# ---------------------------------------------------------------------------------------
# snapshots

def create_db_snapshot(ctx, req):
    sid = _check_ident(_param(req, "DBSnapshotIdentifier"), "DBSnapshotIdentifier", 255)
    iid = _param(req, "DBInstanceIdentifier")
    if not iid:
        raise _missing("DBInstanceIdentifier")
    tags = _tags(req)
    with _store(ctx).update() as data:
        _settle(ctx, data)
        inst = _get_instance(data, iid)
        if sid in data["snapshots"]:
            raise AwsError("DBSnapshotAlreadyExists", "Cannot create the snapshot because a "
                           "snapshot with the identifier %s already exists." % sid, 400)
        _require_available(data, inst)
        _check_quota(data)
        if inst.get("copy_tags_to_snapshot"):
            tags = _merge_tags(inst["tags"], tags)
        rec = _snapshot_record(ctx, sid, inst, "manual", tags)
        rec["transition"] = _transition(ctx, "creating", "available", "rds.snapshot", 1.0)
        data["snapshots"][sid] = rec
        out = _snapshot_xml(ctx, rec)
    _spawn(ctx, "snapshots", sid, rec["transition"]["job"], _job_snapshot, ctx, inst, rec)
    return xml_elems(out)


def _job_snapshot(ctx, inst, rec):
    return _do_base_backup(ctx, _cluster(inst), rec["dir"])


SNAPSHOT_FILTERS = ("db-instance-id", "db-snapshot-id", "dbi-resource-id", "snapshot-type",
                    "engine")


def _match_snapshot(ctx, rec, filters):
    for name, values in filters:
        if name not in SNAPSHOT_FILTERS:
            raise _invalid("Unrecognized filter name: %s" % name)
        lv = [v.lower() for v in values]
        if name == "db-instance-id":
            ok = rec["instance_id"] in lv or _inst_arn(ctx, rec["instance_id"]).lower() in lv
        elif name == "db-snapshot-id":
            ok = rec["id"] in lv or _snap_arn(ctx, rec["id"]).lower() in lv
        elif name == "dbi-resource-id":
            ok = rec.get("dbi_resource_id") in values
        elif name == "snapshot-type":
            ok = rec["type"] in lv
        else:
            ok = ENGINE in lv
        if not ok:
            return False
    return True


def describe_db_snapshots(ctx, req):
    sid = _param(req, "DBSnapshotIdentifier")
    iid = _param(req, "DBInstanceIdentifier")
    stype = _param(req, "SnapshotType")
    filters = _filters(req)
    if stype and stype not in ("automated", "manual", "shared", "public", "awsbackup"):
        raise _invalid("Invalid SnapshotType %s" % stype)
    with _store(ctx).update() as data:
        _settle(ctx, data)
        if sid:
            recs = [_get_snapshot(ctx, data, sid)]
        else:
            recs = list(data["snapshots"].values())
        if iid:
            key = iid.rsplit(":", 1)[-1].lower() if iid.startswith("arn:") else iid.lower()
            recs = [r for r in recs if r["instance_id"] == key]
        if stype:
            recs = [r for r in recs if r["type"] == stype]
        recs = [r for r in recs if _match_snapshot(ctx, r, filters)]
        page, marker = _page([(r["id"], r) for r in recs], req)
        body = [("DBSnapshots", [x for r in page for x in _snapshot_xml(ctx, r)])]
    if marker:
        body.append(("Marker", marker))
    return xml_elems(body)


def delete_db_snapshot(ctx, req):
    sid = _param(req, "DBSnapshotIdentifier")
    if not sid:
        raise _missing("DBSnapshotIdentifier")
    with _store(ctx).update() as data:
        _settle(ctx, data)
        rec = _get_snapshot(ctx, data, sid)
        if rec["type"] == "automated":
            raise AwsError("InvalidDBSnapshotState", "Only manual snapshots may be deleted.",
                           400)
        if _snap_status(rec) not in ("available", "failed"):
            raise AwsError("InvalidDBSnapshotState", "Cannot delete the snapshot because it "
                           "is %s." % _snap_status(rec), 400)
        del data["snapshots"][rec["id"]]
        out = _snapshot_xml(ctx, rec, status="deleted")
    pgcluster.remove_snapshot(rec["dir"])
    return xml_elems(out)


def _parse_source_snapshot(ctx, value):
    """SourceDBSnapshotIdentifier -> (region, snapshot id)."""
    if value.startswith("arn:"):
        parts = value.split(":", 6)
        if len(parts) < 7 or parts[2] != "rds" or parts[5] != "snapshot":
            raise _invalid("Invalid source snapshot ARN: %s" % value)
        if parts[4] != ctx.account_id:
            raise AwsError("DBSnapshotNotFound", "DBSnapshot %s not found." % value, 404)
        return parts[3], parts[6].lower()
    return ctx.region, value.lower()


def copy_db_snapshot(ctx, req):
    src = _param(req, "SourceDBSnapshotIdentifier")
    if not src:
        raise _missing("SourceDBSnapshotIdentifier")
    tid = _check_ident(_param(req, "TargetDBSnapshotIdentifier"),
                       "TargetDBSnapshotIdentifier", 255)
    src_region, src_id = _parse_source_snapshot(ctx, src)
    sctx = ctx if src_region == ctx.region else ctx.for_region(src_region)
    sdata = _store(sctx).read()
    _settle(sctx, sdata)
    srec = sdata["snapshots"].get(src_id)
    if srec is None:
        raise AwsError("DBSnapshotNotFound", "DBSnapshot %s not found." % src, 404)
    if _snap_status(srec) != "available":
        raise AwsError("InvalidDBSnapshotState", "Snapshot %s is %s, not available."
                       % (src, _snap_status(srec)), 400)
    kms = _param(req, "KmsKeyId")
    cross = src_region != ctx.region
    if srec["encrypted"]:
        if cross and not kms:
            raise _invalid("KmsKeyId is required to copy an encrypted snapshot to another "
                           "region.")
        kms_arn = _resolve_kms(ctx, kms) if kms else srec.get("kms_key_id")
    else:
        kms_arn = _resolve_kms(ctx, kms) if kms else None
    tags = _tags(req)
    if not tags and _bool(req, "CopyTags", False):
        tags = [dict(t) for t in srec["tags"]]
    with _store(ctx).update() as data:
        _settle(ctx, data)
        if tid in data["snapshots"]:
            raise AwsError("DBSnapshotAlreadyExists", "Cannot create the snapshot because a "
                           "snapshot with the identifier %s already exists." % tid, 400)
        _check_quota(data)
        rec = dict(srec)
        rec.pop("transition", None)
        rec.update({
            "id": tid, "type": "manual", "tags": tags, "create_time": ctx.now(),
            "original_create_time": srec.get("original_create_time", srec["create_time"]),
            "encrypted": bool(srec["encrypted"] or kms_arn), "kms_key_id": kms_arn,
            "az": ctx.region + "a" if cross else srec["az"],
            "dir": str(ctx.region_dir / "snapshots" / ("%s-%s" % (tid,
                                                                  uuid.uuid4().hex[:8]))),
            "backing_up": False, "status": "creating",
            "cluster_dir": srec.get("cluster_dir") if not cross else None,
        })
        if cross:
            rec["source_region"] = src_region
            rec["source_snapshot_arn"] = _snap_arn(ctx, src_id, src_region)
        rec["transition"] = _transition(ctx, "copying", "available", "rds.copy",
                                        ctx.delay("rds.snapshot", 1.0))
        data["snapshots"][tid] = rec
        out = _snapshot_xml(ctx, rec, status="pending")
    _spawn(ctx, "snapshots", tid, rec["transition"]["job"], _job_copy, srec["dir"], rec["dir"])
    return xml_elems(out)


def _job_copy(src_dir, dst_dir):
    pgcluster.copy_snapshot(src_dir, dst_dir)
    return {}


# ---------------------------------------------------------------------------------------
# restores

def _check_new_instance(data, ident):
    if ident in data["instances"]:
        raise AwsError("DBInstanceAlreadyExists", "DB instance already exists", 400)


def restore_from_snapshot(ctx, req):
    ident = _check_ident(_param(req, "DBInstanceIdentifier"), "DBInstanceIdentifier", 63)
    sid = _param(req, "DBSnapshotIdentifier")
    if not sid:
        raise _missing("DBSnapshotIdentifier")
    tags = _tags(req)
    with _store(ctx).update() as data:
        _settle(ctx, data)
        snap = _get_snapshot(ctx, data, sid)
        _check_new_instance(data, ident)
        if _snap_status(snap) != "available":
            raise AwsError("InvalidDBSnapshotState", "Snapshot %s is %s, not available."
                           % (snap["id"], _snap_status(snap)), 400)
        rec = _new_instance(
            ctx, ident, req, snap["master_user"], db_name=snap.get("db_name"),
            allocated_storage=snap["allocated_storage"], backup_retention=_int(
                req, "BackupRetentionPeriod", 1, 0, 35), encrypted=snap["encrypted"],
            kms_key_id=snap.get("kms_key_id"), tags=tags or [dict(t) for t in snap["tags"]],
            engine_version=snap["engine_version"], restored_from=snap["id"],
            storage_type=snap.get("storage_type", "gp2"))
        if not _param(req, "DBInstanceClass"):
            rec["class"] = snap.get("instance_class", "db.t3.micro")
        rec["transition"] = _transition(ctx, "creating", "available", "rds.instance", 1.0)
        data["instances"][ident] = rec
        out = _instance_xml(ctx, data, rec)
    _spawn(ctx, "instances", ident, rec["transition"]["job"], _job_restore, ctx, ident,
           snap["dir"])
    return xml_elems(out)


def _job_restore(ctx, ident, snap_dir):
    rec = _store(ctx).read()["instances"][ident]
    cl = pgcluster.Cluster.restore(snap_dir, rec["cluster_dir"])
    return _after_start(ctx, ident, cl)


def _lineage(data, source):
    """Available snapshots taken from the source's current cluster (PITR bases)."""
    return [s for s in data["snapshots"].values()
            if s.get("cluster_dir") == source["cluster_dir"] and s.get("pg_end")
            and _snap_status(s) == "available" and pathlib.Path(s["dir"]).exists()]


def restore_to_point_in_time(ctx, req):
    target = _check_ident(_param(req, "TargetDBInstanceIdentifier"),
                          "TargetDBInstanceIdentifier", 63)
    src = _param(req, "SourceDBInstanceIdentifier")
    src_res = _param(req, "SourceDbiResourceId")
    if not src and not src_res:
        raise _missing("SourceDBInstanceIdentifier")
    use_latest = _bool(req, "UseLatestRestorableTime", False)
    restore_time = _param(req, "RestoreTime")
    if use_latest and restore_time:
        raise AwsError("InvalidParameterCombination", "Cannot specify both RestoreTime and "
                       "UseLatestRestorableTime", 400)
    if not use_latest and not restore_time:
        raise AwsError("InvalidParameterCombination", "Either RestoreTime or "
                       "UseLatestRestorableTime must be specified", 400)
    if restore_time:
        try:
            restore_time = parse_iso8601(restore_time)
        except ValueError:
            raise _invalid("Invalid RestoreTime %r" % restore_time) from None
    tags = _tags(req)
    with _store(ctx).update() as data:
        _settle(ctx, data)
        if src:
            source = _get_instance(data, src)
        else:
            found = [r for r in data["instances"].values() if r["dbi_resource_id"] == src_res]
            if not found:
                raise AwsError("DBInstanceNotFound", "DBInstance %s not found." % src_res, 404)
            source = found[0]
        _check_new_instance(data, target)
        st = _inst_status(data, source)
        if st not in ("available", "backing-up", "modifying"):
            raise AwsError("InvalidDBInstanceState", "Instance %s is %s; it cannot be "
                           "restored to a point in time." % (source["id"], st), 400)
        if source["backup_retention"] <= 0:
            raise AwsError("PointInTimeRestoreNotEnabled", "Point-in-time restore is not "
                           "enabled for %s (BackupRetentionPeriod is 0)." % source["id"], 400)
        sid = source["id"]
    _refresh_lrt(ctx, sid)
    with _store(ctx).update() as data:
        _settle(ctx, data)
        source = _get_instance(data, sid)
        _check_new_instance(data, target)
        bases = _lineage(data, source)
        if not bases or not source.get("lrt"):
            raise AwsError("InvalidRestoreFault", "No restorable backup of %s exists yet."
                           % sid, 400)
        earliest = min(b["database_time"] for b in bases)
        latest = source["lrt"]
        when = latest if use_latest else restore_time
        if when < earliest or when > latest:
            raise AwsError("InvalidRestoreFault", "The restore time %s is not within the "
                           "restorable window %s .. %s of %s." % (iso8601(when),
                                                                  iso8601(earliest),
                                                                  iso8601(latest), sid), 400)
        rec = _new_instance(
            ctx, target, req, source["master_user"],
            db_name=source.get("db_name"), allocated_storage=source["allocated_storage"],
            backup_retention=_int(req, "BackupRetentionPeriod", source["backup_retention"],
                                  0, 35),
            encrypted=source["encrypted"], kms_key_id=source.get("kms_key_id"),
            tags=tags or [dict(t) for t in source["tags"]],
            engine_version=source["engine_version"], restored_from=sid,
            storage_type=source.get("storage_type", "gp2"),
            copy_tags_to_snapshot=source.get("copy_tags_to_snapshot", False))
        if not _param(req, "DBInstanceClass"):
            rec["class"] = source["class"]
        rec["restore_time"] = when
        rec["transition"] = _transition(ctx, "creating", "available", "rds.instance", 1.0)
        data["instances"][target] = rec
        out = _instance_xml(ctx, data, rec)
        src_copy = dict(source)
        base_list = [dict(b) for b in bases]
    _spawn(ctx, "instances", target, rec["transition"]["job"], _job_pitr, ctx, target,
           src_copy, base_list, when)
    return xml_elems(out)


def _job_pitr(ctx, ident, source, bases, when):
    src_cl = _cluster(source)
    if not src_cl.is_running():
        raise pgcluster.PgError("source cluster %s is not running" % source["id"])
    src_cl.heartbeat()  # a commit after the target must be in the archive
    target_real = when - _offset(ctx)
    usable = [b for b in bases if b["pg_end"] <= target_real]
    if not usable:
        raise pgcluster.PgError("no base backup before %s" % pgcluster.pg_time_literal(
            target_real))
    base = max(usable, key=lambda b: b["pg_end"])
    rec = _store(ctx).read()["instances"][ident]
    cl = pgcluster.Cluster.pitr(base["dir"], src_cl.archive, target_real, rec["cluster_dir"])
    updates = _after_start(ctx, ident, cl)
    updates["pitr_base"] = base["id"]
    return updates


# ---------------------------------------------------------------------------------------
# tags

def _resource(ctx, data, arn):
    parts = (arn or "").split(":", 6)
    if len(parts) < 7 or parts[0] != "arn" or parts[2] != "rds" or parts[3] != ctx.region \
            or parts[4] != ctx.account_id:
        raise _invalid("The specified resource name does not match an RDS resource in this "
                       "region.")
    if parts[5] == "db":
        return _get_instance(data, parts[6])
    if parts[5] == "snapshot":
        return _get_snapshot(ctx, data, parts[6])
    raise _invalid("Unsupported resource type in %s" % arn)


def add_tags(ctx, req):
    name = _param(req, "ResourceName")
    if not name:
        raise _missing("ResourceName")
    tags = _tags(req)
    with _store(ctx).update() as data:
        rec = _resource(ctx, data, name)
        merged = _merge_tags(rec["tags"], tags)
        if len(merged) > 50:
            raise AwsError("TagQuotaPerResourceExceeded", "Too many tags (max 50)", 400)
        rec["tags"] = merged
    return ""


def list_tags(ctx, req):
    name = _param(req, "ResourceName")
    if not name:
        raise _missing("ResourceName")
    data = _store(ctx).read()
    rec = _resource(ctx, data, name)
    return xml_elems([("TagList", _tag_xml(rec["tags"]))])


def remove_tags(ctx, req):
    name = _param(req, "ResourceName")
    if not name:
        raise _missing("ResourceName")
    keys = [k for k in _members(req.params, "TagKeys", "member") if isinstance(k, str)]
    with _store(ctx).update() as data:
        rec = _resource(ctx, data, name)
        rec["tags"] = [t for t in rec["tags"] if t["Key"] not in keys]
    return ""


# ---------------------------------------------------------------------------------------
# dispatch

OPERATIONS = {
    "CreateDBInstance": create_db_instance,
    "DescribeDBInstances": describe_db_instances,
    "DeleteDBInstance": delete_db_instance,
    "ModifyDBInstance": modify_db_instance,
    "CreateDBSnapshot": create_db_snapshot,
    "DescribeDBSnapshots": describe_db_snapshots,
    "DeleteDBSnapshot": delete_db_snapshot,
    "CopyDBSnapshot": copy_db_snapshot,
    "RestoreDBInstanceFromDBSnapshot": restore_from_snapshot,
    "RestoreDBInstanceToPointInTime": restore_to_point_in_time,
    "AddTagsToResource": add_tags,
    "ListTagsForResource": list_tags,
    "RemoveTagsFromResource": remove_tags,
}


def handle(ctx, request):
    op = request.params.get("Action") or request.operation
    request.operation = op
    fn = OPERATIONS.get(op)
    if fn is None:
        raise AwsError("InvalidAction", "The action %s is not valid for this web service "
                       "(or not simulated)." % op, 400)
    return fn(ctx, request)


# ---------------------------------------------------------------------------------------
# lifecycle hooks

def _regions(ctx):
    root = ctx.state_dir
    return sorted(p.name for p in root.iterdir() if (p / "rds.json").exists()) \
        if root.exists() else []


def wait_jobs(timeout=300):
    """Wait for background work (restores, backups) to finish; True if all finished."""
    deadline = time.time() + timeout
    while True:
        with _JOBS_LOCK:
            jobs = list(_JOBS)
        if not jobs:
            return True
        for t in jobs:
            t.join(max(0.0, deadline - time.time()))
        if time.time() >= deadline:
            with _JOBS_LOCK:
                return not _JOBS


def startup(ctx):
    """After `lcsim up`: restart the clusters of existing instances; mark work that a crash
    interrupted as failed."""
    for region in _regions(ctx):
        rctx = ctx.for_region(region)
        with _store(rctx).update() as data:
            _settle(rctx, data)
            for kind in ("instances", "snapshots"):
                for ident in list(data[kind]):
                    rec = data[kind][ident]
                    tr = rec.get("transition")
                    if tr and not tr.get("done"):
                        if tr["state"] == "deleting":
                            pgcluster.Cluster(rec["cluster_dir"]).remove() \
                                if (pathlib.Path(rec["cluster_dir"]) / "cluster.json").exists() \
                                else None
                            del data[kind][ident]
                            continue
                        tr.update({"done": True, "final": "failed", "until": 0})
                        rec["error"] = "interrupted by a simulator restart"
            _settle(rctx, data)
            insts = [dict(r) for r in data["instances"].values()]
        for rec in insts:
            if not (pathlib.Path(rec["cluster_dir"]) / "cluster.json").exists():
                continue
            cl = _cluster(rec)
            try:
                cl.start()
            except pgcluster.PgError as exc:
                rctx.log("rds: cannot start %s: %s" % (rec["id"], exc))
                continue
            if cl.port != rec.get("port"):
                with _store(rctx).update() as data:
                    if rec["id"] in data["instances"]:
                        data["instances"][rec["id"]]["port"] = cl.port
                _rewrite_seed_port(rctx, rec["id"], cl.port)


def shutdown(ctx):
    """Before `lcsim down`: let running work finish, then stop every cluster cleanly."""
    wait_jobs(300)
    if ctx.state_dir.exists():
        pgcluster.stop_all_under(ctx.state_dir)


def reset(ctx):
    """Called by POST /reset {"state": true} after shutdown(): nothing is kept in memory
    beyond job threads, which shutdown() already waited for."""
    wait_jobs(60)


# ---------------------------------------------------------------------------------------
# control hooks (/rds/...)

def control(ctx, method, path, body):
    """Control API under /rds (region from ?region= or body.region):

    POST /rds/corrupt {"snapshot", "relation", "database"?}  damage a btree index page in
         the snapshot's files (amcheck's bt_index_check fails on a restore of it);
         also POST /rds/snapshots/ID/corrupt {"relation"}
         (likewise /rds/instances/ID/hold and /rds/instances/ID/heartbeat)
    POST /rds/hold {"instance", "state"}   report that state until released (state null or
         DELETE /rds/hold?instance=ID releases)
    GET|POST /rds/quota {"manual_snapshots": N}   manual snapshot quota of the region
    POST /rds/heartbeat {"instance"}   archive WAL now; LatestRestorableTime becomes now
    GET  /rds/instances   instances with their cluster port, directory and status
    POST /rds/wait {"timeout"}   wait until no background work is running
    """
    split = urlsplit(path)
    parts = [p for p in split.path.split("/") if p][1:]
    query = dict(parse_qsl(split.query))
    body = body or {}
    route = parts[0] if parts else ""
    if len(parts) == 3 and parts[0] == "snapshots":      # /rds/snapshots/ID/corrupt
        body = dict(body, snapshot=parts[1])
        route = parts[2]
    elif len(parts) == 3 and parts[0] == "instances":    # /rds/instances/ID/hold|heartbeat
        body = dict(body, instance=parts[1])
        query = dict(query, instance=parts[1])
        route = parts[2]
    try:
        if route == "corrupt" and method == "POST":
            return 200, _control_corrupt(ctx, body)
        if route == "hold":
            ident = body.get("instance") or query.get("instance")
            state = body.get("state") if method == "POST" else None
            with _store(ctx).update() as data:
                rec = _get_instance(data, ident)
                if state:
                    rec["held_state"] = state
                else:
                    rec.pop("held_state", None)
                return 200, {"instance": rec["id"], "held_state": rec.get("held_state")}
        if route == "quota":
            with _store(ctx).update() as data:
                if method == "POST":
                    data["quota"] = int(body.get("manual_snapshots", DEFAULT_QUOTA))
                return 200, {"manual_snapshots": data.get("quota", DEFAULT_QUOTA),
                             "used": _manual_count(data)}
        if route == "heartbeat" and method == "POST":
            ident = (body.get("instance") or "").lower()
            _get_instance(_store(ctx).read(), ident)
            _refresh_lrt(ctx, ident, lag=0)
            rec = _get_instance(_store(ctx).read(), ident)
            return 200, {"instance": ident, "latest_restorable_time": _ts(rec.get("lrt"))}
        if route == "instances" and method == "GET":
            with _store(ctx).update() as data:
                _settle(ctx, data)
                return 200, {"instances": [
                    {"id": r["id"], "status": _inst_status(data, r), "port": r.get("port"),
                     "cluster_dir": r["cluster_dir"], "error": r.get("error"),
                     "master_user": r["master_user"], "db_name": r.get("db_name"),
                     "latest_restorable_time": _ts(r.get("lrt"))}
                    for r in data["instances"].values()]}
        if route == "wait" and method == "POST":
            return 200, {"idle": wait_jobs(float(body.get("timeout", 300)))}
    except AwsError as e:
        return e.status, {"error": e.code, "message": e.message}
    except pgcluster.PgError as e:
        return 409, {"error": "PgError", "message": str(e)}
    return 404, {"error": "no such rds hook: %s %s" % (method, split.path)}


def _control_corrupt(ctx, body):
    data = _store(ctx).read()
    _settle(ctx, data)
    rec = _get_snapshot(ctx, data, body.get("snapshot"))
    if _snap_status(rec) != "available":
        raise AwsError("InvalidDBSnapshotState", "snapshot %s is %s" % (rec["id"],
                                                                      _snap_status(rec)), 400)
    out = pgcluster.corrupt(rec["dir"], body.get("relation") or "", body.get("database"))
    out["snapshot"] = rec["id"]
    return out


# ---------------------------------------------------------------------------------------
# seed

SEED_REGION = "eu-west-1"
SEED_INSTANCE = "legocity-payload-db"
SEED_DB = "payload"
SEED_USER = "payload_admin"
SEED_RO_USER = "lcb_fingerprint"


def _seed_sql(sizes):
    path = pathlib.Path(__file__).with_name("payload_seed.sql")
    head = "".join("\\set %s %d\n" % (k, int(v)) for k, v in sorted(sizes.items()))
    return head + path.read_text()


def seed_sizes(sizes=None):
    """Row counts of the Payload seed: "payload_scale" multiplies every default,
    "payload_<table>" sets one. map_layers reference broker entities that exist in the
    broker seed of the same sizes (its "entities", default 20000: 30% Streetlight, 8%
    WeatherObserved, ids zero-padded to at least 4 digits)."""
    sizes = dict(sizes or {})
    scale = float(sizes.get("payload_scale", 1))
    base = {"users": 200, "pages": 4000, "media": 6000, "map_layers": 12000,
            "preferences": 2000}
    out = {k: max(1, int(v * scale)) for k, v in base.items()}
    for k in base:
        if "payload_" + k in sizes:
            out[k] = int(sizes["payload_" + k])
    entities = int(sizes.get("entities", 20000))
    for kind, share, cap in (("weather", 0.08, 50), ("streetlight", 0.30, 200)):
        in_broker = int(entities * share)
        out[kind + "_entities"] = max(1, min(cap, in_broker))
        out[kind + "_width"] = max(4, len(str(in_broker)))
    return out


def seed(ctx, name="legocity", sizes=None):
    """LegoCity: legocity-payload-db in eu-west-1 with a PayloadCMS-like schema and data,
    a read-only role for fingerprints, state_dir/seed.json, and the SSM db-url parameter."""
    if name != "legocity":
        return
    rctx = ctx if ctx.region == SEED_REGION else ctx.for_region(SEED_REGION)
    counts = seed_sizes(sizes)
    env = (sizes or {}).get("env", "prod")
    seed_file = ctx.state_dir / "seed.json"
    old = json.loads(seed_file.read_text()) if seed_file.exists() else {}
    data = _store(rctx).read()
    rec = data["instances"].get(SEED_INSTANCE)
    if rec is None:
        password = "Lc-" + uuid.uuid4().hex[:20]
        ro_password = "Ro-" + uuid.uuid4().hex[:20]
        rec = _seed_instance(rctx, password)
        cl = _cluster(rec)
        cl.psql(_seed_sql(counts), db=SEED_DB, timeout=600)
        cl.psql("CREATE ROLE %s LOGIN PASSWORD '%s';\n"
                "GRANT CONNECT ON DATABASE %s TO %s;\n"
                "GRANT pg_read_all_data TO %s;\n"
                % (SEED_RO_USER, ro_password, SEED_DB, SEED_RO_USER, SEED_RO_USER))
        _refresh_lrt(rctx, SEED_INSTANCE, lag=0)
        rec = _store(rctx).read()["instances"][SEED_INSTANCE]
    else:
        password, ro_password = old.get("password"), old.get("readonly_password")
        if rec.get("port") is None:
            raise RuntimeError("seed instance %s exists without a cluster" % SEED_INSTANCE)
    info = {
        "region": SEED_REGION, "instance": SEED_INSTANCE, "env": env,
        "arn": _inst_arn(rctx, SEED_INSTANCE), "host": "127.0.0.1", "port": rec["port"],
        "database": SEED_DB, "username": SEED_USER, "password": password,
        "readonly_username": SEED_RO_USER, "readonly_password": ro_password,
        "url": "postgres://%s:%s@127.0.0.1:%d/%s" % (SEED_USER, password, rec["port"],
                                                      SEED_DB),
        "sizes": counts,
    }
    seed_file.write_text(json.dumps(info, indent=1, sort_keys=True))
    _publish_url(ctx, info)
    return info


def _seed_instance(rctx, password):
    req = _FakeRequest({
        "DBInstanceIdentifier": SEED_INSTANCE, "Engine": "postgres",
        "DBInstanceClass": "db.t4g.medium", "AllocatedStorage": "50",
        "MasterUsername": SEED_USER, "MasterUserPassword": password, "DBName": SEED_DB,
        "BackupRetentionPeriod": "7", "DBSubnetGroupName": "legocity-db-subnets",
        "VpcSecurityGroupIds.VpcSecurityGroupId.1": "sg-0legocity0db00001",
        "PubliclyAccessible": "false", "CopyTagsToSnapshot": "true",
        "Tags.Tag.1.Key": "Project", "Tags.Tag.1.Value": "legocity",
        "Tags.Tag.2.Key": "Component", "Tags.Tag.2.Value": "payload-cms",
        "Tags.Tag.3.Key": "lcbackup:policy", "Tags.Tag.3.Value": "daily",
    })
    create_db_instance(rctx, req)
    with _store(rctx).update() as data:
        job = data["instances"][SEED_INSTANCE]["transition"]["job"]
    deadline = time.time() + 300
    while True:
        data = _store(rctx).read()
        rec = data["instances"][SEED_INSTANCE]
        tr = rec.get("transition") or {}
        if tr.get("job") != job or tr.get("done"):
            break
        if time.time() > deadline:
            raise RuntimeError("seed instance not created after 300 s")
        time.sleep(0.05)
    if rec.get("error"):
        raise RuntimeError("seed instance failed: %s" % rec["error"])
    with _store(rctx).update() as data:  # seeded state is ready at once
        r = data["instances"][SEED_INSTANCE]
        if r.get("transition"):
            r["transition"]["until"] = 0
        for s in data["snapshots"].values():
            if s["instance_id"] == SEED_INSTANCE and s.get("transition"):
                s["transition"]["until"] = 0
        _settle(rctx, data)
        return dict(data["instances"][SEED_INSTANCE])


class _FakeRequest:
    def __init__(self, params):
        self.params = params
        self.operation = params.get("Action")


def _publish_url(ctx, info):
    try:
        from . import ssm
    except ImportError:
        return
    put = getattr(ssm, "put_seed_parameter", None)
    if put is None:
        return
    put(ctx, "/legocity/%s/payload/db-url" % info["env"], info["url"], type="SecureString",
        region=info["region"], description="PayloadCMS database URL (lcsim seed)",
        tags={"Project": "legocity"})


def _rewrite_seed_port(rctx, ident, port):
    if ident != SEED_INSTANCE or rctx.region != SEED_REGION:
        return
    seed_file = rctx.state_dir / "seed.json"
    if not seed_file.exists():
        return
    info = json.loads(seed_file.read_text())
    info["port"] = port
    info["url"] = "postgres://%s:%s@127.0.0.1:%d/%s" % (info["username"], info["password"],
                                                        port, info["database"])
    seed_file.write_text(json.dumps(info, indent=1, sort_keys=True))
    try:
        _publish_url(rctx, info)
    except Exception as exc:  # SSM may not be loaded yet; the file is what matters
        rctx.log("rds: could not republish db-url: %s" % exc)
