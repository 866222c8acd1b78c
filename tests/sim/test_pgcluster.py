"""simlib.pgcluster: real PostgreSQL 15 clusters (create, backups, restore, PITR, corruption).

Run: tests/sim/run_tests.py test_pgcluster
"""

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from simlib import pgcluster  # noqa: E402

PSQL = str(pgcluster.PGBIN / "psql")
PASSWORD = "Pg-cluster-test-1"


def tcp_query(port, sql, user="master", password=PASSWORD, db="postgres"):
    """A client's view: psql over TCP with a password (no socket, no trust)."""
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="5")
    p = subprocess.run([PSQL, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                        "-p", str(port), "-U", user, "-d", db, "-c", sql],
                       capture_output=True, text=True, env=env, timeout=60)
    return p.returncode, p.stdout.strip(), p.stderr.strip()


def timing(name, secs):
    print("# timing pgcluster.%s %.2fs" % (name, secs), flush=True)


class PgClusterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = pathlib.Path(tempfile.mkdtemp(prefix="lcpg-test-"))
        t0 = time.time()
        cls.cl = pgcluster.Cluster.create(cls.root / "src", "master", PASSWORD)
        timing("create+start", time.time() - t0)
        cls.cl.psql("CREATE TABLE items (id int PRIMARY KEY, v text);\n"
                    "INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 5000) g;\n")
        t0 = time.time()
        cls.snap_info = cls.cl.base_backup(cls.root / "snap1")
        timing("base_backup", time.time() - t0)
        cls.others = []

    @classmethod
    def tearDownClass(cls):
        for c in [cls.cl] + cls.others:
            c.remove()
        shutil.rmtree(cls.root, ignore_errors=True)

    def fingerprint(self, cl):
        return cl.query("SELECT count(*), md5(string_agg(id || ':' || v, ',' ORDER BY id)) "
                        "FROM items")[0]

    def test_running_listens_on_loopback_with_password_auth(self):
        self.assertEqual(self.cl.status(), "running")
        rc, out, err = tcp_query(self.cl.port, "SELECT count(*) FROM items")
        self.assertEqual((rc, out), (0, "5000"), err)
        rc, _out, err = tcp_query(self.cl.port, "SELECT 1", password="wrong-password")
        self.assertNotEqual(rc, 0)
        self.assertIn("password authentication failed", err)
        addr = self.cl.query("SHOW listen_addresses")[0][0]
        self.assertEqual(addr, "127.0.0.1")
        self.assertEqual(self.cl.query("SHOW archive_mode")[0][0], "on")

    def test_postmaster_stays_in_our_process_group(self):
        pid = self.cl.postmaster_pid()
        self.assertIsNotNone(pid)
        self.assertEqual(os.getpgid(pid), os.getpgrp())

    def test_stop_and_start_keep_data(self):
        cl = pgcluster.Cluster.create(self.root / "stopstart", "boss", PASSWORD)
        self.others.append(cl)
        cl.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (42);")
        cl.stop()
        self.assertEqual(cl.status(), "stopped")
        rc, _out, _err = tcp_query(cl.port, "SELECT 1", user="boss")
        self.assertNotEqual(rc, 0)
        cl.start()
        self.assertEqual(cl.status(), "running")
        self.assertEqual(tcp_query(cl.port, "SELECT x FROM t", user="boss")[1], "42")

    def test_heartbeat_archives_wal(self):
        before = set(os.listdir(self.cl.archive))
        t0 = time.time()
        hb = self.cl.heartbeat()
        self.assertLessEqual(hb, time.time())
        self.assertGreaterEqual(hb, t0 - 1)
        seg, _when = self.cl.last_archived()
        self.assertIsNotNone(seg)
        self.assertIn(seg, os.listdir(self.cl.archive))
        self.assertNotIn(seg, before)
        self.assertEqual(os.path.getsize(self.cl.archive / seg), 1 << 20)  # 1 MB segments

    def test_restore_from_base_backup_has_same_rows_on_new_port(self):
        t0 = time.time()
        r = pgcluster.Cluster.restore(self.root / "snap1", self.root / "restored")
        timing("restore", time.time() - t0)
        self.others.append(r)
        self.assertNotEqual(r.port, self.cl.port)
        self.assertEqual(self.fingerprint(r)[0], "5000")
        rc, out, err = tcp_query(r.port, "SELECT count(*) FROM items")
        self.assertEqual((rc, out), (0, "5000"), err)
        # the restored cluster is independent: writes do not reach the source
        r.psql("DELETE FROM items WHERE id <= 10")
        self.assertEqual(self.cl.query("SELECT count(*) FROM items WHERE id <= 10")[0][0], "10")

    def test_copied_snapshot_is_a_real_copy(self):
        info = pgcluster.copy_snapshot(self.root / "snap1", self.root / "snap1-copy")
        self.assertEqual(info["end_time"], self.snap_info["end_time"])
        a = self.root / "snap1" / "data" / "PG_VERSION"
        b = self.root / "snap1-copy" / "data" / "PG_VERSION"
        self.assertNotEqual(os.stat(a).st_ino, os.stat(b).st_ino)
        self.assertEqual(a.read_text(), b.read_text())
        with self.assertRaises(pgcluster.PgError):
            pgcluster.copy_snapshot(self.root / "snap1", self.root / "snap1-copy")

    def test_pitr_between_two_writes_restores_the_first_state(self):
        cl = self.cl
        cl.psql("CREATE TABLE IF NOT EXISTS marks (name text); INSERT INTO marks VALUES ('A')")
        time.sleep(0.6)
        target = time.time()
        time.sleep(0.6)
        cl.psql("INSERT INTO marks VALUES ('B')")
        cl.heartbeat()
        # snap1 predates both writes whatever order the tests run in
        t0 = time.time()
        p = pgcluster.Cluster.pitr(self.root / "snap1", cl.archive, target, self.root / "pitr1")
        timing("pitr", time.time() - t0)
        self.others.append(p)
        self.assertEqual(p.query("SELECT string_agg(name, ',' ORDER BY name) FROM marks"),
                         [["A"]])
        self.assertEqual(p.query("SELECT pg_is_in_recovery()")[0][0], "f")
        self.assertGreater(int(p.query("SELECT timeline_id FROM pg_control_checkpoint()")[0][0]),
                           1)
        # promoted: it accepts writes and archives into its own archive
        p.psql("INSERT INTO marks VALUES ('C')")
        p.heartbeat()
        self.assertTrue(any(f.startswith("0000000") for f in os.listdir(p.archive)))

    def test_pitr_before_the_backup_is_refused(self):
        with self.assertRaises(pgcluster.PgError):
            pgcluster.Cluster.pitr(self.root / "snap1", self.cl.archive,
                                   self.snap_info["start_time"] - 60, self.root / "pitr-early")
        self.assertFalse((self.root / "pitr-early").exists())

    def test_corrupt_index_fails_amcheck_after_restore(self):
        pgcluster.copy_snapshot(self.root / "snap1", self.root / "snap-bad")
        out = pgcluster.corrupt(self.root / "snap-bad", "items_pkey")
        self.assertEqual(out["relation"], "public.items_pkey")
        self.assertGreaterEqual(out["block"], 1)
        bad = pgcluster.Cluster.restore(self.root / "snap-bad", self.root / "restored-bad")
        good = pgcluster.Cluster.restore(self.root / "snap1", self.root / "restored-good")
        self.others += [bad, good]
        for c in (bad, good):
            c.psql("CREATE EXTENSION IF NOT EXISTS amcheck")
        self.assertEqual(good.query("SELECT 'checked' FROM (SELECT bt_index_check("
                                    "'items_pkey')) s"), [["checked"]])
        with self.assertRaises(pgcluster.PgError) as cm:
            bad.query("SELECT bt_index_check('items_pkey')")
        self.assertIn("item order invariant violated", str(cm.exception))
        # the table itself is intact: a sequential scan still sees every row
        self.assertEqual(bad.query("SET enable_indexscan = off; SET enable_bitmapscan = off; "
                                   "SELECT count(*) FROM items")[-1][0], "5000")

    def test_corrupt_rejects_tables_and_unknown_relations(self):
        with self.assertRaises(pgcluster.PgError):
            pgcluster.corrupt(self.root / "snap1", "items")
        with self.assertRaises(pgcluster.PgError):
            pgcluster.corrupt(self.root / "snap1", "no_such_index")

    def test_stop_all_under_stops_clusters(self):
        cl = pgcluster.Cluster.create(self.root / "sweep" / "c", "m", PASSWORD)
        self.others.append(cl)
        self.assertEqual(cl.status(), "running")
        stopped = pgcluster.stop_all_under(self.root / "sweep")
        self.assertEqual(stopped, [str(cl.path)])
        self.assertEqual(cl.status(), "stopped")


if __name__ == "__main__":
    unittest.main()
