"""Seeds: `--seed legocity` (or POST /seed) calls every present module's seed().

The framework's own part of the LegoCity seed (buckets, KMS keys) lives in s3.seed and
kms.seed; each module seeds its own service. A seed is recorded in DIR/seeded.json so that
`lcsim up --seed` on an already seeded state directory does not seed twice.
"""

import traceback

from . import DEFAULT_REGION, PROTOCOLS
from .core import JsonStore

# kms first: other modules' seeds may need the LegoCity key.
ORDER = ["kms", "s3", "sts"] + [s for s in PROTOCOLS if s not in ("kms", "s3", "sts")]


def run(sim, name="legocity", sizes=None, force=True, services=None):
    """Seed every present module (and the broker), or only `services` (names, "broker"
    included). Returns {service: "ok" | error text}."""
    sizes = dict(sizes or {})
    record = JsonStore(sim.state_dir / "seeded.json")
    done = record.read()
    if not force and done.get(name):
        return {"skipped": f"seed '{name}' already applied"}
    result = {}
    for svc in ORDER:
        if services is not None and svc not in services:
            continue
        try:
            mod = sim.module(svc)
        except Exception as e:
            result[svc] = f"import failed: {e}"
            continue
        if mod is None or not hasattr(mod, "seed"):
            continue
        try:
            mod.seed(sim.world.context(svc, DEFAULT_REGION), name=name, sizes=sizes)
            result[svc] = "ok"
        except Exception:
            result[svc] = traceback.format_exc(limit=4)
            print(f"lcsim: seed {name} of {svc} failed:\n{result[svc]}", flush=True)
    if sim.broker is not None and (services is None or "broker" in services):
        try:
            sim.broker.seed(name, sizes)
            result["broker"] = "ok"
        except Exception:
            result["broker"] = traceback.format_exc(limit=4)
            print(f"lcsim: seed {name} of broker failed:\n{result['broker']}", flush=True)
    if services is None:
        with record.update() as d:
            d[name] = {"sizes": sizes, "result": result}
    return result
