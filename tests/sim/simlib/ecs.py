"""ECS (JSON 1.1, X-Amz-Target AmazonEC2ContainerServiceV20141113.<Op>, lowerCamel fields).

Facts from /work/shared/reference/aws-wire.md 2.4 and 6 and botocore's ecs/2014-11-13 model.
State: one JSON document per region (ctx.region_dir/ecs.json): clusters, task definition
families (every revision kept), services (with deployments) and tags by ARN.

Asynchronous changes (control API POST /delays, holds):
  "ecs.deployment" (default 0 s): a new deployment is IN_PROGRESS (runningCount climbing from 0)
      until this many seconds passed; then it is COMPLETED, runningCount == desiredCount and the
      older deployments are gone (what the ServicesStable waiter looks for).
  "ecs.drain" (default 0 s): a deleted service stays DRAINING this long, then INACTIVE.
"""

import base64
import binascii
import copy
import json
import re

from .core import AwsError, JsonStore

CLUSTER_ARN = "arn:aws:ecs:{r}:{a}:cluster/{n}"
SERVICE_ARN = "arn:aws:ecs:{r}:{a}:service/{c}/{n}"
TASKDEF_ARN = "arn:aws:ecs:{r}:{a}:task-definition/{f}:{v}"

# Fargate task sizes (model doc of RegisterTaskDefinitionRequest.cpu): cpu -> memory values.
FARGATE_SIZES = {
    256: [512, 1024, 2048],
    512: [1024, 2048, 3072, 4096],
    1024: list(range(2048, 8192 + 1, 1024)),
    2048: list(range(4096, 16384 + 1, 1024)),
    4096: list(range(8192, 30720 + 1, 1024)),
    8192: list(range(16384, 61440 + 1, 4096)),
    16384: list(range(32768, 122880 + 1, 8192)),
}


def _store(ctx):
    return JsonStore(ctx.region_dir / "ecs.json",
                     default={"clusters": {}, "families": {}, "services": {}, "tags": {},
                              "seq": 0})


def _user(ctx):
    ident = getattr(getattr(ctx, "request", None), "identity", None) or {}
    return ident.get("arn") or f"arn:aws:iam::{ctx.account_id}:root"


def _client(msg):
    return AwsError("ClientException", msg)


def _invalid(msg):
    return AwsError("InvalidParameterException", msg)


def _tags_in(tags, allow_empty=True):
    """ECS tags [{key, value}] -> dict; validation as the model documents it."""
    if tags is None:
        return {}
    if not isinstance(tags, list):
        raise _invalid("tags must be a list")
    if not tags and not allow_empty:
        raise _client("Tags can not be empty.")
    if len(tags) > 50:
        raise _invalid("Too many tags: a resource can have at most 50 tags.")
    out = {}
    for t in tags:
        k, v = t.get("key"), t.get("value", "")
        if not k:
            raise _invalid("Tag key must not be empty.")
        if len(k) > 128 or len(v or "") > 256:
            raise _invalid(f"Tag key or value of '{k}' is too long.")
        if k.lower().startswith("aws:"):
            raise _invalid("Tag keys and values with the prefix 'aws:' are reserved.")
        out[k] = v or ""
    return out


def _tags_out(tagmap):
    return [{"key": k, "value": v} for k, v in tagmap.items()]


def _max_results(body, default):
    v = body.get("maxResults")
    if v is None:
        return default
    if not isinstance(v, int) or v < 1 or v > 100:
        raise _invalid("maxResults must be between 1 and 100.")
    return v


def _token(kind, pos):
    raw = json.dumps({"k": kind, "p": pos}, separators=(",", ":")).encode()
    return base64.b64encode(raw).decode()


def _untoken(kind, token):
    if token is None:
        return 0
    try:
        t = json.loads(base64.b64decode(token, validate=True))
        if t["k"] != kind or not isinstance(t["p"], int) or t["p"] < 0:
            raise ValueError
        return t["p"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise _invalid("Invalid nextToken.")


def _paged(items, kind, body, default_limit):
    limit = _max_results(body, default_limit)
    start = _untoken(kind, body.get("nextToken"))
    page = items[start:start + limit]
    nxt = _token(kind, start + limit) if start + limit < len(items) else None
    return page, nxt


# ---------------------------------------------------------------------------------------
# Clusters

def _cluster_name(ref):
    ref = ref or "default"
    if ref.startswith("arn:"):
        m = re.fullmatch(r"arn:aws:ecs:[^:]+:\d+:cluster/(.+)", ref)
        if not m:
            raise _invalid(f"Invalid cluster ARN: {ref}")
        return m.group(1)
    return ref


def _find_cluster(data, ref):
    name = _cluster_name(ref)
    c = data["clusters"].get(name)
    if c is None or c["status"] != "ACTIVE":
        raise AwsError("ClusterNotFoundException", "Cluster not found.")
    return c


def _cluster_view(ctx, data, c, include_tags):
    svcs = [s for s in data["services"].values()
            if s["clusterArn"] == c["clusterArn"] and s["status"] == "ACTIVE"]
    for s in svcs:
        _advance_service(ctx, s)
    out = {k: v for k, v in c.items() if k != "createdAt"}
    out["activeServicesCount"] = len(svcs)
    out["runningTasksCount"] = sum(s["runningCount"] for s in svcs)
    out["pendingTasksCount"] = sum(s["pendingCount"] for s in svcs)
    out["registeredContainerInstancesCount"] = 0
    out["statistics"] = []
    if include_tags:
        out["tags"] = _tags_out(data["tags"].get(c["clusterArn"], {}))
    return out


def create_cluster(ctx, body, data):
    name = body.get("clusterName") or "default"
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,255}", name):
        raise _invalid("Cluster name must be 1-255 characters: letters, numbers, hyphens "
                       "and underscores.")
    tags = _tags_in(body.get("tags"))
    arn = CLUSTER_ARN.format(r=ctx.region, a=ctx.account_id, n=name)
    c = data["clusters"].get(name)
    if c is None or c["status"] != "ACTIVE":
        c = {"clusterArn": arn, "clusterName": name, "status": "ACTIVE",
             "settings": body.get("settings") or [{"name": "containerInsights",
                                                   "value": "disabled"}],
             "capacityProviders": body.get("capacityProviders") or [],
             "defaultCapacityProviderStrategy": body.get("defaultCapacityProviderStrategy")
             or [], "createdAt": ctx.now()}
        if body.get("configuration"):
            c["configuration"] = body["configuration"]
        data["clusters"][name] = c
        data["tags"][arn] = {}
    data["tags"][arn].update(tags)
    return {"cluster": _cluster_view(ctx, data, c, True)}


def describe_clusters(ctx, body, data):
    refs = body.get("clusters") or ["default"]
    if len(refs) > 100:
        raise _invalid("clusters can have at most 100 items.")
    include_tags = "TAGS" in (body.get("include") or [])
    out, failures = [], []
    for ref in refs:
        name = _cluster_name(ref)
        c = data["clusters"].get(name)
        if c is None:
            failures.append({"arn": CLUSTER_ARN.format(r=ctx.region, a=ctx.account_id, n=name),
                             "reason": "MISSING"})
        else:
            out.append(_cluster_view(ctx, data, c, include_tags))
    return {"clusters": out, "failures": failures}


def list_clusters(ctx, body, data):
    arns = [c["clusterArn"] for c in sorted(data["clusters"].values(),
                                            key=lambda c: c["createdAt"])
            if c["status"] == "ACTIVE"]
    page, nxt = _paged(arns, "clusters", body, 100)
    out = {"clusterArns": page}
    if nxt:
        out["nextToken"] = nxt
    return out


def delete_cluster(ctx, body, data):
    if not body.get("cluster"):
        raise _invalid("cluster must not be empty.")
    c = _find_cluster(data, body["cluster"])
    for s in data["services"].values():
        _advance_service(ctx, s)
    if any(s["clusterArn"] == c["clusterArn"] and s["status"] != "INACTIVE"
           for s in data["services"].values()):
        raise AwsError("ClusterContainsServicesException", "The Cluster cannot be deleted "
                       "while Services are active.")
    view = _cluster_view(ctx, data, c, False)
    c["status"] = "INACTIVE"
    view["status"] = "INACTIVE"
    return {"cluster": view}


# ---------------------------------------------------------------------------------------
# Task definitions

def _cpu_units(v, field):
    """'1 vCPU' / '1024' / 1024 -> '1024' (AWS converts strings when registering)."""
    if v is None:
        return None
    s = str(v).strip()
    m = re.fullmatch(r"([\d.]+)\s*v?cpu", s, re.I)
    if m:
        return str(int(float(m.group(1)) * 1024))
    if re.fullmatch(r"\d+", s):
        return s
    raise _client(f"Invalid '{field}' setting for task: {v}")


def _mem_mib(v, field):
    if v is None:
        return None
    s = str(v).strip()
    m = re.fullmatch(r"([\d.]+)\s*gb", s, re.I)
    if m:
        return str(int(float(m.group(1)) * 1024))
    if re.fullmatch(r"\d+", s):
        return s
    raise _client(f"Invalid '{field}' setting for task: {v}")


def _container_defaults(cdef, network_mode):
    """The fields AWS fills in on every container definition it stores."""
    c = copy.deepcopy(cdef)
    if not c.get("name"):
        raise _client("Container.name should not be null or empty.")
    if not c.get("image"):
        raise _client("Container.image should not be null or empty.")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,255}", c["name"]):
        raise _client(f"Container name '{c['name']}' is invalid: up to 255 letters, numbers, "
                      "hyphens and underscores.")
    rc = c.get("repositoryCredentials")
    if rc is not None and not rc.get("credentialsParameter"):
        raise _client("Invalid 'repositoryCredentials.credentialsParameter': it should not be "
                      "null or empty.")
    c.setdefault("cpu", 0)
    c.setdefault("essential", True)
    for key in ("portMappings", "environment", "mountPoints", "volumesFrom", "systemControls"):
        c.setdefault(key, [])
    for pm in c["portMappings"]:
        if "containerPort" not in pm:
            raise _client("Container.portMappings.containerPort should not be null.")
        pm.setdefault("protocol", "tcp")
        if network_mode == "awsvpc":
            if pm.get("hostPort") not in (None, pm["containerPort"]):
                raise _client("When networkMode=awsvpc, the host ports and container ports in "
                              "port mappings must match.")
            pm["hostPort"] = pm["containerPort"]
    for s in c.get("secrets") or []:
        if not s.get("name") or not s.get("valueFrom"):
            raise _client("Container.secrets: name and valueFrom should not be null or empty.")
    return c


def _requires_attributes(td):
    """The capability attributes ECS derives from a task definition's content."""
    names = []
    conts = td["containerDefinitions"]
    if any((c.get("logConfiguration") or {}).get("logDriver") == "awslogs" for c in conts):
        names += ["com.amazonaws.ecs.capability.logging-driver.awslogs",
                  "com.amazonaws.ecs.capability.docker-remote-api.1.19"]
        if td.get("executionRoleArn"):
            names.append("ecs.capability.execution-role-awslogs")
    if td.get("taskRoleArn"):
        names.append("com.amazonaws.ecs.capability.task-iam-role")
    secrets = [s["valueFrom"] for c in conts for s in c.get("secrets") or []]
    if any(":ssm:" in v or not v.startswith("arn:") for v in secrets):
        names.append("ecs.capability.secrets.ssm.environment-variables")
    if any(":secretsmanager:" in v for v in secrets):
        names.append("ecs.capability.secrets.asm.environment-variables")
    if td.get("networkMode") == "awsvpc":
        names += ["ecs.capability.task-eni", "com.amazonaws.ecs.capability.docker-remote-api.1.18"]
    if any(c.get("healthCheck") for c in conts):
        names.append("ecs.capability.container-health-check")
    if any(c.get("dependsOn") for c in conts):
        names.append("ecs.capability.container-ordering")
    return [{"name": n} for n in dict.fromkeys(names)]


def _check_fargate(td):
    if "FARGATE" not in (td.get("requiresCompatibilities") or []):
        return
    if td.get("networkMode") != "awsvpc":
        raise _client("Fargate only supports network mode 'awsvpc'.")
    if td.get("cpu") is None or td.get("memory") is None:
        raise _client("Fargate requires that 'cpu' be defined at the task level." if
                      td.get("cpu") is None else
                      "Fargate requires that 'memory' be defined at the task level.")
    cpu, mem = int(td["cpu"]), int(td["memory"])
    if mem not in FARGATE_SIZES.get(cpu, []):
        raise _client(f"No Fargate configuration exists for given values: {cpu} CPU, {mem} "
                      "memory. See the Amazon ECS documentation for the valid combinations.")
    logs = [c for c in td["containerDefinitions"]
            if (c.get("logConfiguration") or {}).get("logDriver") == "awslogs"]
    if logs and not td.get("executionRoleArn"):
        raise _client("Fargate requires task definition to have execution role ARN to support "
                      "log driver awslogs.")


REGISTER_FIELDS = ("family", "taskRoleArn", "executionRoleArn", "networkMode",
                   "containerDefinitions", "volumes", "placementConstraints",
                   "requiresCompatibilities", "cpu", "memory", "pidMode", "ipcMode",
                   "proxyConfiguration", "inferenceAccelerators", "ephemeralStorage",
                   "runtimePlatform", "enableFaultInjection")
READ_ONLY = ("taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
             "registeredAt", "registeredBy", "deregisteredAt", "deleteRequestedAt")


def register_task_definition(ctx, body, data):
    family = body.get("family")
    if not family or not re.fullmatch(r"[A-Za-z0-9_-]{1,255}", family):
        raise _client("Family contains invalid characters or is longer than 255 characters.")
    for key in READ_ONLY:
        if key in body:
            raise AwsError("SerializationException", f"Unknown field '{key}' in "
                           "RegisterTaskDefinitionRequest")
    conts = body.get("containerDefinitions")
    if not isinstance(conts, list) or not conts:
        raise _client("Container list cannot be empty.")
    tags = _tags_in(body.get("tags"), allow_empty=False)
    td = {k: copy.deepcopy(body[k]) for k in REGISTER_FIELDS if body.get(k) is not None}
    mode = td.get("networkMode")
    if mode is not None and mode not in ("bridge", "host", "awsvpc", "none"):
        raise _client(f"Invalid networkMode: {mode}")
    td["containerDefinitions"] = [_container_defaults(c, mode) for c in conts]
    names = [c["name"] for c in td["containerDefinitions"]]
    if len(set(names)) != len(names):
        raise _client("Container names must be unique within a task definition.")
    if "cpu" in td:
        td["cpu"] = _cpu_units(td["cpu"], "cpu")
    if "memory" in td:
        td["memory"] = _mem_mib(td["memory"], "memory")
    _check_fargate(td)
    td.setdefault("volumes", [])
    td.setdefault("placementConstraints", [])
    revs = data["families"].setdefault(family, [])
    rev = (revs[-1]["revision"] + 1) if revs else 1
    td["taskDefinitionArn"] = TASKDEF_ARN.format(r=ctx.region, a=ctx.account_id, f=family, v=rev)
    td["revision"] = rev
    td["status"] = "ACTIVE"
    td["requiresAttributes"] = _requires_attributes(td)
    td["compatibilities"] = ["EC2", "FARGATE"] if mode == "awsvpc" else ["EXTERNAL", "EC2"]
    td["registeredAt"] = ctx.now()
    td["registeredBy"] = _user(ctx)
    revs.append(td)
    data["tags"][td["taskDefinitionArn"]] = tags
    out = {"taskDefinition": copy.deepcopy(td)}
    if tags:
        out["tags"] = _tags_out(tags)
    return out


def _find_taskdef(ctx, data, ref, active_only_latest=True):
    """'family' (latest ACTIVE), 'family:rev' or the ARN -> the stored revision dict."""
    if not ref:
        raise _client("taskDefinition must not be empty.")
    if ref.startswith("arn:"):
        m = re.fullmatch(r"arn:aws:ecs:([^:]+):(\d+):task-definition/([^:]+):(\d+)", ref)
        if not m or m.group(1) != ctx.region:
            raise _client("Unable to describe task definition.")
        family, rev = m.group(3), int(m.group(4))
    elif ":" in ref:
        family, _, r = ref.partition(":")
        if not r.isdigit():
            raise _client("Unable to describe task definition.")
        rev = int(r)
    else:
        family, rev = ref, None
    revs = data["families"].get(family) or []
    if rev is None:
        act = [t for t in revs if t["status"] == "ACTIVE"] if active_only_latest else revs
        if not act:
            raise _client("Unable to describe task definition.")
        return act[-1]
    for t in revs:
        if t["revision"] == rev:
            return t
    raise _client("Unable to describe task definition.")


def describe_task_definition(ctx, body, data):
    td = _find_taskdef(ctx, data, body.get("taskDefinition"))
    out = {"taskDefinition": copy.deepcopy(td)}
    if "TAGS" in (body.get("include") or []):
        out["tags"] = _tags_out(data["tags"].get(td["taskDefinitionArn"], {}))
    return out


def deregister_task_definition(ctx, body, data):
    ref = body.get("taskDefinition") or ""
    if ":" not in ref:
        raise _client("Revision must be specified to deregister a task definition: use "
                      "family:revision or the full ARN.")
    td = _find_taskdef(ctx, data, ref)
    if td["status"] == "ACTIVE":
        td["status"] = "INACTIVE"
        td["deregisteredAt"] = ctx.now()
    return {"taskDefinition": copy.deepcopy(td)}


def list_task_definitions(ctx, body, data):
    status = body.get("status") or "ACTIVE"
    if status not in ("ACTIVE", "INACTIVE", "DELETE_IN_PROGRESS"):
        raise _invalid(f"Invalid status: {status}")
    order = body.get("sort") or "ASC"
    if order not in ("ASC", "DESC"):
        raise _invalid(f"Invalid sort: {order}")
    prefix = body.get("familyPrefix")
    arns = []
    for family in sorted(data["families"]):
        if prefix is not None and family != prefix:
            continue
        arns += [t["taskDefinitionArn"] for t in data["families"][family]
                 if t["status"] == status]
    if order == "DESC":
        arns.reverse()
    page, nxt = _paged(arns, f"taskdefs:{status}:{order}:{prefix}", body, 100)
    out = {"taskDefinitionArns": page}
    if nxt:
        out["nextToken"] = nxt
    return out


def list_task_definition_families(ctx, body, data):
    status = body.get("status") or "ALL"
    if status not in ("ACTIVE", "INACTIVE", "ALL"):
        raise _invalid(f"Invalid status: {status}")
    prefix = body.get("familyPrefix") or ""
    fams = []
    for family in sorted(data["families"]):
        if not family.startswith(prefix):
            continue
        active = any(t["status"] == "ACTIVE" for t in data["families"][family])
        if status == "ALL" or (status == "ACTIVE") == active:
            fams.append(family)
    page, nxt = _paged(fams, f"families:{status}:{prefix}", body, 100)
    out = {"families": page}
    if nxt:
        out["nextToken"] = nxt
    return out


# ---------------------------------------------------------------------------------------
# Services

def _service_key(cluster_name, name):
    return f"{cluster_name}/{name}"


def _service_name(ref):
    if ref and ref.startswith("arn:"):
        m = re.fullmatch(r"arn:aws:ecs:[^:]+:\d+:service/(?:[^/]+/)?([^/]+)", ref)
        if not m:
            raise _invalid(f"Invalid service ARN: {ref}")
        return m.group(1)
    return ref


def _deployment_id(data):
    data["seq"] = data.get("seq", 0) + 1
    return "ecs-svc/" + str(4000000000000000000 + data["seq"] * 7919).rjust(19, "0")


def _new_deployment(ctx, data, svc):
    now = ctx.now()
    for d in svc["deployments"]:
        if d["status"] == "PRIMARY":
            d["status"] = "ACTIVE"
            d["updatedAt"] = now
    dep = {"id": _deployment_id(data), "status": "PRIMARY",
           "taskDefinition": svc["taskDefinition"], "desiredCount": svc["desiredCount"],
           "pendingCount": 0, "runningCount": 0, "failedTasks": 0, "createdAt": now,
           "updatedAt": now, "rolloutState": "IN_PROGRESS", "_request": ctx.request_id}
    dep["rolloutStateReason"] = f"ECS deployment {dep['id']} in progress."
    for key in ("launchType", "platformVersion", "platformFamily", "networkConfiguration",
                "capacityProviderStrategy"):
        if svc.get(key) is not None:
            dep[key] = copy.deepcopy(svc[key])
    svc["deployments"].insert(0, dep)
    svc["pendingCount"] = svc["desiredCount"]
    _advance_service(ctx, svc)


def _advance_service(ctx, svc):
    """Move a service's deployments and drain along the world clock (pure function of time)."""
    now = ctx.now()
    if svc["status"] == "DRAINING":
        if not ctx.hold("ecs.drain") and now - svc["deletedAt"] >= ctx.delay("ecs.drain", 0):
            svc["status"] = "INACTIVE"
        return
    if svc["status"] != "ACTIVE":
        return
    prim = next((d for d in svc["deployments"] if d["status"] == "PRIMARY"), None)
    if prim is None:
        return
    prim["desiredCount"] = svc["desiredCount"]
    # Never within the request that started the deployment: its answer shows it starting.
    done = not ctx.hold("ecs.deployment") and prim.get("_request") != ctx.request_id and \
        now - prim["updatedAt"] >= ctx.delay("ecs.deployment", 0)
    if done:
        prim["runningCount"] = svc["desiredCount"]
        prim["pendingCount"] = 0
        if prim["rolloutState"] != "COMPLETED":
            prim["rolloutState"] = "COMPLETED"
            prim["rolloutStateReason"] = "ECS deployment " + prim["id"] + " completed."
            prim["updatedAt"] = max(now, prim["updatedAt"])
            prim.pop("_request", None)
            svc["deployments"] = [prim]
            svc.setdefault("events", []).insert(0, {
                "id": prim["id"].replace("ecs-svc/", "evt-"), "createdAt": now,
                "message": f"(service {svc['serviceName']}) has reached a steady state."})
            del svc["events"][100:]
    else:
        prim["pendingCount"] = svc["desiredCount"] - prim["runningCount"]
    svc["runningCount"] = sum(d["runningCount"] for d in svc["deployments"])
    svc["pendingCount"] = sum(d["pendingCount"] for d in svc["deployments"])


def _check_network(td, body, launch_type):
    net = body.get("networkConfiguration")
    if td.get("networkMode") == "awsvpc":
        if not net or not (net.get("awsvpcConfiguration") or {}).get("subnets"):
            raise _invalid("Network Configuration must be provided when networkMode 'awsvpc' "
                           "is specified.")
        for s in net["awsvpcConfiguration"]["subnets"]:
            if not re.fullmatch(r"subnet-[0-9a-f]{8,17}", s):
                raise _invalid(f"Error retrieving subnet information for [{s}]: The subnet ID "
                               f"'{s}' does not exist")
    elif net:
        raise _invalid("Network Configuration is not valid for the given networkMode of this "
                       "task definition.")
    if launch_type == "FARGATE" and "FARGATE" not in td["compatibilities"]:
        raise _invalid("Task definition does not support launch_type FARGATE.")


def _service_view(ctx, data, svc, include_tags):
    _advance_service(ctx, svc)
    out = {k: copy.deepcopy(v) for k, v in svc.items()
           if k not in ("deletedAt", "clusterName", "clientToken")}
    for d in out["deployments"]:
        d.pop("_request", None)
    if include_tags:
        out["tags"] = _tags_out(data["tags"].get(svc["serviceArn"], {}))
    return out


def create_service(ctx, body, data):
    cluster = _find_cluster(data, body.get("cluster"))
    name = body.get("serviceName")
    if not name or not re.fullmatch(r"[A-Za-z0-9_-]{1,255}", name):
        raise _invalid("Service name must be 1-255 characters: letters, numbers, hyphens and "
                       "underscores.")
    key = _service_key(cluster["clusterName"], name)
    old = data["services"].get(key)
    if old:
        _advance_service(ctx, old)
        if old["status"] != "INACTIVE":
            if old.get("clientToken") and old["clientToken"] == body.get("clientToken"):
                return {"service": _service_view(ctx, data, old, False)}
            raise _invalid("Creation of service was not idempotent.")
    if body.get("launchType") and body.get("capacityProviderStrategy"):
        raise _invalid("Specifying both a launch type and capacity provider strategy is not "
                       "supported. Remove one and try again.")
    strategy = body.get("schedulingStrategy") or "REPLICA"
    if strategy not in ("REPLICA", "DAEMON"):
        raise _invalid(f"Invalid schedulingStrategy: {strategy}")
    if strategy == "REPLICA" and body.get("desiredCount") is None:
        raise _invalid("desiredCount is required for a service with schedulingStrategy "
                       "REPLICA.")
    desired = body.get("desiredCount") or 0
    if not isinstance(desired, int) or desired < 0:
        raise _invalid("desiredCount must be a non-negative integer.")
    controller = (body.get("deploymentController") or {}).get("type", "ECS")
    if controller not in ("ECS", "CODE_DEPLOY", "EXTERNAL"):
        raise _invalid(f"Invalid deploymentController type: {controller}")
    if controller == "ECS" and not body.get("taskDefinition"):
        raise _invalid("TaskDefinition must be specified for a service with the ECS "
                       "deployment controller.")
    try:
        td = _find_taskdef(ctx, data, body["taskDefinition"])
    except AwsError:
        raise _invalid("TaskDefinition not found.")
    if td["status"] != "ACTIVE":
        raise _invalid("TaskDefinition is inactive")
    launch = body.get("launchType")
    if launch is None and not body.get("capacityProviderStrategy"):
        launch = "EC2"
    if launch is not None and launch not in ("EC2", "FARGATE", "EXTERNAL"):
        raise _invalid(f"Invalid launchType: {launch}")
    _check_network(td, body, launch)
    tags = _tags_in(body.get("tags"))
    arn = SERVICE_ARN.format(r=ctx.region, a=ctx.account_id, c=cluster["clusterName"], n=name)
    fargate = launch == "FARGATE" or any(
        (s.get("capacityProvider") or "").startswith("FARGATE")
        for s in body.get("capacityProviderStrategy") or [])
    svc = {
        "serviceArn": arn, "serviceName": name, "clusterArn": cluster["clusterArn"],
        "clusterName": cluster["clusterName"],
        "loadBalancers": body.get("loadBalancers") or [],
        "serviceRegistries": body.get("serviceRegistries") or [],
        "status": "ACTIVE", "desiredCount": desired, "runningCount": 0, "pendingCount": 0,
        "taskDefinition": td["taskDefinitionArn"],
        "deploymentConfiguration": body.get("deploymentConfiguration") or {
            "deploymentCircuitBreaker": {"enable": False, "rollback": False},
            "maximumPercent": 200, "minimumHealthyPercent": 100},
        "deployments": [], "events": [], "createdAt": ctx.now(),
        "placementConstraints": body.get("placementConstraints") or [],
        "placementStrategy": body.get("placementStrategy") or [],
        "schedulingStrategy": strategy,
        "deploymentController": {"type": controller},
        "createdBy": _user(ctx),
        "enableECSManagedTags": bool(body.get("enableECSManagedTags")),
        "propagateTags": body.get("propagateTags") or "NONE",
        "enableExecuteCommand": bool(body.get("enableExecuteCommand")),
        "roleArn": body.get("role") or (f"arn:aws:iam::{ctx.account_id}:role/aws-service-role/"
                                        "ecs.amazonaws.com/AWSServiceRoleForECS"),
    }
    if launch:
        svc["launchType"] = launch
    if body.get("capacityProviderStrategy"):
        svc["capacityProviderStrategy"] = body["capacityProviderStrategy"]
    if fargate:
        svc["platformVersion"] = body.get("platformVersion") or "LATEST"
        svc["platformFamily"] = "Linux"
    if body.get("networkConfiguration"):
        net = copy.deepcopy(body["networkConfiguration"])
        net["awsvpcConfiguration"].setdefault("assignPublicIp", "DISABLED")
        svc["networkConfiguration"] = net
    if body.get("healthCheckGracePeriodSeconds") is not None:
        svc["healthCheckGracePeriodSeconds"] = body["healthCheckGracePeriodSeconds"]
    elif svc["loadBalancers"]:
        svc["healthCheckGracePeriodSeconds"] = 0
    if body.get("clientToken"):
        svc["clientToken"] = body["clientToken"]
    data["services"][key] = svc
    data["tags"][arn] = tags
    _new_deployment(ctx, data, svc)
    return {"service": _service_view(ctx, data, svc, False)}


def _find_service(ctx, data, cluster, ref, active=True):
    if not ref:
        raise _invalid("service must not be empty.")
    svc = data["services"].get(_service_key(cluster["clusterName"], _service_name(ref)))
    if svc is None:
        raise AwsError("ServiceNotFoundException", "Service not found.")
    _advance_service(ctx, svc)
    if active and svc["status"] != "ACTIVE":
        raise AwsError("ServiceNotActiveException", "Service was not ACTIVE.")
    return svc


def update_service(ctx, body, data):
    cluster = _find_cluster(data, body.get("cluster"))
    svc = _find_service(ctx, data, cluster, body.get("service"))
    redeploy = bool(body.get("forceNewDeployment"))
    if body.get("taskDefinition"):
        try:
            td = _find_taskdef(ctx, data, body["taskDefinition"])
        except AwsError:
            raise _invalid("TaskDefinition not found.")
        if td["status"] != "ACTIVE":
            raise _invalid("TaskDefinition is inactive")
        if td["taskDefinitionArn"] != svc["taskDefinition"]:
            svc["taskDefinition"] = td["taskDefinitionArn"]
            redeploy = True
    if body.get("desiredCount") is not None:
        if not isinstance(body["desiredCount"], int) or body["desiredCount"] < 0:
            raise _invalid("desiredCount must be a non-negative integer.")
        svc["desiredCount"] = body["desiredCount"]
    if body.get("networkConfiguration") is not None:
        td = _find_taskdef(ctx, data, svc["taskDefinition"])
        _check_network(td, body, svc.get("launchType"))
        net = copy.deepcopy(body["networkConfiguration"])
        net["awsvpcConfiguration"].setdefault("assignPublicIp", "DISABLED")
        if net != svc.get("networkConfiguration"):
            svc["networkConfiguration"] = net
            redeploy = True
    if body.get("platformVersion") and svc.get("platformVersion") != body["platformVersion"]:
        svc["platformVersion"] = body["platformVersion"]
        redeploy = True
    for key in ("deploymentConfiguration", "placementConstraints", "placementStrategy",
                "healthCheckGracePeriodSeconds", "loadBalancers", "serviceRegistries",
                "propagateTags", "capacityProviderStrategy"):
        if body.get(key) is not None:
            svc[key] = copy.deepcopy(body[key])
    for key in ("enableExecuteCommand", "enableECSManagedTags"):
        if body.get(key) is not None:
            svc[key] = bool(body[key])
    if redeploy:
        _new_deployment(ctx, data, svc)
    else:
        _advance_service(ctx, svc)
    return {"service": _service_view(ctx, data, svc, False)}


def describe_services(ctx, body, data):
    cluster = _find_cluster(data, body.get("cluster"))
    refs = body.get("services")
    if not isinstance(refs, list) or not refs:
        raise _invalid("services can not be empty.")
    if len(refs) > 10:
        raise _invalid("services can have at most 10 items.")
    include_tags = "TAGS" in (body.get("include") or [])
    out, failures = [], []
    for ref in refs:
        name = _service_name(ref)
        svc = data["services"].get(_service_key(cluster["clusterName"], name))
        if svc is None:
            failures.append({"arn": SERVICE_ARN.format(r=ctx.region, a=ctx.account_id,
                                                       c=cluster["clusterName"], n=name),
                             "reason": "MISSING"})
        else:
            view = _service_view(ctx, data, svc, include_tags)
            view.pop("clientToken", None)
            out.append(view)
    return {"services": out, "failures": failures}


def list_services(ctx, body, data):
    cluster = _find_cluster(data, body.get("cluster"))
    arns = []
    for svc in sorted(data["services"].values(), key=lambda s: s["createdAt"]):
        if svc["clusterArn"] != cluster["clusterArn"]:
            continue
        _advance_service(ctx, svc)
        if svc["status"] == "INACTIVE":
            continue
        if body.get("launchType") and svc.get("launchType") != body["launchType"]:
            continue
        if body.get("schedulingStrategy") and \
                svc["schedulingStrategy"] != body["schedulingStrategy"]:
            continue
        arns.append(svc["serviceArn"])
    page, nxt = _paged(arns, f"services:{cluster['clusterName']}", body, 10)
    out = {"serviceArns": page}
    if nxt:
        out["nextToken"] = nxt
    return out


def delete_service(ctx, body, data):
    cluster = _find_cluster(data, body.get("cluster"))
    svc = _find_service(ctx, data, cluster, body.get("service"), active=False)
    if svc["status"] == "INACTIVE":
        raise AwsError("ServiceNotFoundException", "Service not found.")
    if svc["status"] == "DRAINING":
        raise _invalid("The service is already being deleted (DRAINING).")
    if svc["desiredCount"] > 0 and svc["schedulingStrategy"] == "REPLICA" and \
            not body.get("force"):
        raise _invalid("The service cannot be stopped while it is scaled above 0.")
    svc["status"] = "DRAINING"
    svc["desiredCount"] = 0
    svc["deletedAt"] = ctx.now()
    view = _service_view(ctx, data, svc, False)
    view["status"] = "DRAINING"
    view.pop("clientToken", None)
    return {"service": view}


# ---------------------------------------------------------------------------------------
# Tags by ARN

def _tag_resource(ctx, data, arn):
    if not arn or not arn.startswith("arn:aws:ecs:"):
        raise _invalid("Invalid resource ARN.")
    if arn not in data["tags"]:
        raise AwsError("ResourceNotFoundException" if ":task-definition/" not in arn
                       else "ClientException", "The specified resource could not be found.")
    m = re.fullmatch(r"arn:aws:ecs:[^:]+:\d+:cluster/(.+)", arn)
    if m and data["clusters"].get(m.group(1), {}).get("status") != "ACTIVE":
        raise AwsError("ClusterNotFoundException", "Cluster not found.")
    return data["tags"][arn]


def tag_resource(ctx, body, data):
    tags = _tag_resource(ctx, data, body.get("resourceArn"))
    new = _tags_in(body.get("tags"))
    if not new:
        raise _invalid("tags can not be empty.")
    if len(dict(tags, **new)) > 50:
        raise _invalid("Too many tags: a resource can have at most 50 tags.")
    tags.update(new)
    return {}


def untag_resource(ctx, body, data):
    tags = _tag_resource(ctx, data, body.get("resourceArn"))
    for k in body.get("tagKeys") or []:
        tags.pop(k, None)
    return {}


def list_tags_for_resource(ctx, body, data):
    return {"tags": _tags_out(_tag_resource(ctx, data, body.get("resourceArn")))}


# ---------------------------------------------------------------------------------------
# Dispatch

OPERATIONS = {
    "CreateCluster": create_cluster,
    "DescribeClusters": describe_clusters,
    "ListClusters": list_clusters,
    "DeleteCluster": delete_cluster,
    "RegisterTaskDefinition": register_task_definition,
    "DescribeTaskDefinition": describe_task_definition,
    "DeregisterTaskDefinition": deregister_task_definition,
    "ListTaskDefinitions": list_task_definitions,
    "ListTaskDefinitionFamilies": list_task_definition_families,
    "CreateService": create_service,
    "UpdateService": update_service,
    "DescribeServices": describe_services,
    "ListServices": list_services,
    "DeleteService": delete_service,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}


def handle(ctx, request):
    op = request.operation
    fn = OPERATIONS.get(op)
    if fn is None:
        raise AwsError("InvalidAction", f"The action {op} is not valid for this web service.")
    body = request.body if isinstance(request.body, dict) else {}
    # Every operation may move deployments along the clock, so all of them save.
    with _store(ctx).update() as data:
        return fn(ctx, body, data)


# ---------------------------------------------------------------------------------------
# Seed

SEED_CLUSTER = "legocity-cluster"
SEED_SUBNETS = ["subnet-0a1b2c3d4e5f60701", "subnet-0a1b2c3d4e5f60702"]
SEED_SG = "sg-0c0ffee0b40ce7001"


def _ssm_arn(ctx, env, name):
    return f"arn:aws:ssm:{ctx.region}:{ctx.account_id}:parameter/legocity/{env}/{name}"


def _log(ctx, svc):
    return {"logDriver": "awslogs",
            "options": {"awslogs-group": f"/ecs/legocity/{svc}", "awslogs-region": ctx.region,
                        "awslogs-stream-prefix": svc}}


def _seed_services(ctx, env="prod"):
    """(service name, desiredCount, task definition body) for the five LegoCity services."""
    acct = ctx.account_id
    exec_role = f"arn:aws:iam::{acct}:role/legocity-ecs-execution"

    def td(svc, cpu, mem, containers, task_role=True):
        body = {"family": f"legocity-{svc}", "networkMode": "awsvpc",
                "requiresCompatibilities": ["FARGATE"], "cpu": str(cpu), "memory": str(mem),
                "executionRoleArn": exec_role, "containerDefinitions": containers,
                "runtimePlatform": {"cpuArchitecture": "X86_64",
                                   "operatingSystemFamily": "LINUX"},
                "tags": [{"key": "Project", "value": "legocity"},
                         {"key": "Environment", "value": env},
                         {"key": "lcbackup:target", "value": "ecs"}]}
        if task_role:
            body["taskRoleArn"] = f"arn:aws:iam::{acct}:role/legocity-{svc}-task"
        return body

    broker = td("broker", 1024, 2048, [{
        "name": "orion-ld", "image": "quay.io/fiware/orion-ld:1.5.1", "essential": True,
        "portMappings": [{"containerPort": 1026, "protocol": "tcp", "name": "ngsi-ld"}],
        "command": ["-dbhost", "mongo.legocity.internal", "-logLevel", "WARN",
                    "-forwarding", "-experimental"],
        "environment": [{"name": "ORIONLD_MONGO_DB", "value": "orionld"},
                        {"name": "ORIONLD_MULTI_SERVICE", "value": "TRUE"},
                        {"name": "ORIONLD_DISABLE_FILE_LOG", "value": "TRUE"}],
        "secrets": [{"name": "BROKER_WRITE_KEY",
                     "valueFrom": _ssm_arn(ctx, env, "broker/write-key/env")}],
        "healthCheck": {"command": ["CMD-SHELL", "curl -fs http://localhost:1026/version "
                                    "|| exit 1"], "interval": 30, "timeout": 5, "retries": 3,
                        "startPeriod": 20},
        "ulimits": [{"name": "nofile", "softLimit": 65536, "hardLimit": 65536}],
        "logConfiguration": _log(ctx, "broker")}])
    payload = td("payload", 512, 1024, [{
        "name": "payload", "image": f"{acct}.dkr.ecr.{ctx.region}.amazonaws.com/"
        "legocity/payload-cms:2.3.0", "essential": True,
        "portMappings": [{"containerPort": 3000, "protocol": "tcp"}],
        "environment": [{"name": "NODE_ENV", "value": "production"},
                        {"name": "PAYLOAD_PUBLIC_SERVER_URL",
                         "value": f"https://cms.{env}.legocity.example"}],
        "secrets": [{"name": "DATABASE_URI", "valueFrom": _ssm_arn(ctx, env, "payload/db-url")},
                    {"name": "PAYLOAD_SECRET",
                     "valueFrom": _ssm_arn(ctx, env, "payload/secret")}],
        "logConfiguration": _log(ctx, "payload")}])
    proxy = td("proxy", 256, 512, [{
        "name": "nginx", "image": "public.ecr.aws/nginx/nginx:1.25-alpine", "essential": True,
        "portMappings": [{"containerPort": 80, "protocol": "tcp"},
                         {"containerPort": 443, "protocol": "tcp"}],
        "environment": [{"name": "UPSTREAM_BROKER", "value": "broker.legocity.internal:1026"},
                        {"name": "UPSTREAM_CMS", "value": "payload.legocity.internal:3000"}],
        "readonlyRootFilesystem": False,
        "logConfiguration": _log(ctx, "proxy")}], task_role=False)
    dashboard = td("dashboard", 256, 512, [{
        "name": "dashboard", "image": f"{acct}.dkr.ecr.{ctx.region}.amazonaws.com/"
        "legocity/dashboard:1.8.2", "essential": True,
        "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
        "environment": [{"name": "BROKER_URL", "value": "http://broker.legocity.internal:1026"},
                        {"name": "MAP_CONFIG_PARAM", "value": f"/legocity/{env}/dashboard/config"}],
        "logConfiguration": _log(ctx, "dashboard")}])
    update_env = td("update-env", 256, 512, [{
        "name": "update-env", "image": f"{acct}.dkr.ecr.{ctx.region}.amazonaws.com/"
        "legocity/update-env:0.9.4", "essential": True,
        "environment": [{"name": "BROKER_URL", "value": "http://broker.legocity.internal:1026"},
                        {"name": "STATIONS_PARAM",
                         "value": f"/legocity/{env}/external/weather/stations"}],
        "secrets": [{"name": "WEATHER_API_KEY",
                     "valueFrom": _ssm_arn(ctx, env, "external/weather/api-key")},
                    {"name": "BROKER_WRITE_KEY",
                     "valueFrom": _ssm_arn(ctx, env, "broker/write-key/env")}],
        "logConfiguration": _log(ctx, "update-env")}])
    return [("broker", 1, broker), ("payload", 2, payload), ("proxy", 2, proxy),
            ("dashboard", 1, dashboard), ("update-env", 1, update_env)]


def seed(ctx, name="legocity", sizes=None):
    """Cluster legocity-cluster with the five LegoCity Fargate services; the broker's family
    has an older INACTIVE revision and the payload's an older ACTIVE one."""
    if name != "legocity":
        return
    with _store(ctx).update() as data:
        if data["clusters"].get(SEED_CLUSTER, {}).get("status") == "ACTIVE":
            return
        create_cluster(ctx, {"clusterName": SEED_CLUSTER,
                             "settings": [{"name": "containerInsights", "value": "enabled"}],
                             "capacityProviders": ["FARGATE", "FARGATE_SPOT"],
                             "tags": [{"key": "Project", "value": "legocity"}]}, data)
        net = {"awsvpcConfiguration": {"subnets": SEED_SUBNETS, "securityGroups": [SEED_SG],
                                       "assignPublicIp": "DISABLED"}}
        for svc, count, body in _seed_services(ctx):
            if svc == "broker":
                old = copy.deepcopy(body)
                old["containerDefinitions"][0]["image"] = "quay.io/fiware/orion-ld:1.4.0"
                first = register_task_definition(ctx, old, data)["taskDefinition"]
                deregister_task_definition(ctx, {"taskDefinition": first["taskDefinitionArn"]},
                                           data)
            if svc == "payload":
                old = copy.deepcopy(body)
                old["containerDefinitions"][0]["image"] = old["containerDefinitions"][0][
                    "image"].replace("2.3.0", "2.2.7")
                register_task_definition(ctx, old, data)
            tdarn = register_task_definition(ctx, body, data)["taskDefinition"][
                "taskDefinitionArn"]
            create_service(ctx, {
                "cluster": SEED_CLUSTER, "serviceName": svc, "taskDefinition": tdarn,
                "desiredCount": count, "launchType": "FARGATE", "platformVersion": "LATEST",
                "networkConfiguration": net, "enableExecuteCommand": svc != "proxy",
                "propagateTags": "SERVICE", "enableECSManagedTags": True,
                "deploymentConfiguration": {
                    "deploymentCircuitBreaker": {"enable": True, "rollback": True},
                    "maximumPercent": 200, "minimumHealthyPercent": 100},
                "tags": [{"key": "Project", "value": "legocity"},
                         {"key": "Service", "value": svc}]}, data)


def control(ctx, method, path, body):
    """Control hooks under /ecs/...: POST /ecs/seed seeds this module alone."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    if parts == ["ecs", "seed"] and method == "POST":
        seed(ctx, (body or {}).get("name", "legocity"), (body or {}).get("sizes"))
        return 200, {"seeded": "ecs", "region": ctx.region}
    return 404, {"error": f"no such ecs hook: {method} {path}"}
