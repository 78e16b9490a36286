"""The mlflowd command line: --help, --version, bad flags, startup failures (port in use,
unwritable or foreign database, database at another alembic head), SIGTERM, restart."""

import os
import signal
import socket
import sqlite3
import subprocess
import time

import pytest
import requests

import compat_util as cu
import releases

pytestmark = pytest.mark.mlflowd_only

EXPECTED_HEAD = releases.NEWEST_HEAD  # alembic head of MLflow 3.18.0, at which new stores are created

FLAGS = ["--backend-store", "--backend-store-uri", "--host", "--port", "--artifacts-destination",
         "--default-artifact-root", "--serve-artifacts", "--no-serve-artifacts", "--workers",
         "--allowed-hosts", "--cors-allowed-origins", "--version", "--help"]


def run(args, timeout=20, cwd=None):
    return subprocess.run([cu.MLFLOWD_BIN, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env=cu.server_env())


def start_fails(tmp_path, extra, timeout=20):
    """Run mlflowd expecting it to exit by itself with a non-zero status; returns (rc, output)."""
    port = cu.free_port()
    args = ["--host", "127.0.0.1", "--port", str(port), "--artifacts-destination", str(tmp_path / "art"), *extra]
    if not any(a.startswith("--backend-store") for a in extra):
        args = ["--backend-store", str(tmp_path / "runs.db"), *args]
    try:
        p = run(args, timeout=timeout, cwd=tmp_path)
    except subprocess.TimeoutExpired:
        pytest.fail(f"mlflowd {' '.join(extra)} did not exit within {timeout}s")
    return p.returncode, p.stdout + p.stderr


def test_help_lists_every_flag(require_binary):
    p = run(["--help"])
    assert p.returncode == 0, p.stderr
    out = p.stdout + p.stderr
    for flag in FLAGS:
        assert flag in out, f"--help does not mention {flag}"


def test_version(require_binary):
    p = run(["--version"])
    assert p.returncode == 0, p.stderr
    lines = [ln for ln in p.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1, p.stdout
    assert any(ch.isdigit() for ch in lines[0])


@pytest.mark.parametrize("args", [["--no-such-flag"], ["--bogus=1"], ["-z"]])
def test_bad_flag(require_binary, tmp_path, args):
    p = run(args, cwd=tmp_path)
    assert p.returncode != 0
    err = [ln for ln in (p.stderr or p.stdout).splitlines() if ln.strip()]
    assert len(err) == 1, f"expected a one-line error, got:\n{p.stderr}"
    assert args[0].split("=")[0].lstrip("-") in err[0], err[0]
    assert not (tmp_path / "runs.db").exists()


@pytest.mark.parametrize("args", [["--port"], ["--port", "abc"], ["--port", "70000"], ["--port", "-1"],
                                  ["--workers", "0"], ["--workers", "x"], ["--host"]])
def test_bad_flag_values(require_binary, tmp_path, args):
    p = run(["--backend-store", str(tmp_path / "runs.db"), *args], cwd=tmp_path)
    assert p.returncode != 0
    assert (p.stderr or p.stdout).strip(), "no error message"


def test_port_in_use(require_binary, tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        p = run(["--backend-store", str(tmp_path / "runs.db"), "--host", "127.0.0.1", "--port", str(port),
                 "--artifacts-destination", str(tmp_path / "art")], cwd=tmp_path)
    assert p.returncode != 0
    assert str(port) in p.stderr + p.stdout


def test_unwritable_db_path(require_binary, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    rc, out = start_fails(tmp_path, ["--backend-store", str(blocker / "runs.db")])
    assert rc != 0
    assert "runs.db" in out


def test_db_in_missing_directory(require_binary, tmp_path):
    rc, out = start_fails(tmp_path, ["--backend-store", str(tmp_path / "no" / "such" / "dir" / "runs.db")])
    assert rc != 0 and out.strip()


def test_non_sqlite_file(require_binary, tmp_path):
    db = tmp_path / "garbage.db"
    db.write_bytes(b"this is not an sqlite database\n" * 200)
    before = db.read_bytes()
    rc, out = start_fails(tmp_path, ["--backend-store", str(db)])
    assert rc != 0 and out.strip()
    assert db.read_bytes() == before, "mlflowd modified a file that is not its database"


def test_sqlite_without_mlflow_schema(require_binary, tmp_path):
    db = tmp_path / "other.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE something (x INTEGER)")
    con.commit()
    con.close()
    rc, out = start_fails(tmp_path, ["--backend-store", str(db)])
    assert rc != 0
    assert EXPECTED_HEAD in out


def test_db_at_unknown_head_with_the_same_layout_is_served(mlflowd_factory, tmp_path, fresh_db_template):
    # the layout decides, not the head's name: a head mlflowd does not know whose tables and
    # columns are as mlflowd expects is served, and left at its head
    db = cu.copy_db(fresh_db_template, tmp_path / "other-head.db")
    con = sqlite3.connect(db)
    con.execute("UPDATE alembic_version SET version_num = '0a1b2c3d4e5f'")
    con.commit()
    con.close()
    srv = mlflowd_factory(db_path=db)
    api = cu.Api(srv)
    api.create_run(api.create_experiment("on-other-head"))
    assert srv.stop() == 0
    con = sqlite3.connect(db)
    assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [("0a1b2c3d4e5f",)]
    con.close()


def test_fresh_db_is_at_expected_head(fresh_db_template):
    con = sqlite3.connect(fresh_db_template)
    assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [(EXPECTED_HEAD,)]
    assert con.execute("SELECT experiment_id, name, lifecycle_stage FROM experiments").fetchall() == [
        (0, "Default", "active")]
    con.close()


def test_sigterm_exits_zero(require_binary, tmp_path):
    srv = cu.start_mlflowd(tmp_path)
    # an open keep-alive connection must not hold the shutdown up
    s = requests.Session()
    s.get(srv.url + "/health")
    t = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    rc = srv.proc.wait(timeout=15)
    assert rc == 0, srv.log_tail()
    assert time.monotonic() - t < 10
    s.close()


def test_backend_store_uri(require_binary, tmp_path):
    db = tmp_path / "viauri.db"
    port = cu.free_port()
    log = open(tmp_path / "log", "wb")
    proc = subprocess.Popen([cu.MLFLOWD_BIN, "--backend-store-uri", f"sqlite:///{db}", "--host", "127.0.0.1",
                             "--port", str(port), "--artifacts-destination", str(tmp_path / "art")],
                            stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, env=cu.server_env())
    srv = cu.Server(f"http://127.0.0.1:{port}", port, db, tmp_path / "art", proc, tmp_path / "log")
    try:
        cu._wait_health(srv, 30)
        r = requests.post(srv.url + "/api/2.0/mlflow/experiments/create", json={"name": "via-uri"}, timeout=30)
        assert r.status_code == 200, r.text
    finally:
        assert srv.stop() == 0
        log.close()
    con = sqlite3.connect(db)
    assert ("via-uri",) in con.execute("SELECT name FROM experiments").fetchall()
    con.close()


@pytest.mark.parametrize("uri", ["postgresql://u:p@localhost/db", "mysql://x/y", "file:///tmp/mlruns"])
def test_unsupported_backend_uri(require_binary, tmp_path, uri):
    rc, out = start_fails(tmp_path, ["--backend-store-uri", uri])
    assert rc != 0 and out.strip()


def test_data_survives_restart(mlflowd_factory, tmp_path):
    srv = mlflowd_factory(workdir=tmp_path / "one")
    api = cu.Api(srv)
    eid = api.create_experiment("persist")
    rid = api.create_run(eid, run_name="keep")
    api.log_metric(rid, "m", 1.5, step=3, timestamp=42)
    api.okpost("/runs/log-parameter", {"run_id": rid, "key": "p", "value": "v"})
    before = api.get_run(rid)
    assert srv.stop() == 0
    srv2 = mlflowd_factory(db_path=srv.db_path, artifacts=srv.artifacts, workdir=tmp_path / "two")
    api2 = cu.Api(srv2)
    assert api2.get_run(rid) == before
    assert api2.okget("/experiments/get-by-name", {"experiment_name": "persist"})["experiment"]["experiment_id"] == eid
    # ids keep increasing after a restart
    assert int(api2.create_experiment("after")) > int(eid)


def test_default_artifact_root(mlflowd_factory, tmp_path):
    root = (tmp_path / "root").as_uri()
    srv = mlflowd_factory(extra_args=["--default-artifact-root", root])
    api = cu.Api(srv)
    eid = api.create_experiment()
    exp = api.okget("/experiments/get", {"experiment_id": eid})["experiment"]
    assert exp["artifact_location"] == f"{root}/{eid}"
    rid = api.create_run(eid)
    assert api.get_run(rid)["info"]["artifact_uri"] == f"{root}/{eid}/{rid}/artifacts"


def test_workers_flag(mlflowd_factory):
    srv = mlflowd_factory(extra_args=["--workers", "2"])
    assert requests.get(srv.url + "/health", timeout=10).text.strip() == "OK"


POOL_MAX_HELPERS = 3  # MLF_POOL_MAX_HELPERS in storage/pool.h


def test_thread_names(mlflowd_factory):
    """Every thread is named (README, "How it works"; the benchmark reads these names): two request
    workers with --workers 2, one writer, sync, checkpoint and connection-gate thread, and one pool
    helper per CPU beyond the first."""
    srv = mlflowd_factory(extra_args=["--workers", "2"])
    api = cu.Api(srv)
    api.log_metric(api.create_run(api.create_experiment()), "m", 1.0)  # the write path has run
    pid = srv.proc.pid
    names = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            name = f.read().strip()
        names[name] = names.get(name, 0) + 1
    cpus = os.sysconf("SC_NPROCESSORS_ONLN")
    helpers = min(max(cpus - 1, 0), POOL_MAX_HELPERS)
    expected = {"mlflowd": 1, "civetweb-master": 1, "civetweb-worker": 2, "mlflowd-writer": 1,
                "mlflowd-sync": 1, "mlflowd-ckpt": 1, "mlflowd-gate": 1}
    if helpers:
        expected["mlflowd-pool"] = helpers
    assert names == expected


def test_checkpoint_thread_runs_below_the_writer(mlflowd_factory):
    """The checkpoint thread lowers its own priority by MLF_CHECKPOINT_NICE (api/limits.h), so on a
    busy machine it does not preempt the SQLite writer; every other thread keeps the process's."""
    srv = mlflowd_factory(extra_args=["--workers", "2"])
    api = cu.Api(srv)
    api.log_metric(api.create_run(api.create_experiment()), "m", 1.0)
    pid = srv.proc.pid
    nice = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            name = f.read().strip()
        with open(f"/proc/{pid}/task/{tid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        nice.setdefault(name, set()).add(int(fields[16]))  # field 19 of stat: nice
    base = nice["mlflowd"]
    assert len(base) == 1
    (b,) = base
    assert nice["mlflowd-ckpt"] == {min(b + 10, 19)}
    assert all(v == base for k, v in nice.items() if k != "mlflowd-ckpt"), nice


def test_version_endpoint(mlflowd):
    r = requests.get(mlflowd.url + "/version", timeout=10)
    assert r.status_code == 200
    parts = r.text.strip().split(".")
    # the client enables span logging for >= 3.4; mlflowd speaks MLflow 3.17.2's API
    assert (int(parts[0]), int(parts[1])) >= (3, 4), r.text


def test_sigterm_under_load_loses_nothing_acknowledged(require_binary, tmp_path):
    """SIGTERM while 8 clients are logging metrics: every point answered 2xx is in the
    database afterwards (in-flight writes finish, queued writes commit before exit)."""
    import threading

    srv = cu.start_mlflowd(tmp_path)
    api = cu.Api(srv)
    rid = api.create_run(api.create_experiment("shutdown"))
    acked, lock, stop = [], threading.Lock(), threading.Event()

    def client(n):
        s = requests.Session()
        i = 0
        while not stop.is_set() and i < 20000:
            i += 1
            try:
                r = s.post(srv.url + "/api/2.0/mlflow/runs/log-metric", timeout=10,
                           json={"run_id": rid, "key": f"k{n}", "value": i, "timestamp": i, "step": i})
            except requests.RequestException:
                return
            if r.status_code == 200:
                with lock:
                    acked.append((f"k{n}", i))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    srv.proc.send_signal(signal.SIGTERM)
    rc = srv.proc.wait(timeout=15)
    stop.set()
    for t in threads:
        t.join(timeout=15)
    assert rc == 0, srv.log_tail()
    assert len(acked) > 100
    con = sqlite3.connect(srv.db_path)
    stored = set(con.execute("SELECT key, step FROM metrics WHERE run_uuid = ?", (rid,)).fetchall())
    con.close()
    missing = [a for a in acked if a not in stored]
    assert not missing, f"{len(missing)} acknowledged points lost, e.g. {missing[:5]}"
