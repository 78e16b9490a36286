"""Crash consistency: mlflowd killed with SIGKILL at random moments while real HTTP clients
write concurrently, several times over one database. After every kill the database passes
PRAGMA integrity_check, every write that was answered 200 is there (a 2xx means committed
and synced), and a restarted mlflowd serves it and takes writes again."""

from __future__ import annotations

import random
import signal
import sqlite3
import threading
import time

import pytest
import requests

import compat_util as cu

ROUNDS = 6
WRITERS = 4
KILL_AFTER_S = (0.3, 1.5)  # the kill comes at a random moment in this window


def _writer(url: str, eid: str, wid: int, acked: list, stop: threading.Event) -> None:
    """Create a run, then log batches and params until the server is gone; note each 200."""
    s = requests.Session()
    try:
        r = s.post(f"{url}/api/2.0/mlflow/runs/create", json={"experiment_id": eid}, timeout=30)
        if r.status_code != 200:
            return
        rid = r.json()["run"]["info"]["run_id"]
        acked.append(("run", rid, None, None))
        b = 0
        while not stop.is_set():
            if b % 3 == 2:
                key, value = f"p{wid}_{b}", f"v{b}"
                r = s.post(f"{url}/api/2.0/mlflow/runs/log-parameter",
                           json={"run_id": rid, "key": key, "value": value}, timeout=30)
                if r.status_code == 200:
                    acked.append(("param", rid, key, value))
            else:
                metrics = [{"key": f"m{k}", "value": float(b), "timestamp": 1000 + b, "step": b} for k in range(50)]
                r = s.post(f"{url}/api/2.0/mlflow/runs/log-batch", json={"run_id": rid, "metrics": metrics},
                           timeout=30)
                if r.status_code == 200:
                    acked.append(("batch", rid, b, 50))
            b += 1
    except requests.RequestException:
        pass  # the server was killed
    finally:
        s.close()


def _check(db_path, acked, label):
    con = sqlite3.connect(str(db_path))
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)], label
        runs = {r[0] for r in con.execute("SELECT run_uuid FROM runs")}
        params = set(con.execute("SELECT run_uuid, key, value FROM params"))
        steps = {}
        for rid, step, n in con.execute("SELECT run_uuid, step, count(*) FROM metrics GROUP BY run_uuid, step"):
            steps[(rid, step)] = n
        for kind, rid, a, b in acked:
            assert rid in runs, f"{label}: acknowledged run {rid} is missing"
            if kind == "param":
                assert (rid, a, b) in params, f"{label}: acknowledged param {a} of {rid} is missing"
            elif kind == "batch":
                assert steps.get((rid, a)) == b, f"{label}: acknowledged batch {a} of {rid}: {steps.get((rid, a))}"
    finally:
        con.close()


@pytest.mark.mlflowd_only
def test_kill_9_under_concurrent_writers_loses_no_acknowledged_write(tmp_path):
    seed = random.randrange(1 << 30)
    rnd = random.Random(seed)
    workdir = tmp_path / "srv"
    db_path = workdir / "runs.db"
    acked_total = 0
    for round_ in range(ROUNDS):
        label = f"round {round_} (seed {seed})"
        srv = cu.start_mlflowd(workdir, db_path=db_path)
        try:
            eid = cu.Api(srv).create_experiment(cu.uniq("crash"))
            acked: list = []
            stop = threading.Event()
            threads = [threading.Thread(target=_writer, args=(srv.url, eid, w, acked, stop)) for w in range(WRITERS)]
            for t in threads:
                t.start()
            time.sleep(rnd.uniform(*KILL_AFTER_S))
            srv.proc.send_signal(signal.SIGKILL)
            srv.proc.wait(timeout=30)
            stop.set()
            for t in threads:
                t.join(timeout=60)
            assert not any(t.is_alive() for t in threads), f"{label}: a client hung after the kill"
        finally:
            srv.extra["stopped"] = True
            if srv.proc.poll() is None:
                srv.proc.kill()
                srv.proc.wait()
        acked_total += len(acked)
        _check(db_path, list(acked), label)
    assert acked_total > ROUNDS * WRITERS, f"too few acknowledged writes to tell anything ({acked_total})"
    # a last start recovers the database and takes writes again
    srv = cu.start_mlflowd(workdir, db_path=db_path)
    try:
        api = cu.Api(srv)
        rid = api.create_run(api.create_experiment(cu.uniq("after")))
        api.log_metric(rid, "ok", 1.0)
    finally:
        assert srv.stop() == 0, srv.log_tail()
