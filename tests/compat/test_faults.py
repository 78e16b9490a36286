"""Fault injection: mlflowd's defensive paths around syncing the WAL, driven with
the LD_PRELOAD library tests/fault/fault_inject.c (libfault_inject.so beside the
mlflowd binary; ctest's compat test passes its path in MLFLOWD_FAULT_SHIM).

- When the WAL cannot be opened for syncing, or the sync thread cannot be
  started, the server still starts and every commit syncs itself
  (synchronous=FULL): no answer leaves before its WAL write is on disk.
- When an fdatasync of the WAL fails, the group's callers are answered 500
  INTERNAL_ERROR although the transaction committed, and every later write is
  refused with a 500 (a retry by the client does not write twice), even once
  syncing works again: the lost pages may break the WAL before any later
  frame. Reads go on; after a restart writes are answered 200 again.
- When the checkpoint thread is stalled mid-round (as when the scheduler starves
  it on a busy machine), the writer stops its round and checkpoints in its place,
  so the WAL stays within its bound.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest

import compat_util as cu

SHIM = os.environ.get("MLFLOWD_FAULT_SHIM")

pytestmark = [
    pytest.mark.mlflowd_only,
    pytest.mark.skipif(
        not SHIM,
        reason="MLFLOWD_FAULT_SHIM is not set: point it at libfault_inject.so of the build "
        "(ctest's compat test sets it)",
    ),
]

UNSYNCED = {
    "error_code": "INTERNAL_ERROR",
    "message": f"committed, but the write-ahead log could not be synced ({os.strerror(errno.EIO)}), so it may "
               "not survive a crash; writes are refused until mlflowd restarts",
    "sqlstate": "XXM00",
    "error_class": "CLIENT_INTERNAL_ERROR",
}
REFUSED = {
    "error_code": "INTERNAL_ERROR",
    "message": f"writes are refused: the write-ahead log could not be synced ({os.strerror(errno.EIO)}); "
               "restart mlflowd",
    "sqlstate": "XXM00",
    "error_class": "CLIENT_INTERNAL_ERROR",
}


def _preload() -> str:
    """LD_PRELOAD for mlflowd: the shim, behind the AddressSanitizer runtime when
    mlflowd is built with it (that runtime must come first in the library list)."""
    if not os.path.isfile(SHIM):
        pytest.fail(f"MLFLOWD_FAULT_SHIM={SHIM} is not a file")
    ldd = subprocess.run(["ldd", cu.MLFLOWD_BIN], capture_output=True, text=True, check=True).stdout
    asan = [line.split("=>")[1].split()[0] for line in ldd.splitlines() if "libasan" in line and "=>" in line]
    return " ".join(asan + [SHIM])


def _start(workdir: Path, fault: str, trace: Path | None = None, **env: str) -> cu.Server:
    """mlflowd with the shim injecting `fault`; under strace when `trace` is given."""
    workdir.mkdir(parents=True)
    env = {"LD_PRELOAD": _preload(), "MLFLOWD_FAULT": fault, "MLFLOWD_FAULT_LOG": str(workdir / "faults.log"), **env}
    if trace is None:
        wrapper = ["env", *(f"{k}={v}" for k, v in env.items())]
    else:
        if not shutil.which("strace"):
            pytest.fail("strace not found: scripts/setup --tests installs it")
        wrapper = ["strace", "-f", "-y", "-qq", "-s", "16", "-o", str(trace),
                   "-e", "trace=pwrite64,fdatasync,fsync,sendto"]
        if "libasan" in env["LD_PRELOAD"]:  # LeakSanitizer cannot run under ptrace
            env["ASAN_OPTIONS"] = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"), "detect_leaks=0"]))
        for k, v in env.items():
            wrapper += ["-E", f"{k}={v}"]
    srv = cu.start_mlflowd(workdir, wrapper=wrapper)
    srv.extra["traced"] = trace is not None
    return srv


def _stop(srv: cu.Server) -> int:
    """SIGTERM to mlflowd (under strace to strace's child: strace would not pass its
    own on); returns the exit status."""
    srv.extra["stopped"] = True
    if srv.proc.poll() is not None:
        return srv.proc.returncode
    pid = srv.proc.pid
    targets = [pid]
    if srv.extra["traced"]:
        targets = [int(k) for k in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for t in targets:
        os.kill(t, signal.SIGTERM)
    try:
        return srv.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        srv.proc.kill()
        srv.proc.wait()
        raise AssertionError(f"mlflowd did not stop within 15 s of SIGTERM; log tail:\n{srv.log_tail()}")


def _injected(srv: cu.Server) -> list[str]:
    """The shim's log: one line per injected failure."""
    log = srv.db_path.parent / "faults.log"
    return log.read_text().splitlines() if log.exists() else []


def _wal_threads(trace_text: str) -> tuple[set[str], set[str]]:
    """From an `strace -f -y` log: the threads that wrote the -wal file, and those that synced it."""
    writers, syncers = set(), set()
    for line in trace_text.splitlines():
        tid, _, call = line.partition(" ")
        call = call.lstrip()
        if "-wal>" in call.split(",", 1)[0]:
            if call.startswith("pwrite64("):
                writers.add(tid)
            elif call.startswith(("fdatasync(", "fsync(")):
                syncers.add(tid)
    return writers, syncers


def _read_db(srv: cu.Server, sql: str, *args) -> list[tuple]:
    db = sqlite3.connect(f"file:{srv.db_path}?mode=ro", uri=True)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


@pytest.mark.parametrize("fault", ["wal_open", "sync_thread"])
def test_without_the_sync_thread_every_commit_syncs_itself(tmp_path, fault):
    trace = tmp_path / "strace.log"
    srv = _start(tmp_path / "srv", fault, trace=trace)
    try:
        api = cu.Api(srv)
        rid = api.create_run(api.create_experiment("fallback"))
        for i in range(20):
            api.log_metric(rid, "m", float(i), step=i, timestamp=1000 + i)
        api.okpost("/runs/log-batch", {"run_id": rid, "metrics": [
            {"key": f"k{k}", "value": 1.5, "timestamp": 5000, "step": 0} for k in range(100)]})
    finally:
        rc = _stop(srv)
    assert rc == 0, srv.log_tail()
    expected = {"wal_open": f"wal_open {srv.db_path}-wal", "sync_thread": "sync_thread -"}[fault]
    assert _injected(srv) == [expected], "the fault was not injected where mlflowd starts its sync thread"
    # synchronous=FULL: SQLite syncs the WAL inside each commit, before the
    # answer, on the thread that wrote it (no sync thread does it)
    text = trace.read_text(errors="replace")
    responses, bad = cu.wal_sync_violations(text)
    assert responses >= 23, f"only {responses} HTTP responses in the trace"
    assert not bad, "\n".join(bad[:5])
    writers, syncers = _wal_threads(text)
    assert syncers and syncers <= writers, f"threads syncing the WAL {syncers}, writing it {writers}"
    steps = _read_db(srv, "SELECT step, value FROM metrics WHERE run_uuid = ? AND key = 'm' ORDER BY step", rid)
    assert steps == [(i, float(i)) for i in range(20)]
    assert _read_db(srv, "SELECT count(*) FROM metrics WHERE run_uuid = ? AND key LIKE 'k%'", rid) == [(100,)]
    assert _read_db(srv, "SELECT count(*) FROM experiments WHERE name = 'fallback'") == [(1,)]


def test_a_failed_wal_sync_answers_500_and_refuses_writes_until_restart(tmp_path):
    trigger = tmp_path / "fail-syncs"  # the shim fails the WAL's fdatasync while this exists
    srv = _start(tmp_path / "srv", "fdatasync", MLFLOWD_FAULT_TRIGGER=str(trigger))
    try:
        api = cu.Api(srv)
        rid = api.create_run(api.create_experiment())
        api.log_metric(rid, "m", 0.0, step=0, timestamp=1000)
        assert _injected(srv) == []

        trigger.touch()
        r = api.post("/runs/log-metric", {"run_id": rid, "key": "m", "value": 1.0, "step": 1, "timestamp": 1001})
        assert cu.assert_error(r, 500) == UNSYNCED
        wal = f"{srv.db_path}-wal"
        assert _injected(srv) == [f"fdatasync {wal}"]
        # The transaction committed all the same: readers see it.
        assert [(m["step"], m["value"]) for m in api.history(rid, "m")] == [(0, 0.0), (1, 1.0)]

        # Syncing works again, but the pages of the failed sync may be lost,
        # and every later WAL frame with them: writes stay refused, so the
        # client's retry of a 500 does not write twice either.
        trigger.unlink()
        r = api.post("/experiments/create", {"name": "made-after-failure"})
        assert cu.assert_error(r, 500) == REFUSED
        r = api.post("/runs/log-metric", {"run_id": rid, "key": "m", "value": 2.0, "step": 2, "timestamp": 1002})
        assert cu.assert_error(r, 500) == REFUSED
        assert len(api.history(rid, "m")) == 2
        assert _injected(srv) == [f"fdatasync {wal}"]
    finally:
        rc = _stop(srv)
    assert rc == 0, srv.log_tail()
    assert _read_db(srv, "SELECT count(*) FROM experiments WHERE name = 'made-after-failure'") == [(0,)]

    # A restart (without the fault) recovers the database and takes writes again.
    again = cu.start_mlflowd(tmp_path / "again", db_path=srv.db_path, artifacts=srv.artifacts)
    try:
        api = cu.Api(again)
        api.log_metric(rid, "m", 2.0, step=2, timestamp=1002)
        api.create_experiment("made-after-restart")
        assert [(m["step"], m["value"]) for m in api.history(rid, "m")] == [(0, 0.0), (1, 1.0), (2, 2.0)]
    finally:
        again.stop()


def test_wal_bound_holds_while_the_checkpoint_thread_is_stalled(tmp_path):
    """The checkpoint thread runs below the writer's priority; on a busy machine it can
    be starved mid-round, holding SQLite's checkpoint lock. The writer's own checkpoint at
    the WAL's bound must not wait on it: here every page that thread copies takes 50 ms,
    and four clients log batches back to back."""
    from test_store_compat import WAL_BOUND_BYTES, wal_restarts, write_batches_concurrently

    srv = _start(tmp_path / "srv", "slow_checkpoint", MLFLOWD_FAULT_DELAY_MS="50")
    try:
        wal = srv.db_path.with_name(srv.db_path.name + "-wal")
        api = cu.Api(srv)
        writers, batches = 4, 80
        write_batches_concurrently(srv, api.create_experiment(), writers, batches)
        assert _injected(srv) == [f"slow_checkpoint {srv.db_path}"], "the checkpoint thread was never slowed"
        assert wal.stat().st_size < WAL_BOUND_BYTES, f"the WAL reached {wal.stat().st_size / 2**20:.1f} MiB"
        assert wal_restarts(wal) > 0, "the WAL never started over"
        assert _read_db(srv, "SELECT count(*) FROM metrics") == [(writers * batches * 1000,)]
    finally:
        rc = _stop(srv)
    assert rc == 0, srv.log_tail()
