"""SQLite storage of the NGSI-LD emulator.

One table row per entity: the stored JSON text (core-compacted, no sysAttrs: the common answer
as is) plus indexed columns: tenant, id, first type, creation sort key, createdAt/modifiedAt,
the attribute-name list (attrs filter) and per-attribute sysAttrs for attributes changed after
creation.  Multi-typed entities also get one `etypes` row per type.

created_ts is the creation-order sort key in microseconds.  Entities created by one batch
share it on profiles whose broker does that ([ref 1.6]); `rid` (AUTOINCREMENT) is the
insertion order.  All access goes through one connection under one lock: the emulator is
I/O-light and this keeps SQLite out of "database is locked".
"""

import contextlib
import json
import re
import sqlite3
import threading

from .broker_ld import SEP, attr_names, dumps, types_of

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tenants(
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entities(
    rid INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    ntypes INTEGER NOT NULL,
    created_ts INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    attrs TEXT NOT NULL,
    body TEXT NOT NULL,
    sysattrs TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS entities_id ON entities(tenant, id);
CREATE INDEX IF NOT EXISTS entities_created ON entities(tenant, created_ts, id);
CREATE INDEX IF NOT EXISTS entities_type ON entities(tenant, type, created_ts, id);
CREATE TABLE IF NOT EXISTS etypes(
    tenant TEXT NOT NULL,
    type TEXT NOT NULL,
    rid INTEGER NOT NULL,
    PRIMARY KEY(tenant, type, rid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS etypes_rid ON etypes(rid);
CREATE TABLE IF NOT EXISTS meta(
    key TEXT PRIMARY KEY,
    value TEXT
);
"""

ORDER_SQL = {
    "created-id": "created_ts, id",
    "created-stable": "created_ts, rid",
    "id": "id",
    # ties in a per-request pseudo-random order: a multiplicative hash of rid and a salt
    "created-random": "created_ts, ((rid * 2654435761 + :salt) % 4294967291)",
}


class Filter:
    """What a query selects.  types: list of alternatives (tuples of stored type names that
    must all be present) or None; ids: list or None; id_pattern: regex text or None; attrs:
    list of stored attribute names (any) or None; pred: Python predicate on the parsed entity
    or None (q, geo); needs: attribute names a match must have one of (q pre-filter)."""

    def __init__(self, types=None, ids=None, id_pattern=None, attrs=None, pred=None,
                 needs=None):
        self.types = types
        self.ids = ids
        self.id_pattern = id_pattern
        self.attrs = attrs
        self.pred = pred
        self.needs = needs          # stored attribute names of which a match has >= 1


class Row:
    __slots__ = ("rid", "id", "body", "created_at", "modified_at", "sysattrs", "type")

    def __init__(self, rid, eid, body, created_at, modified_at, sysattrs, etype):
        self.rid = rid
        self.id = eid
        self.body = body
        self.created_at = created_at
        self.modified_at = modified_at
        self.sysattrs = sysattrs
        self.type = etype

    def entity(self):
        return json.loads(self.body)

    def sys(self):
        return json.loads(self.sysattrs) if self.sysattrs else None


class Store:
    def __init__(self, path):
        self.path = path
        self.lock = threading.RLock()
        self.db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA page_size=8192")      # new databases only: ~2 KiB rows pack
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA cache_size=-131072")
        self.db.execute("PRAGMA temp_store=MEMORY")
        self.db.execute("PRAGMA mmap_size=536870912")
        self.db.executescript(_SCHEMA)
        self._regex_cache = {}
        self.db.create_function("regexp", 2, self._regexp, deterministic=True)
        self._multi = {}

    def close(self):
        with self.lock:
            self.db.close()

    def _regexp(self, pattern, value):
        rx = self._regex_cache.get(pattern)
        if rx is None:
            rx = re.compile(pattern)
            if len(self._regex_cache) > 64:
                self._regex_cache.clear()
            self._regex_cache[pattern] = rx
        return value is not None and rx.search(value) is not None

    # -------------------------------------------------------------------------- tenants

    def tenants(self):
        with self.lock:
            names = [r[0] for r in self.db.execute("SELECT name FROM tenants ORDER BY name")]
        return [""] + [n for n in names if n != ""]

    def tenant_exists(self, name):
        if name == "":
            return True
        with self.lock:
            return self.db.execute("SELECT 1 FROM tenants WHERE name=?",
                                   (name,)).fetchone() is not None

    def tenant_create(self, name, now_iso):
        if name == "":
            return
        with self.lock:
            self.db.execute("INSERT OR IGNORE INTO tenants(name, created_at) VALUES(?,?)",
                            (name, now_iso))

    def reset(self):
        with self.lock:
            self.db.execute("BEGIN")
            for table in ("entities", "etypes", "tenants", "meta"):
                self.db.execute(f"DELETE FROM {table}")
            self.db.execute("DELETE FROM sqlite_sequence WHERE name='entities'")
            self.db.execute("COMMIT")
            self._multi.clear()
        with self.lock:
            self.db.execute("VACUUM")

    def meta_get(self, key, default=None):
        with self.lock:
            r = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return default if r is None else json.loads(r[0])

    def meta_set(self, key, value):
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES(?,?)",
                            (key, json.dumps(value)))

    # ---------------------------------------------------------------------------- reads

    def get(self, tenant, eid):
        with self.lock:
            r = self.db.execute(
                "SELECT rid, id, body, created_at, modified_at, sysattrs, type FROM entities "
                "WHERE tenant=? AND id=?", (tenant, eid)).fetchone()
        return Row(*r) if r else None

    def count_all(self, tenant=None):
        with self.lock:
            if tenant is None:
                return self.db.execute("SELECT count(*) FROM entities").fetchone()[0]
            return self.db.execute("SELECT count(*) FROM entities WHERE tenant=?",
                                   (tenant,)).fetchone()[0]

    def has_multi_typed(self, tenant):
        with self.lock:
            v = self._multi.get(tenant)
            if v is None:
                v = self.db.execute("SELECT 1 FROM etypes WHERE tenant=? LIMIT 1",
                                    (tenant,)).fetchone() is not None
                self._multi[tenant] = v
            return v

    def _where(self, tenant, flt):
        clauses, args = ["tenant=:tenant"], {"tenant": tenant}
        py_types = None
        if flt.types is not None:
            singles = [a[0] for a in flt.types if len(a) == 1]
            if len(singles) == len(flt.types):
                names = [f":t{i}" for i in range(len(singles))]
                args.update({f"t{i}": t for i, t in enumerate(singles)})
                if self.has_multi_typed(tenant):
                    clauses.append(
                        f"rid IN (SELECT rid FROM entities WHERE tenant=:tenant AND type IN "
                        f"({','.join(names)}) UNION SELECT rid FROM etypes WHERE "
                        f"tenant=:tenant AND type IN ({','.join(names)}))")
                else:
                    clauses.append(f"type IN ({','.join(names)})")
            else:
                py_types = flt.types       # AND combinations: checked in Python
        if flt.ids is not None:
            names = [f":i{i}" for i in range(len(flt.ids))]
            args.update({f"i{i}": v for i, v in enumerate(flt.ids)})
            clauses.append(f"id IN ({','.join(names) or 'NULL'})")
        if flt.id_pattern is not None:
            clauses.append("regexp(:idp, id)")
            args["idp"] = flt.id_pattern
        if flt.attrs is not None:
            ors = []
            for i, a in enumerate(flt.attrs):
                ors.append(f"instr(attrs, :a{i}) > 0")
                args[f"a{i}"] = SEP + a + SEP
            clauses.append("(" + (" OR ".join(ors) or "0") + ")")
        if flt.needs:
            ors = []
            for i, a in enumerate(sorted(flt.needs)):
                ors.append(f"instr(attrs, :n{i}) > 0")
                args[f"n{i}"] = SEP + a + SEP
            clauses.append("(" + " OR ".join(ors) + ")")
        return " AND ".join(clauses), args, py_types

    def query(self, tenant, flt, order, limit, offset, want_count, salt=0,
              want_rows=True):
        """-> (rows, count).  rows: the page (Row list) in the requested order; count: number
        of matching entities when want_count (else None)."""
        where, args, py_types = self._where(tenant, flt)
        order_sql = ORDER_SQL[order]
        args["salt"] = salt
        cols = "rid, id, body, created_at, modified_at, sysattrs, type"
        if flt.pred is None and py_types is None:
            with self.lock:
                count = None
                if want_count:
                    count = self.db.execute(f"SELECT count(*) FROM entities WHERE {where}",
                                            args).fetchone()[0]
                rows = []
                if want_rows and limit > 0:
                    # order + limit/offset on the covering indexes first, bodies after
                    args.update(lim=limit, off=offset)
                    sql = (f"SELECT {cols} FROM entities WHERE rid IN (SELECT rid FROM "
                           f"entities WHERE {where} ORDER BY {order_sql} LIMIT :lim OFFSET "
                           f":off) ORDER BY {order_sql}")
                    rows = [Row(*r) for r in self.db.execute(sql, args)]
            return rows, count
        return self._query_python(where, args, order_sql, flt, py_types, limit, offset,
                                  want_count, want_rows)

    def _query_python(self, where, args, order_sql, flt, py_types, limit, offset, want_count,
                      want_rows):
        rows, n = [], 0
        end = offset + limit
        with self.lock:
            cur = self.db.execute(f"SELECT rid, id, body, created_at, modified_at, sysattrs, "
                                  f"type FROM entities WHERE {where} ORDER BY {order_sql}",
                                  args)
            for r in cur:
                entity = json.loads(r[2])
                if py_types is not None:
                    have = set(types_of(entity))
                    if not any(all(t in have for t in alt) for alt in py_types):
                        continue
                if flt.pred is not None and not flt.pred(entity):
                    continue
                if want_rows and offset <= n < end:
                    rows.append(Row(*r))
                n += 1
                if n >= end and not want_count:
                    break
        return rows, (n if want_count else None)

    def types_summary(self, tenant, window=None):
        """type -> (count, attribute-name set).  window: only the first N entities in creation
        order (Orion-LD #1698)."""
        with self.lock:
            if window:
                cur = self.db.execute(
                    "SELECT type, ntypes, attrs, body FROM entities WHERE tenant=? "
                    "ORDER BY created_ts, id LIMIT ?", (tenant, window))
            else:
                cur = self.db.execute("SELECT type, ntypes, attrs, body FROM entities "
                                      "WHERE tenant=?", (tenant,))
            out = {}
            for etype, ntypes, attrs, body in cur:
                ts = types_of(json.loads(body)) if ntypes > 1 else [etype]
                names = [a for a in attrs.split(SEP) if a]
                for t in ts:
                    c, s = out.get(t, (0, set()))
                    s.update(names)
                    out[t] = (c + 1, s)
        return out

    def ids(self, tenant, etype=None):
        with self.lock:
            if etype:
                cur = self.db.execute("SELECT id FROM entities WHERE tenant=? AND type=? "
                                      "ORDER BY id", (tenant, etype))
            else:
                cur = self.db.execute("SELECT id FROM entities WHERE tenant=? ORDER BY id",
                                      (tenant,))
            return [r[0] for r in cur]

    def summary(self):
        with self.lock:
            out = {}
            for tenant, etype, n in self.db.execute(
                    "SELECT tenant, type, count(*) FROM entities GROUP BY tenant, type"):
                t = out.setdefault(tenant, {"count": 0, "types": {}})
                t["count"] += n
                t["types"][etype] = n
            for name in self.tenants():
                out.setdefault(name, {"count": 0, "types": {}})
        return out

    # --------------------------------------------------------------------------- writes

    @contextlib.contextmanager
    def bulk(self):
        """Bulk-load mode for seeding: holds the lock, no WAL, no fsync, the two ordering
        indexes rebuilt once at the end (about twice as fast as row-by-row upkeep)."""
        with self.lock:
            self.db.execute("PRAGMA journal_mode=DELETE")
            self.db.execute("PRAGMA synchronous=OFF")
            self.db.execute("DROP INDEX IF EXISTS entities_created")
            self.db.execute("DROP INDEX IF EXISTS entities_type")
            try:
                yield self
            finally:
                self.db.execute("CREATE INDEX IF NOT EXISTS entities_created ON "
                                "entities(tenant, created_ts, id)")
                self.db.execute("CREATE INDEX IF NOT EXISTS entities_type ON "
                                "entities(tenant, type, created_ts, id)")
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self.db.execute("ANALYZE")

    def insert_many(self, tenant, items):
        """items: iterable of (entity dict, created_ts, created_at, modified_at).  Caller
        holds no transaction; raises sqlite3.IntegrityError on a duplicate id."""
        with self.lock:
            self.db.execute("BEGIN")
            try:
                n = self._insert_rows(tenant, items)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        return n

    def _insert_rows(self, tenant, items):
        n = 0
        multi = []
        rows = []
        for entity, cts, cat, mat in items:
            ts = types_of(entity)
            rows.append((tenant, entity["id"], ts[0], len(ts), cts, cat, mat,
                         attr_names(entity), dumps(entity), None))
            if len(ts) > 1:
                multi.append((entity["id"], ts))
            n += 1
        self.db.executemany(
            "INSERT INTO entities(tenant, id, type, ntypes, created_ts, created_at, "
            "modified_at, attrs, body, sysattrs) VALUES(?,?,?,?,?,?,?,?,?,?)", rows)
        for eid, ts in multi:
            rid = self.db.execute("SELECT rid FROM entities WHERE tenant=? AND id=?",
                                  (tenant, eid)).fetchone()[0]
            self.db.executemany("INSERT OR IGNORE INTO etypes(tenant, type, rid) "
                                "VALUES(?,?,?)", [(tenant, t, rid) for t in ts])
            self._multi[tenant] = True
        return n

    def insert(self, tenant, entity, created_ts, now_iso):
        """-> True when inserted, False when the id already exists."""
        with self.lock:
            try:
                self.insert_many(tenant, [(entity, created_ts, now_iso, now_iso)])
            except sqlite3.IntegrityError:
                return False
            return True

    def replace(self, tenant, row, entity, modified_iso, sysattrs=None):
        """Rewrite an existing entity (keeps its creation time and position)."""
        ts = types_of(entity)
        with self.lock:
            self.db.execute("BEGIN")
            try:
                self.db.execute(
                    "UPDATE entities SET type=?, ntypes=?, modified_at=?, attrs=?, body=?, "
                    "sysattrs=? WHERE rid=?",
                    (ts[0], len(ts), modified_iso, attr_names(entity), dumps(entity),
                     json.dumps(sysattrs) if sysattrs else None, row.rid))
                self.db.execute("DELETE FROM etypes WHERE rid=?", (row.rid,))
                if len(ts) > 1:
                    self.db.executemany("INSERT OR IGNORE INTO etypes(tenant, type, rid) "
                                        "VALUES(?,?,?)", [(tenant, t, row.rid) for t in ts])
                    self._multi[tenant] = True
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def delete(self, tenant, eid):
        """-> True when an entity was deleted."""
        with self.lock:
            r = self.db.execute("SELECT rid FROM entities WHERE tenant=? AND id=?",
                                (tenant, eid)).fetchone()
            if r is None:
                return False
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM entities WHERE rid=?", (r[0],))
            self.db.execute("DELETE FROM etypes WHERE rid=?", (r[0],))
            self.db.execute("COMMIT")
            return True

    def delete_tenant_entities(self, tenant):
        with self.lock:
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM etypes WHERE tenant=?", (tenant,))
            self.db.execute("DELETE FROM entities WHERE tenant=?", (tenant,))
            self.db.execute("COMMIT")
            self._multi.pop(tenant, None)
