"""SNS (Query protocol, Version 2010-03-31): CreateTopic, DeleteTopic, ListTopics,
GetTopicAttributes, Publish.

Facts from botocore's sns/2010-03-31 model: error codes are InvalidParameter (400),
NotFound (404), ... (not the shape names); maps are sent as Attributes.entry.N.key/.value and
MessageAttributes.entry.N.Name/.Value.DataType/.Value.StringValue; ListTopics pages hold 100
topics.  CreateTopic is idempotent for the same name (and attributes).  Publish checks what
SNS checks: a topic (TopicArn or TargetArn) that exists in the signing region, a non-empty
Message of at most 256 KiB, and a Subject of at most 100 printable ASCII characters without
line breaks.

Nothing is delivered anywhere: every published message is recorded (per region, in
ctx.region_dir/sns.json) for tests to read through the control API:
  GET /sns/messages?region=&topic=<arn>   {"messages": [{MessageId, TopicArn, Subject,
                                            Message, MessageAttributes, Timestamp}]}
  DELETE /sns/messages?region=            forget them
  GET /sns/topics?region=                 topics with their attributes
Other modules publish with simlib.sns.publish(world, region, topic_arn, subject, message)
(CloudWatch alarm actions do).

Seed (legocity): the topics legocity-backup-alerts and legocity-oncall (policies/prod.json's)
in eu-west-1.
"""

import json
import re
import uuid

from .core import AwsError, JsonStore, xml_escape, xml_elems

NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
MAX_MESSAGE = 262144
PAGE = 100


def _store_for(world, region):
    return JsonStore(world.service_dir("sns") / region / "sns.json",
                     default={"topics": {}, "messages": []})


def _store(ctx):
    return _store_for(ctx.world, ctx.region)


def _invalid(what, reason=None):
    msg = f"Invalid parameter: {what}"
    if reason:
        msg += f" Reason: {reason}"
    return AwsError("InvalidParameter", msg)


def _map(params, prefix, key="key", value="value"):
    out, i = {}, 1
    while f"{prefix}.entry.{i}.{key}" in params:
        out[params[f"{prefix}.entry.{i}.{key}"]] = params.get(f"{prefix}.entry.{i}.{value}", "")
        i += 1
    return out


def _members(params, prefix):
    out, i = [], 1
    while f"{prefix}.member.{i}.Key" in params:
        out.append({"Key": params[f"{prefix}.member.{i}.Key"],
                    "Value": params.get(f"{prefix}.member.{i}.Value", "")})
        i += 1
    return out


def _topic_arn(ctx, name):
    return f"arn:aws:sns:{ctx.region}:{ctx.account_id}:{name}"


def create_topic(ctx, params, data):
    name = params.get("Name")
    if not name or not NAME_RE.match(name):
        raise _invalid("Topic Name")
    attrs = _map(params, "Attributes")
    fifo = attrs.get("FifoTopic") == "true"
    if fifo != name.endswith(".fifo") and fifo:
        raise _invalid("Topic Name", "Fifo Topic names must end with .fifo")
    arn = _topic_arn(ctx, name)
    t = data["topics"].get(arn)
    if t is None:
        t = {"arn": arn, "name": name, "attributes": attrs, "tags": _members(params, "Tags"),
             "created": ctx.now()}
        data["topics"][arn] = t
    elif attrs and any(t["attributes"].get(k) != v for k, v in attrs.items()):
        raise _invalid("Attributes", "Topic already exists with different attributes")
    return xml_elems([("TopicArn", arn)])


def delete_topic(ctx, params, data):
    arn = params.get("TopicArn")
    if not arn:
        raise _invalid("TopicArn")
    data["topics"].pop(arn, None)       # SNS answers success for a topic already gone
    return ""


def _find(ctx, data, arn):
    if not arn or not arn.startswith("arn:aws:sns:"):
        raise _invalid("TopicArn")
    t = data["topics"].get(arn)
    if t is None:
        raise AwsError("NotFound", "Topic does not exist", 404)
    return t


def get_topic_attributes(ctx, params, data):
    t = _find(ctx, data, params.get("TopicArn"))
    sent = sum(1 for m in data["messages"] if m["TopicArn"] == t["arn"])
    attrs = dict(t["attributes"], TopicArn=t["arn"], Owner=ctx.account_id,
                 DisplayName=t["attributes"].get("DisplayName", ""),
                 SubscriptionsConfirmed="0", SubscriptionsPending="0",
                 SubscriptionsDeleted="0", EffectiveDeliveryPolicy="{}",
                 Policy="{}", MessagesPublished=str(sent))
    entries = "".join(f"<entry><key>{xml_escape(k)}</key><value>{xml_escape(v)}</value></entry>"
                      for k, v in sorted(attrs.items()))
    return f"<Attributes>{entries}</Attributes>"


def list_topics(ctx, params, data):
    arns = sorted(data["topics"])
    start = 0
    token = params.get("NextToken")
    if token:
        try:
            start = int(token)
        except ValueError:
            raise _invalid("NextToken")
    page = arns[start:start + PAGE]
    out = "<Topics>" + "".join(f"<member><TopicArn>{xml_escape(a)}</TopicArn></member>"
                               for a in page) + "</Topics>"
    if start + PAGE < len(arns):
        out += f"<NextToken>{start + PAGE}</NextToken>"
    return out


def _check_subject(subject):
    if subject is None:
        return
    if subject == "" or len(subject) > 100 or not all(32 <= ord(c) < 127 for c in subject):
        raise _invalid("Subject")


def _message_attributes(params):
    out, i = {}, 1
    p = "MessageAttributes.entry"
    while f"{p}.{i}.Name" in params:
        dt = params.get(f"{p}.{i}.Value.DataType")
        if not dt:
            raise _invalid("MessageAttributes", "The message attribute "
                           f"'{params[f'{p}.{i}.Name']}' must contain non-empty message "
                           "attribute type")
        out[params[f"{p}.{i}.Name"]] = {"DataType": dt,
                                        "StringValue": params.get(f"{p}.{i}.Value.StringValue")}
        i += 1
    return out


def _record(data, ctx_now, arn, subject, message, attrs):
    mid = str(uuid.uuid4())
    data["messages"].append({"MessageId": mid, "TopicArn": arn, "Subject": subject,
                             "Message": message, "MessageAttributes": attrs,
                             "Timestamp": ctx_now})
    del data["messages"][:-1000]
    return mid


def publish(ctx, params, data):
    arn = params.get("TopicArn") or params.get("TargetArn")
    if params.get("PhoneNumber") and not arn:
        raise _invalid("PhoneNumber", "lcsim does not send SMS")
    if not arn:
        raise _invalid("TopicArn or TargetArn", "no value for required parameter")
    message = params.get("Message")
    if message is None or message == "":
        raise _invalid("Message", "Empty message")
    if len(message.encode("utf-8")) > MAX_MESSAGE:
        raise _invalid("Message too long")
    if params.get("MessageStructure") not in (None, "json"):
        raise _invalid("MessageStructure")
    if params.get("MessageStructure") == "json":
        try:
            m = json.loads(message)
            if not isinstance(m, dict) or "default" not in m:
                raise ValueError
        except ValueError:
            raise _invalid("Message", "When specifying MessageStructure as json, the message "
                           "must be a JSON object with a default key")
    _check_subject(params.get("Subject"))
    t = _find(ctx, data, arn)
    mid = _record(data, ctx.now(), t["arn"], params.get("Subject"), message,
                  _message_attributes(params))
    return xml_elems([("MessageId", mid)])


def publish_from(world, region, arn, subject, message):
    """For other modules (CloudWatch alarm actions): record a message on an existing topic;
    returns its id, or None when the topic does not exist."""
    with _store_for(world, region).update() as data:
        if arn not in data["topics"]:
            return None
        return _record(data, world.now(), arn, subject[:100] if subject else None, message, {})


OPERATIONS = {
    "CreateTopic": create_topic,
    "DeleteTopic": delete_topic,
    "GetTopicAttributes": get_topic_attributes,
    "ListTopics": list_topics,
    "Publish": publish,
}


def handle(ctx, request):
    fn = OPERATIONS.get(request.operation)
    if fn is None:
        raise AwsError("InvalidAction", f"lcsim sns does not implement {request.operation}")
    with _store(ctx).update() as data:
        return fn(ctx, request.params, data)


def seed(ctx, name="legocity", sizes=None):
    if name != "legocity":
        return
    with _store(ctx).update() as data:
        create_topic(ctx, {"Name": "legocity-backup-alerts",
                           "Attributes.entry.1.key": "DisplayName",
                           "Attributes.entry.1.value": "LegoCity backups",
                           "Tags.member.1.Key": "Project", "Tags.member.1.Value": "legocity"},
                     data)
        create_topic(ctx, {"Name": "legocity-oncall"}, data)


def control(ctx, method, path, body):
    """GET/DELETE /sns/messages?region=&topic=, GET /sns/topics?region=."""
    from urllib.parse import parse_qs, urlsplit
    split = urlsplit(path)
    parts = [x for x in split.path.split("/") if x][1:]
    q = {k: v[-1] for k, v in parse_qs(split.query).items()}
    store = _store(ctx)
    if parts == ["messages"] and method == "GET":
        msgs = store.read()["messages"]
        if q.get("topic"):
            msgs = [m for m in msgs if m["TopicArn"] == q["topic"]]
        return 200, {"messages": msgs}
    if parts == ["messages"] and method == "DELETE":
        with store.update() as data:
            data["messages"] = []
        return 200, {"messages": []}
    if parts == ["topics"] and method == "GET":
        return 200, {"topics": list(store.read()["topics"].values())}
    return 404, {"error": f"no sns control route {method} {path}"}
