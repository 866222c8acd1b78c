"""SNS and CloudWatch conformance: botocore and /usr/bin/aws against simlib/sns.py and
simlib/cloudwatch.py (routed as "monitoring")."""

import json
import pathlib
import sys
import unittest

from botocore.exceptions import ClientError

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import simtest  # noqa: E402

SIM = None
TOPIC = "arn:aws:sns:eu-west-1:123456789012:legocity-backup-alerts"


def setUpModule():
    global SIM
    SIM = simtest.Sim.start(seed="legocity", seed_services=["sns"])


def tearDownModule():
    SIM.stop()


def messages(topic=None, region="eu-west-1"):
    q = f"?region={region}" + (f"&topic={topic}" if topic else "")
    return SIM.control("GET", "/sns/messages" + q)["messages"]


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sns = SIM.client("sns", retries={"total_max_attempts": 1})
        cls.cw = SIM.client("cloudwatch", retries={"total_max_attempts": 1})

    def setUp(self):
        SIM.control("DELETE", "/sns/messages?region=eu-west-1")

    def err(self, code, fn, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        self.assertEqual(cm.exception.response["Error"]["Code"], code,
                         cm.exception.response["Error"])
        return cm.exception


class Sns(Base):
    def test_seeded_topic_publish_and_record(self):
        arns = [t["TopicArn"] for t in self.sns.list_topics()["Topics"]]
        self.assertIn(TOPIC, arns)
        r = self.sns.publish(TopicArn=TOPIC, Subject="lcbackup: backup rds failed",
                             Message="line 1\nline 2",
                             MessageAttributes={"exit_code": {"DataType": "Number",
                                                              "StringValue": "75"}})
        got = messages(TOPIC)
        self.assertEqual(len(got), 1)
        self.assertEqual((got[0]["MessageId"], got[0]["Subject"], got[0]["Message"]),
                         (r["MessageId"], "lcbackup: backup rds failed", "line 1\nline 2"))
        self.assertEqual(got[0]["MessageAttributes"]["exit_code"]["StringValue"], "75")
        attrs = self.sns.get_topic_attributes(TopicArn=TOPIC)["Attributes"]
        self.assertEqual(attrs["DisplayName"], "LegoCity backups")

    def test_publish_errors(self):
        self.err("NotFound", self.sns.publish, TopicArn=TOPIC + "-nope", Message="x")
        self.err("InvalidParameter", self.sns.publish, TopicArn=TOPIC, Message="x",
                 Subject="two\nlines")
        self.err("InvalidParameter", self.sns.publish, TopicArn=TOPIC, Message="x",
                 Subject="s" * 101)
        self.err("InvalidParameter", self.sns.publish, TopicArn=TOPIC, Message="")
        self.assertEqual(messages(TOPIC), [])

    def test_create_is_idempotent_and_lists_page(self):
        a = self.sns.create_topic(Name="t-idem")["TopicArn"]
        self.assertEqual(self.sns.create_topic(Name="t-idem")["TopicArn"], a)
        for i in range(105):
            self.sns.create_topic(Name=f"t-page-{i:03d}")
        first = self.sns.list_topics()
        self.assertEqual(len(first["Topics"]), 100)
        rest = self.sns.list_topics(NextToken=first["NextToken"])
        total = len(first["Topics"]) + len(rest["Topics"])
        self.assertGreaterEqual(total, 107)
        self.assertNotIn("NextToken", rest)
        self.err("InvalidParameter", self.sns.create_topic, Name="bad name")

    def test_cli_publish(self):
        rc, out, err = simtest.aws_cli(SIM, "sns", "publish", "--topic-arn", TOPIC,
                                       "--subject", "from the cli", "--message", "hello")
        self.assertEqual(rc, 0, err)
        self.assertIn("MessageId", json.loads(out))
        self.assertEqual([m["Subject"] for m in messages(TOPIC)], ["from the cli"])


def alarm(**over):
    kw = dict(AlarmName="lcbackup-dev-rds-payload-backup-age", Namespace="lcbackup",
              MetricName="BackupAgeSeconds", Statistic="Maximum", Period=3600,
              EvaluationPeriods=1, Threshold=7200.0,
              ComparisonOperator="GreaterThanThreshold", TreatMissingData="breaching",
              Dimensions=[{"Name": "Env", "Value": "dev"}, {"Name": "Component", "Value": "rds"},
                          {"Name": "Target", "Value": "payload"}],
              AlarmActions=[TOPIC], OKActions=[TOPIC], Unit="Seconds",
              AlarmDescription="newest backup older than the RPO")
    kw.update(over)
    return kw


class CloudWatch(Base):
    def test_put_describe_delete(self):
        self.cw.put_metric_alarm(**alarm())
        self.cw.put_metric_alarm(**alarm(AlarmName="lcbackup-dev-run-failed",
                                         MetricName="RunFailed", Statistic="Sum", Period=300,
                                         Threshold=1.0, TreatMissingData="notBreaching",
                                         ComparisonOperator="GreaterThanOrEqualToThreshold",
                                         Dimensions=[{"Name": "Env", "Value": "dev"}]))
        d = self.cw.describe_alarms(AlarmNamePrefix="lcbackup-dev-")["MetricAlarms"]
        self.assertEqual([a["AlarmName"] for a in d],
                         ["lcbackup-dev-rds-payload-backup-age", "lcbackup-dev-run-failed"])
        a = d[0]
        self.assertEqual((a["Threshold"], a["Period"], a["StateValue"], a["AlarmActions"],
                          a["TreatMissingData"], a["Unit"]),
                         (7200.0, 3600, "INSUFFICIENT_DATA", [TOPIC], "breaching", "Seconds"))
        self.assertEqual(a["Dimensions"][2], {"Name": "Target", "Value": "payload"})
        page = self.cw.describe_alarms(AlarmNamePrefix="lcbackup-dev-", MaxRecords=1)
        self.assertEqual(len(page["MetricAlarms"]), 1)
        nxt = self.cw.describe_alarms(AlarmNamePrefix="lcbackup-dev-", MaxRecords=1,
                                      NextToken=page["NextToken"])
        self.assertEqual(nxt["MetricAlarms"][0]["AlarmName"], "lcbackup-dev-run-failed")
        self.err("ResourceNotFound", self.cw.delete_alarms,
                 AlarmNames=["lcbackup-dev-run-failed", "nope"])
        self.assertEqual(len(self.cw.describe_alarms(AlarmNamePrefix="lcbackup-dev-")
                             ["MetricAlarms"]), 2)
        self.cw.delete_alarms(AlarmNames=["lcbackup-dev-run-failed",
                                          "lcbackup-dev-rds-payload-backup-age"])
        self.assertEqual(self.cw.describe_alarms(AlarmNamePrefix="lcbackup-dev-")
                         ["MetricAlarms"], [])

    def test_validation(self):
        self.err("ValidationError", self.cw.put_metric_alarm, **alarm(Period=45))
        self.err("ValidationError", self.cw.put_metric_alarm,
                 **alarm(Period=86400, EvaluationPeriods=8))
        self.err("ValidationError", self.cw.put_metric_alarm,
                 **alarm(EvaluationPeriods=1, DatapointsToAlarm=2))
        self.err("ValidationError", self.cw.put_metric_alarm,
                 **alarm(TreatMissingData="sometimes"))
        self.err("InvalidParameterCombination", self.cw.put_metric_alarm,
                 **alarm(ExtendedStatistic="p99"))
        self.err("InvalidParameterValue", self.cw.put_metric_data, Namespace="AWS/EC2",
                 MetricData=[{"MetricName": "x", "Value": 1}])

    def test_metric_data_drives_state_and_sns(self):
        name = "lcbackup-t-drill-failed"
        self.cw.put_metric_alarm(**alarm(AlarmName=name, MetricName="DrillPassed",
                                         Statistic="Minimum", Period=300, Threshold=1.0,
                                         ComparisonOperator="LessThanThreshold",
                                         TreatMissingData="notBreaching", Unit="Count"))
        dims = alarm()["Dimensions"]
        self.cw.put_metric_data(Namespace="lcbackup", MetricData=[
            {"MetricName": "DrillPassed", "Value": 0, "Unit": "Count", "Dimensions": dims}])
        a = self.cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
        self.assertEqual(a["StateValue"], "ALARM")
        got = messages(TOPIC)
        self.assertEqual(len(got), 1)
        self.assertTrue(got[0]["Subject"].startswith(f'ALARM: "{name}"'))
        body = json.loads(got[0]["Message"])
        self.assertEqual((body["NewStateValue"], body["Trigger"]["MetricName"]),
                         ("ALARM", "DrillPassed"))
        self.cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="test")
        self.assertEqual(len(messages(TOPIC)), 2)
        self.assertEqual(self.cw.describe_alarms(AlarmNames=[name], StateValue="OK")
                         ["MetricAlarms"][0]["StateReason"], "test")
        self.cw.delete_alarms(AlarmNames=[name])

    def test_cli_describe(self):
        self.cw.put_metric_alarm(**alarm(AlarmName="lcbackup-cli"))
        rc, out, err = simtest.aws_cli(SIM, "cloudwatch", "describe-alarms", "--alarm-names",
                                       "lcbackup-cli")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["MetricAlarms"][0]["MetricName"], "BackupAgeSeconds")
        self.cw.delete_alarms(AlarmNames=["lcbackup-cli"])


if __name__ == "__main__":
    unittest.main()
