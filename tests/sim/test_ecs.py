"""ECS conformance: botocore and /usr/bin/aws against simlib/ecs.py."""

import json
import pathlib
import sys
import unittest
import urllib.error
import urllib.request

from botocore.exceptions import ClientError

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import simtest  # noqa: E402

SIM = None
CLUSTER = "legocity-cluster"
SERVICES = ["broker", "payload", "proxy", "dashboard", "update-env"]
READ_ONLY = ("taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
             "registeredAt", "registeredBy", "deregisteredAt")


def setUpModule():
    global SIM
    SIM = simtest.Sim.start(seed=None)
    SIM.control("POST", "/ecs/seed", {})


def tearDownModule():
    SIM.stop()


def raw_json(sim, service, target, body, region="eu-west-1"):
    """A signed JSON 1.1 call that skips botocore's client-side validation: (status, body)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    req = AWSRequest(method="POST", url=sim.endpoint + "/", data=json.dumps(body).encode(),
                     headers={"X-Amz-Target": target,
                              "Content-Type": "application/x-amz-json-1.1"})
    SigV4Auth(Credentials(sim.access_key, sim.secret_key), service, region).add_auth(req)
    p = req.prepare()
    r = urllib.request.Request(p.url, data=p.body, headers=dict(p.headers), method="POST")
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def fargate_td(family, image="nginx:1.25", **extra):
    body = {"family": family, "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
            "cpu": "256", "memory": "512",
            "containerDefinitions": [{"name": "app", "image": image, "essential": True,
                                      "portMappings": [{"containerPort": 8080}],
                                      "environment": [{"name": "A", "value": "1"}]}]}
    body.update(extra)
    return body


NET = {"awsvpcConfiguration": {"subnets": ["subnet-0123456789abcdef0"],
                               "securityGroups": ["sg-0123456789abcdef0"]}}


class EcsBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = SIM
        cls.ecs = SIM.client("ecs")

    def err(self, code, fn, *args, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(*args, **kw)
        self.assertEqual(cm.exception.response["Error"]["Code"], code,
                         cm.exception.response["Error"])
        return cm.exception

    def tearDown(self):
        self.sim.control("DELETE", "/holds")
        self.sim.control("DELETE", "/delays")


class Seed(EcsBase):
    def test_cluster_and_services(self):
        r = self.ecs.describe_clusters(clusters=[CLUSTER, "nope"], include=["TAGS"])
        c = r["clusters"][0]
        self.assertEqual((c["clusterName"], c["status"], c["activeServicesCount"]),
                         (CLUSTER, "ACTIVE", 5))
        self.assertEqual(c["runningTasksCount"], 7)
        self.assertIn({"key": "Project", "value": "legocity"}, c["tags"])
        self.assertEqual(r["failures"][0]["reason"], "MISSING")
        r = self.ecs.describe_services(cluster=CLUSTER, services=SERVICES, include=["TAGS"])
        self.assertEqual([s["serviceName"] for s in r["services"]], SERVICES)
        for s in r["services"]:
            self.assertEqual((s["status"], s["launchType"]), ("ACTIVE", "FARGATE"))
            self.assertEqual(s["runningCount"], s["desiredCount"])
            self.assertEqual(len(s["deployments"]), 1)
            self.assertIn({"key": "Service", "value": s["serviceName"]}, s["tags"])
            self.assertEqual(s["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"],
                             "DISABLED")

    def test_task_definitions_are_realistic(self):
        for svc in SERVICES:
            td = self.ecs.describe_task_definition(taskDefinition=f"legocity-{svc}",
                                                   include=["TAGS"])
            t = td["taskDefinition"]
            self.assertEqual(t["requiresCompatibilities"], ["FARGATE"])
            self.assertEqual(t["networkMode"], "awsvpc")
            self.assertIn("FARGATE", t["compatibilities"])
            self.assertTrue(t["cpu"].isdigit() and t["memory"].isdigit())
            c = t["containerDefinitions"][0]
            self.assertEqual(c["logConfiguration"]["logDriver"], "awslogs")
            self.assertTrue(t["executionRoleArn"].startswith("arn:aws:iam::"))
            self.assertTrue(td["tags"])
        broker = self.ecs.describe_task_definition(taskDefinition="legocity-broker")
        c = broker["taskDefinition"]["containerDefinitions"][0]
        self.assertEqual(c["portMappings"][0]["containerPort"], 1026)
        self.assertTrue(c["secrets"][0]["valueFrom"].startswith(
            "arn:aws:ssm:eu-west-1:123456789012:parameter/legocity/prod/"))
        self.assertEqual(broker["taskDefinition"]["revision"], 2)
        self.assertNotIn("tags", broker)
        old = self.ecs.describe_task_definition(taskDefinition="legocity-broker:1")
        self.assertEqual(old["taskDefinition"]["status"], "INACTIVE")


class TaskDefinitions(EcsBase):
    def test_register_echo_and_revisions(self):
        body = fargate_td("t-echo", taskRoleArn="arn:aws:iam::123456789012:role/t",
                          executionRoleArn="arn:aws:iam::123456789012:role/x",
                          volumes=[{"name": "scratch"}],
                          ephemeralStorage={"sizeInGiB": 30},
                          runtimePlatform={"cpuArchitecture": "ARM64",
                                           "operatingSystemFamily": "LINUX"},
                          tags=[{"key": "a", "value": "b"}])
        body["containerDefinitions"][0]["secrets"] = [
            {"name": "S", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/x"}]
        r1 = self.ecs.register_task_definition(**body)
        t = r1["taskDefinition"]
        self.assertEqual(t["revision"], 1)
        self.assertEqual(t["taskDefinitionArn"],
                         "arn:aws:ecs:eu-west-1:123456789012:task-definition/t-echo:1")
        for key in ("family", "taskRoleArn", "executionRoleArn", "networkMode", "cpu", "memory",
                    "requiresCompatibilities", "ephemeralStorage", "runtimePlatform"):
            self.assertEqual(t[key], body[key], key)
        self.assertEqual(t["volumes"], [{"name": "scratch"}])
        c = t["containerDefinitions"][0]
        for key, value in body["containerDefinitions"][0].items():
            if key != "portMappings":
                self.assertEqual(c[key], value, key)
        self.assertEqual(c["portMappings"], [{"containerPort": 8080, "hostPort": 8080,
                                              "protocol": "tcp"}])
        self.assertEqual(t["status"], "ACTIVE")
        self.assertIn("registeredAt", t)
        self.assertTrue(t["registeredBy"].startswith("arn:aws:iam::123456789012:"))
        attrs = {a["name"] for a in t["requiresAttributes"]}
        self.assertIn("ecs.capability.task-eni", attrs)
        self.assertIn("ecs.capability.secrets.ssm.environment-variables", attrs)
        self.assertEqual(r1["tags"], [{"key": "a", "value": "b"}])
        r2 = self.ecs.register_task_definition(**body)
        self.assertEqual(r2["taskDefinition"]["revision"], 2)

    def test_reregister_described_definition(self):
        self.ecs.register_task_definition(**fargate_td("t-rereg"))
        d = self.ecs.describe_task_definition(taskDefinition="t-rereg", include=["TAGS"])
        self.assertEqual(d["tags"], [])
        # the documented pitfall: a described definition sent back as-is is refused
        st, out = raw_json(self.sim, "ecs",
                           "AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition",
                           json.loads(json.dumps(d["taskDefinition"], default=str)))
        self.assertEqual(st, 400)
        body = {k: v for k, v in d["taskDefinition"].items() if k not in READ_ONLY}
        e = self.err("ClientException", self.ecs.register_task_definition, tags=[], **body)
        self.assertIn("Tags can not be empty", e.response["Error"]["Message"])
        r = self.ecs.register_task_definition(**body)
        self.assertEqual(r["taskDefinition"]["revision"], 2)
        self.assertEqual(r["taskDefinition"]["containerDefinitions"],
                         d["taskDefinition"]["containerDefinitions"])

    def test_validation(self):
        bad = fargate_td("t-bad", memory="4096")
        e = self.err("ClientException", self.ecs.register_task_definition, **bad)
        self.assertIn("No Fargate configuration", e.response["Error"]["Message"])
        self.err("ClientException", self.ecs.register_task_definition,
                 **fargate_td("t-bad", networkMode="bridge"))
        nocpu = fargate_td("t-bad")
        del nocpu["cpu"]
        self.err("ClientException", self.ecs.register_task_definition, **nocpu)
        noimg = fargate_td("t-bad")
        noimg["containerDefinitions"][0]["image"] = ""
        self.err("ClientException", self.ecs.register_task_definition, **noimg)
        cred = fargate_td("t-bad")
        cred["containerDefinitions"][0]["repositoryCredentials"] = {"credentialsParameter": ""}
        self.err("ClientException", self.ecs.register_task_definition, **cred)
        logs = fargate_td("t-bad")
        logs["containerDefinitions"][0]["logConfiguration"] = {"logDriver": "awslogs",
                                                               "options": {}}
        self.err("ClientException", self.ecs.register_task_definition, **logs)
        units = fargate_td("t-units", cpu="1 vCPU", memory="2 GB")
        t = self.ecs.register_task_definition(**units)["taskDefinition"]
        self.assertEqual((t["cpu"], t["memory"]), ("1024", "2048"))

    def test_describe_deregister_list(self):
        for i in range(3):
            self.ecs.register_task_definition(**fargate_td("t-list", image=f"img:{i}"))
        self.ecs.register_task_definition(**fargate_td("t-list-other"))
        self.ecs.deregister_task_definition(taskDefinition="t-list:3")
        latest = self.ecs.describe_task_definition(taskDefinition="t-list")["taskDefinition"]
        self.assertEqual(latest["revision"], 2)
        arn3 = "arn:aws:ecs:eu-west-1:123456789012:task-definition/t-list:3"
        t3 = self.ecs.describe_task_definition(taskDefinition=arn3)["taskDefinition"]
        self.assertEqual(t3["status"], "INACTIVE")
        self.assertIn("deregisteredAt", t3)
        self.err("ClientException", self.ecs.describe_task_definition, taskDefinition="t-list:9")
        self.err("ClientException", self.ecs.describe_task_definition, taskDefinition="nothing")
        arns = self.ecs.list_task_definitions(familyPrefix="t-list")["taskDefinitionArns"]
        self.assertEqual([a.rsplit(":", 1)[1] for a in arns], ["1", "2"])
        arns = self.ecs.list_task_definitions(familyPrefix="t-list", status="INACTIVE")
        self.assertEqual(arns["taskDefinitionArns"], [arn3])
        p1 = self.ecs.list_task_definitions(sort="DESC", maxResults=2)
        self.assertEqual(len(p1["taskDefinitionArns"]), 2)
        seen, token = list(p1["taskDefinitionArns"]), p1.get("nextToken")
        while token:
            p = self.ecs.list_task_definitions(sort="DESC", maxResults=2, nextToken=token)
            seen += p["taskDefinitionArns"]
            token = p.get("nextToken")
        full = self.ecs.list_task_definitions(sort="DESC")["taskDefinitionArns"]
        self.assertEqual(seen, full)
        self.assertEqual(full, sorted(full, key=lambda a: (a.rsplit(":", 1)[0].split("/")[1],
                                                          int(a.rsplit(":", 1)[1])),
                                      reverse=True))
        self.err("InvalidParameterException", self.ecs.list_task_definitions, maxResults=101)
        fams = self.ecs.list_task_definition_families(familyPrefix="t-list")["families"]
        self.assertEqual(fams, ["t-list", "t-list-other"])
        fams = self.ecs.list_task_definition_families(familyPrefix="legocity-",
                                                      status="ACTIVE")["families"]
        self.assertEqual(len(fams), 5)


class Services(EcsBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.td1 = cls.ecs.register_task_definition(**fargate_td("t-svc"))["taskDefinition"]
        cls.td2 = cls.ecs.register_task_definition(**fargate_td("t-svc", image="nginx:1.26"))[
            "taskDefinition"]
        cls.ecs.create_cluster(clusterName="t-cluster")

    def create(self, name, **kw):
        args = dict(cluster="t-cluster", serviceName=name, taskDefinition="t-svc:1",
                    desiredCount=2, launchType="FARGATE", networkConfiguration=NET)
        args.update(kw)
        return self.ecs.create_service(**args)["service"]

    def test_create_and_converge(self):
        s = self.create("web")
        self.assertEqual(s["serviceArn"],
                         "arn:aws:ecs:eu-west-1:123456789012:service/t-cluster/web")
        self.assertEqual((s["status"], s["runningCount"]), ("ACTIVE", 0))
        self.assertEqual(s["deployments"][0]["rolloutState"], "IN_PROGRESS")
        self.assertEqual(s["taskDefinition"], self.td1["taskDefinitionArn"])
        d = self.ecs.describe_services(cluster="t-cluster", services=["web"])["services"][0]
        self.assertEqual((d["runningCount"], d["deployments"][0]["rolloutState"]),
                         (2, "COMPLETED"))
        self.ecs.get_waiter("services_stable").wait(cluster="t-cluster", services=["web"],
                                                    WaiterConfig={"Delay": 1, "MaxAttempts": 3})
        self.err("InvalidParameterException", self.create, "web")

    def test_update_rolls_a_deployment(self):
        self.create("api")
        self.ecs.describe_services(cluster="t-cluster", services=["api"])
        self.sim.control("POST", "/holds", {"ecs.deployment": True})
        u = self.ecs.update_service(cluster="t-cluster", service="api",
                                    taskDefinition="t-svc:2", desiredCount=3)["service"]
        self.assertEqual(u["taskDefinition"], self.td2["taskDefinitionArn"])
        self.assertEqual([d["status"] for d in u["deployments"]], ["PRIMARY", "ACTIVE"])
        d = self.ecs.describe_services(cluster="t-cluster", services=["api"])["services"][0]
        self.assertEqual(len(d["deployments"]), 2)
        self.assertEqual(d["deployments"][0]["desiredCount"], 3)
        self.sim.control("DELETE", "/holds")
        d = self.ecs.describe_services(cluster="t-cluster", services=["api"])["services"][0]
        self.assertEqual([(x["status"], x["runningCount"]) for x in d["deployments"]],
                         [("PRIMARY", 3)])
        self.assertEqual(d["runningCount"], 3)
        # desiredCount alone scales the PRIMARY deployment, no new one
        dep_id = d["deployments"][0]["id"]
        u = self.ecs.update_service(cluster="t-cluster", service="api", desiredCount=1)
        self.assertEqual([x["id"] for x in u["service"]["deployments"]], [dep_id])
        u = self.ecs.update_service(cluster="t-cluster", service="api", forceNewDeployment=True)
        self.assertNotEqual(u["service"]["deployments"][0]["id"], dep_id)
        self.err("ServiceNotFoundException", self.ecs.update_service, cluster="t-cluster",
                 service="ghost", desiredCount=1)
        self.err("InvalidParameterException", self.ecs.update_service, cluster="t-cluster",
                 service="api", taskDefinition="t-svc:77")

    def test_create_errors(self):
        self.err("ClusterNotFoundException", self.create, "x", cluster="no-such-cluster")
        args = dict(cluster="t-cluster", serviceName="nonet", taskDefinition="t-svc:1",
                    desiredCount=1, launchType="FARGATE")
        self.err("InvalidParameterException", self.ecs.create_service, **args)
        self.err("InvalidParameterException", self.create, "both",
                 capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}])
        self.err("InvalidParameterException", self.create, "notd", taskDefinition="nope:1")
        self.err("InvalidParameterException", self.create, "bad name!")

    def test_delete_drain_recreate(self):
        self.create("gone")
        self.err("InvalidParameterException", self.ecs.delete_service, cluster="t-cluster",
                 service="gone")
        self.sim.control("POST", "/holds", {"ecs.drain": True})
        d = self.ecs.delete_service(cluster="t-cluster", service="gone", force=True)["service"]
        self.assertEqual(d["status"], "DRAINING")
        self.err("InvalidParameterException", self.create, "gone")
        self.sim.control("DELETE", "/holds")
        d = self.ecs.describe_services(cluster="t-cluster", services=["gone"])["services"][0]
        self.assertEqual(d["status"], "INACTIVE")
        arns = self.ecs.list_services(cluster="t-cluster", maxResults=100)["serviceArns"]
        self.assertNotIn("arn:aws:ecs:eu-west-1:123456789012:service/t-cluster/gone", arns)
        self.err("ServiceNotActiveException", self.ecs.update_service, cluster="t-cluster",
                 service="gone", desiredCount=1)
        again = self.create("gone")
        self.assertEqual(again["status"], "ACTIVE")

    def test_describe_and_list_limits(self):
        r = self.ecs.describe_services(cluster=CLUSTER, services=["broker", "nope"])
        self.assertEqual([s["serviceName"] for s in r["services"]], ["broker"])
        self.assertEqual(r["failures"], [{
            "arn": "arn:aws:ecs:eu-west-1:123456789012:service/legocity-cluster/nope",
            "reason": "MISSING"}])
        self.assertNotIn("tags", r["services"][0])
        self.err("InvalidParameterException", self.ecs.describe_services, cluster=CLUSTER,
                 services=[f"s{i}" for i in range(11)])
        self.err("ClusterNotFoundException", self.ecs.describe_services, cluster="nope",
                 services=["broker"])
        page = self.ecs.list_services(cluster=CLUSTER, maxResults=2)
        arns, sizes = list(page["serviceArns"]), [len(page["serviceArns"])]
        while page.get("nextToken"):
            page = self.ecs.list_services(cluster=CLUSTER, maxResults=2,
                                          nextToken=page["nextToken"])
            arns += page["serviceArns"]
            sizes.append(len(page["serviceArns"]))
        self.assertEqual(sizes, [2, 2, 1])
        self.assertEqual([a.rsplit("/", 1)[1] for a in arns], SERVICES)
        self.err("InvalidParameterException", self.ecs.list_services, cluster=CLUSTER,
                 maxResults=101)
        self.err("InvalidParameterException", self.ecs.list_services, cluster=CLUSTER,
                 nextToken="bogus")

    def test_list_services_default_page_is_10(self):
        self.ecs.create_cluster(clusterName="t-many")
        for i in range(12):
            self.create(f"m{i:02d}", cluster="t-many", desiredCount=0)
        p = self.ecs.list_services(cluster="t-many")
        self.assertEqual(len(p["serviceArns"]), 10)
        p2 = self.ecs.list_services(cluster="t-many", nextToken=p["nextToken"])
        self.assertEqual(len(p2["serviceArns"]), 2)
        self.assertNotIn("nextToken", p2)

    def test_tags(self):
        s = self.create("tagged", tags=[{"key": "a", "value": "1"}])
        arn = s["serviceArn"]
        self.ecs.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}])
        tags = self.ecs.list_tags_for_resource(resourceArn=arn)["tags"]
        self.assertEqual(sorted((t["key"], t["value"]) for t in tags), [("a", "1"), ("b", "2")])
        self.ecs.untag_resource(resourceArn=arn, tagKeys=["a"])
        d = self.ecs.describe_services(cluster="t-cluster", services=["tagged"],
                                       include=["TAGS"])["services"][0]
        self.assertEqual(d["tags"], [{"key": "b", "value": "2"}])
        tdarn = self.td1["taskDefinitionArn"]
        self.ecs.tag_resource(resourceArn=tdarn, tags=[{"key": "td", "value": "x"}])
        d = self.ecs.describe_task_definition(taskDefinition=tdarn, include=["TAGS"])
        self.assertEqual(d["tags"], [{"key": "td", "value": "x"}])
        carn = "arn:aws:ecs:eu-west-1:123456789012:cluster/t-cluster"
        self.ecs.tag_resource(resourceArn=carn, tags=[{"key": "c", "value": "y"}])
        self.assertEqual(self.ecs.list_tags_for_resource(resourceArn=carn)["tags"],
                         [{"key": "c", "value": "y"}])
        self.err("InvalidParameterException", self.ecs.tag_resource, resourceArn=arn,
                 tags=[{"key": "aws:x", "value": "1"}])

    def test_clusters(self):
        a = self.ecs.create_cluster(clusterName="t-c1")["cluster"]
        b = self.ecs.create_cluster(clusterName="t-c1")["cluster"]
        self.assertEqual(a["clusterArn"], b["clusterArn"])
        arns = self.ecs.list_clusters()["clusterArns"]
        self.assertIn(a["clusterArn"], arns)
        p = self.ecs.list_clusters(maxResults=1)
        self.assertEqual(len(p["clusterArns"]), 1)
        self.assertIn("nextToken", p)
        self.ecs.delete_cluster(cluster="t-c1")
        r = self.ecs.describe_clusters(clusters=["t-c1"])
        self.assertEqual(r["clusters"][0]["status"], "INACTIVE")
        self.err("ClusterContainsServicesException", self.ecs.delete_cluster, cluster=CLUSTER)


class CliAndRestart(EcsBase):
    def test_cli_describe_services(self):
        rc, out, err = simtest.aws_cli(self.sim, "ecs", "describe-services", "--cluster",
                                       CLUSTER, "--services", *SERVICES, "nope",
                                       "--include", "TAGS")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual([s["serviceName"] for s in doc["services"]], SERVICES)
        self.assertEqual(doc["failures"][0]["reason"], "MISSING")
        self.assertIsInstance(doc["services"][0]["createdAt"], str)

    def test_cli_list_and_describe_task_definition(self):
        rc, out, err = simtest.aws_cli(self.sim, "ecs", "list-services", "--cluster", CLUSTER,
                                       "--page-size", "2")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(json.loads(out)["serviceArns"]), 5)
        rc, out, err = simtest.aws_cli(self.sim, "ecs", "describe-task-definition",
                                       "--task-definition", "legocity-payload", "--include",
                                       "TAGS")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["taskDefinition"]["revision"], 2)
        secrets = doc["taskDefinition"]["containerDefinitions"][0]["secrets"]
        self.assertIn("DATABASE_URI", [s["name"] for s in secrets])

    def test_restart_keeps_state(self):
        td = self.ecs.register_task_definition(**fargate_td("t-restart"))["taskDefinition"]
        self.ecs.create_service(cluster=CLUSTER, serviceName="t-restart",
                                taskDefinition=td["taskDefinitionArn"], desiredCount=1,
                                launchType="FARGATE", networkConfiguration=NET,
                                tags=[{"key": "k", "value": "v"}])
        self.sim.restart()
        ecs = self.sim.client("ecs")
        d = ecs.describe_services(cluster=CLUSTER, services=["t-restart", "broker"],
                                  include=["TAGS"])["services"]
        self.assertEqual([s["serviceName"] for s in d], ["t-restart", "broker"])
        self.assertEqual(d[0]["tags"], [{"key": "k", "value": "v"}])
        self.assertEqual(d[0]["taskDefinition"], td["taskDefinitionArn"])
        ecs.delete_service(cluster=CLUSTER, service="t-restart", force=True)


if __name__ == "__main__":
    unittest.main()
