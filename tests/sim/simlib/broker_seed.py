"""The LegoCity seed: a deterministic, realistic set of smart-data-model entities.

seed(store, normalizer, registry, sizes) bulk-inserts `sizes["entities"]` entities (default
20 000) into the default tenant, plus `sizes["tenants"]` = {name: count} into other tenants
(default: 2 000 into tenant "legocity", the tenant the SSM seed names).
Everything derives from random.Random(sizes.get("rng", 2026)) and a fixed clock, so the same
sizes always give byte-identical entities, timestamps and ids.

Entities are created as an IoT platform would: most with the LegoCity @context (names become
smart-data-models IRIs), the Device entities without any context (default-context names, as an
IoT agent without a context would create them).  Creation order is by type block, so
Orion-LD's /types quirk (#1698) shows.  Shapes follow smart-data-models examples [ref 5]:
GeoProperty Point (Polygon for car parks, LineString for road segments), observedAt, unitCode,
Relationships (refDevice, refParkingSite, refStreetlightGroup, refRoadSegment), a multi-instance
`temperature` with datasetId, DateTime-typed values, a LanguageProperty, a VocabProperty,
a JsonProperty and nested sub-attributes.
"""

import datetime
import random
import zlib

from .broker_ld import LEGOCITY_CONTEXT_URL, format_time

BASE = datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)
OBSERVED = datetime.datetime(2026, 11, 28, 6, 0, tzinfo=datetime.timezone.utc)

# (type, share of the entity count); creation order follows this list
MIX = (
    ("Device", 0.12),
    ("OffStreetParking", 0.03),
    ("ParkingSpot", 0.25),
    ("Streetlight", 0.30),
    ("WeatherObserved", 0.08),
    ("AirQualityObserved", 0.08),
    ("TrafficFlowObserved", 0.14),
)
DISTRICTS = ("Brickton", "Studsville", "Minifig Heights", "Baseplate Bay", "Technic Park",
             "Duplo Downs")
CENTER = (4.3517, 50.8466)          # lon, lat


def type_counts(total):
    counts = {t: int(total * share) for t, share in MIX}
    counts["ParkingSpot"] += total - sum(counts.values())       # remainder
    return counts


def eid(etype, n, width):
    return f"urn:ngsi-ld:{etype}:lego-city-{n:0{width}d}"


class _Gen:
    def __init__(self, rng, counts):
        self.rng = rng
        self.counts = counts
        self.width = {t: max(4, len(str(c))) for t, c in counts.items()}

    def ref(self, etype, n=None):
        count = max(1, self.counts.get(etype, 50))
        width = self.width.get(etype, 4)
        return eid(etype, n if n is not None else self.rng.randint(1, count), width)

    def point(self, spread=0.05):
        r = self.rng
        return {"type": "Point", "coordinates": [round(CENTER[0] + r.uniform(-spread, spread), 9),
                                                 round(CENTER[1] + r.uniform(-spread, spread), 9)]}

    def ts(self, minutes):
        return format_time(OBSERVED + datetime.timedelta(minutes=minutes), "millis")

    def prop(self, value, unit=None, observed=None, **subs):
        p = {"type": "Property", "value": value}
        if unit:
            p["unitCode"] = unit
        if observed:
            p["observedAt"] = observed
        p.update(subs)
        return p

    @staticmethod
    def rel(obj, **subs):
        r = {"type": "Relationship", "object": obj}
        r.update(subs)
        return r

    def address(self, n):
        r = self.rng
        number = r.randint(1, 250)
        street = r.choice(("Brick", "Stud", "Plate", "Tile", "Hinge"))
        kind = r.choice(("Street", "Lane", "Avenue", "Road"))
        return self.prop({"streetAddress": f"{number} {street} {kind}",
                          "addressLocality": "LegoCity",
                          "addressRegion": r.choice(DISTRICTS),
                          "postalCode": f"LC-{1000 + n % 9000}",
                          "addressCountry": "LG"})

    # ---------------------------------------------------------------- one builder per type

    def Device(self, n, eid_):
        r = self.rng
        return {
            "id": eid_, "type": "Device",
            "category": self.prop(r.choice(["sensor", "actuator", "meter"])),
            "controlledProperty": self.prop(r.sample(["temperature", "humidity", "NO2", "PM10",
                                                     "occupancy", "light", "traffic"], 2)),
            "serialNumber": self.prop(f"LC-{r.randint(10**7, 10**8 - 1)}"),
            "batteryLevel": self.prop(round(r.uniform(0.05, 1.0), 4), "C62", self.ts(n % 600)),
            "deviceState": self.prop(r.choice(["ok", "ok", "ok", "lowBattery", "offline"])),
            "dateInstalled": self.prop({"@type": "DateTime",
                                        "@value": format_time(BASE - datetime.timedelta(
                                            days=r.randint(30, 900)), "instant")}),
            "location": {"type": "GeoProperty", "value": self.point()},
            "legoColor": self.prop(r.choice(["red", "yellow", "blue", "green", "white"])),
        }

    def OffStreetParking(self, n, eid_):
        r = self.rng
        lon, lat = self.point()["coordinates"]
        d = 0.0009
        total = r.randint(40, 600)
        return {
            "id": eid_, "type": "OffStreetParking",
            "name": {"type": "LanguageProperty",
                     "languageMap": {"en": f"Car park {n}", "nl": f"Parkeergarage {n}",
                                     "fr": f"Parking {n}"}},
            "totalSpotNumber": self.prop(total),
            "availableSpotNumber": self.prop(r.randint(0, total), observed=self.ts(n % 900)),
            "category": self.prop(r.sample(["public", "private", "underground", "multiStorey",
                                            "feeCharged"], 2)),
            "allowedVehicleType": self.prop(["car", "motorcycle"]),
            "location": {"type": "GeoProperty", "value": {
                "type": "Polygon", "coordinates": [[[lon, lat], [lon + d, lat], [lon + d, lat + d],
                                                    [lon, lat + d], [lon, lat]]]}},
            "address": self.address(n),
            "district": self.prop(r.choice(DISTRICTS)),
        }

    def ParkingSpot(self, n, eid_):
        r = self.rng
        return {
            "id": eid_, "type": "ParkingSpot",
            "status": self.prop(r.choice(["free", "occupied", "occupied", "closed", "unknown"]),
                                observed=self.ts(n % 1440)),
            "category": self.prop(["onStreet"] if n % 3 else ["offStreet"]),
            "width": self.prop(round(r.uniform(2.1, 2.9), 2), "MTR"),
            "length": self.prop(round(r.uniform(4.5, 6.2), 2), "MTR"),
            "refParkingSite": self.rel(self.ref("OffStreetParking")),
            "refDevice": self.rel(self.ref("Device")),
            "location": {"type": "GeoProperty", "value": self.point()},
            "name": self.prop(f"Spot {n}"),
        }

    def Streetlight(self, n, eid_):
        r = self.rng
        e = {
            "id": eid_, "type": "Streetlight",
            "status": self.prop(r.choice(["ok", "ok", "ok", "ok", "defectiveLamp",
                                          "columnIssue", "brokenLantern"])),
            "powerState": self.prop(r.choice(["on", "off", "low", "bootingUp"]),
                                    observed=self.ts(n % 720),
                                    switchedBy=self.rel(self.ref("Device"))),
            "lanternHeight": self.prop(round(r.uniform(6.0, 12.0), 3), "MTR"),
            "illuminanceLevel": self.prop(round(r.uniform(0.0, 1.0), 6), "P1",
                                          self.ts(n % 720)),
            "dateLastLampChange": self.prop({"@type": "DateTime",
                                             "@value": format_time(BASE - datetime.timedelta(
                                                 hours=r.randint(1, 20000)), "millis")}),
            "refStreetlightGroup": self.rel(f"urn:ngsi-ld:StreetlightGroup:lego-city-"
                                            f"{1 + n % 40:04d}"),
            "refDevice": self.rel(self.ref("Device")),
            "municipalityInfo": self.prop({"district": r.choice(DISTRICTS),
                                           "ward": str(1 + n % 12)},
                                          deviceInfo=self.prop({"manufacturer": "Brick Lighting",
                                                                "model": r.choice(["BL-42",
                                                                                   "BL-77"])})),
            "location": {"type": "GeoProperty", "value": self.point()},
        }
        if n % 10 == 0:
            e["controllerConfig"] = {"type": "JsonProperty",
                                     "json": {"dimSchedule": [[22, 40], [6, 100]],
                                              "firmware": "2.4.1"}}
        if n % 7 == 0:
            e["scope"] = "/LegoCity/" + r.choice(DISTRICTS).replace(" ", "")
        return e

    def WeatherObserved(self, n, eid_):
        r = self.rng
        obs = self.ts(n % 60)
        t = round(r.uniform(-5.0, 24.0), 2)
        return {
            "id": eid_, "type": "WeatherObserved",
            "dateObserved": self.prop({"@type": "DateTime", "@value": obs}),
            "temperature": [
                self.prop(t, "CEL", obs),
                self.prop(round(t + r.uniform(-0.8, 0.8), 2), "CEL", obs,
                          datasetId="urn:ngsi-ld:Dataset:lego-city:roof-sensor"),
            ],
            "relativeHumidity": self.prop(round(r.uniform(0.3, 0.99), 3), "P1", obs),
            "atmosphericPressure": self.prop(round(r.uniform(990.0, 1035.0), 1), "A97", obs),
            "windSpeed": self.prop(round(r.uniform(0.0, 18.0), 2), "MTS", obs),
            "windDirection": self.prop(r.randint(0, 359), "DD", obs),
            "precipitation": self.prop(round(r.uniform(0.0, 4.0), 2), "MMT", obs),
            "weatherType": self.prop(r.choice(["clearNight", "overcast", "lightRain", "fog"])),
            "refDevice": self.rel(self.ref("Device")),
            "location": {"type": "GeoProperty", "value": self.point()},
            "address": self.address(n),
            "source": self.prop("https://legocity.example/weather"),
        }

    def AirQualityObserved(self, n, eid_):
        r = self.rng
        obs = self.ts(n % 60)
        aqi = r.randint(5, 180)
        return {
            "id": eid_, "type": "AirQualityObserved",
            "dateObserved": self.prop({"@type": "DateTime", "@value": obs}),
            "NO2": self.prop(round(r.uniform(5.0, 90.0), 1), "GQ", obs),
            "PM10": self.prop(round(r.uniform(2.0, 60.0), 1), "GQ", obs),
            "PM2_5": self.prop(round(r.uniform(1.0, 40.0), 1), "GQ", obs),
            "O3": self.prop(round(r.uniform(10.0, 120.0), 1), "GQ", obs),
            "CO": self.prop(round(r.uniform(0.1, 2.0), 3), "GP", obs),
            "airQualityIndex": self.prop(aqi, observed=obs),
            "airQualityLevel": self.prop("good" if aqi < 50 else "moderate" if aqi < 100
                                         else "unhealthy"),
            "reliability": self.prop(round(r.uniform(0.7, 1.0), 2)),
            "refDevice": self.rel(self.ref("Device")),
            "location": {"type": "GeoProperty", "value": self.point()},
        }

    def TrafficFlowObserved(self, n, eid_):
        r = self.rng
        obs = self.ts(n % 30)
        a = self.point()["coordinates"]
        return {
            "id": eid_, "type": "TrafficFlowObserved",
            "dateObserved": self.prop({"@type": "DateTime", "@value": obs}),
            "intensity": self.prop(r.randint(0, 1800), observed=obs),
            "averageVehicleSpeed": self.prop(round(r.uniform(5.0, 70.0), 1), "KMH", obs),
            "occupancy": self.prop(round(r.uniform(0.0, 1.0), 3), "P1", obs),
            "laneId": self.prop(1 + n % 4),
            "laneDirection": self.prop(r.choice(["forward", "backward"])),
            "congested": self.prop(r.random() < 0.15, observed=obs),
            "vehicleType": {"type": "VocabProperty", "vocab": r.choice(["car", "bus", "lorry"])},
            "refRoadSegment": self.rel(f"urn:ngsi-ld:RoadSegment:lego-city-{1 + n % 300:04d}"),
            "location": {"type": "GeoProperty", "value": {
                "type": "LineString", "coordinates": [a, [round(a[0] + 0.0012, 9),
                                                          round(a[1] + 0.0004, 9)]]}},
        }


def generate(total, rng_seed=2026, id_offset=0):
    """Yield (request entity, with_context) in creation order."""
    rng = random.Random(rng_seed)
    counts = type_counts(total)
    g = _Gen(rng, counts)
    for etype, _ in MIX:
        build = getattr(g, etype)
        for n in range(1, counts[etype] + 1):
            yield build(n + id_offset, eid(etype, n + id_offset, g.width[etype])), \
                etype != "Device"


# Tenants seeded besides the default one when sizes has no "tenants" key: the SSM seed
# publishes /legocity/<env>/broker/tenant = "legocity" (simlib/ssm.py).
DEFAULT_TENANTS = {"legocity": 2000}


def seed(store, normalizer, registry, sizes=None, batch=5000):
    """Bulk-insert the LegoCity seed; returns {tenant: count}.  Each seeded tenant is emptied
    first (seeding twice gives the same state).  sizes: {"entities": N} for the default
    tenant (20 000), {"tenants": {name: N}} for other tenants (default DEFAULT_TENANTS;
    {} for none).  With "tenants" given and no "entities" the default tenant is left alone.
    Each tenant draws from its own RNG stream, so tenants hold different values."""
    sizes = dict(sizes or {})
    plan = {}
    tenants = sizes.get("tenants")
    if "entities" in sizes or not tenants:
        plan[""] = int(sizes.get("entities", 20000))
    if tenants is None:
        tenants = DEFAULT_TENANTS
    plan.update({k: int(v) for k, v in (tenants or {}).items()})
    lego = registry.resolve(LEGOCITY_CONTEXT_URL)
    core = registry.resolve(None)
    out = {}
    with store.bulk():
        for tenant, total in plan.items():
            rng = int(sizes.get("rng", 2026)) + (zlib.crc32(tenant.encode()) if tenant else 0)
            _seed_tenant(store, normalizer, lego, core, tenant, total, rng, batch)
            out[tenant or "default"] = total
    return out


def _seed_tenant(store, normalizer, lego, core, tenant, total, rng_seed, batch):
    base_us = int(BASE.timestamp() * 1_000_000)
    if tenant:
        store.tenant_create(tenant, format_time(BASE, "millis"))
    store.delete_tenant_entities(tenant)
    pending = []
    style = normalizer_time(normalizer)
    for i, (raw, with_ctx) in enumerate(generate(total, rng_seed)):
        entity = normalizer.trusted(raw, lego if with_ctx else core)
        created_us = base_us + i * 1_000_000          # one entity per second, distinct
        created = format_time(datetime.datetime.fromtimestamp(
            created_us / 1e6, datetime.timezone.utc), style)
        modified = format_time(datetime.datetime.fromtimestamp(
            created_us / 1e6 + 3600 * (1 + i % 400), datetime.timezone.utc), style)
        pending.append((entity, created_us, created, modified))
        if len(pending) >= batch:
            store.insert_many(tenant, pending)
            pending = []
    if pending:
        store.insert_many(tenant, pending)


def normalizer_time(normalizer):
    return "instant" if normalizer.time_format == "instant" else "millis"
