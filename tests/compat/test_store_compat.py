"""The database file is MLflow's: a runs.db written by mlflowd opens in stock MLflow 3.18.0
(MlflowClient on sqlite:///, run in its own environment) with everything intact, and a
database written by stock MLflow (3.17.2 here, 3.18.0 in test_schema_span.py) is served by
mlflowd with the same data. Both directions also keep writing."""

import math
import sqlite3
import threading
import time

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.entities import Metric, Param, RunTag

import compat_util as cu
import releases
from store_data import check_populated, populate, snapshot

EXPECTED_HEAD = releases.NEWEST_HEAD  # mlflowd creates stores at MLflow 3.18.0's head


def table_list(db):
    con = sqlite3.connect(db)
    try:
        return sorted(r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'"))
    finally:
        con.close()


def alembic_head(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT version_num FROM alembic_version").fetchall()
    finally:
        con.close()


def test_mlflowd_db_opens_in_stock_mlflow(mlflowd, mlflowd_factory, tmp_path):
    # stock MLflow 3.18.0 (the release of the head mlflowd creates) reads the file
    http = MlflowClient(mlflowd.url)
    prefix = cu.uniq("fwd")
    exp_ids = populate(http, prefix)
    via_http = snapshot(http, exp_ids)
    check_populated(via_http, exp_ids)
    mlflowd.stop()
    if not cu.STOCK_MODE:
        assert mlflowd.proc.returncode == 0, mlflowd.log_tail()
        assert alembic_head(mlflowd.db_path) == [(EXPECTED_HEAD,)]
    tables_before = table_list(mlflowd.db_path)

    uri = f"sqlite:///{mlflowd.db_path}"
    via_sql = releases.client(releases.NEWEST, "snapshot", uri, *exp_ids, full=True)
    assert via_sql == via_http
    # stock MLflow neither migrated nor created anything
    assert alembic_head(mlflowd.db_path) == [(EXPECTED_HEAD,)]
    assert table_list(mlflowd.db_path) == tables_before

    # stock MLflow writes to the file, mlflowd serves what it wrote
    e1 = exp_ids[0]
    rid = releases.client(releases.NEWEST, "write", uri, e1, full=True)
    again = mlflowd_factory(db_path=mlflowd.db_path, artifacts=mlflowd.artifacts)
    c2 = MlflowClient(again.url)
    r = c2.get_run(rid)
    assert r.info.run_name == "by-release" and r.data.metrics == {"m": 7.0} and r.data.params == {"p": "q"}
    found = c2.search_runs([e1], "metrics.loss < 0.01 AND params.p3 = 'value 3' AND tags.stage = 'train'")
    assert [r.info.run_name for r in found] == ["first"]
    assert [r.info.run_name for r in c2.search_runs([e1], "datasets.name = 'ds'")] == ["first"]
    assert int(c2.create_experiment(f"{prefix}-after")) > int(exp_ids[-1])


def test_stock_db_served_by_mlflowd(mlflowd_factory, tmp_path):
    db = tmp_path / "stock-written.db"
    stock = MlflowClient(tracking_uri=f"sqlite:///{db}")
    prefix = cu.uniq("rev")
    exp_ids = populate(stock, prefix)
    via_sql = snapshot(stock, exp_ids)
    check_populated(via_sql, exp_ids)
    assert alembic_head(db) == [(releases.PINNED_HEAD,)]

    srv = mlflowd_factory(db_path=db, artifacts=tmp_path / "art")
    http = MlflowClient(srv.url)
    assert snapshot(http, exp_ids) == via_sql
    assert http.get_experiment("0").name == "Default"
    e1 = exp_ids[0]
    found = http.search_runs([e1], "metrics.loss < 0.01 AND params.p3 = 'value 3'")
    assert [r.info.run_name for r in found] == ["first"]

    # mlflowd writes into stock's file, stock reads it back
    rid = http.create_run(e1, run_name="by-mlflowd").info.run_id
    http.log_batch(rid, metrics=[Metric("m", float(s), 100 + s, s) for s in range(5)],
                   params=[Param("p", "v")], tags=[RunTag("t", "u")])
    http.log_metric(rid, "nan", float("nan"), timestamp=1)
    new_eid = http.create_experiment(f"{prefix}-by-mlflowd", tags={"x": "y"})
    http.set_terminated(rid)
    srv.stop()
    if not cu.STOCK_MODE:
        assert srv.proc.returncode == 0
    assert alembic_head(db) == [(releases.PINNED_HEAD,)]
    fresh_stock = MlflowClient(tracking_uri=f"sqlite:///{db}")
    r = fresh_stock.get_run(rid)
    assert r.info.status == "FINISHED" and r.info.run_name == "by-mlflowd"
    assert r.data.metrics["m"] == 4.0 and math.isnan(r.data.metrics["nan"])
    assert r.data.params == {"p": "v"} and r.data.tags["t"] == "u"
    assert [m.step for m in fresh_stock.get_metric_history(rid, "m")] == [0, 1, 2, 3, 4]
    assert fresh_stock.get_experiment(new_eid).tags == {"x": "y"}
    assert fresh_stock.search_runs([e1], "metrics.m = 4")[0].info.run_id == rid


@pytest.mark.mlflowd_only
def test_fresh_mlflowd_db_schema_matches_stock(fresh_db_template, tmp_path):
    """A new store has exactly the layout stock MLflow 3.18.0 creates: sqlite_master normalized
    (tables, columns, constraints, indexes, triggers), the head, and the first rows."""
    stock_db = tmp_path / "ref.db"
    releases.client(releases.NEWEST, "create", f"sqlite:///{stock_db}")
    assert releases.head_of(stock_db) == releases.NEWEST_HEAD
    assert releases.normalized_schema(fresh_db_template) == releases.normalized_schema(stock_db), \
        releases.schema_diff(fresh_db_template, stock_db)
    ours, ref = releases.all_rows(fresh_db_template), releases.all_rows(stock_db)
    assert ours.keys() == ref.keys()
    assert ours["alembic_version"] == ref["alembic_version"]
    assert ours["workspaces"] == ref["workspaces"]
    con = sqlite3.connect(fresh_db_template)
    assert con.execute("SELECT experiment_id, name, lifecycle_stage, workspace FROM experiments").fetchall() == [
        (0, "Default", "active", "default")]
    con.close()


# MLF_WAL_MAX_PAGES (api/limits.h) in bytes (4 KiB pages, 24-byte frame
# headers), plus 32 MiB: while the checkpoint thread holds the checkpoint
# lock the writer's own checkpoint is refused and retried after the next
# commit, so the groups committed during that round go past the bound
# (4 writers of log-batches on the development machine: 134-142 MiB)
WAL_BOUND_BYTES = 32768 * (4096 + 24) + 32 * 2**20


def wal_restarts(wal) -> int:
    """The checkpoint sequence number in a WAL's header: how often it started over."""
    with open(wal, "rb") as f:
        return int.from_bytes(f.read(16)[12:16], "big")


def log_batch_100x10(api, rid: str, b: int) -> None:
    """Batch b of a series: steps b*10 .. b*10+9 of keys k000 .. k099."""
    api.okpost("/runs/log-batch", {"run_id": rid, "metrics": [
        {"key": f"k{k:03d}", "value": float(b * 10 + s), "timestamp": 1000 + b * 10 + s, "step": b * 10 + s}
        for s in range(10) for k in range(100)]})


def write_batches_concurrently(server, eid: str, writers: int = 4, batches: int = 80) -> None:
    """`writers` clients, each with a run of its own, log `batches` 1000-point batches at once;
    any failure fails the caller."""
    errors = []

    def write():
        a = cu.Api(server)
        try:
            rid = a.create_run(eid)
            for b in range(batches):
                log_batch_100x10(a, rid, b)
        except Exception as e:  # reported by the main thread
            errors.append(e)
        finally:
            a.s.close()

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


@pytest.mark.mlflowd_only
def test_checkpoints_keep_the_wal_bounded(api, mlflowd):
    # Log-batches of 100 keys x 10 steps rewrite hundreds of pages each; the
    # checkpoint thread (and past the bound of MLF_WAL_MAX_PAGES, 32768 pages,
    # the writer's own checkpoint) copy them into the database file and let
    # the WAL start over, so it never holds the whole history. Batches go on
    # until the WAL has started over (at least 60), which the checkpoint
    # sequence number in its header counts, and the WAL stays within the
    # bound meanwhile.
    wal = mlflowd.db_path.with_name(mlflowd.db_path.name + "-wal")
    rid = api.create_run(api.create_experiment())
    batches = 0
    while batches < 400 and (batches < 60 or wal_restarts(wal) == 0):
        log_batch_100x10(api, rid, batches)
        batches += 1
        assert wal.stat().st_size < WAL_BOUND_BYTES, f"the WAL grew past its bound after {batches} batches"
    assert wal_restarts(wal) > 0, f"the WAL never started over in {batches} batches"
    written = batches * 1000
    assert api.okget("/metrics/get-history", {"run_id": rid, "metric_key": "k042"})["metrics"][-1]["step"] == written // 100 - 1
    assert mlflowd.db_path.stat().st_size > 8 * 2**20, "nothing was checkpointed into the database file"
    with sqlite3.connect(f"file:{mlflowd.db_path}?mode=ro", uri=True) as db:
        assert db.execute("SELECT count(*) FROM metrics WHERE run_uuid = ?", (rid,)).fetchone()[0] == written


@pytest.mark.mlflowd_only
def test_wal_stays_bounded_under_concurrent_batches(api, mlflowd):
    # Four clients log batches back to back: the writer is never idle, so the
    # checkpoint thread never catches up with the WAL's last frame and the
    # WAL starts over only through the writer's own checkpoint at the bound.
    # The -wal file is overwritten in place after a restart, never shrunk,
    # so its size at the end is the largest the WAL ever was.
    wal = mlflowd.db_path.with_name(mlflowd.db_path.name + "-wal")
    writers, batches = 4, 80
    write_batches_concurrently(mlflowd, api.create_experiment(), writers, batches)
    assert wal.stat().st_size < WAL_BOUND_BYTES, f"the WAL reached {wal.stat().st_size / 2**20:.1f} MiB"
    assert wal_restarts(wal) > 0, "the WAL never started over"
    with sqlite3.connect(f"file:{mlflowd.db_path}?mode=ro", uri=True) as db:
        assert db.execute("SELECT count(*) FROM metrics").fetchone()[0] == writers * batches * 1000


def wal_index(db_path) -> tuple[int, int, int]:
    """(salt, last frame, frames copied into the database) from the -shm
    wal-index: aSalt[0] and mxFrame of its header, nBackfill of the
    checkpoint info that follows the header's two copies (native order)."""
    with open(db_path.with_name(db_path.name + "-shm"), "rb") as f:
        h = f.read(100)
    salt, mx_frame, backfill = (int.from_bytes(h[off:off + 4], "little") for off in (32, 16, 96))
    return salt, mx_frame, backfill


@pytest.mark.mlflowd_only
def test_checkpoint_thread_wakes_after_a_restart_by_a_large_commit(api, mlflowd):
    # Batches of 1000 keys x 1 step grow the run's index segments until one
    # commit writes more WAL pages than MLF_WAL_CHECKPOINT_PAGES (1000). When
    # such a commit is the first after the WAL started over, the checkpoint
    # thread must still be woken and copy it into the database file; it used
    # to sleep until the WAL reached its bound, leaving the writer to copy
    # the whole WAL itself while every caller waited.
    wal = mlflowd.db_path.with_name(mlflowd.db_path.name + "-wal")
    rid = api.create_run(api.create_experiment())

    def batch(b):
        api.okpost("/runs/log-batch", {"run_id": rid, "metrics": [
            {"key": f"m{k:04d}", "value": float(b), "timestamp": 1000 + b, "step": b} for k in range(1000)]})

    b, restarts, first = 0, wal_restarts(wal) if wal.exists() else 0, None
    while b < 300 and first is None:
        batch(b)
        b += 1
        if wal_restarts(wal) != restarts:
            restarts = wal_restarts(wal)
            # the WAL started over before this batch's commit, which is its first
            salt, frames, _ = wal_index(mlflowd.db_path)
            if frames > 1000:
                first = salt
    assert first is not None, f"no commit of over 1000 pages opened a new WAL in {b} batches"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        salt, frames, backfilled = wal_index(mlflowd.db_path)
        assert salt == first, "the WAL started over again with no write"
        if backfilled > 0:
            break
        time.sleep(0.01)
    assert backfilled == frames, f"the checkpoint thread copied {backfilled} of the WAL's {frames} pages"
    assert api.okget("/metrics/get-history", {"run_id": rid, "metric_key": "m0999"})["metrics"][-1]["step"] == b - 1


@pytest.mark.mlflowd_only
def test_writes_are_answered_only_after_the_wal_is_synced(tmp_path):
    # The writer commits without a sync of its own and a sync thread makes the
    # WAL durable for every committed group before their callers answer: in a
    # sequence of requests, no response may leave while a WAL write is unsynced.
    import shutil
    import requests

    if not shutil.which("strace"):
        pytest.fail("strace not found: scripts/setup --tests installs it")
    trace = tmp_path / "strace.log"
    srv = cu.start_mlflowd(tmp_path / "srv", wrapper=[
        "strace", "-f", "-y", "-qq", "-s", "16", "-o", str(trace),
        "-e", "trace=pwrite64,fdatasync,fsync,sendto"])
    try:
        api = f"{srv.url}/api/2.0/mlflow"
        s = requests.Session()
        r = s.post(f"{api}/experiments/create", json={"name": "durable"})
        assert r.status_code == 200, r.text
        rid = s.post(f"{api}/runs/create", json={"experiment_id": r.json()["experiment_id"]}).json()["run"]["info"]["run_id"]
        for i in range(20):
            r = s.post(f"{api}/runs/log-metric", json={"run_id": rid, "key": "m", "value": i, "timestamp": 1000 + i, "step": i})
            assert r.status_code == 200, r.text
        r = s.post(f"{api}/runs/log-batch", json={"run_id": rid, "metrics": [
            {"key": f"k{k}", "value": 1.5, "timestamp": 5000, "step": 0} for k in range(100)]})
        assert r.status_code == 200, r.text
        # the last request: a 1000-point log-batch, to count its WAL writes
        r = s.post(f"{api}/runs/log-batch", json={"run_id": rid, "metrics": [
            {"key": f"b{k}", "value": 0.5 * s_, "timestamp": 6000 + s_, "step": s_}
            for k in range(100) for s_ in range(10)]})
        assert r.status_code == 200, r.text
    finally:
        # SIGTERM to mlflowd itself (strace would not pass its own on)
        import os
        import signal

        pid = srv.proc.pid
        kids = open(f"/proc/{pid}/task/{pid}/children").read().split()
        for k in kids:
            os.kill(int(k), signal.SIGTERM)
        srv.extra["stopped"] = True
        assert srv.proc.wait(timeout=15) == 0, srv.log_tail()
    text = trace.read_text(errors="replace")
    responses, bad = cu.wal_sync_violations(text)
    assert responses >= 24, f"only {responses} HTTP responses in the trace"
    assert not bad, "\n".join(bad[:5])
    # storage/wal_vfs.c gathers the batch's WAL frames (about 70 in this
    # small database, which SQLite writes with two pwrite64 calls each: 146
    # without it) into writes of up to 124 KiB
    lines = text.splitlines()
    sent = [i for i, ln in enumerate(lines) if "sendto(" in ln and '"HTTP/1.1 ' in ln]
    batch = lines[sent[-2] + 1:sent[-1]]
    wal_writes = [ln for ln in batch if "pwrite64(" in ln and "-wal>" in ln and "<... " not in ln]
    assert 0 < len(wal_writes) <= 10, f"{len(wal_writes)} WAL writes for one 1000-point log-batch"


@pytest.mark.mlflowd_only
def test_failing_batches_in_shared_transactions_roll_back_alone(client):
    # Eight MlflowClient threads log batches at once, so the writer folds
    # them into shared transactions; every other batch inserts a new param
    # and then changes an existing one, which fails it after it wrote. Each
    # failed batch must leave nothing, and every accepted batch must stay,
    # whichever batches shared its transaction.
    eid = client.create_experiment("shared-transactions")
    threads_n, rounds, errors, refused = 8, 30, [], []
    runs = [client.create_run(eid).info.run_id for _ in range(threads_n)]
    for rid in runs:
        client.log_param(rid, "p", "0")

    def write(rid):
        try:
            for i in range(rounds):
                metrics = [Metric(f"m{k}", float(i), 1700000000000 + i, i) for k in range(100)]
                if i % 2:
                    try:
                        client.log_batch(rid, metrics=[Metric("bad", 1.0, 1, i)],
                                         params=[Param(f"new{i}", "x"), Param("p", "changed")])
                        errors.append(f"batch {i} of {rid} was accepted")
                    except MlflowException as e:
                        refused.append(e.error_code)
                else:
                    client.log_batch(rid, metrics=metrics)
        except Exception as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=write, args=(rid,)) for rid in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert refused == ["INVALID_PARAMETER_VALUE"] * (threads_n * rounds // 2)
    for rid in runs:
        run = client.get_run(rid)
        assert run.data.params == {"p": "0"}
        assert "bad" not in run.data.metrics
        history = client.get_metric_history(rid, "m7")
        assert sorted(m.step for m in history) == list(range(0, rounds, 2))
