#!/usr/bin/python3
"""config_aws.py - what the config tests (t14xx, t24xx, t25xx) do to and read from the simulated
AWS, through botocore (independent of lcbackup's own client), so that a round trip is checked
against what AWS says, not against what lcbackup thinks.

  config_aws.py seed-params ROOT LEVELS PER_LEVEL   parameters of every type, tier and tags
  config_aws.py snapshot ROOT                        JSON of every parameter under ROOT, decrypted
  config_aws.py compare A.json B.json [FROM=TO]      exit 1 and list differences (B renamed by map)
  config_aws.py secrets ROOT                         the SecureString values under ROOT, one a line
  config_aws.py delete-path ROOT                     delete every parameter under ROOT
  config_aws.py get NAME                             one parameter's value, decrypted
  config_aws.py put NAME TYPE VALUE [TIER]           put (overwrite) one parameter
  config_aws.py tag NAME KEY VALUE | untag NAME KEY
  config_aws.py ecs-snapshot CLUSTER                 services and the task definitions they run
  config_aws.py ecs-empty CLUSTER                    delete every service, deregister every revision
  config_aws.py ecs-update CLUSTER SERVICE [desired=N] [td=family:rev] [tag=K=V]
  config_aws.py ecs-variant FAMILY IMAGE             register the latest revision with another
                                                    image for its first container; prints family:rev
  config_aws.py repack IN OUT gcm|wrapped-key        re-pack an archive with one thing altered
                                                    and a manifest that matches it
Environment: the simulator's (AWS_ENDPOINT_URL, AWS_REGION, credentials).
"""
import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

import botocore.session

READ_ONLY_TD = ("taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
                "registeredAt", "registeredBy", "deregisteredAt", "deleteRequestedAt")
VOLATILE_SVC = ("serviceArn", "clusterArn", "runningCount", "pendingCount", "deployments",
                "events", "createdAt", "createdBy", "taskDefinition")


def client(svc):
    s = botocore.session.get_session()
    return s.create_client(svc, region_name=os.environ.get("AWS_REGION", "eu-west-1"),
                           endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def all_pages(fn, key, **kw):
    out, token = [], None
    while True:
        if token:
            kw["NextToken"] = token
        r = fn(**kw)
        out += r.get(key, [])
        token = r.get("NextToken")
        if not token:
            return out


def seed_params(root, levels, per_level):
    ssm = client("ssm")
    root = root.rstrip("/")
    n = 0
    for lv in range(1, levels + 1):
        path = root + "".join(f"/l{i}" for i in range(1, lv + 1))
        for i in range(per_level):
            name = f"{path}/p{i:02d}"
            kind = i % 6
            body = {"Name": name, "Type": "String", "Value": f"value {lv}.{i}",
                    "Tags": [{"Key": "Project", "Value": "legocity"},
                             {"Key": "Level", "Value": str(lv)}]}
            if kind == 1:
                body.update(Type="StringList", Value=f"a{i},b{i},c{i}")
            elif kind == 2:
                body.update(Type="SecureString", Value=f"sekrit-{lv}-{i}-{os.urandom(6).hex()}")
            elif kind == 3:
                body.update(Type="SecureString", Value=f"kms-sekrit-{lv}-{i}-{os.urandom(6).hex()}",
                            KeyId="alias/legocity-backups", Description="under the backups key")
            elif kind == 4:
                body.update(Value="x" * 5000 + str(i), Tier="Advanced",
                            Description="advanced tier, over 4 KB")
            elif kind == 5:
                body.update(Value=f"ami-0123456789abcdef{i % 10}", DataType="aws:ec2:image",
                            AllowedPattern=r"^ami-[0-9a-f]+$")
                del body["Tags"]
            ssm.put_parameter(**body)
            n += 1
    print(n)


def snapshot(root):
    ssm = client("ssm")
    vals = all_pages(ssm.get_parameters_by_path, "Parameters", Path=root, Recursive=True,
                     WithDecryption=True, MaxResults=10)
    metas = all_pages(ssm.describe_parameters, "Parameters", MaxResults=50,
                      ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": [root]}])
    meta = {m["Name"]: m for m in metas}
    out = {}
    for v in vals:
        m = meta.get(v["Name"], {})
        tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=v["Name"])
        out[v["Name"]] = {
            "Type": v["Type"], "Value": v["Value"], "KeyId": m.get("KeyId"),
            "Tier": m.get("Tier"), "Description": m.get("Description"),
            "AllowedPattern": m.get("AllowedPattern"), "DataType": m.get("DataType"),
            "Tags": sorted((t["Key"], t["Value"]) for t in tags.get("TagList", []))}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)


def compare(a_file, b_file, mapping=None):
    a, b = json.load(open(a_file)), json.load(open(b_file))
    if mapping:
        frm, to = mapping.split("=", 1)
        b = {(frm + k[len(to):] if k.startswith(to) else k): v for k, v in b.items()}
    bad = 0
    for name in sorted(set(a) | set(b)):
        if name not in b or name not in a:
            print(f"{name}: only in {'first' if name in a else 'second'}")
            bad += 1
            continue
        for field in sorted(set(a[name]) | set(b[name])):
            if a[name].get(field) != b[name].get(field):
                shown = "<secret>" if a[name]["Type"] == "SecureString" and field == "Value" \
                    else f"{a[name].get(field)!r} != {b[name].get(field)!r}"
                print(f"{name}: {field}: {shown}")
                bad += 1
    print(f"{len(a)} parameters compared, {bad} differences")
    sys.exit(1 if bad else 0)


def secrets(root):
    ssm = client("ssm")
    for v in all_pages(ssm.get_parameters_by_path, "Parameters", Path=root, Recursive=True,
                       WithDecryption=True, MaxResults=10):
        if v["Type"] == "SecureString":
            print(v["Value"])


def delete_path(root):
    ssm = client("ssm")
    names = [v["Name"] for v in all_pages(ssm.get_parameters_by_path, "Parameters", Path=root,
                                          Recursive=True, MaxResults=10)]
    for n in names:
        ssm.delete_parameter(Name=n)
    print(len(names))


def put(name, ptype, value, tier=None):
    body = {"Name": name, "Type": ptype, "Value": value, "Overwrite": True}
    if tier:
        body["Tier"] = tier
    client("ssm").put_parameter(**body)


def ecs_snapshot(cluster):
    ecs = client("ecs")
    arns, token = [], None
    while True:
        kw = {"cluster": cluster, "maxResults": 100}
        if token:
            kw["nextToken"] = token
        r = ecs.list_services(**kw)
        arns += r["serviceArns"]
        token = r.get("nextToken")
        if not token:
            break
    out = {}
    for i in range(0, len(arns), 10):
        r = ecs.describe_services(cluster=cluster, services=arns[i:i + 10], include=["TAGS"])
        for s in r["services"]:
            td = ecs.describe_task_definition(taskDefinition=s["taskDefinition"],
                                              include=["TAGS"])
            tdef = {k: v for k, v in td["taskDefinition"].items() if k not in READ_ONLY_TD}
            tdef["tags"] = sorted((t["key"], t["value"]) for t in td.get("tags", []))
            svc = {k: v for k, v in s.items() if k not in VOLATILE_SVC}
            svc["tags"] = sorted((t["key"], t["value"]) for t in s.get("tags", []))
            svc["family"] = td["taskDefinition"]["family"]
            out[s["serviceName"]] = {"service": svc, "taskDefinition": tdef}
    json.dump(out, sys.stdout, indent=1, sort_keys=True, default=str)


def ecs_empty(cluster):
    ecs = client("ecs")
    arns = ecs.list_services(cluster=cluster, maxResults=100)["serviceArns"]
    for a in arns:
        ecs.delete_service(cluster=cluster, service=a, force=True)
    tds = ecs.list_task_definitions(maxResults=100)["taskDefinitionArns"]
    for t in tds:
        ecs.deregister_task_definition(taskDefinition=t)
    print(f"{len(arns)} services deleted, {len(tds)} task definitions deregistered")


def ecs_update(cluster, service, *changes):
    ecs = client("ecs")
    kw = {"cluster": cluster, "service": service}
    for c in changes:
        k, v = c.split("=", 1)
        if k == "desired":
            kw["desiredCount"] = int(v)
        elif k == "td":
            kw["taskDefinition"] = v
        elif k == "tag":
            arn = ecs.describe_services(cluster=cluster, services=[service])["services"][0][
                "serviceArn"]
            tk, tv = v.split("=", 1)
            ecs.tag_resource(resourceArn=arn, tags=[{"key": tk, "value": tv}])
    if len(kw) > 2:
        ecs.update_service(**kw)


def ecs_variant(family, image):
    ecs = client("ecs")
    r = ecs.describe_task_definition(taskDefinition=family, include=["TAGS"])
    td = {k: v for k, v in r["taskDefinition"].items() if k not in READ_ONLY_TD}
    td["containerDefinitions"][0]["image"] = image
    if r.get("tags"):
        td["tags"] = r["tags"]
    out = ecs.register_task_definition(**td)["taskDefinition"]
    print(f"{out['family']}:{out['revision']}")


def _members(data):
    raw = subprocess.run(["zstd", "-dcq"], input=data, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(raw)) as tf:
        return [(m.name, tf.extractfile(m).read()) for m in tf.getmembers()]


def _pack(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 1764288000
            tf.addfile(ti, io.BytesIO(data))
    return subprocess.run(["zstd", "-q", "-c", "--check"], input=buf.getvalue(),
                          capture_output=True, check=True).stdout


def repack(src, dst, what):
    """Alter one SecureString envelope (gcm) or the wrapped data key (wrapped-key), then make
    MANIFEST.json agree, so that only the cryptography can notice."""
    members = dict(_members(open(src, "rb").read()))
    order = list(members)
    man = json.loads(members["MANIFEST.json"])
    if what == "gcm":
        params = json.loads(members["ssm/parameters.json"])
        p = next(p for p in params if p["Type"] == "SecureString")
        raw = bytearray(base64.b64decode(p["Value"][len("lcbenc:v1:"):]))
        raw[14] ^= 0x01                     # a byte of the ciphertext
        p["Value"] = "lcbenc:v1:" + base64.b64encode(bytes(raw)).decode()
        data = json.dumps(params, indent=2).encode() + b"\n"
        members["ssm/parameters.json"] = data
        for e in man["entries"]:
            if e["name"] == "ssm/parameters.json":
                e["size"], e["sha256"] = len(data), hashlib.sha256(data).hexdigest()
    else:
        enc = man["extra"]["encryption"]
        raw = bytearray(base64.b64decode(enc["wrapped_key"]))
        raw[-1] ^= 0x01
        enc["wrapped_key"] = base64.b64encode(bytes(raw)).decode()
    members["MANIFEST.json"] = json.dumps(man, indent=2).encode() + b"\n"
    out = _pack([(n, members[n]) for n in order])
    open(dst, "wb").write(out)
    print(hashlib.sha256(out).hexdigest(), len(out))


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "seed-params":
        seed_params(args[0], int(args[1]), int(args[2]))
    elif cmd == "snapshot":
        snapshot(args[0])
    elif cmd == "compare":
        compare(*args)
    elif cmd == "secrets":
        secrets(args[0])
    elif cmd == "delete-path":
        delete_path(args[0])
    elif cmd == "get":
        print(client("ssm").get_parameter(Name=args[0], WithDecryption=True)["Parameter"]["Value"])
    elif cmd == "put":
        put(*args)
    elif cmd == "tag":
        client("ssm").add_tags_to_resource(ResourceType="Parameter", ResourceId=args[0],
                                           Tags=[{"Key": args[1], "Value": args[2]}])
    elif cmd == "untag":
        client("ssm").remove_tags_from_resource(ResourceType="Parameter", ResourceId=args[0],
                                                TagKeys=[args[1]])
    elif cmd == "ecs-snapshot":
        ecs_snapshot(args[0])
    elif cmd == "ecs-empty":
        ecs_empty(args[0])
    elif cmd == "ecs-update":
        ecs_update(*args)
    elif cmd == "ecs-variant":
        ecs_variant(*args)
    elif cmd == "repack":
        repack(*args)
    else:
        sys.exit(f"config_aws.py: unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
