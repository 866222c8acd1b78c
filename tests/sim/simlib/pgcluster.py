"""Real local PostgreSQL 15 clusters for the simulator's RDS.

A cluster lives in one directory owned by the postgres user:

    <dir>/data/          PGDATA (initdb'd or copied from a snapshot)
    <dir>/archive/       WAL archive (archive_command copies finished segments here)
    <dir>/run/           unix sockets (a short /tmp path is used when <dir> is too deep)
    <dir>/server.log     server log
    <dir>/cluster.json   what this module needs to find the cluster again (port, user, ...)

Every PostgreSQL binary runs through `runuser -u postgres --` because PostgreSQL refuses to run
as root. The postmaster is started as a child of the calling process (pg_ctl would make it a
session leader), so it belongs to the simulator's process group and dies with it. Per-cluster settings (port, socket directory, archive path, recovery settings) live in
`data/lcsim.conf`, included by postgresql.conf, so a copied data directory is re-pointed by
rewriting one file. Local socket connections are trusted (the socket directory is private to
the postgres user); TCP on 127.0.0.1 needs the master password (scram-sha-256).

A snapshot is a directory holding `data/` (a plain pg_basebackup with streamed WAL) and
`snapshot.json` (times, timeline, and the file path of every table and index at backup time,
which `corrupt` uses to find an index's pages without starting a server).

Point-in-time recovery copies a snapshot, points restore_command at the source's archive and
sets recovery_target_time with recovery_target_action=promote. Recovery can stop at a time only
after seeing a commit record later than that time, so `heartbeat` commits a transaction, switches
WAL and waits for the segment to be archived: every time up to the heartbeat is then
restorable (RDS writes similar heartbeats and archives every five minutes).
"""

import datetime
import hashlib
import json
import os
import pathlib
import shutil
import socket
import stat
import struct
import subprocess
import threading
import time

PGBIN = pathlib.Path("/usr/lib/postgresql/15/bin")
PG_USER = "postgres"
ENGINE_VERSION = "15"
BLCKSZ = 8192
SOCKET_PATH_MAX = 107  # sun_path is 108 bytes with its NUL


_PROCS = {}                 # cluster path -> Popen of the runuser wrapping its postmaster
_PROCS_LOCK = threading.Lock()


class PgError(Exception):
    """A PostgreSQL command failed; the message carries its stderr."""


def _pg_ids():
    import pwd
    pw = pwd.getpwnam(PG_USER)
    return pw.pw_uid, pw.pw_gid


def _run(args, input_text=None, env=None, timeout=120, check=True):
    """Run a command as the postgres user; return CompletedProcess (text)."""
    cmd = ["runuser", "-u", PG_USER, "--"] + [str(a) for a in args]
    full_env = dict(os.environ)
    full_env.pop("PGPASSWORD", None)
    full_env.update({"LC_ALL": "C.UTF-8", "PGTZ": "UTC"})
    if env:
        full_env.update(env)
    try:
        cp = subprocess.run(cmd, input=input_text, capture_output=True, text=True,
                            env=full_env, timeout=timeout, cwd="/")
    except subprocess.TimeoutExpired as exc:
        raise PgError("%s: timed out after %ss" % (args[0], timeout)) from exc
    if check and cp.returncode != 0:
        raise PgError("%s failed (%d): %s" % (pathlib.Path(str(args[0])).name, cp.returncode,
                                              (cp.stderr or cp.stdout).strip()[-2000:]))
    return cp


def _ensure_traversable(path):
    """Give 'others' search (x) permission on every ancestor of path so postgres can reach it."""
    p = pathlib.Path(path).resolve()
    for anc in [p] + list(p.parents):
        try:
            mode = anc.stat().st_mode
        except FileNotFoundError:
            continue
        if not mode & stat.S_IXOTH:
            os.chmod(anc, stat.S_IMODE(mode) | stat.S_IXOTH)


def _make_pg_dir(path, mode=0o700):
    """Create path (parents as root) and hand it to the postgres user."""
    path = pathlib.Path(path)
    path.mkdir(parents=True, exist_ok=True)
    uid, gid = _pg_ids()
    os.chown(path, uid, gid)
    os.chmod(path, mode)
    _ensure_traversable(path.parent)
    return path


def _chown_tree(path):
    uid, gid = _pg_ids()
    for root, dirs, files in os.walk(path):
        os.chown(root, uid, gid)
        for name in files:
            os.lchown(os.path.join(root, name), uid, gid)


def free_port():
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port):
    """True if PostgreSQL could listen on 127.0.0.1:port (it sets SO_REUSEADDR too, so
    connections of a previous server in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def pg_time_literal(epoch):
    """Epoch seconds -> a timestamptz literal PostgreSQL accepts (UTC, microseconds)."""
    dt = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f+00")


def _conf_quote(value):
    return "'" + str(value).replace("'", "''") + "'"


BASE_SETTINGS = {
    # Speed over durability: this is a simulator.
    "fsync": "off",
    "synchronous_commit": "on",    # committed data survives a killed server (fsync stays off)
    "full_page_writes": "on",
    "shared_buffers": "16MB",
    "max_connections": "30",
    "max_wal_size": "64MB",
    "min_wal_size": "4MB",
    "checkpoint_timeout": "5min",
    "wal_level": "replica",
    "max_wal_senders": "4",
    "archive_mode": "on",
    "archive_timeout": "5",
    "listen_addresses": "127.0.0.1",
    "password_encryption": "scram-sha-256",
    "log_line_prefix": "%m [%p] ",
    "log_min_messages": "warning",
    "autovacuum_naptime": "10s",
    "timezone": "UTC",
}


class Cluster:
    """One PostgreSQL cluster in its own directory. Methods raise PgError on failure."""

    def __init__(self, path):
        self.path = pathlib.Path(path)
        self.meta = json.loads((self.path / "cluster.json").read_text())

    # -- layout ---------------------------------------------------------------------------
    @property
    def data(self):
        return self.path / "data"

    @property
    def archive(self):
        return self.path / "archive"

    @property
    def port(self):
        return self.meta["port"]

    @property
    def user(self):
        return self.meta["user"]

    @property
    def socket_dir(self):
        return pathlib.Path(self.meta["socket_dir"])

    @property
    def log_file(self):
        return self.path / "server.log"

    def _save(self):
        (self.path / "cluster.json").write_text(json.dumps(self.meta, indent=1, sort_keys=True))

    # -- creation -------------------------------------------------------------------------
    @classmethod
    def _prepare(cls, path, user, port):
        path = pathlib.Path(path)
        if (path / "data").exists():
            raise PgError("cluster directory %s already holds data" % path)
        _make_pg_dir(path)
        _make_pg_dir(path / "archive")
        run_dir = path / "run"
        if len(str(run_dir)) + len("/.s.PGSQL.65535.lock") > SOCKET_PATH_MAX:
            digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16]
            run_dir = pathlib.Path("/tmp") / ("lcpg-" + digest)
        _make_pg_dir(run_dir)
        meta = {"user": user, "port": port or free_port(), "socket_dir": str(run_dir),
                "created": time.time(), "engine_version": ENGINE_VERSION}
        (path / "cluster.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
        return cls(path)

    @classmethod
    def create(cls, path, user, password, port=None, start=True):
        """initdb a new cluster whose bootstrap superuser is `user` (the RDS master user)."""
        cl = cls._prepare(path, user, port)
        pwfile = cl.path / ".pw"
        pwfile.write_text(password + "\n")
        uid, gid = _pg_ids()
        os.chown(pwfile, uid, gid)
        os.chmod(pwfile, 0o600)
        try:
            _run([PGBIN / "initdb", "-D", cl.data, "-U", user, "--pwfile", pwfile,
                  "--auth-local=trust", "--auth-host=scram-sha-256", "-N", "-E", "UTF8",
                  "--locale=C.UTF-8", "--wal-segsize=1"], timeout=120)
        finally:
            pwfile.unlink()
        with open(cl.data / "postgresql.conf", "a") as f:
            f.write("\n# lcsim: per-cluster settings\ninclude_if_exists = 'lcsim.conf'\n")
        hba = ("local all all trust\nlocal replication all trust\n"
               "host all all 127.0.0.1/32 scram-sha-256\n"
               "host replication all 127.0.0.1/32 scram-sha-256\n")
        (cl.data / "pg_hba.conf").write_text(hba)
        cl._write_conf()
        if start:
            cl.start()
        return cl

    def _write_conf(self, recovery=None):
        settings = dict(BASE_SETTINGS)
        settings.update({
            "port": str(self.port),
            "unix_socket_directories": self.meta["socket_dir"],
            "archive_command": 'cp "%%p" "%s/%%f.tmp" && mv "%s/%%f.tmp" "%s/%%f"'
                               % (self.archive, self.archive, self.archive),
        })
        if recovery:
            settings.update(recovery)
        text = "".join("%s = %s\n" % (k, _conf_quote(v)) for k, v in sorted(settings.items()))
        conf = self.data / "lcsim.conf"
        conf.write_text(text)
        uid, gid = _pg_ids()
        os.chown(conf, uid, gid)
        os.chmod(conf, 0o600)

    # -- lifecycle ------------------------------------------------------------------------
    def status(self):
        """'running' or 'stopped' (pg_ctl status)."""
        if not self.data.exists():
            return "stopped"
        cp = _run([PGBIN / "pg_ctl", "-D", self.data, "status"], check=False)
        return "running" if cp.returncode == 0 else "stopped"

    def is_running(self):
        return self.status() == "running"

    def start(self, timeout=60):
        """Start the postmaster as a child of this process (not through pg_ctl, which makes
        it a session leader): it stays in the caller's process group, so whatever kills the
        simulator's group (`lcsim down` after a timeout) kills the clusters too. Keeps the
        port when it is free (a stopping server may hold it a moment), else takes another."""
        if self.is_running():
            return
        deadline = time.time() + 2
        while not port_is_free(self.port) and time.time() < deadline:
            time.sleep(0.05)
        if not port_is_free(self.port):
            self._new_port()
        try:
            self._start(timeout)
        except PgError as exc:
            if "already in use" not in str(exc):
                raise
            self._new_port()              # lost a race for the port: once more elsewhere
            self._start(timeout)

    def _new_port(self):
        self.meta["port"] = free_port()
        self._save()
        self._write_conf(self.meta.get("recovery"))

    def _start(self, timeout):
        _make_pg_dir(self.socket_dir)
        (self.data / "postmaster.pid").unlink(missing_ok=True)  # stale: no server is running
        env = dict(os.environ, LC_ALL="C.UTF-8", PGTZ="UTC")
        with open(self.log_file, "ab") as log:
            proc = subprocess.Popen(["runuser", "-u", PG_USER, "--", str(PGBIN / "postgres"),
                                     "-D", str(self.data)], stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT, cwd="/", env=env)
        with _PROCS_LOCK:
            _PROCS[str(self.path)] = proc
        deadline = time.time() + timeout
        while True:
            if self._pid_status() in ("ready", "standby"):
                return
            if proc.poll() is not None:
                self._reap()
                raise PgError("start %s: postgres exited (%s); log: %s"
                              % (self.path.name, proc.returncode, self.log_tail()))
            if time.time() > deadline:
                raise PgError("start %s: not ready after %ss; log: %s"
                              % (self.path.name, timeout, self.log_tail()))
            time.sleep(0.02)

    def _pid_status(self):
        """The status line of postmaster.pid ("starting", "ready", "standby", ...) or ""."""
        try:
            lines = (self.data / "postmaster.pid").read_text().splitlines()
        except OSError:
            return ""
        return lines[7].strip() if len(lines) > 7 else ""

    def postmaster_pid(self):
        try:
            return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def _reap(self, timeout=10):
        with _PROCS_LOCK:
            proc = _PROCS.pop(str(self.path), None)
        if proc is not None:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass

    def stop(self, mode="fast", timeout=60):
        if self.is_running():
            _run([PGBIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", str(timeout),
                  "stop"], timeout=timeout + 10)
        self._reap()
        if not str(self.socket_dir).startswith(str(self.path)):
            shutil.rmtree(self.socket_dir, ignore_errors=True)  # a /tmp fallback; start remakes it

    def remove(self):
        """Stop (immediately) and delete the cluster directory."""
        try:
            self.stop(mode="immediate")
        except PgError:
            pass
        sock = self.socket_dir
        shutil.rmtree(self.path, ignore_errors=True)
        if not str(sock).startswith(str(self.path)):
            shutil.rmtree(sock, ignore_errors=True)

    def log_tail(self, n=15):
        try:
            return " | ".join(self.log_file.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    # -- SQL ------------------------------------------------------------------------------
    def psql(self, sql, db="postgres", user=None, tcp=False, password=None, timeout=120):
        """Run SQL through psql (ON_ERROR_STOP); return stdout (unaligned, tuples only)."""
        host = "127.0.0.1" if tcp else str(self.socket_dir)
        env = {"PGCONNECT_TIMEOUT": "10"}
        if password is not None:
            env["PGPASSWORD"] = password
        cp = _run([PGBIN / "psql", "-X", "-q", "-A", "-t", "-F", "\x1f", "-v",
                   "ON_ERROR_STOP=1", "-h", host, "-p", str(self.port), "-U",
                   user or self.user, "-d", db], input_text=sql, env=env, timeout=timeout)
        return cp.stdout

    def query(self, sql, db="postgres", **kw):
        """Run one query; return rows as lists of strings."""
        out = self.psql(sql, db=db, **kw)
        return [line.split("\x1f") for line in out.splitlines() if line != ""]

    def databases(self):
        return [r[0] for r in self.query(
            "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate "
            "ORDER BY datname")]

    def relmap(self):
        """{db: {"schema.name": {"kind": "r"|"i", "file": "base/..."}}} for user relations."""
        out = {}
        for db in self.databases():
            rows = self.query(
                "SELECT n.nspname || '.' || c.relname, c.relkind, pg_relation_filepath(c.oid), "
                "coalesce(am.amname, '') FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace LEFT JOIN pg_am am ON am.oid = c.relam "
                "WHERE c.relkind IN ('r', 'i') AND n.nspname NOT IN "
                "('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'",
                db=db)
            out[db] = {r[0]: {"kind": r[1], "file": r[2], "am": r[3]} for r in rows}
        return out

    # -- WAL ------------------------------------------------------------------------------
    def heartbeat(self, timeout=30):
        """Commit a transaction, switch WAL and wait until that segment is archived.

        Returns the epoch time taken just before the commit: every time up to it can be
        recovered from the archive (recovery sees the heartbeat's commit after it)."""
        t0 = time.time()
        out = self.psql("SELECT txid_current();\n"
                        "SELECT pg_walfile_name(pg_switch_wal());\n")
        segment = out.split()[-1]
        deadline = time.time() + timeout
        while True:
            rows = self.query("SELECT coalesce(last_archived_wal, ''), "
                              "coalesce(last_failed_wal, '') FROM pg_stat_archiver")
            archived = rows[0][0] if rows else ""
            if archived and archived[:24] >= segment and (self.archive / segment).exists():
                return t0
            if time.time() > deadline:
                raise PgError("WAL segment %s not archived after %ss (last %r, failed %r)"
                              % (segment, timeout, archived, rows[0][1] if rows else ""))
            time.sleep(0.02)

    def last_archived(self):
        """(segment name, archived epoch) of the newest archived WAL segment, or (None, None)."""
        rows = self.query("SELECT coalesce(last_archived_wal, ''), "
                          "coalesce(extract(epoch FROM last_archived_time)::text, '') "
                          "FROM pg_stat_archiver")
        if not rows or not rows[0][0]:
            return None, None
        return rows[0][0], float(rows[0][1])

    # -- backups --------------------------------------------------------------------------
    def base_backup(self, dest):
        """pg_basebackup into dest/data; write dest/snapshot.json; return its dict.

        The snapshot is consistent as of `end_time` (recovery targets must not be earlier)."""
        dest = pathlib.Path(dest)
        if dest.exists():
            raise PgError("snapshot directory %s already exists" % dest)
        relmap = self.relmap()
        _make_pg_dir(dest)
        start = time.time()
        _run([PGBIN / "pg_basebackup", "-h", self.socket_dir, "-p", str(self.port), "-U",
              self.user, "-D", dest / "data", "-X", "stream", "-c", "fast", "--no-sync"],
             timeout=600)
        end = time.time()
        for junk in ("standby.signal", "recovery.signal"):
            (dest / "data" / junk).unlink(missing_ok=True)
        info = {"start_time": start, "end_time": end, "user": self.user,
                "engine_version": ENGINE_VERSION, "relmap": relmap,
                "source": str(self.path), "size_bytes": _tree_size(dest / "data")}
        (dest / "snapshot.json").write_text(json.dumps(info, indent=1, sort_keys=True))
        return info

    @classmethod
    def restore(cls, snapshot, path, port=None, start=True):
        """New cluster at path from a snapshot directory (crash recovery from its own WAL)."""
        info = read_snapshot(snapshot)
        cl = cls._prepare(path, info["user"], port)
        _copy_data(pathlib.Path(snapshot) / "data", cl.data)
        cl._write_conf()
        if start:
            cl.start()
        return cl

    @classmethod
    def pitr(cls, snapshot, archive, target_time, path, port=None, timeout=120):
        """New cluster at path: snapshot + WAL from `archive` replayed up to target_time.

        Promotes at the target. Raises PgError when recovery cannot reach the target."""
        info = read_snapshot(snapshot)
        if target_time < info["end_time"]:
            raise PgError("target %s is before the snapshot's consistent point %s"
                          % (pg_time_literal(target_time), pg_time_literal(info["end_time"])))
        cl = cls._prepare(path, info["user"], port)
        _copy_data(pathlib.Path(snapshot) / "data", cl.data)
        recovery = {
            "restore_command": 'cp "%s/%%f" "%%p"' % pathlib.Path(archive).resolve(),
            "recovery_target_time": pg_time_literal(target_time),
            "recovery_target_action": "promote",
            "recovery_target_timeline": "latest",
        }
        cl.meta["recovery"] = recovery
        cl._save()
        cl._write_conf(recovery)
        signal = cl.data / "recovery.signal"
        signal.write_text("")
        uid, gid = _pg_ids()
        os.chown(signal, uid, gid)
        cl.start(timeout=timeout)
        cl._wait_promoted(timeout)
        cl.meta.pop("recovery", None)
        cl._save()
        cl._write_conf()
        return cl

    def _wait_promoted(self, timeout):
        deadline = time.time() + timeout
        while True:
            if not self.is_running():
                self._reap()
                raise PgError("recovery of %s failed: %s" % (self.path.name, self.log_tail()))
            try:
                rows = self.query("SELECT pg_is_in_recovery()")
                if rows and rows[0][0] == "f":
                    return
            except PgError:
                pass
            if time.time() > deadline:
                raise PgError("recovery of %s not finished after %ss: %s"
                              % (self.path.name, timeout, self.log_tail()))
            time.sleep(0.05)


def _tree_size(path):
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def _copy_data(src, dst):
    """Copy a data directory (as root, keeping owners and modes), then drop stale state."""
    if dst.exists():
        shutil.rmtree(dst)
    subprocess.run(["cp", "-a", str(src), str(dst)], check=True, capture_output=True)
    _chown_tree(dst)
    os.chmod(dst, 0o700)
    for junk in ("postmaster.pid", "postmaster.opts", "recovery.signal", "standby.signal"):
        (dst / junk).unlink(missing_ok=True)


def read_snapshot(snapshot):
    path = pathlib.Path(snapshot)
    try:
        return json.loads((path / "snapshot.json").read_text())
    except (OSError, ValueError) as exc:
        raise PgError("not a snapshot directory: %s" % path) from exc


def copy_snapshot(src, dst):
    """Copy a whole snapshot directory (the files are really copied)."""
    src, dst = pathlib.Path(src), pathlib.Path(dst)
    if dst.exists():
        raise PgError("snapshot directory %s already exists" % dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    _ensure_traversable(dst.parent)
    subprocess.run(["cp", "-a", str(src), str(dst)], check=True, capture_output=True)
    return read_snapshot(dst)


def remove_snapshot(path):
    shutil.rmtree(path, ignore_errors=True)


# -- corruption -------------------------------------------------------------------------------
BTP_LEAF, BTP_DELETED, BTP_META, BTP_HALF_DEAD = 1, 4, 8, 16


def _find_index(info, relation, db):
    matches = []
    for dbname, rels in info.get("relmap", {}).items():
        if db and dbname != db:
            continue
        for name, rel in rels.items():
            if name == relation or name.split(".", 1)[1] == relation:
                matches.append((dbname, name, rel))
    if not matches:
        raise PgError("relation %s not found in snapshot" % relation)
    if len(matches) > 1:
        raise PgError("relation %s is ambiguous: %s" % (relation, ", ".join(
            "%s:%s" % (m[0], m[1]) for m in matches)))
    dbname, name, rel = matches[0]
    if rel["kind"] != "i" or rel.get("am", "btree") != "btree":
        raise PgError("%s is not a btree index" % name)
    return dbname, name, rel


def _line_pointers(page):
    lower = struct.unpack_from("<H", page, 12)[0]
    count = (lower - 24) // 4
    return [struct.unpack_from("<I", page, 24 + 4 * i)[0] for i in range(count)]


def _swap_leaf_items(page):
    """Swap the first and last data items of a btree leaf page; return True if done."""
    special = struct.unpack_from("<H", page, 16)[0]
    if special + 16 > BLCKSZ:
        return False
    _prev, nxt, _level, flags = struct.unpack_from("<IIIH", page, special)
    if not flags & BTP_LEAF or flags & (BTP_DELETED | BTP_HALF_DEAD | BTP_META):
        return False
    lps = _line_pointers(page)
    first = 0 if nxt == 0 else 1  # non-rightmost pages keep their high key in item 1
    data = [i for i in range(first, len(lps)) if (lps[i] >> 15) & 3 == 1]  # LP_NORMAL
    if len(data) < 2:
        return False
    a, b = data[0], data[-1]
    struct.pack_into("<I", page, 24 + 4 * a, lps[b])
    struct.pack_into("<I", page, 24 + 4 * b, lps[a])
    return True


def corrupt(snapshot, relation, db=None):
    """Damage one leaf page of a btree index inside a snapshot copy.

    Swaps two index tuples so the page's keys are out of order: the restored cluster starts
    and answers queries, but amcheck's bt_index_check reports an item order violation.
    Returns {"db", "relation", "file", "block"}. Needs a cluster without data checksums."""
    snapshot = pathlib.Path(snapshot)
    info = read_snapshot(snapshot)
    dbname, name, rel = _find_index(info, relation, db)
    cp = _run([PGBIN / "pg_controldata", snapshot / "data"])
    if "Data page checksum version:           0" not in cp.stdout:
        raise PgError("snapshot has data checksums; corrupt() does not recompute them")
    path = snapshot / "data" / rel["file"]
    with open(path, "r+b") as f:
        blob = bytearray(f.read())
        for blk in range(1, len(blob) // BLCKSZ):
            page = blob[blk * BLCKSZ:(blk + 1) * BLCKSZ]
            if _swap_leaf_items(page):
                f.seek(blk * BLCKSZ)
                f.write(page)
                return {"db": dbname, "relation": name, "file": rel["file"], "block": blk}
    raise PgError("index %s has no leaf page with two items to swap" % name)


def stop_all_under(root):
    """Stop every cluster whose cluster.json lies under root (used by resets and cleanups)."""
    stopped = []
    for meta in pathlib.Path(root).glob("**/cluster.json"):
        cl = Cluster(meta.parent)
        if cl.data.exists() and cl.is_running():
            try:
                cl.stop(mode="fast")
            except PgError:
                cl.stop(mode="immediate")
            stopped.append(str(cl.path))
    return stopped
