"""Tests of the NGSI-LD broker emulator (simlib/broker*.py).

Most tests run against a full simulator (simtest.Sim: `lcsim up`, control API forwarding to
/broker/...), switching profiles with POST /broker/config.  The expected numbers and shapes are
written out here from /work/shared/reference/ngsi-ld.md, not imported from the emulator.
A few tests run BrokerServer in-process (persistence, seed determinism) or standalone
(`python3 -m simlib.broker`).

Run: /usr/bin/python3 tests/sim/run_tests.py test_broker
"""

import http.client
import json
import os
import pathlib
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import simtest                                        # noqa: E402
from simlib import broker_profiles                   # noqa: E402
from simlib.broker import BrokerServer               # noqa: E402
from simlib.broker_ld import ContextRegistry, Normalizer   # noqa: E402
from simlib.broker_seed import generate              # noqa: E402

ERR = "https://uri.etsi.org/ngsi-ld/errors/"
LEGO = "https://legocity.example/ngsi-ld/context.jsonld"
LEGO_LINK = f'<{LEGO}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
CORE_PREFIX = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context"
SDM = "https://smartdatamodels.org/"
DEFAULT_CTX = "https://uri.etsi.org/ngsi-ld/default-context/"
SEEDED = 20000
SEED_TYPES = {"Device": 2400, "OffStreetParking": 600, "ParkingSpot": 5000, "Streetlight": 6000,
              "WeatherObserved": 1600, "AirQualityObserved": 1600, "TrafficFlowObserved": 2800}
TYPE_ORDER = ["Device", "OffStreetParking", "ParkingSpot", "Streetlight", "WeatherObserved",
              "AirQualityObserved", "TrafficFlowObserved"]

# From the reference, sections 1.2-1.5, 2 and 7.
EXPECT = {
    "orion-ld": {"default": 20, "max": 1000, "over": (400, ERR + "BadRequestData"),
                 "local": "local", "links": "none", "zero_body": b"[]",
                 "tenant404": ERR + "NonExistingTenant", "ctx_status": 504},
    "scorpio": {"default": 50, "max": 1000, "over": (403, ERR + "TooManyResults "),
                "local": "localOnly", "links": "absolute", "zero_body": b"",
                "tenant404": ERR + "TenantNotFound", "ctx_status": 503},
    "stellio": {"default": 30, "max": 100, "over": (403, ERR + "TooManyResults"),
                "local": "local", "links": "relative", "zero_body": b"[]",
                "tenant404": ERR + "NonexistentTenant", "ctx_status": 504},
    "strict": {"default": 20, "max": 100, "over": (403, ERR + "TooManyResults"),
               "local": "local", "links": "relative", "zero_body": b"[]",
               "tenant404": ERR + "NonexistentTenant", "ctx_status": 504},
}


class Resp:
    def __init__(self, status, headers, body, elapsed):
        self.status = status
        self.headers = headers          # list of (name, value) as sent
        self.body = body
        self.elapsed = elapsed

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body)

    def links(self, rel):
        out = []
        for v in self.all("Link"):
            # the URL may itself contain '>' (Stellio/Scorpio do not re-encode parameters)
            m = re.match(r'^<(.*)>\s*;\s*rel="' + re.escape(rel) + '"', v)
            if m:
                out.append(m.group(1))
        return out


class Client:
    """HTTP/1.1 keep-alive client on the broker."""

    def __init__(self, url, timeout=30):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.timeout = timeout
        self.conn = None

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    def req(self, method, path, body=None, headers=None, tenant=None, ctype="application/json",
            link=None, accept=None, timeout=None):
        hdrs = dict(headers or {})
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
        if body is not None and ctype:
            hdrs.setdefault("Content-Type", ctype)
        if tenant is not None:
            hdrs["NGSILD-Tenant"] = tenant
        if link:
            hdrs["Link"] = LEGO_LINK if link is True else link
        if accept:
            hdrs["Accept"] = accept
        if self.conn is None or timeout:
            self.close()
            self.conn = http.client.HTTPConnection(self.host, self.port,
                                                   timeout=timeout or self.timeout)
        t0 = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=hdrs)
            r = self.conn.getresponse()
            data = r.read()
        except Exception:
            self.close()
            raise
        elapsed = time.perf_counter() - t0
        if r.will_close:
            self.close()
        return Resp(r.status, r.getheaders(), data, elapsed)

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.req("POST", path, body=body, **kw)


def E(query=""):
    return "/ngsi-ld/v1/entities" + (f"?{query}" if query else "")


def short(eid):
    """urn:ngsi-ld:Streetlight:lego-city-0042 -> ("Streetlight", 42)."""
    _, _, etype, rest = eid.split(":", 3)
    return etype, int(rest.rsplit("-", 1)[1])


def entity(eid, etype="WeatherObserved", **attrs):
    e = {"id": eid, "type": etype}
    for k, v in attrs.items():
        e[k] = {"type": "Property", "value": v}
    return e


class SimBroker(unittest.TestCase):
    """Shared simulator (one per test class), seeded with the default LegoCity broker seed."""

    shared = None        # one simulator for the whole module; simtest stops it at exit

    @classmethod
    def setUpClass(cls):
        if SimBroker.shared is None:
            sim = simtest.Sim.start()
            out = sim.control("POST", "/broker/seed", {"name": "legocity"})
            assert out["entities"] == {"default": SEEDED, "legocity": 2000}, out
            SimBroker.shared = sim
        cls.sim = SimBroker.shared
        cls.http = Client(cls.sim.broker_url)

    @classmethod
    def tearDownClass(cls):
        cls.http.close()

    def setUp(self):
        self.use("orion-ld")

    def tearDown(self):
        self.sim.control("DELETE", "/broker/faults")
        self.sim.control("DELETE", "/broker/hooks")

    def use(self, profile, **extra):
        self.sim.control("POST", "/broker/config", dict(profile=profile, **extra))
        self.profile = profile

    def ctl(self, method, path, body=None):
        return self.sim.control(method, "/broker" + path, body)

    def assertProblem(self, r, status, etype, title=None):
        self.assertEqual(r.status, status, r.body[:300])
        self.assertEqual(r.header("Content-Type"), "application/json")
        doc = r.json()
        self.assertEqual(doc["type"], etype, doc)
        self.assertIsInstance(doc["title"], str)
        if title is not None:
            self.assertEqual(doc["title"], title)
        return doc

    def dump(self, query, limit, tenant=None, link=None):
        """Naive offset pagination (what a client would do): ids in the order served."""
        ids, offset = [], 0
        while True:
            r = self.http.get(E(f"{query}&limit={limit}&offset={offset}"), tenant=tenant,
                              link=link)
            self.assertEqual(r.status, 200, r.body[:300])
            page = r.json()
            ids += [e["id"] for e in page]
            if len(page) < limit:
                return ids
            offset += limit


class PageLimits(SimBroker):
    def test_default_max_and_over_limit_per_profile(self):
        for prof, x in EXPECT.items():
            with self.subTest(profile=prof):
                self.use(prof)
                r = self.http.get(E("type=WeatherObserved"), link=True)
                self.assertEqual(r.status, 200)
                self.assertEqual(len(r.json()), x["default"])
                r = self.http.get(E(f"type=WeatherObserved&limit={x['max']}"), link=True)
                self.assertEqual(len(r.json()), x["max"])
                r = self.http.get(E(f"type=WeatherObserved&limit={x['max'] + 1}"), link=True)
                doc = self.assertProblem(r, *x["over"])
                if prof == "stellio":
                    self.assertEqual(doc["title"], "You asked for 101 results, but the "
                                     "supported maximum limit is 100")
                if prof == "orion-ld":
                    self.assertIn("1000", doc["detail"])

    def test_limit_zero_negative_and_garbage(self):
        for prof, x in EXPECT.items():
            with self.subTest(profile=prof):
                self.use(prof)
                r = self.http.get(E("type=WeatherObserved&limit=0"), link=True)
                self.assertProblem(r, 400, ERR + "BadRequestData")
                r = self.http.get(E("type=WeatherObserved&limit=0&count=true"), link=True)
                self.assertEqual(r.status, 200)
                self.assertEqual(r.body, x["zero_body"])
                self.assertEqual(r.header("NGSILD-Results-Count"), "1600")
                for bad in ("-1", "abc", "1.5"):
                    r = self.http.get(E(f"type=WeatherObserved&limit={bad}"), link=True)
                    self.assertProblem(r, 400, ERR + "BadRequestData")
                r = self.http.get(E("type=WeatherObserved&offset=-3"), link=True)
                self.assertProblem(r, 400, ERR + "BadRequestData")

    def test_too_broad_query_and_local_flags(self):
        for prof, x in EXPECT.items():
            with self.subTest(profile=prof):
                self.use(prof)
                self.assertProblem(self.http.get(E()), 400, ERR + "BadRequestData")
                r = self.http.get(E(f"{x['local']}=true"))
                self.assertEqual(r.status, 200, r.body[:200])
                self.assertEqual(len(r.json()), x["default"])
                other = "local" if x["local"] == "localOnly" else "localOnly"
                r = self.http.get(E(f"{other}=true"))
                # the other broker's flag is unknown: rejected (400) or ignored -> too broad
                self.assertProblem(r, 400, ERR + "BadRequestData")
        self.use("orion-ld")
        doc = self.assertProblem(self.http.get(E()), 400, ERR + "BadRequestData",
                                 "Too broad query")
        self.assertIn("local=true", doc["detail"])
        # a lone idPattern is a filter for Orion-LD only [ref 1.1]
        self.assertEqual(self.http.get(E("idPattern=.*Weather.*")).status, 200)
        self.use("stellio")
        self.assertEqual(self.http.get(E("idPattern=.*Weather.*")).status, 400)
        self.assertEqual(self.http.get(E("id=urn:ngsi-ld:Device:lego-city-0001")).status, 400)
        self.use("scorpio")
        self.assertEqual(self.http.get(E("idPattern=.*Weather.*")).status, 400)
        self.assertEqual(self.http.get(E("id=urn:ngsi-ld:Device:lego-city-0001")).status, 200)

    def test_type_star(self):
        for prof, works in (("stellio", True), ("strict", True), ("orion-ld", False),
                            ("scorpio", False)):
            with self.subTest(profile=prof):
                self.use(prof)
                r = self.http.get(E("type=*&count=true&limit=1"))
                self.assertEqual(r.status, 200)
                self.assertEqual(r.header("NGSILD-Results-Count"), str(SEEDED if works else 0))
        self.use("strict")
        self.assertEqual(self.http.get(E("type=*&local=false")).status, 400)

    def test_unknown_parameters(self):
        self.use("orion-ld")
        doc = self.assertProblem(self.http.get(E("type=Device&frobnicate=1")), 400,
                                 ERR + "BadRequestData", "Unknown URI parameter")
        self.assertEqual(doc["detail"], "frobnicate")
        self.use("stellio")
        doc = self.assertProblem(self.http.get(E("type=Device&frobnicate=1")), 400,
                                 ERR + "BadRequestData")
        self.assertIn("not allowed on this endpoint", doc["title"])
        self.use("scorpio")
        self.assertEqual(self.http.get(E("type=Device&frobnicate=1")).status, 200)
        self.use("orion-ld")
        self.assertEqual(self.http.get(E("type=Device&options=bogus")).status, 400)


class Pagination(SimBroker):
    def test_full_dump_orion_complete_in_creation_order_and_stable(self):
        r = self.http.get(E("local=true&limit=0&count=true"))
        self.assertEqual(r.header("NGSILD-Results-Count"), str(SEEDED))
        self.assertEqual(r.all("Link"), [r.header("Link")])       # only the @context link
        self.assertTrue(r.header("Link").startswith("<" + CORE_PREFIX))
        first = self.dump("local=true", 1000)
        self.assertEqual(len(first), SEEDED)
        self.assertEqual(len(set(first)), SEEDED)
        truth = set(self.ctl("GET", "/ids")["ids"])
        self.assertEqual(set(first), truth)
        # creation order = type blocks of the seed, numbers ascending inside a block
        keys = [(TYPE_ORDER.index(short(i)[0]), short(i)[1]) for i in first]
        self.assertEqual(keys, sorted(keys))
        self.assertEqual(self.dump("local=true", 700), first)     # any page size, same order

    def test_stellio_next_links_walk_a_type(self):
        self.use("stellio")
        path = E("type=WeatherObserved&count=true&limit=100")
        r = self.http.get(path, link=True)
        self.assertEqual(r.links("prev"), [])
        self.assertEqual(r.links("next"), ["/ngsi-ld/v1/entities?type=WeatherObserved&count=true"
                                           "&limit=100&offset=100"])
        self.assertIn(f'<{LEGO}>; rel="http://www.w3.org/ns/json-ld#context"', r.all("Link")[0])
        next_line = [v for v in r.all("Link") if 'rel="next"' in v][0]
        self.assertTrue(next_line.endswith(';rel="next";type="application/ld+json"'))
        ids, pages = [], 0
        while True:
            self.assertEqual(r.status, 200)
            ids += [e["id"] for e in r.json()]
            pages += 1
            if pages > 1:
                self.assertEqual(len(r.links("prev")), 1)
            nxt = r.links("next")
            if not nxt:
                break
            r = self.http.get(nxt[0], link=True)
        self.assertEqual(pages, 16)
        self.assertEqual(len(set(ids)), 1600)
        # other parameters come back decoded, not re-encoded [ref 1.5]
        r = self.http.get(E("type=WeatherObserved&q=temperature%3E20&limit=10"), link=True)
        self.assertEqual(r.links("next"), ["/ngsi-ld/v1/entities?type=WeatherObserved&"
                                           "q=temperature>20&limit=10&offset=10"])
        self.use("strict")
        r = self.http.get(E("type=WeatherObserved&q=temperature%3E20&limit=10"), link=True)
        self.assertEqual(r.links("next"), ["/ngsi-ld/v1/entities?type=WeatherObserved&"
                                           "q=temperature%3E20&limit=10&offset=10"])
        want = set(self.ctl("GET", "/ids?type=" + SDM + "dataModel.Weather/WeatherObserved")["ids"])
        self.assertEqual(set(ids), want)

    def test_scorpio_absolute_links_entity_map_and_count_header_case(self):
        self.use("scorpio")
        r = self.http.get(E("type=WeatherObserved&limit=500&offset=500&count=true"), link=True)
        self.assertEqual(r.links("next"), ["http://localhost:9090/ngsi-ld/v1/entities?"
                                           "type=WeatherObserved&count=true&offset=1000&limit=500"])
        self.assertEqual(r.links("prev"), ["http://localhost:9090/ngsi-ld/v1/entities?"
                                           "type=WeatherObserved&count=true&offset=0&limit=500"])
        nxt = [v for v in r.all("Link") if 'rel="next"' in v][0]
        self.assertNotIn("type=", nxt.split(">")[1])                  # no link type attribute
        self.assertTrue(r.header("NGSILD-EntityMap").startswith("urn:ngsi-ld:entitymap:"))
        self.assertIn("ngsild-results-count", [k for k, _ in r.headers])
        # following the (wrong-host) link on our host gives the next page
        u = urllib.parse.urlsplit(r.links("next")[0])
        r2 = self.http.get(f"{u.path}?{u.query}", link=True)
        self.assertEqual(len(r2.json()), 500)
        self.assertEqual(r2.links("next"), ["http://localhost:9090/ngsi-ld/v1/entities?type="
                                            "WeatherObserved&count=true&offset=1500&limit=500"])

    def test_orion_sends_no_page_links_and_count_only_when_asked(self):
        r = self.http.get(E("type=Streetlight&limit=10&offset=10"), link=True)
        self.assertEqual(r.links("next") + r.links("prev"), [])
        self.assertEqual(len(r.all("Link")), 1)
        self.assertIsNone(r.header("NGSILD-Results-Count"))
        r = self.http.get(E("type=Streetlight&limit=10&count=true"), link=True)
        self.assertEqual(r.header("NGSILD-Results-Count"), str(SEED_TYPES["Streetlight"]))
        r = self.http.get(E("type=Streetlight&limit=10&options=count"), link=True)
        self.assertEqual(r.header("NGSILD-Results-Count"), str(SEED_TYPES["Streetlight"]))

    def test_count_per_type_matches_seed(self):
        for t, n in SEED_TYPES.items():
            link = None if t == "Device" else True       # Devices were created without context
            r = self.http.get(E(f"type={t}&limit=0&count=true"), link=link)
            self.assertEqual(r.header("NGSILD-Results-Count"), str(n), t)
        # without the LegoCity context, the short name is another (default-context) type
        r = self.http.get(E("type=WeatherObserved&limit=0&count=true"))
        self.assertEqual(r.header("NGSILD-Results-Count"), "0")
        r = self.http.get(E(f"type={SDM}dataModel.Weather/WeatherObserved&limit=0&count=true"))
        self.assertEqual(r.header("NGSILD-Results-Count"), "1600")

    def test_random_tie_order_for_one_batch_vs_id_tie_break(self):
        ents = [entity(f"urn:ngsi-ld:Tie:t{i:03d}", "Tie", n=i) for i in range(60)]
        self.use("scorpio")
        r = self.http.post("/ngsi-ld/v1/entityOperations/create", ents, tenant="ties")
        self.assertEqual(r.status, 201)
        orders = {tuple(e["id"] for e in self.http.get(E("type=Tie&limit=60"),
                                                       tenant="ties").json())
                  for _ in range(4)}
        self.assertGreater(len(orders), 1)            # ties reshuffled per request (#1573)
        self.assertTrue(all(len(set(o)) == 60 for o in orders))
        self.use("orion-ld")
        orders = {tuple(e["id"] for e in self.http.get(E("type=Tie&limit=60"),
                                                       tenant="ties").json())
                  for _ in range(3)}
        self.assertEqual(orders, {tuple(sorted(e["id"] for e in ents))})   # id tie-break

    def test_types_listing_and_orion_quirk(self):
        r = self.http.get("/ngsi-ld/v1/types")
        self.assertEqual(r.json()["typeList"], ["Device"])    # first 1000 entities only (#1698)
        # the LegoCity context defines its own Device: the context-less one compacts to an IRI
        r = self.http.get("/ngsi-ld/v1/types", link=True)
        self.assertEqual(r.json()["typeList"], [DEFAULT_CTX + "Device"])
        self.use("stellio")
        doc = self.http.get("/ngsi-ld/v1/types", link=True).json()
        self.assertEqual(doc["type"], "EntityTypeList")
        want = [t for t in SEED_TYPES if t != "Device"] + [DEFAULT_CTX + "Device"]
        self.assertEqual(sorted(doc["typeList"]), sorted(want))
        doc = self.http.get("/ngsi-ld/v1/types").json()          # core context: full IRIs
        self.assertIn(SDM + "dataModel.Weather/WeatherObserved", doc["typeList"])
        self.assertIn("Device", doc["typeList"])
        t = self.http.get("/ngsi-ld/v1/types/WeatherObserved", link=True).json()
        self.assertEqual(t["entityCount"], 1600)
        names = {a["attributeName"]: a["attributeTypes"] for a in t["attributeDetails"]}
        self.assertEqual(names["refDevice"], ["Relationship"])
        self.assertEqual(names["location"], ["GeoProperty"])


class Queries(SimBroker):
    def weather(self):
        return self.http.get(E("type=WeatherObserved&limit=1000&count=true"), link=True).json() + \
            self.http.get(E("type=WeatherObserved&limit=1000&offset=1000"), link=True).json()

    def test_q_filters_match_an_independent_evaluation(self):
        all_w = self.weather()
        self.assertEqual(len(all_w), 1600)

        def temps(e):
            t = e["temperature"]
            return [i["value"] for i in (t if isinstance(t, list) else [t])]
        cases = {
            "temperature>20": lambda e: any(v > 20 for v in temps(e)),
            "temperature>20;windSpeed<5": lambda e: any(v > 20 for v in temps(e))
            and e["windSpeed"]["value"] < 5,
            "windDirection==90..120": lambda e: 90 <= e["windDirection"]["value"] <= 120,
            'weatherType=="fog"|weatherType=="overcast"':
                lambda e: e["weatherType"]["value"] in ("fog", "overcast"),
            "weatherType!=fog": lambda e: e["weatherType"]["value"] != "fog",
        }
        for q, fn in cases.items():
            with self.subTest(q=q):
                want = sorted(e["id"] for e in all_w if fn(e))
                self.assertGreater(len(want), 0)
                query = "type=WeatherObserved&count=true&limit=1000&q=" + urllib.parse.quote(q)
                r = self.http.get(E(query), link=True)
                self.assertEqual(r.status, 200, r.body[:200])
                self.assertEqual(int(r.header("NGSILD-Results-Count")), len(want))
                got = [e["id"] for e in r.json()]
                if len(want) > 1000:
                    got += [e["id"] for e in self.http.get(E(query + "&offset=1000"),
                                                           link=True).json()]
                self.assertEqual(sorted(got), want)
        dev = all_w[0]["refDevice"]["object"]
        r = self.http.get(E(f"q=refDevice=={dev}&count=true&limit=1000"), link=True)
        hits = r.json()
        self.assertTrue(hits and all(e["refDevice"]["object"] == dev for e in hits))
        self.assertProblem(self.http.get(E("q=temperature>>1")), 400, ERR + "BadRequestData")
        self.assertEqual(self.http.get(E("q=(temperature>1")).status, 400)

    def test_ids_idpattern_attrs_projection(self):
        ids = ["urn:ngsi-ld:WeatherObserved:lego-city-0003", "urn:ngsi-ld:Device:lego-city-0007"]
        r = self.http.get(E("id=" + ",".join(ids)), link=True)
        self.assertEqual(sorted(e["id"] for e in r.json()), sorted(ids))
        r = self.http.get(E("idPattern=^urn:ngsi-ld:AirQuality.*-00[0-9]{2}$&count=true"))
        self.assertEqual(r.header("NGSILD-Results-Count"), "99")
        r = self.http.get(E("attrs=NO2,powerState&count=true&limit=5"), link=True)
        self.assertEqual(r.header("NGSILD-Results-Count"),
                         str(SEED_TYPES["AirQualityObserved"] + SEED_TYPES["Streetlight"]))
        for e in r.json():
            self.assertLessEqual(set(e) - {"id", "type"}, {"NO2", "powerState"})

    def test_post_query_and_geojson(self):
        q = "/ngsi-ld/v1/entityOperations/query?count=true&limit=1000"
        r = self.http.post(q, {"type": "Query", "entities": [{"type": "WeatherObserved"},
                                                           {"type": "AirQualityObserved"}]},
                           link=True)
        self.assertEqual(r.status, 200, r.body[:200])
        self.assertEqual(r.header("NGSILD-Results-Count"), "3200")
        r = self.http.post(q, {"type": "Query", "q": "windSpeed<1",
                               "entities": [{"idPattern": ".*lego-city-00[0-4].*",
                                             "type": "WeatherObserved"}]}, link=True)
        got = r.json()
        self.assertTrue(got)
        for e in got:
            self.assertLess(e["windSpeed"]["value"], 1)
            self.assertRegex(e["id"], "lego-city-00[0-4]")
        self.assertProblem(self.http.post(q, {"type": "Query"}), 400, ERR + "BadRequestData")
        r = self.http.get(E("type=OffStreetParking&limit=2"), link=True,
                          accept="application/geo+json")
        fc = r.json()
        self.assertEqual((r.header("Content-Type"), fc["type"]),
                         ("application/geo+json", "FeatureCollection"))
        self.assertEqual(fc["features"][0]["geometry"]["type"], "Polygon")

    def test_geo_near(self):
        one = self.http.get(E("type=WeatherObserved&limit=1"), link=True).json()[0]
        lon, lat = one["location"]["value"]["coordinates"]
        q = urllib.parse.urlencode({"type": "WeatherObserved", "geometry": "Point",
                                    "georel": "near;maxDistance==1", "limit": 100,
                                    "coordinates": json.dumps([lon, lat])})
        r = self.http.get(E(q), link=True)
        self.assertIn(one["id"], [e["id"] for e in r.json()])
        self.assertEqual(self.http.get(E("type=Device&geometry=Point")).status, 400)

    def test_options_keyvalues_sysattrs_and_single_entity(self):
        eid = "urn:ngsi-ld:WeatherObserved:lego-city-0010"
        r = self.http.get(f"/ngsi-ld/v1/entities/{eid}?options=keyValues", link=True)
        kv = r.json()
        self.assertEqual(kv["type"], "WeatherObserved")
        self.assertIsInstance(kv["temperature"], list)               # two instances
        self.assertEqual(kv["refDevice"][:22], "urn:ngsi-ld:Device:leg")
        r = self.http.get(f"/ngsi-ld/v1/entities/{eid}?options=sysAttrs", link=True)
        full = r.json()
        self.assertIn("createdAt", full)
        self.assertIn("modifiedAt", full["windSpeed"])
        plain = self.http.get(f"/ngsi-ld/v1/entities/{eid}", link=True).json()
        self.assertNotIn("createdAt", plain)
        ds = [i.get("datasetId") for i in plain["temperature"]]
        self.assertIn("urn:ngsi-ld:Dataset:lego-city:roof-sensor", ds)
        self.assertEqual(plain["temperature"][0]["unitCode"], "CEL")
        self.assertRegex(plain["temperature"][0]["observedAt"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        r = self.http.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Nope:1")
        self.assertProblem(r, 404, ERR + "ResourceNotFound")


class Context(SimBroker):
    def test_round_trip_through_full_iris(self):
        body = {"@context": [{"myTemp": "https://example.org/ns#temperature",
                              "Kiosk": "https://example.org/ns#Kiosk"}, LEGO],
                "id": "urn:ngsi-ld:Kiosk:k1", "type": "Kiosk",
                "myTemp": {"type": "Property", "value": 21.5, "unitCode": "CEL"},
                "district": {"type": "Property", "value": "Brickton"},
                "colour": {"type": "Property", "value": "red"},
                "refDevice": {"type": "Relationship",
                              "object": "urn:ngsi-ld:Device:lego-city-0001"}}
        r = self.http.post(E(), body, ctype="application/ld+json", tenant="ctx")
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.header("Location"), "/ngsi-ld/v1/entities/urn:ngsi-ld:Kiosk:k1")
        # no user context: full IRIs, default-context terms short
        core = self.http.get(E("type=https://example.org/ns%23Kiosk"), tenant="ctx").json()[0]
        self.assertEqual(core["type"], "https://example.org/ns#Kiosk")
        self.assertIn("https://example.org/ns#temperature", core)
        self.assertIn("https://legocity.example/ns#district", core)
        self.assertIn("colour", core)
        self.assertIn(SDM + "dataModel.Device/refDevice", core)
        # the LegoCity context compacts what it knows
        lego = self.http.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Kiosk:k1", tenant="ctx",
                             link=True).json()
        self.assertIn("district", lego)
        self.assertIn("refDevice", lego)
        self.assertEqual(lego["type"], "https://example.org/ns#Kiosk")
        # restore the core-context dump into another tenant, without any context
        r = self.http.post("/ngsi-ld/v1/entityOperations/upsert", [core], tenant="ctx2")
        self.assertEqual(r.status, 201, r.body)
        a = self.ctl("GET", "/entity?tenant=ctx&id=urn:ngsi-ld:Kiosk:k1")["entity"]
        b = self.ctl("GET", "/entity?tenant=ctx2&id=urn:ngsi-ld:Kiosk:k1")["entity"]
        self.assertEqual(a, b)
        # ld+json answer: @context in the body, no context Link header
        r = self.http.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Kiosk:k1", tenant="ctx", link=True,
                          accept="application/ld+json")
        self.assertEqual(r.header("Content-Type"), "application/ld+json")
        self.assertEqual(r.json()["@context"], LEGO)
        self.assertIsNone(r.header("Link"))

    def test_seeded_entities_compact_both_ways(self):
        eid = "urn:ngsi-ld:ParkingSpot:lego-city-0001"
        core = self.http.get(f"/ngsi-ld/v1/entities/{eid}").json()
        self.assertEqual(core["type"], SDM + "dataModel.Parking/ParkingSpot")
        self.assertIn("status", core)                     # a core term stays short
        self.assertIn(SDM + "dataModel.Parking/refParkingSite", core)
        lego = self.http.get(f"/ngsi-ld/v1/entities/{eid}", link=True).json()
        self.assertEqual(lego["type"], "ParkingSpot")
        self.assertIn("refParkingSite", lego)
        dev = self.http.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Device:lego-city-0001",
                            link=True).json()
        # 'category' of a context-less Device is default-context, not the SDM term
        self.assertIn("https://uri.etsi.org/ngsi-ld/default-context/category", dev)

    def test_content_negotiation_errors(self):
        for prof, x in EXPECT.items():
            with self.subTest(profile=prof):
                self.use(prof)
                r = self.http.get(E("type=Device"), accept="text/html")
                self.assertEqual(r.status, 406)
                r = self.http.post(E(), b"<x/>", ctype="application/xml")
                self.assertEqual((r.status, r.body), (415, b""))
                e = entity("urn:ngsi-ld:X:1", "X")
                e["@context"] = LEGO
                r = self.http.post(E(), e)                             # json + @context
                self.assertProblem(r, 400, ERR + "BadRequestData")
                r = self.http.post(E(), e, ctype="application/ld+json", link=True)
                self.assertProblem(r, 400, ERR + "BadRequestData")     # ld+json + Link
                r = self.http.post(E(), entity("urn:ngsi-ld:X:2", "X"),
                                   ctype="application/ld+json")
                self.assertProblem(r, 400, ERR + "BadRequestData")     # no @context
                r = self.http.get(E("type=Device"), link='<https://nowhere.example/c.jsonld>; '
                                  'rel="http://www.w3.org/ns/json-ld#context"')
                self.assertProblem(r, x["ctx_status"], ERR + "LdContextNotAvailable")
                r = self.http.post(E(), b"{not json")
                self.assertProblem(r, 400, ERR + "InvalidRequest")
                r = self.http.get(E("type=Device&limit=1"), accept="application/json;q=0.5, "
                                  "application/ld+json")
                self.assertEqual(r.header("Content-Type"), "application/ld+json")

    def test_missing_content_length_is_411(self):
        s = socket.create_connection((self.http.host, self.http.port), timeout=10)
        try:
            s.sendall(b"POST /ngsi-ld/v1/entities HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"2\r\n{}\r\n0\r\n\r\n")
            data = s.recv(65536)
        finally:
            s.close()
        self.assertTrue(data.startswith(b"HTTP/1.1 411 "), data[:80])


class Tenants(SimBroker):
    def test_seeded_legocity_tenant(self):
        r = self.http.get(E("local=true&limit=0&count=true"), tenant="legocity")
        self.assertEqual(r.header("NGSILD-Results-Count"), "2000")
        eid = "/ngsi-ld/v1/entities/urn:ngsi-ld:WeatherObserved:lego-city-0001"
        a = self.http.get(eid, link=True).json()
        b = self.http.get(eid, tenant="legocity", link=True).json()
        self.assertEqual(set(a), set(b))                     # same shape, same id ...
        self.assertNotEqual(a["temperature"], b["temperature"])     # ... its own values

    def test_tenant_isolation_and_unknown_tenant(self):
        for prof, x in EXPECT.items():
            with self.subTest(profile=prof):
                self.use(prof)
                t = f"city-{prof}"
                if prof == "stellio":             # statically configured tenants only
                    r = self.http.post(E(), entity("urn:ngsi-ld:T:1", "T"), tenant=t)
                    self.assertProblem(r, 404, x["tenant404"])
                    self.ctl("POST", "/tenants", {"name": t})
                r = self.http.post(E(), entity("urn:ngsi-ld:T:1", "T", n=1), tenant=t)
                self.assertEqual(r.status, 201, r.body)
                self.assertEqual(r.header("NGSILD-Tenant"), t)
                r = self.http.get(E("type=T&count=true"), tenant=t)
                self.assertEqual([e["id"] for e in r.json()], ["urn:ngsi-ld:T:1"])
                self.assertEqual(r.header("NGSILD-Tenant"), t)
                r = self.http.get("/ngsi-ld/v1/entities/urn:ngsi-ld:T:1")     # default tenant
                self.assertEqual(r.status, 404)
                r = self.http.get(E("type=T"), tenant="no-such-tenant")
                self.assertProblem(r, 404, x["tenant404"])
                r = self.http.req("DELETE", "/ngsi-ld/v1/entities/urn:ngsi-ld:T:1",
                                  tenant="no-such-tenant")
                self.assertEqual(r.status, 404)
        self.use("orion-ld")
        r = self.http.get(E("type=T"), headers={"NGSILD-Tenant": "a", "Fiware-Service": "b"})
        self.assertProblem(r, 400, ERR + "BadRequestData", "HTTP header duplication")
        r = self.http.get(E("type=T"), headers={"Fiware-Service": "City-Orion-LD"})
        self.assertEqual(len(r.json()), 1)                     # lowercased, alternative header
        self.use("orion-ld", multitenancy=False)
        self.assertProblem(self.http.get(E("type=T"), tenant="city-orion-ld"), 400,
                           ERR + "BadRequestData", "Tenants not supported")
        self.use("strict", multitenancy=False)
        self.assertProblem(self.http.get(E("type=T"), tenant="x"), 501,
                           ERR + "NoMultiTenantSupport")


class Batches(SimBroker):
    OPS = "/ngsi-ld/v1/entityOperations/"

    def batch(self, op, body, tenant, query=""):
        return self.http.post(self.OPS + op + query, body, tenant=tenant)

    def test_create_upsert_update_delete_shapes(self):
        for prof in EXPECT:
            with self.subTest(profile=prof):
                self.use(prof)
                t = f"batch-{prof}"
                self.ctl("POST", "/tenants", {"name": t})
                ids = [f"urn:ngsi-ld:B:{i}" for i in range(3)]
                r = self.batch("create", [entity(i, "B", n=1) for i in ids], t)
                self.assertEqual((r.status, r.json()), (201, ids))
                r = self.batch("create", [entity(i, "B") for i in ids[:2]] +
                               [entity("urn:ngsi-ld:B:3", "B")], t)
                self.check_create_conflicts(prof, r, ids[:2], ["urn:ngsi-ld:B:3"])
                r = self.batch("create", [entity(i, "B") for i in ids[:2]], t)
                if prof == "scorpio":                         # all failed: no 207
                    self.assertEqual(r.status, 409)
                    self.assertNotIn("success", r.json())
                else:
                    self.assertEqual(r.status, 207)
                    self.assertEqual(r.json()["success"], [])
                r = self.batch("upsert", [entity(i, "B", n=2) for i in ids], t)
                self.assertEqual((r.status, r.body), (204, b""))
                r = self.batch("upsert", [entity(ids[0], "B", n=3),
                                          entity("urn:ngsi-ld:B:9", "B", n=3)], t)
                if prof == "orion-ld":                        # #803: 207, all in success
                    self.assertEqual(r.status, 207)
                    self.assertEqual(r.json(), {"success": [ids[0], "urn:ngsi-ld:B:9"],
                                                "errors": []})
                else:
                    self.assertEqual((r.status, r.json()), (201, ["urn:ngsi-ld:B:9"]))
                r = self.batch("update", [{"id": ids[1], "n": {"type": "Property", "value": 7}}],
                               t)
                self.assertEqual(r.status, 204)
                n = self.http.get(f"/ngsi-ld/v1/entities/{ids[1]}", tenant=t).json()["n"]
                self.assertEqual(n["value"], 7)
                r = self.batch("update", [{"id": "urn:ngsi-ld:B:404", "n": 1},
                                          {"id": ids[1], "n": 8}], t)
                self.assertEqual(r.status, 207)
                r = self.batch("delete", ids + ["urn:ngsi-ld:B:9"], t)
                self.assertEqual(r.status, 204)
                r = self.batch("delete", ["urn:ngsi-ld:B:3", "urn:ngsi-ld:B:missing"], t)
                self.assertEqual(r.status, 207)
                errs = r.json()["errors"]
                key = "id" if prof == "scorpio" else "entityId"
                self.assertEqual([e[key] for e in errs], ["urn:ngsi-ld:B:missing"])
                r = self.batch("delete", ["urn:ngsi-ld:B:missing"], t)
                self.assertEqual(r.status, 404 if prof == "scorpio" else 207)
                self.assertEqual(self.http.get(E("type=B&count=true&limit=0"), tenant=t)
                                 .header("NGSILD-Results-Count"), "0")

    def check_create_conflicts(self, prof, r, dups, created):
        self.assertEqual(r.status, 207, r.body)
        doc = r.json()
        self.assertEqual(doc["success"], created)
        if prof == "scorpio":
            self.assertEqual([e["id"] for e in doc["errors"]], dups)
            self.assertEqual({e["type"] for e in doc["errors"]}, {"Create"})
            pd = doc["errors"][0]["ProblemDetails"]
            self.assertEqual(pd["type"], ERR + "AlreadyExists")
            return
        self.assertEqual([e["entityId"] for e in doc["errors"]], dups)
        err = doc["errors"][0]["error"]
        if prof == "orion-ld":                        # legacy: 400 BadRequestData [ref 3]
            self.assertEqual((err["type"], err["status"]), (ERR + "BadRequestData", 400))
        else:
            self.assertEqual((err["type"], err["status"]), (ERR + "AlreadyExists", 409))
        if prof == "stellio":
            self.assertEqual(err["instance"], "/ngsi-ld/v1/entityOperations/create")

    def test_validation_errors_inside_a_batch(self):
        self.use("strict")
        t = "batch-validation"
        ok = entity("urn:ngsi-ld:V:ok", "V", n=1)
        bad_id = entity("not a uri", "V")
        unit_rel = {"id": "urn:ngsi-ld:V:rel", "type": "V",
                    "r": {"type": "Relationship", "object": "urn:x:1", "unitCode": "MTR"}}
        two_default = {"id": "urn:ngsi-ld:V:dd", "type": "V",
                       "p": [{"type": "Property", "value": 1}, {"type": "Property", "value": 2}]}
        dup = entity("urn:ngsi-ld:V:ok", "V", n=2)
        r = self.batch("create", [ok, bad_id, unit_rel, two_default, dup], t)
        self.assertEqual(r.status, 207)
        doc = r.json()
        self.assertEqual(doc["success"], ["urn:ngsi-ld:V:ok"])
        self.assertEqual([e["error"]["type"] for e in doc["errors"]],
                         [ERR + "BadRequestData"] * 3 + [ERR + "AlreadyExists"])
        self.assertIn("Property attributes only", doc["errors"][1]["error"]["detail"])
        r = self.http.post(self.OPS + "create", [{"id": "urn:ngsi-ld:V:ld", "type": "V"}],
                           ctype="application/ld+json", tenant=t)
        self.assertEqual(r.status, 207)                 # @context missing: per-entity error
        self.assertEqual(self.batch("create", [], t).status, 400)
        self.assertEqual(self.batch("upsert", [ok], t, "?options=update,replace").status, 400)

    def test_batch_size_and_body_limits(self):
        many = [entity(f"urn:ngsi-ld:L:{i:05d}", "L", n=i) for i in range(1001)]
        self.use("orion-ld")
        r = self.batch("create", many, "limits-orion")
        self.assertEqual(r.status, 201)                  # extras silently dropped [ref 7.11]
        self.assertEqual(len(r.json()), 1000)
        cnt = self.http.get(E("type=L&limit=0&count=true"), tenant="limits-orion")
        self.assertEqual(cnt.header("NGSILD-Results-Count"), "1000")
        self.use("strict")
        r = self.batch("create", many, "limits-strict")
        self.assertProblem(r, 400, ERR + "BadRequestData")
        big = [entity(f"urn:ngsi-ld:L:{i}", "L", blob="x" * 2000) for i in range(600)]
        for prof, status in (("orion-ld", 413), ("stellio", 201), ("strict", 413)):
            with self.subTest(profile=prof):
                self.use(prof)
                self.ctl("POST", "/tenants", {"name": f"big-{prof}"})
                r = self.batch("create", big, f"big-{prof}")
                self.assertEqual(r.status, status, r.body[:200])
        self.use("orion-ld")
        r = self.batch("create", big, "big-orion-ld")
        self.assertEqual(r.json()["title"], "Request Entity too large")

    def test_request_log_lists_batch_items(self):
        """The log says what each batch write carried (lcbackup's dry run is checked against it)."""
        ids = [f"urn:ngsi-ld:Log:{i}" for i in range(3)]
        body = [entity(i, "Log", n=1) for i in ids]
        self.ctl("DELETE", "/requests")
        self.batch("upsert", body, "logged")
        self.batch("delete", ids[1:], "logged")
        self.http.get(E("type=Log"), tenant="logged")
        up, dele, get = self.ctl("GET", "/requests")["requests"]
        self.assertEqual((up["items"], up["first_id"], up["last_id"]), (3, ids[0], ids[2]))
        self.assertEqual(up["bytes_in"], len(json.dumps(body).encode()))
        self.assertEqual((dele["items"], dele["first_id"], dele["last_id"]), (2, ids[1], ids[2]))
        self.assertNotIn("items", get)
        self.assertEqual(get["bytes_in"], 0)

    def test_single_entity_writes(self):
        t = "single"
        r = self.http.post(E(), entity("urn:ngsi-ld:S:1", "S", a=1, b=2), tenant=t)
        self.assertEqual(r.status, 201)
        self.assertProblem(self.http.post(E(), entity("urn:ngsi-ld:S:1", "S"), tenant=t), 409,
                           ERR + "AlreadyExists")
        r = self.http.req("PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:S:1/attrs",
                          body={"a": {"type": "Property", "value": 10}}, tenant=t)
        self.assertEqual(r.status, 204)
        r = self.http.req("PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:S:1/attrs",
                          body={"a": {"type": "Property", "value": 11},
                                "zz": {"type": "Property", "value": 0}}, tenant=t)
        self.assertEqual(r.status, 207)
        self.assertEqual(r.json()["notUpdated"][0]["attributeName"], "zz")
        r = self.http.post("/ngsi-ld/v1/entities/urn:ngsi-ld:S:1/attrs?options=noOverwrite",
                           {"b": {"type": "Property", "value": 99},
                            "c": {"type": "Property", "value": 3}}, tenant=t)
        self.assertEqual(r.status, 207)
        e = self.http.get("/ngsi-ld/v1/entities/urn:ngsi-ld:S:1?options=sysAttrs",
                          tenant=t).json()
        self.assertEqual((e["a"]["value"], e["b"]["value"], e["c"]["value"]), (11, 2, 3))
        self.assertGreaterEqual(e["a"]["modifiedAt"], e["b"]["modifiedAt"])
        self.assertEqual(self.http.req("DELETE", "/ngsi-ld/v1/entities/urn:ngsi-ld:S:1",
                                       tenant=t).status, 204)
        self.assertEqual(self.http.get("/ngsi-ld/v1/entities/urn:ngsi-ld:S:1",
                                       tenant=t).status, 404)

    def test_orion_float_and_time_quirks_on_write(self):
        self.use("orion-ld")
        e = {"id": "urn:ngsi-ld:F:1", "type": "F",
             "p": {"type": "Property", "value": 41.640833333, "observedAt": "2026-01-02T03:04:05Z"}}
        self.assertEqual(self.http.post(E(), e, tenant="quirks").status, 201)
        got = self.http.get("/ngsi-ld/v1/entities/urn:ngsi-ld:F:1", tenant="quirks").json()
        self.assertEqual(got["p"]["value"], 41.640833)                   # #1677
        self.assertEqual(got["p"]["observedAt"], "2026-01-02T03:04:05.000Z")
        self.use("stellio")
        self.ctl("POST", "/tenants", {"name": "quirks2"})
        e["p"]["observedAt"] = "2026-01-02T08:34:05.100+05:30"
        self.assertEqual(self.http.post(E(), e, tenant="quirks2").status, 201)
        got = self.http.get("/ngsi-ld/v1/entities/urn:ngsi-ld:F:1", tenant="quirks2").json()
        self.assertEqual(got["p"]["value"], 41.640833333)
        self.assertEqual(got["p"]["observedAt"], "2026-01-02T03:04:05.100Z")


class HooksBetweenPages(SimBroker):
    N = 300

    def setUp(self):
        super().setUp()
        out = self.ctl("POST", "/seed", {"sizes": {"tenants": {"hooks": self.N}}})
        self.assertEqual(out["entities"], {"hooks": self.N})

    def hook(self, **spec):
        spec.setdefault("tenant", "hooks")
        return self.ctl("POST", "/hooks", spec)["id"]

    def fired(self, hid):
        return [h for h in self.ctl("GET", "/hooks")["hooks"] if h["id"] == hid][0]["fired"]

    def test_delete_before_cursor_skips_entities(self):
        hid = self.hook(after_get=1, action="delete", count=5, where="before")
        ids = self.dump("local=true", 50, tenant="hooks")
        deleted = self.fired(hid)[0]["ids"]
        self.assertEqual(len(deleted), 5)
        self.assertEqual(len(set(ids)), len(ids))
        remaining = set(self.ctl("GET", "/ids?tenant=hooks")["ids"])
        self.assertEqual(len(remaining), self.N - 5)
        self.assertTrue(set(deleted) <= set(ids[:50]))        # served before they vanished
        missed = remaining - set(ids)
        self.assertEqual(len(missed), 5)                      # the shift skipped 5 others

    def test_create_lands_at_the_end_in_creation_order(self):
        hid = self.hook(after_get=2, action="create", count=4, type="WeatherObserved")
        ids = self.dump("local=true", 50, tenant="hooks")
        created = self.fired(hid)[0]["ids"]
        self.assertEqual(len(created), 4)
        self.assertEqual(ids[-4:], created)
        self.assertEqual(len(set(ids)), self.N + 4)

    def test_create_before_cursor_duplicates_in_id_order(self):
        self.use("orion-ld", order="id")
        hid = self.hook(after_get=1, action="create", count=3, id_prefix="urn:ngsi-ld:Aaa:hook-",
                        type="Aaa")
        ids = self.dump("local=true", 50, tenant="hooks")
        created = set(self.fired(hid)[0]["ids"])
        self.assertEqual(len(created), 3)
        self.assertEqual(len(ids) - len(set(ids)), 3)         # page 2 repeats 3 of page 1
        self.assertFalse(created & set(ids))                  # landed before the cursor
        self.assertEqual(ids, sorted(ids[:50]) + sorted(ids[50:]))

    def test_update_after_cursor_is_seen_and_repeat(self):
        hid = self.hook(after_get=2, action="update", count=2, where="after", repeat=True)
        r = self.http.get(E("local=true&limit=100&offset=0"), tenant="hooks")
        r = self.http.get(E("local=true&limit=100&offset=100"), tenant="hooks")
        self.assertEqual(r.header("X-Lcsim-Hooks"), str(hid))
        upd = self.fired(hid)[0]["ids"]
        page3 = self.http.get(E("local=true&limit=100&offset=200"), tenant="hooks").json()
        got = {e["id"]: e for e in page3}
        for eid in upd:
            self.assertEqual(got[eid]["hookRevision"]["type"], "Property")
        self.http.get(E("local=true&limit=100&offset=0"), tenant="hooks")
        self.assertEqual(len(self.fired(hid)), 2)                   # fired again at GET 4

    def test_count_only_requests_do_not_count(self):
        hid = self.hook(after_get=1, action="delete", count=1, where="after")
        self.http.get(E("local=true&limit=0&count=true"), tenant="hooks")
        self.assertEqual(self.fired(hid), [])
        self.http.get(E("local=true&limit=10"), tenant="hooks")
        self.assertEqual(len(self.fired(hid)), 1)


class Faults(SimBroker):
    Q = E("type=WeatherObserved&limit=100&count=true")

    def fault(self, **spec):
        spec.setdefault("path", "/ngsi-ld/v1/entities")
        return self.ctl("POST", "/faults", spec)

    def test_status_times_and_after(self):
        self.fault(action="status", status=503, times=2)
        self.assertProblem(self.http.get(self.Q, link=True), 503, ERR + "InternalError")
        self.assertEqual(self.http.get(self.Q, link=True).status, 503)
        self.assertEqual(self.http.get(self.Q, link=True).status, 200)
        self.fault(action="status", status=500, after=1)
        self.assertEqual(self.http.get(self.Q, link=True).status, 200)
        self.assertEqual(self.http.get(self.Q, link=True).status, 500)
        self.assertEqual(self.http.get(self.Q, link=True).status, 200)
        log = self.ctl("GET", "/requests?route=GET%20/entities&limit=3")["requests"]
        self.assertEqual([e["status"] for e in log], [200, 500, 200])

    def test_connection_reset_drop_and_truncate(self):
        self.fault(action="reset")
        with self.assertRaises((ConnectionError, http.client.HTTPException)):
            self.http.get(self.Q, link=True)
        self.fault(action="drop", fraction=0.3)
        with self.assertRaises(http.client.IncompleteRead):
            self.http.get(self.Q, link=True)
        self.fault(action="truncate", fraction=0.5)
        r = self.http.get(self.Q, link=True)
        self.assertEqual(r.status, 200)
        self.assertEqual(int(r.header("Content-Length")), len(r.body))
        with self.assertRaises(ValueError):
            json.loads(r.body)
        self.assertEqual(len(self.http.get(self.Q, link=True).json()), 100)

    def test_empty_page_wrong_count_and_first_page(self):
        self.fault(action="empty_page", query="offset=1000")
        r = self.http.get(self.Q + "&offset=1000", link=True)
        self.assertEqual((r.body, r.header("NGSILD-Results-Count")), (b"[]", "1600"))  # #1407
        self.fault(action="count", delta=7)
        self.assertEqual(self.http.get(self.Q, link=True).header("NGSILD-Results-Count"), "1607")
        first = self.http.get(self.Q, link=True).json()
        self.fault(action="first_page")
        self.assertEqual(self.http.get(self.Q + "&offset=300", link=True).json(), first)  # #316
        self.assertNotEqual(self.http.get(self.Q + "&offset=300", link=True).json(), first)

    def test_latency_and_stall(self):
        self.fault(action="latency", seconds=0.4)
        r = self.http.get(self.Q, link=True)
        self.assertGreaterEqual(r.elapsed, 0.4)
        self.fault(action="latency", seconds=3)
        with self.assertRaises(socket.timeout):
            self.http.get(self.Q, link=True, timeout=0.5)
        self.http.close()
        self.assertEqual(self.http.get(self.Q, link=True).status, 200)

    def test_error_detail_styles(self):
        self.use("scorpio", detail_style="object")
        doc = self.http.get(E("type=Device&limit=5000")).json()
        self.assertIsInstance(doc["detail"], dict)
        self.use("scorpio", detail_style="omit")
        self.assertNotIn("detail", self.http.get(E("type=Device&limit=5000")).json())

    def test_reset_clears_entities_knobs_and_log(self):
        with tempfile.TemporaryDirectory() as d:
            b = BrokerServer(pathlib.Path(d), "stellio", 0)
            b.seed("legocity", {"entities": 50, "tenants": {"x": 10}})
            b.control("POST", "/broker/config", {"profile": "orion-ld", "max_limit": 5})
            b.control("POST", "/broker/faults", {"action": "latency", "seconds": 1})
            self.assertEqual(b.control("POST", "/broker/reset", {})[0], 200)
            status, cfg = b.control("GET", "/broker/config")
            self.assertEqual((cfg["name"], cfg["max_limit"]), ("stellio", 100))
            self.assertEqual(b.control("GET", "/broker/faults")[1]["faults"], [])
            self.assertEqual(b.control("GET", "/broker/summary")[1]["tenants"],
                             {"": {"count": 0, "types": {}}})
            self.assertEqual(b.control("GET", "/broker/nope")[0], 404)
            self.assertEqual(b.control("POST", "/broker/config", {"bogus": 1})[0], 400)
            b.stop()

    def test_counters(self):
        before = self.ctl("GET", "/counters")["counters"].get("GET /entities 200", 0)
        for _ in range(3):
            self.http.get(E("type=Device&limit=1"))
        after = self.ctl("GET", "/counters")["counters"]["GET /entities 200"]
        self.assertEqual(after - before, 3)


class Performance(SimBroker):
    def test_page_of_1000_entities_timing(self):
        figures = {}
        for label, query, link in (("core", "local=true&limit=1000&offset=15000", None),
                                   ("lego", "local=true&limit=1000&offset=5000", True),
                                   ("type", "type=Streetlight&limit=1000&offset=3000", True)):
            times = []
            for _ in range(12):
                r = self.http.get(E(query), link=link)
                self.assertEqual(len(r.json()), 1000)
                times.append(r.elapsed * 1000)
            figures[label] = (round(times[0], 1), round(statistics.median(times[1:]), 1))
        sys.stderr.write(f"\n  1000-entity page ms (first, median of next 11): {figures}\n")
        self.assertLess(figures["core"][1], 100)
        self.assertLess(figures["lego"][1], 100)
        self.assertLess(figures["type"][1], 100)

    def test_concurrent_readers_and_writers(self):
        import threading
        statuses, errors = [], []

        def reader(n):
            c = Client(self.sim.broker_url)
            try:
                for i in range(15):
                    r = c.get(E(f"local=true&limit=200&offset={(n * 997 + i * 211) % 19000}"))
                    statuses.append(r.status)
                    if len(r.json()) != 200:
                        errors.append(f"short page {n}/{i}")
            except Exception as e:         # collected, asserted below
                errors.append(repr(e))
            finally:
                c.close()

        def writer(n):
            c = Client(self.sim.broker_url)
            try:
                for i in range(15):
                    batch = [entity(f"urn:ngsi-ld:W:{n}-{i}-{k}", "W", v=k) for k in range(20)]
                    statuses.append(c.post("/ngsi-ld/v1/entityOperations/upsert", batch,
                                           tenant="concurrent").status)
            except Exception as e:
                errors.append(repr(e))
            finally:
                c.close()
        threads = [threading.Thread(target=reader, args=(n,)) for n in range(4)] + \
            [threading.Thread(target=writer, args=(n,)) for n in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(len(statuses), 90)
        self.assertTrue(all(s in (200, 201) for s in statuses), set(statuses))
        r = self.http.get(E("type=W&limit=0&count=true"), tenant="concurrent")
        self.assertEqual(r.header("NGSILD-Results-Count"), str(2 * 15 * 20))

    def test_keep_alive(self):
        c = Client(self.sim.broker_url)
        c.get(E("type=Device&limit=1"))
        sock = c.conn.sock
        for _ in range(5):
            self.assertEqual(c.get(E("type=Device&limit=1")).status, 200)
        self.assertIs(c.conn.sock, sock)
        c.close()


class InProcess(unittest.TestCase):
    def test_persistence_across_restart(self):
        with tempfile.TemporaryDirectory() as d:
            b = BrokerServer(pathlib.Path(d), "orion-ld", 0).start()
            c = Client(b.url)
            self.assertEqual(c.post(E(), entity("urn:ngsi-ld:P:1", "P", n=1)).status, 201)
            c.close()
            b.stop()
            b = BrokerServer(pathlib.Path(d), "orion-ld", 0).start()
            c = Client(b.url)
            r = c.get("/ngsi-ld/v1/entities/urn:ngsi-ld:P:1")
            self.assertEqual(r.json()["n"]["value"], 1)
            # an entity created after the restart still sorts after the old one
            c.post(E(), entity("urn:ngsi-ld:P:0", "P", n=0))
            self.assertEqual([e["id"] for e in c.get(E("type=P")).json()],
                             ["urn:ngsi-ld:P:1", "urn:ngsi-ld:P:0"])
            c.close()
            b.stop()

    def test_seed_is_deterministic_and_realistic(self):
        bodies = []
        with tempfile.TemporaryDirectory() as d:
            for sub in ("a", "b"):
                b = BrokerServer(pathlib.Path(d) / sub, "orion-ld", 0)
                self.assertEqual(b.seed("legocity", {"entities": 700, "tenants": {}})
                                 ["entities"], {"default": 700})
                with b.broker.store.lock:
                    bodies.append(b.broker.store.db.execute(
                        "SELECT id, created_at, modified_at, body FROM entities "
                        "ORDER BY rid").fetchall())
                b.stop()
        self.assertEqual(bodies[0], bodies[1])
        self.assertEqual(len(bodies[0]), 700)
        ents = [json.loads(row[3]) for row in bodies[0]]
        types = {e["type"].rsplit("/", 1)[-1] for e in ents}
        self.assertGreaterEqual(len(types), 6)
        self.assertEqual(ents[0]["id"], "urn:ngsi-ld:Device:lego-city-0001")
        kinds = {a["type"] for e in ents for k, v in e.items() if k not in ("id", "type", "scope")
                 for a in (v if isinstance(v, list) else [v])}
        self.assertLessEqual({"Property", "Relationship", "GeoProperty", "LanguageProperty",
                              "VocabProperty", "JsonProperty"}, kinds)
        multi = [v for e in ents for v in e.values() if isinstance(v, list)
                 and all(isinstance(x, dict) for x in v)]
        self.assertTrue(multi and any("datasetId" in i for m in multi for i in m))
        self.assertTrue(any("observedAt" in v and "unitCode" in v for e in ents
                            for v in e.values() if isinstance(v, dict)))

    def test_seed_fast_path_equals_validating_path(self):
        reg = ContextRegistry()
        for prof in EXPECT:
            norm = Normalizer(broker_profiles.get(prof))
            for raw, with_ctx in generate(700):
                ctx = reg.resolve(LEGO if with_ctx else None)
                self.assertEqual(norm.trusted(raw, ctx), norm.entity(raw, ctx), raw["id"])

    def test_standalone_process(self):
        with tempfile.TemporaryDirectory() as d:
            pf = pathlib.Path(d) / "port"
            p = subprocess.Popen([simtest.PYTHON, "-m", "simlib.broker", "--state", d,
                                  "--profile", "stellio", "--port", "0", "--seed", "--sizes",
                                  '{"entities": 140}', "--port-file", str(pf)], cwd=str(HERE),
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            try:
                for _ in range(300):
                    if pf.exists():
                        break
                    time.sleep(0.05)
                c = Client(f"http://127.0.0.1:{int(pf.read_text())}")
                r = c.get(E("local=true&count=true&limit=100"))
                self.assertEqual((r.status, r.header("NGSILD-Results-Count")), (200, "140"))
                self.assertEqual(len(r.json()), 100)               # Stellio's max
                self.assertEqual(len(r.links("next")), 1)
                summary = json.loads(c.get("/broker/summary").body)
                self.assertEqual(summary["profile"], "stellio")
                c.close()
            finally:
                p.send_signal(signal.SIGTERM)
                out, _ = p.communicate(timeout=20)
            self.assertEqual(p.returncode, 0, out)
            self.assertIn("listening on http://127.0.0.1:", out)


if __name__ == "__main__":
    os.execv(simtest.PYTHON, [simtest.PYTHON, str(HERE / "run_tests.py"), "test_broker"])
