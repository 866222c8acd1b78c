"""CloudWatch metrics and alarms (Query protocol, Version 2010-08-01; SigV4 service and
endpoint prefix "monitoring", so simlib/monitoring.py routes here).

Operations: PutMetricAlarm, DescribeAlarms (AlarmNames | AlarmNamePrefix, StateValue,
ActionPrefix, AlarmTypes, MaxRecords 1..100 default 50, NextToken), DeleteAlarms (all or
nothing: an unknown name is ResourceNotFound and deletes none), SetAlarmState, PutMetricData.

Facts from botocore's cloudwatch/2010-08-01 model: lists are "X.member.N" (AlarmActions,
Dimensions.member.N.Name/.Value, Tags.member.N.Key/.Value, MetricData.member.N...); error codes
are ValidationError, MissingParameter, InvalidParameterValue, InvalidParameterCombination,
ResourceNotFound (404), InvalidNextToken, LimitExceeded.  Checked like CloudWatch: Period 10,
30 or a multiple of 60; EvaluationPeriods x Period at most 7 days; DatapointsToAlarm at most
EvaluationPeriods; Statistic xor ExtendedStatistic; the enums (ComparisonOperator, Statistic,
Unit, TreatMissingData); at most 5 actions of each kind, each an ARN; namespaces "AWS/..."
refused for PutMetricData.

Only the Query protocol is spoken: newer SDKs that default to smithy-rpc-v2-cbor are answered
InvalidAction (pass them the query protocol, or use /usr/bin/aws).

Alarms are evaluated when data arrives (PutMetricData) and on POST /monitoring/evaluate: the
last EvaluationPeriods periods up to world time, each reduced with the Statistic; a period
without data is treated as TreatMissingData says (missing: INSUFFICIENT_DATA when every
period is empty).  A state change runs the alarm's actions when ActionsEnabled: SNS topics of
the same region get CloudWatch's JSON message through simlib.sns.publish_from.

Control: GET /monitoring/metrics?region=&namespace= (stored data points),
POST /monitoring/evaluate {"region"} (evaluate every alarm now).
"""

import json
import math

from .core import AwsError, JsonStore, iso8601, parse_iso8601, xml_escape

COMPARISONS = {
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "GreaterThanThreshold": lambda v, t: v > t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}
BAND_COMPARISONS = ("LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold",
                    "GreaterThanUpperThreshold")
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
UNITS = ("Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
         "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
         "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
         "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
         "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None")
MISSING = ("breaching", "notBreaching", "ignore", "missing")
STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
REGION_NAMES = {"eu-west-1": "EU (Ireland)", "eu-central-1": "EU (Frankfurt)",
                "us-east-1": "US East (N. Virginia)"}
MAX_POINTS = 20000


def _store(ctx):
    return JsonStore(ctx.region_dir / "cloudwatch.json",
                     default={"alarms": {}, "points": []})


def _validation(msg):
    return AwsError("ValidationError", msg)


def _missing(name):
    return AwsError("MissingParameter", f"The parameter {name} is required.")


def _members(params, prefix):
    out, i = [], 1
    while f"{prefix}.member.{i}" in params:
        out.append(params[f"{prefix}.member.{i}"])
        i += 1
    return out


def _pairs(params, prefix, k="Name", v="Value"):
    out, i = [], 1
    while f"{prefix}.member.{i}.{k}" in params:
        out.append({k: params[f"{prefix}.member.{i}.{k}"],
                    v: params.get(f"{prefix}.member.{i}.{v}", "")})
        i += 1
    return out


def _int(params, name, lo=None):
    raw = params.get(name)
    if raw is None:
        return None
    try:
        v = int(raw)
    except ValueError:
        raise AwsError("InvalidParameterValue", f"The parameter {name} must be an integer.")
    if lo is not None and v < lo:
        raise _validation(f"1 validation error detected: Value '{v}' at '{name[0].lower()}"
                          f"{name[1:]}' failed to satisfy constraint: Member must have value "
                          f"greater than or equal to {lo}")
    return v


def _float(params, name):
    raw = params.get(name)
    if raw is None:
        return None
    try:
        v = float(raw)
    except ValueError:
        raise AwsError("InvalidParameterValue", f"The parameter {name} must be a number.")
    if math.isnan(v) or math.isinf(v):
        raise AwsError("InvalidParameterValue", f"The value {raw} for parameter {name} is "
                       "invalid.")
    return v


def _actions(params, name):
    acts = _members(params, name)
    if len(acts) > 5:
        raise _validation(f"The collection {name} must not have a size greater than 5.")
    for a in acts:
        if not a.startswith("arn:"):
            raise _validation(f"Invalid arn syntax: {a}")
    return acts


def _check_period(period, evals, dta):
    if period is None:
        raise _missing("Period")
    if period not in (10, 30) and period % 60 != 0:
        raise _validation("The parameter Period must be 10, 30 or a multiple of 60.")
    if period * evals > 7 * 86400:
        raise _validation("The evaluation period of an alarm (EvaluationPeriods x Period) "
                          "must not exceed 7 days.")
    if dta is not None and dta > evals:
        raise _validation("DatapointsToAlarm must be less than or equal to EvaluationPeriods.")


def put_metric_alarm(ctx, p, data):
    name = p.get("AlarmName")
    if not name:
        raise _missing("AlarmName")
    if len(name) > 255:
        raise _validation("The parameter AlarmName must be at most 255 characters.")
    evals = _int(p, "EvaluationPeriods", 1)
    if evals is None:
        raise _missing("EvaluationPeriods")
    op = p.get("ComparisonOperator")
    if not op:
        raise _missing("ComparisonOperator")
    if op not in COMPARISONS and op not in BAND_COMPARISONS:
        raise _validation(f"Invalid value {op} for ComparisonOperator.")
    if op in BAND_COMPARISONS:
        raise _validation("lcsim models static thresholds only (no anomaly detection bands).")
    if p.get("Metrics.member.1.Id"):
        raise _validation("lcsim does not model metric-math alarms.")
    if not p.get("MetricName") or not p.get("Namespace"):
        raise _missing("MetricName" if not p.get("MetricName") else "Namespace")
    stat, ext = p.get("Statistic"), p.get("ExtendedStatistic")
    if bool(stat) == bool(ext):
        raise AwsError("InvalidParameterCombination", "Exactly one of Statistic and "
                       "ExtendedStatistic must be specified.")
    if stat and stat not in STATISTICS:
        raise _validation(f"Invalid value {stat} for Statistic.")
    period, dta = _int(p, "Period", 1), _int(p, "DatapointsToAlarm", 1)
    _check_period(period, evals, dta)
    threshold = _float(p, "Threshold")
    if threshold is None:
        raise _missing("Threshold")
    unit = p.get("Unit")
    if unit and unit not in UNITS:
        raise _validation(f"Invalid value {unit} for Unit.")
    tmd = p.get("TreatMissingData") or "missing"
    if tmd not in MISSING:
        raise _validation("TreatMissingData must be one of breaching, notBreaching, ignore, "
                          "missing.")
    dims = _pairs(p, "Dimensions")
    if len(dims) > 30:
        raise _validation("At most 30 dimensions.")
    now = ctx.now()
    old = data["alarms"].get(name)
    a = {
        "AlarmName": name,
        "AlarmArn": f"arn:aws:cloudwatch:{ctx.region}:{ctx.account_id}:alarm:{name}",
        "AlarmDescription": p.get("AlarmDescription"),
        "AlarmConfigurationUpdatedTimestamp": now,
        "ActionsEnabled": p.get("ActionsEnabled", "true") != "false",
        "OKActions": _actions(p, "OKActions"),
        "AlarmActions": _actions(p, "AlarmActions"),
        "InsufficientDataActions": _actions(p, "InsufficientDataActions"),
        "StateValue": old["StateValue"] if old else "INSUFFICIENT_DATA",
        "StateReason": old["StateReason"] if old else "Unchecked: Initial alarm creation",
        "StateUpdatedTimestamp": old["StateUpdatedTimestamp"] if old else now,
        "MetricName": p["MetricName"], "Namespace": p["Namespace"],
        "Statistic": stat, "ExtendedStatistic": ext, "Dimensions": dims, "Period": period,
        "Unit": unit, "EvaluationPeriods": evals, "DatapointsToAlarm": dta,
        "Threshold": threshold, "ComparisonOperator": op, "TreatMissingData": tmd,
        "Tags": _pairs(p, "Tags", "Key", "Value") or (old or {}).get("Tags", []),
    }
    if len(data["alarms"]) >= 5000 and not old:
        raise AwsError("LimitExceeded", "The maximum number of alarms has been reached.")
    data["alarms"][name] = a
    return ""


def _xml_list(items):
    return "".join(f"<member>{xml_escape(x)}</member>" for x in items)


def _alarm_xml(a):
    out = [f"<AlarmName>{xml_escape(a['AlarmName'])}</AlarmName>",
           f"<AlarmArn>{xml_escape(a['AlarmArn'])}</AlarmArn>"]
    if a.get("AlarmDescription") is not None:
        out.append(f"<AlarmDescription>{xml_escape(a['AlarmDescription'])}</AlarmDescription>")
    out.append("<AlarmConfigurationUpdatedTimestamp>"
               f"{iso8601(a['AlarmConfigurationUpdatedTimestamp'])}"
               "</AlarmConfigurationUpdatedTimestamp>")
    out.append(f"<ActionsEnabled>{'true' if a['ActionsEnabled'] else 'false'}</ActionsEnabled>")
    for k in ("OKActions", "AlarmActions", "InsufficientDataActions"):
        out.append(f"<{k}>{_xml_list(a[k])}</{k}>")
    out += [f"<StateValue>{a['StateValue']}</StateValue>",
            f"<StateReason>{xml_escape(a['StateReason'])}</StateReason>",
            f"<StateUpdatedTimestamp>{iso8601(a['StateUpdatedTimestamp'])}"
            "</StateUpdatedTimestamp>",
            f"<MetricName>{xml_escape(a['MetricName'])}</MetricName>",
            f"<Namespace>{xml_escape(a['Namespace'])}</Namespace>"]
    if a.get("Statistic"):
        out.append(f"<Statistic>{a['Statistic']}</Statistic>")
    if a.get("ExtendedStatistic"):
        out.append(f"<ExtendedStatistic>{xml_escape(a['ExtendedStatistic'])}"
                   "</ExtendedStatistic>")
    out.append("<Dimensions>" + "".join(
        f"<member><Name>{xml_escape(d['Name'])}</Name><Value>{xml_escape(d['Value'])}</Value>"
        "</member>" for d in a["Dimensions"]) + "</Dimensions>")
    out.append(f"<Period>{a['Period']}</Period>")
    if a.get("Unit"):
        out.append(f"<Unit>{a['Unit']}</Unit>")
    out.append(f"<EvaluationPeriods>{a['EvaluationPeriods']}</EvaluationPeriods>")
    if a.get("DatapointsToAlarm"):
        out.append(f"<DatapointsToAlarm>{a['DatapointsToAlarm']}</DatapointsToAlarm>")
    out += [f"<Threshold>{a['Threshold']!r}</Threshold>",
            f"<ComparisonOperator>{a['ComparisonOperator']}</ComparisonOperator>",
            f"<TreatMissingData>{a['TreatMissingData']}</TreatMissingData>"]
    return "<member>" + "".join(out) + "</member>"


def describe_alarms(ctx, p, data):
    names = _members(p, "AlarmNames")
    prefix = p.get("AlarmNamePrefix")
    if names and prefix:
        raise AwsError("InvalidParameterCombination", "AlarmNames and AlarmNamePrefix can't be "
                       "used together.")
    if len(names) > 100:
        raise _validation("At most 100 AlarmNames.")
    state = p.get("StateValue")
    if state and state not in STATES:
        raise _validation(f"Invalid value {state} for StateValue.")
    limit = _int(p, "MaxRecords", 1) or 50
    if limit > 100:
        raise _validation("MaxRecords must be at most 100.")
    types = _members(p, "AlarmTypes")
    rows = sorted(data["alarms"].values(), key=lambda a: a["AlarmName"])
    if types and "MetricAlarm" not in types:
        rows = []
    if names:
        rows = [a for a in rows if a["AlarmName"] in names]
    if prefix:
        rows = [a for a in rows if a["AlarmName"].startswith(prefix)]
    if state:
        rows = [a for a in rows if a["StateValue"] == state]
    if p.get("ActionPrefix"):
        ap = p["ActionPrefix"]
        rows = [a for a in rows if any(x.startswith(ap) for k in
                                       ("OKActions", "AlarmActions", "InsufficientDataActions")
                                       for x in a[k])]
    start = 0
    if p.get("NextToken"):
        try:
            start = int(p["NextToken"])
        except ValueError:
            raise AwsError("InvalidNextToken", "The service returned an invalid NextToken.")
    page = rows[start:start + limit]
    out = "<MetricAlarms>" + "".join(_alarm_xml(a) for a in page) + "</MetricAlarms>"
    out += "<CompositeAlarms></CompositeAlarms>"
    if start + limit < len(rows):
        out += f"<NextToken>{start + limit}</NextToken>"
    return out


def delete_alarms(ctx, p, data):
    names = _members(p, "AlarmNames")
    if not names:
        raise _missing("AlarmNames")
    if len(names) > 100:
        raise _validation("At most 100 AlarmNames.")
    unknown = [n for n in names if n not in data["alarms"]]
    if unknown:
        raise AwsError("ResourceNotFound", f"{len(unknown)}/{len(names)} alarms not found: "
                       f"{', '.join(unknown)}", 404)
    for n in names:
        del data["alarms"][n]
    return ""


def _set_state(ctx, a, state, reason, data_json=None):
    if a["StateValue"] == state:
        return
    old = a["StateValue"]
    now = ctx.now()
    a.update(StateValue=state, StateReason=reason, StateUpdatedTimestamp=now)
    if not a["ActionsEnabled"]:
        return
    acts = {"ALARM": "AlarmActions", "OK": "OKActions",
            "INSUFFICIENT_DATA": "InsufficientDataActions"}[state]
    region_name = REGION_NAMES.get(ctx.region, ctx.region)
    msg = json.dumps({
        "AlarmName": a["AlarmName"], "AlarmDescription": a.get("AlarmDescription"),
        "AWSAccountId": ctx.account_id, "NewStateValue": state, "NewStateReason": reason,
        "StateChangeTime": iso8601(now), "Region": region_name, "AlarmArn": a["AlarmArn"],
        "OldStateValue": old,
        "Trigger": {"MetricName": a["MetricName"], "Namespace": a["Namespace"],
                    "Statistic": (a.get("Statistic") or "").upper(),
                    "Dimensions": [{"name": d["Name"], "value": d["Value"]}
                                   for d in a["Dimensions"]],
                    "Period": a["Period"], "EvaluationPeriods": a["EvaluationPeriods"],
                    "ComparisonOperator": a["ComparisonOperator"],
                    "Threshold": a["Threshold"],
                    "TreatMissingData": a["TreatMissingData"]}})
    subject = f'{state}: "{a["AlarmName"]}" in {region_name}'
    from . import sns
    for arn in a[acts]:
        if arn.startswith(f"arn:aws:sns:{ctx.region}:"):
            sns.publish_from(ctx.world, ctx.region, arn, subject, msg)


def set_alarm_state(ctx, p, data):
    name = p.get("AlarmName")
    a = data["alarms"].get(name or "")
    if a is None:
        raise AwsError("ResourceNotFound", f"Alarm {name} not found", 404)
    state = p.get("StateValue")
    if state not in STATES:
        raise _validation(f"Invalid value {state} for StateValue.")
    if not p.get("StateReason"):
        raise _missing("StateReason")
    _set_state(ctx, a, state, p["StateReason"])
    return ""


def _datum(p, i, namespace, now):
    pre = f"MetricData.member.{i}"
    name = p.get(f"{pre}.MetricName")
    if not name:
        raise _missing(f"{pre}.MetricName")
    unit = p.get(f"{pre}.Unit")
    if unit and unit not in UNITS:
        raise _validation(f"Invalid value {unit} for Unit.")
    ts = p.get(f"{pre}.Timestamp")
    try:
        t = parse_iso8601(ts) if ts else now
    except ValueError:
        raise AwsError("InvalidParameterValue", f"The timestamp {ts} is not valid.")
    values = []
    if p.get(f"{pre}.Value") is not None:
        values.append(_float(p, f"{pre}.Value"))
    j = 1
    while p.get(f"{pre}.Values.member.{j}") is not None:
        values.append(_float(p, f"{pre}.Values.member.{j}"))
        j += 1
    if not values:
        raise AwsError("InvalidParameterCombination", f"The parameters {pre}.Value and "
                       f"{pre}.StatisticValues are mutually exclusive and you must specify "
                       "one of them.")
    return [{"Namespace": namespace, "MetricName": name, "Unit": unit, "Timestamp": t,
             "Dimensions": _pairs(p, f"{pre}.Dimensions"), "Value": v} for v in values]


def put_metric_data(ctx, p, data):
    ns = p.get("Namespace")
    if not ns:
        raise _missing("Namespace")
    if ns.startswith("AWS/"):
        raise AwsError("InvalidParameterValue", "The value AWS/ for parameter Namespace is "
                       "invalid.")
    if "MetricData.member.1.MetricName" not in p:
        raise _missing("MetricData")
    now, i, points = ctx.now(), 1, []
    while f"MetricData.member.{i}.MetricName" in p:
        points += _datum(p, i, ns, now)
        i += 1
    if i - 1 > 1000:
        raise _validation("At most 1000 MetricData items per call.")
    data["points"] += points
    del data["points"][:-MAX_POINTS]
    _evaluate(ctx, data, ns)
    return ""


def _dims_key(dims):
    return sorted((d["Name"], d["Value"]) for d in dims)


def _reduce(stat, vals):
    if stat == "SampleCount":
        return float(len(vals))
    if stat == "Sum":
        return sum(vals)
    if stat == "Minimum":
        return min(vals)
    if stat == "Maximum":
        return max(vals)
    return sum(vals) / len(vals)


def _evaluate_alarm(ctx, a, points, now):
    period, n = a["Period"], a["EvaluationPeriods"]
    m = a.get("DatapointsToAlarm") or n
    want = _dims_key(a["Dimensions"])
    mine = [x for x in points if x["Namespace"] == a["Namespace"]
            and x["MetricName"] == a["MetricName"] and _dims_key(x["Dimensions"]) == want]
    cmp = COMPARISONS[a["ComparisonOperator"]]
    end = now
    breaching = missing = 0
    latest = None
    for k in range(n):
        lo, hi = end - (k + 1) * period, end - k * period
        vals = [x["Value"] for x in mine if lo < x["Timestamp"] <= hi]
        if not vals:
            missing += 1
            if a["TreatMissingData"] == "breaching":
                breaching += 1
            continue
        v = _reduce(a.get("Statistic") or "Average", vals)
        latest = v if latest is None else latest
        if cmp(v, a["Threshold"]):
            breaching += 1
    tmd = a["TreatMissingData"]
    if missing == n and tmd == "missing":
        return "INSUFFICIENT_DATA", "Insufficient Data: no datapoints were received for " \
            f"{n} period(s)."
    if missing == n and tmd == "ignore":
        return None, None
    state = "ALARM" if breaching >= m else "OK"
    shown = "no datapoint" if latest is None else f"[{latest!r}]"
    verb = "" if state == "ALARM" else "not "
    return state, (f"Threshold Crossed: {breaching} out of the last {n} datapoints "
                   f"({shown}) {verb}{a['ComparisonOperator']} the threshold "
                   f"({a['Threshold']!r}).")


def _evaluate(ctx, data, namespace=None):
    now = ctx.now()
    for a in data["alarms"].values():
        if namespace and a["Namespace"] != namespace:
            continue
        state, reason = _evaluate_alarm(ctx, a, data["points"], now)
        if state:
            _set_state(ctx, a, state, reason)


OPERATIONS = {
    "PutMetricAlarm": put_metric_alarm,
    "DescribeAlarms": describe_alarms,
    "DeleteAlarms": delete_alarms,
    "SetAlarmState": set_alarm_state,
    "PutMetricData": put_metric_data,
}


def handle(ctx, request):
    if request.operation is None:
        raise AwsError("InvalidAction", "lcsim cloudwatch speaks the Query protocol only "
                       "(form-encoded Action=...; what botocore 1.29 and lcbackup send), not "
                       f"{request.headers.get('Content-Type') or 'this request'}")
    fn = OPERATIONS.get(request.operation)
    if fn is None:
        raise AwsError("InvalidAction", f"lcsim cloudwatch does not implement "
                       f"{request.operation}")
    with _store(ctx).update() as data:
        return fn(ctx, request.params, data)


def control(ctx, method, path, body):
    """GET /monitoring/metrics?region=&namespace=, POST /monitoring/evaluate."""
    from urllib.parse import parse_qs, urlsplit
    split = urlsplit(path)
    parts = [x for x in split.path.split("/") if x][1:]
    q = {k: v[-1] for k, v in parse_qs(split.query).items()}
    if parts == ["metrics"] and method == "GET":
        pts = _store(ctx).read()["points"]
        if q.get("namespace"):
            pts = [x for x in pts if x["Namespace"] == q["namespace"]]
        return 200, {"points": pts}
    if parts == ["evaluate"] and method == "POST":
        with _store(ctx).update() as data:
            _evaluate(ctx, data)
            return 200, {"alarms": {n: a["StateValue"] for n, a in data["alarms"].items()}}
    return 404, {"error": f"no cloudwatch control route {method} {path}"}
