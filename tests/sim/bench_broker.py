#!/usr/bin/python3
"""Benchmark of the NGSI-LD broker emulator: bulk seed and 1000-entity pages.

    /usr/bin/python3 tests/sim/bench_broker.py [--entities 200000] [--profile orion-ld]

Seeds an in-process BrokerServer in a temporary directory, then times pages of 1000 entities
over one keep-alive connection at shallow and deep offsets, with the core context (stored
JSON passed through), with the LegoCity context (compacted; first read and cached re-read),
with a type filter, a count, a q filter and options=sysAttrs.  Checks the budgets the team
agreed on (seed well under a minute, a 1000-entity page well under 100 ms) and ends with
`N passed, N failed`.
"""

import argparse
import http.client
import json
import pathlib
import statistics
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from simlib.broker import BrokerServer                   # noqa: E402
from simlib.broker_ld import LEGOCITY_CONTEXT_URL          # noqa: E402

LINK = (f'<{LEGOCITY_CONTEXT_URL}>; rel="http://www.w3.org/ns/json-ld#context"; '
        f'type="application/ld+json"')


def timed(conn, path, headers, n):
    times, size, items = [], 0, 0
    for _ in range(n):
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        times.append((time.perf_counter() - t0) * 1000)
        if r.status != 200:
            raise RuntimeError(f"{path}: {r.status} {body[:200]!r}")
        size, items = len(body), len(json.loads(body)) if body else 0
    return times, size, items


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--entities", type=int, default=200000)
    ap.add_argument("--profile", default="orion-ld")
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        print(f"{'ok' if ok else 'FAIL':5} {what}", flush=True)
        passed, failed = passed + bool(ok), failed + (not ok)

    with tempfile.TemporaryDirectory(prefix="bench-broker-") as d:
        b = BrokerServer(pathlib.Path(d), args.profile, 0)
        info = b.seed("legocity", {"entities": args.entities})
        db = pathlib.Path(d) / "broker.sqlite3"
        print(f"seed: {args.entities} entities in {info['seconds']:.1f}s "
              f"({args.entities / info['seconds']:.0f}/s), db {db.stat().st_size / 2**20:.0f} MiB")
        check(info["seconds"] < 60, f"seed of {args.entities} under 60 s")
        b.start()
        conn = http.client.HTTPConnection("127.0.0.1", b.port, timeout=120)
        n = args.entities
        deep = max(0, n - 1000)
        local = "localOnly" if args.profile == "scorpio" else "local"
        maxl = 100 if args.profile in ("stellio", "strict") else 1000
        cases = [
            ("core, offset 0", f"{local}=true&limit={maxl}", {}),
            (f"core, offset {n // 2}", f"{local}=true&limit={maxl}&offset={n // 2}", {}),
            (f"core, offset {deep}", f"{local}=true&limit={maxl}&offset={deep}", {}),
            ("core + count", f"{local}=true&limit={maxl}&offset={n // 2}&count=true", {}),
            ("LegoCity ctx", f"{local}=true&limit={maxl}&offset={n // 3}", {"Link": LINK}),
            ("type filter", f"type=Streetlight&limit={maxl}&offset={n // 10}", {"Link": LINK}),
            ("sysAttrs", f"{local}=true&limit={maxl}&offset={n // 4}&options=sysAttrs", {}),
            ("q filter + count", "type=WeatherObserved&q=temperature%3E20&limit=100&count=true",
             {"Link": LINK}),
        ]
        print(f"{'page':28} {'items':>5} {'KiB':>6} {'first ms':>9} {'median ms':>9} "
              f"{'max ms':>7}")
        for label, q, h in cases:
            times, size, items = timed(conn, "/ngsi-ld/v1/entities?" + q, h, args.repeat)
            med = statistics.median(times[1:] or times)
            print(f"{label:28} {items:5d} {size / 1024:6.0f} {times[0]:9.1f} {med:9.1f} "
                  f"{max(times):7.1f}")
            if items == maxl and not label.startswith("q filter"):
                check(med < 100, f"{label}: median {med:.1f} ms under 100 ms")
        conn.close()
        b.stop()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
