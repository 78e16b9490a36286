"""Helpers shared by the compatibility suites (imported by conftest.py and the tests).

Nothing here talks to a particular server: the fixtures in conftest.py decide whether
a test drives mlflowd or stock ``mlflow server``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
MLFLOWD_BIN = os.environ.get("MLFLOWD_BIN", str(REPO / "build" / "mlflowd"))

# MLFLOWD_COMPAT_TARGET=stock runs the whole compat suite against stock `mlflow server`
# from the venv instead of mlflowd. It is how the assertions themselves are checked
# against MLflow's real behaviour; tests that need the mlflowd binary are skipped then.
TARGET = os.environ.get("MLFLOWD_COMPAT_TARGET", "mlflowd")
STOCK_MODE = TARGET == "stock"

API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"

# Environment for every client in the suite: a server bug must fail fast instead of
# being retried for minutes, and nothing may phone home.
CLIENT_ENV = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def uniq(prefix: str = "x") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def now_ms() -> int:
    return int(time.time() * 1000)


# --------------------------------------------------------------------------------------
# server processes
# --------------------------------------------------------------------------------------


class ServerDied(AssertionError):
    pass


@dataclass
class Server:
    """A running tracking server (mlflowd or stock) on 127.0.0.1."""

    url: str
    port: int
    db_path: Path
    artifacts: Path
    proc: subprocess.Popen | None
    log_path: Path
    kind: str = "mlflowd"
    owned: bool = True  # False for the shared stock server handed out in stock mode
    extra: dict = field(default_factory=dict)

    def log_tail(self, n: int = 40) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "<no log>"
        return "\n".join(lines[-n:])

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise ServerDied(
                f"{self.kind} exited with status {self.proc.returncode}; log tail:\n{self.log_tail()}"
            )

    def stop(self, timeout: float = 15) -> int | None:
        """SIGTERM and wait. Returns the exit status (None when not owned)."""
        if not self.owned or self.proc is None:
            return None
        self.extra["stopped"] = True
        if self.kind != "mlflowd":
            stop_stock(self)
            return self.proc.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                raise AssertionError(f"{self.kind} did not stop within {timeout}s of SIGTERM")
        return self.proc.returncode


def _wait_health(srv: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        srv.check_alive()
        try:
            r = requests.get(srv.url + "/health", timeout=2)
            if r.status_code == 200 and r.text.strip() == "OK":
                return
            last = f"{r.status_code} {r.text[:100]!r}"
        except requests.RequestException as e:  # not listening yet
            last = repr(e)
        time.sleep(0.05 if srv.kind == "mlflowd" else 0.25)
    if srv.proc is not None and srv.proc.poll() is None:
        srv.proc.kill()
        srv.proc.wait()
    raise AssertionError(
        f"{srv.kind} did not answer GET /health within {timeout}s (last: {last}); log tail:\n"
        f"{srv.log_tail()}"
    )


def server_env() -> dict:
    env = dict(os.environ)
    env.update(CLIENT_ENV)
    for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME",
              "MLFLOW_RUN_ID"):
        env.pop(k, None)
    return env


def start_mlflowd(
    workdir: Path,
    db_path: Path | None = None,
    artifacts: Path | None = None,
    extra_args: list[str] | None = None,
    timeout: float = 30,
    wrapper: list[str] | None = None,
) -> Server:
    """wrapper: a command that runs mlflowd (strace, say), prepended to its command line."""
    workdir.mkdir(parents=True, exist_ok=True)
    db_path = db_path or workdir / "runs.db"
    artifacts = artifacts or workdir / "artifacts"
    port = free_port()
    log_path = workdir / f"mlflowd-{port}.log"
    cmd = [
        *(wrapper or []),
        MLFLOWD_BIN,
        "--backend-store",
        str(db_path),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--artifacts-destination",
        str(artifacts),
        *(extra_args or []),
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=workdir, env=server_env())
    srv = Server(f"http://127.0.0.1:{port}", port, db_path, artifacts, proc, log_path, "mlflowd")
    _wait_health(srv, timeout)
    return srv


def start_stock(
    workdir: Path,
    db_path: Path | None = None,
    artifacts: Path | None = None,
    extra_args: list[str] | None = None,
    timeout: float = 120,
    mlflow_bin: Path | None = None,
) -> Server:
    """mlflow_bin: the `mlflow` command of another release (default: the pinned one in .venv)."""
    workdir.mkdir(parents=True, exist_ok=True)
    db_path = db_path or workdir / "stock.db"
    artifacts = artifacts or workdir / "stock-art"
    port = free_port()
    log_path = workdir / f"stock-{port}.log"
    cmd = [
        str(mlflow_bin or VENV_BIN / "mlflow"),
        "server",
        "--backend-store-uri",
        f"sqlite:///{db_path}",
        "--artifacts-destination",
        str(artifacts),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        *(extra_args or []),
    ]
    with open(log_path, "wb") as log:
        # own process group: `mlflow server` spawns uvicorn as a child
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, cwd=workdir, env=server_env(), start_new_session=True
        )
    srv = Server(f"http://127.0.0.1:{port}", port, db_path, artifacts, proc, log_path, "stock mlflow")
    _wait_health(srv, timeout)
    return srv


def stop_stock(srv: Server) -> None:
    if srv.proc is None or srv.proc.poll() is not None:
        return
    try:
        os.killpg(srv.proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        srv.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(srv.proc.pid, signal.SIGKILL)
        srv.proc.wait(timeout=10)


# --------------------------------------------------------------------------------------
# strace logs
# --------------------------------------------------------------------------------------


def wal_sync_violations(trace_text: str) -> tuple[int, list[str]]:
    """Reads an `strace -f -y` log of pwrite64, fdatasync, fsync and sendto.
    Returns the number of HTTP responses seen and those sent while a write to
    the -wal file had not yet been followed by a completed sync of it."""
    pending = {}  # pid -> (syscall, first line) of an unfinished call
    unsynced = None  # the last WAL write not yet covered by a sync
    responses, bad = 0, []
    for line in trace_text.splitlines():
        pid, _, rest = line.partition(" ")
        rest = rest.lstrip()  # strace pads short pids
        started = not rest.startswith("<... ")  # a call's first line, else its completion
        if "<unfinished ...>" in rest:
            pending[pid] = rest
        call = rest if started else pending.pop(pid, "") + rest
        done = "<unfinished ...>" not in rest
        name = call.split("(", 1)[0]
        if name == "pwrite64" and "-wal>" in call and started:
            unsynced = call[:120]
        elif name in ("fdatasync", "fsync") and "-wal>" in call and done and call.rstrip().endswith("= 0"):
            unsynced = None
        elif name == "sendto" and '"HTTP/1.1 ' in call and started:
            responses += 1
            if unsynced:
                bad.append(f"response {call[:90]!r} sent after the unsynced WAL write {unsynced!r}")
    return responses, bad


# --------------------------------------------------------------------------------------
# raw HTTP
# --------------------------------------------------------------------------------------


def _url(base: str, path: str) -> str:
    if path.startswith(("http://", "https://")):
        return path
    if path.startswith(("/api/", "/ajax-api/", "/health", "/version", "/graphql", "/get-artifact")):
        return base + path
    return base + API + path


class Api:
    """Raw HTTP access to a tracking server. Paths not starting with /api or /ajax-api are
    relative to /api/2.0/mlflow."""

    def __init__(self, server: Server):
        self.server = server
        self.base = server.url
        self.s = requests.Session()

    # --- plain calls, returning the requests.Response ---
    def request(self, method, path, body=None, params=None, headers=None, data=None, timeout=60):
        h = {}
        if body is not None or (data is None and method in ("POST", "PUT", "PATCH")):
            h["Content-Type"] = "application/json"
        if headers:
            h.update(headers)
        h = {k: v for k, v in h.items() if v is not None}
        if body is not None and data is None:
            data = json.dumps(body, allow_nan=False)
        elif data is None and method in ("POST", "PUT", "PATCH"):
            data = "{}"
        try:
            return self.s.request(method, _url(self.base, path), params=params, data=data, headers=h, timeout=timeout)
        except requests.ConnectionError:
            self.server.check_alive()
            raise

    def post(self, path, body=None, **kw):
        return self.request("POST", path, {} if body is None else body, **kw)

    def get(self, path, params=None, **kw):
        return self.request("GET", path, params=params, **kw)

    # --- calls that must succeed; return the decoded JSON object ---
    def ok(self, resp) -> dict:
        assert resp.status_code == 200, (
            f"{resp.request.method} {resp.request.url} -> {resp.status_code}: {resp.text[:2000]}"
        )
        ct = resp.headers.get("Content-Type", "")
        assert ct.startswith("application/json"), f"Content-Type {ct!r} for {resp.request.url}"
        j = resp.json()
        assert isinstance(j, dict), resp.text[:500]
        return j

    def okpost(self, path, body=None, **kw) -> dict:
        return self.ok(self.post(path, body, **kw))

    def okget(self, path, params=None, **kw) -> dict:
        return self.ok(self.get(path, params, **kw))

    # --- entity helpers ---
    def create_experiment(self, name=None, **kw) -> str:
        body = {"name": name or uniq("exp")}
        body.update(kw)
        return self.okpost("/experiments/create", body)["experiment_id"]

    def create_run(self, experiment_id, **kw) -> str:
        body = {"experiment_id": experiment_id}
        body.update(kw)
        return self.okpost("/runs/create", body)["run"]["info"]["run_id"]

    def get_run(self, run_id) -> dict:
        return self.okget("/runs/get", {"run_id": run_id})["run"]

    def run_data(self, run_id):
        """(metrics {key: value}, params {key: value}, tags {key: value}) of a run."""
        d = self.get_run(run_id).get("data", {})
        return (
            {m["key"]: m["value"] for m in d.get("metrics", [])},
            {p["key"]: p["value"] for p in d.get("params", [])},
            {t["key"]: t["value"] for t in d.get("tags", [])},
        )

    def log_metric(self, run_id, key, value, step=0, timestamp=None):
        self.okpost(
            "/runs/log-metric",
            {"run_id": run_id, "key": key, "value": value, "step": step, "timestamp": timestamp or now_ms()},
        )

    def history(self, run_id, key, max_results=None):
        out, token = [], None
        while True:
            params = {"run_id": run_id, "metric_key": key}
            if max_results is not None:
                params["max_results"] = max_results
            if token:
                params["page_token"] = token
            j = self.okget("/metrics/get-history", params)
            out += j.get("metrics", [])
            token = j.get("next_page_token")
            if not token:
                return out

    def search_runs(self, experiment_ids, **kw) -> dict:
        body = {"experiment_ids": list(experiment_ids)}
        body.update(kw)
        return self.okpost("/runs/search", body)


def assert_error(resp, status: int, error_code: str | None = None, message_contains: str | None = None):
    """An MLflow error: the given HTTP status and a JSON object {error_code, message}."""
    assert resp.status_code == status, (
        f"{resp.request.method} {resp.request.url}: expected {status}, got {resp.status_code}: {resp.text[:1000]}"
    )
    ct = resp.headers.get("Content-Type", "")
    assert ct.startswith("application/json"), f"error body Content-Type {ct!r}: {resp.text[:300]!r}"
    j = resp.json()
    assert isinstance(j, dict), resp.text[:300]
    assert isinstance(j.get("error_code"), str) and j["error_code"], j
    assert isinstance(j.get("message"), str) and j["message"], j
    if error_code is not None:
        assert j["error_code"] == error_code, j
    if message_contains is not None:
        assert message_contains in j["message"], j
    return j


def assert_invalid(resp, message_contains=None):
    return assert_error(resp, 400, "INVALID_PARAMETER_VALUE", message_contains)


def assert_not_found(resp, message_contains=None):
    return assert_error(resp, 404, "RESOURCE_DOES_NOT_EXIST", message_contains)


def copy_db(src: Path, dst: Path) -> Path:
    """Copy an SQLite database with its -wal/-shm files."""
    shutil.copyfile(src, dst)
    for suffix in ("-wal", "-shm"):
        if Path(str(src) + suffix).exists():
            shutil.copyfile(str(src) + suffix, str(dst) + suffix)
    return dst


def read_while_writing(api: Api, batch, read, seconds: float = 4, min_reads: int = 10) -> list:
    """Call read() again and again for `seconds` (and at least min_reads times) while
    another thread, on a connection of its own, posts the log-batch bodies batch(1),
    batch(2), ...; returns read()'s results. read() asserts what each read must show;
    a refused write fails the caller."""
    stop = threading.Event()
    errors = []

    def writer():
        w = Api(api.server)
        k = 1
        while not stop.is_set():
            r = w.post("/runs/log-batch", batch(k))
            if r.status_code != 200:
                errors.append(r.text)
                return
            k += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        reads = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline or len(reads) < min_reads:
            reads.append(read(len(reads) + 1))
    finally:
        stop.set()
        t.join()
    assert not errors, errors[0]
    return reads
