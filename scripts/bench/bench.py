#!/usr/bin/env python3
"""bench.py: mlflowd against stock MLflow on the same machine (issue 4).

Run it through scripts/bench/run. For each server in turn (stock `mlflow
server` from .venv, then build/mlflowd), on fresh SQLite databases:

  W0  start -> first 200 on /health (empty db, and a seeded db whose file was
      evicted from the page cache); idle RSS/PSS of the whole process tree
  W1  POST runs/log-metric, one point per request, c = 1, 4, 16, 64 (wrk)
  W3  POST runs/log-batch of 1000 points (100 keys x 10 steps), c = 1, 4, 16 (wrk)
  W5  POST runs/search on the seeded experiment: metric filter + metric order,
      100 and 1000 per page; a param filter; no filter; c = 1 (reqlat), c = 4 (wrk)
  W7  GET metrics/get-history of a 1k and a 100k-point series (paged like the
      MLflow client, 25000 per page), get-history-bulk-interval 10 runs x 320
      points (reqlat; wrk at c = 8)
  W9  condensed mixed soak: 8 writers (create run, 20 params, 1000 steps of
      10 metrics at a 10 ms cadence, finish) + 2 readers every 2 s
  W11 model registry: GET registered-models/search over 10,000 registered
      models and GET model-versions/search over 100,000 versions, 100 per
      page (first page, a middle page, a name filter), c = 1 (reqlat); POST
      model-versions/create, c = 1
  W12 traces: ingest of 50-span traces (OTLP + StartTraceV3) from 16 clients, and
      search-traces over the scale's trace count at 100 per page (bench_traces.py)
  W14 connections: 256 keep-alive clients doing log-metric at once (wrk), and
      the time a new client takes while 1,000 connections sit idle or half-sent
  W13 soak under many clients: 64 keep-alive clients (8 at tiny) mixing writes and
      reads for the scale's w13_s; lost writes, fairness, RSS over time (bench_soak.py)
  W15 UI: the web UI in headless chromium (ui_bench.mjs, its own fill and servers):
      first rows of a 10,000-run experiment, sort by a metric, scroll first to last,
      run page, a chart of 10 runs x 100,000 points (first frame and every spike
      drawn), the UI's gzipped size; stock's UI side by side where it can do the same

plus the ceilings (scripts/bench/sqlite_ceiling.c, civetweb_ceiling.c), the
correctness gates, and the report (markdown + PNG plot).

Design: /work/shared/docs/benchmarks.md sections 6 and 7 (the "design doc").
Deviations from it are listed in the report itself.
"""

import argparse
import datetime
import http.client
import json
import os
import platform
import random
import re
import resource
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
from pathlib import Path

import bench_soak
import bench_traces

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "scripts" / "bench"
VENV = ROOT / ".venv"
API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"
T0 = 1700000000000  # base of every client-supplied timestamp (ms)

# ---------------------------------------------------------------------------
# scales
# ---------------------------------------------------------------------------

SCALES = {
    # tiny: exercised by ctest (bench_tiny) so the harness keeps working;
    # its numbers mean nothing.
    "tiny": dict(
        reps=1, warm_s=0, dur_s=1, lat_iters=30, lat_s=0.3,
        w1_conc=[1, 4, 16, 64], w3_conc=[1, 4, 16], w5_conc=4, w7_conc=8,
        search_runs=40, search_steps=2, hist_points=2000, small_hist=1000,
        bulk_runs=10, bulk_points=400, idle_s=1, soak_s=4, soak_steps=100,
        startup_reps=0, ceil_points=20000, ceil_commits=200, ceil_spin_commits=200, ceil_reps=1,
        fresh_groups=False, single_start=True, seed_threads=4, seed_budget_s=60,
        min_requests=2, max_dur_s=8,
        reg_models=20, reg_versions=5, reg_budget_s=300, trace_search=200, trace_clients=4,
        w13_clients=8, w13_procs=2, w13_s=8,
    ),
    "small": dict(
        reps=3, warm_s=1, dur_s=3, lat_iters=200, lat_s=2,
        w1_conc=[1, 4, 16, 64], w3_conc=[1, 4, 16], w5_conc=4, w7_conc=8,
        search_runs=1000, search_steps=10, hist_points=25000, small_hist=1000,
        bulk_runs=10, bulk_points=1000, idle_s=5, soak_s=30, soak_steps=1000,
        startup_reps=2, ceil_points=200000, ceil_commits=1000, ceil_spin_commits=5000, ceil_reps=3,
        fresh_groups=True, single_start=False, seed_threads=8, seed_budget_s=120,
        min_requests=10, max_dur_s=32,
        reg_models=1000, reg_versions=10, reg_budget_s=60, trace_search=10000,
        w13_clients=64, w13_procs=4, w13_s=30,
    ),
    "full": dict(
        reps=5, warm_s=2, dur_s=8, lat_iters=500, lat_s=3,
        w1_conc=[1, 4, 16, 64], w3_conc=[1, 4, 16], w5_conc=4, w7_conc=8,
        search_runs=10000, search_steps=10, hist_points=100000, small_hist=1000,
        bulk_runs=10, bulk_points=2000, idle_s=15, soak_s=120, soak_steps=1000,
        startup_reps=3, ceil_points=500000, ceil_commits=3000, ceil_spin_commits=15000, ceil_reps=3,
        fresh_groups=True, single_start=False, seed_threads=8, seed_budget_s=900,
        min_requests=10, max_dur_s=32,
        reg_models=10000, reg_versions=10, reg_budget_s=120, trace_search=100000,
        w13_clients=64, w13_procs=4, w13_s=120,
    ),
}
# reg_models registered models with reg_versions versions each (W11); those not
# written through the REST API within reg_budget_s are written by direct SQL.
# W13: w13_clients clients in w13_procs client processes for w13_s seconds.

ALL_WORKLOADS = ["W0", "W1", "W3", "W5", "W7", "W9", "W11", "W12", "W13", "W14", "W15", "ceilings"]
# W15: the scale of scripts/bench/ui_bench.mjs for each bench scale, and whether
# stock's UI is measured too (at tiny it is not: starting stock and loading its
# UI bundle would take most of the tiny run's time).
W15_UI = {"tiny": ("tiny", False), "small": ("small", True), "full": ("full", True)}
W15_TIMEOUT_S = {"tiny": 300, "small": 1800, "full": 3600}
W14_CLIENTS = 256  # keep-alive log-metric clients of W14 (target: every one served, p99 < 100 ms)
W14_HELD = 1000  # connections W14 keeps open, idle or with half a header, while a new client comes
W14_NEW_CLIENTS = 20  # new clients timed one after another meanwhile
# The metric index MLflow 3.12 added (alembic a5b4c3d2e1f0): a fourth b-tree
# per point. The ceilings also measure the layout without it, under the
# results suffix PRE_312.
PRE_312_INDEX = "index_metrics_run_uuid_key_step"
PRE_312 = "_pre312"
OPEN_LOOP_CONC = 16  # connections of W1's open-loop runs (the c of the W1 target)
OPEN_LOOP_FRACTIONS = (0.5, 0.8)  # offered rates, as fractions of each server's closed-loop max
W1_TARGET_RPS = 8000  # the W1 target's rate, at which its p99 is judged
RAM_DIR = Path("/dev/shm")  # tmpfs: mlflowd's W3 runs once more with its database here, off the disk

# ---------------------------------------------------------------------------
# small utilities
# ---------------------------------------------------------------------------

_t_start = time.monotonic()


def log(msg):
    el = time.monotonic() - _t_start
    print(f"[{int(el) // 60:02d}:{int(el) % 60:02d}] {msg}", flush=True)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summary(xs):
    """median, min, max of a list of numbers (None if empty)."""
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return {"med": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs), "all": xs}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def run_cmd(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def first_line(cmd):
    try:
        r = run_cmd(cmd)
        out = (r.stdout or r.stderr).strip().splitlines()
        return out[0].strip() if out else "?"
    except Exception:
        return "?"


CLK_TCK = os.sysconf("SC_CLK_TCK")


def sys_cpu():
    """(busy, total) jiffies of the whole machine."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    total = sum(v[:8])
    return total - idle, total


def children_cpu_s():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def block_device(path):
    """The /proc/diskstats name of the block device holding `path` (a
    partition's own name when it is on one), or None (tmpfs, overlay)."""
    st = os.stat(path)
    try:
        return os.path.basename(os.readlink(f"/sys/dev/block/{os.major(st.st_dev)}:{os.minor(st.st_dev)}"))
    except OSError:
        return None


def disk_written_bytes(dev):
    """Bytes written to block device `dev` since boot (/proc/diskstats), or None."""
    if not dev:
        return None
    with open("/proc/diskstats") as f:
        for line in f:
            v = line.split()
            if len(v) > 9 and v[2] == dev:
                return int(v[9]) * 512  # sectors written, always of 512 bytes there
    return None


# ---------------------------------------------------------------------------
# process trees
# ---------------------------------------------------------------------------


def session_pids(sid):
    """Every live process in session `sid` (the servers are started with
    start_new_session, so the session holds exactly the server's tree)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rfind(")") + 2:].split()
        if int(rest[3]) == sid:
            pids.append(int(d))
    return pids


def proc_stat_cpu(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return 0
    rest = s[s.rfind(")") + 2:].split()
    return int(rest[11]) + int(rest[12])


def thread_cpu(pids):
    """(CPU ticks, thread name) of every thread of `pids`, keyed by (pid, tid)."""
    out = {}
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/comm") as f:
                    name = f.read().strip()
            except OSError:
                name = "?"
            out[(pid, int(tid))] = (proc_stat_cpu(f"{pid}/task/{tid}"), name)
    return out


def proc_kb(pid, path, field):
    try:
        with open(f"/proc/{pid}/{path}") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# ---------------------------------------------------------------------------
# a minimal keep-alive JSON client (seeding, correctness, soak)
# ---------------------------------------------------------------------------


class Client:
    def __init__(self, port, timeout=120):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def _c(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        return self.conn

    def call(self, method, path, body=None, prefix=API):
        data = None
        headers = {"Accept": "application/json"}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(3):
            try:
                c = self._c()
                c.request(method, prefix + path, body=data, headers=headers)
                r = c.getresponse()
                raw = r.read()
                if r.getheader("connection", "").lower() == "close":
                    self.close()
                try:
                    js = json.loads(raw) if raw else {}
                except ValueError:
                    js = {"_raw": raw[:300].decode("latin1")}
                return r.status, js
            except (http.client.HTTPException, ConnectionError, socket.timeout, OSError):
                self.close()
                if attempt == 2:
                    raise
                time.sleep(0.2)

    def get(self, path, params, prefix=API):
        return self.call("GET", path + "?" + urllib.parse.urlencode(params, doseq=True), prefix=prefix)

    def post(self, path, body, prefix=API):
        return self.call("POST", path, body, prefix=prefix)

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                pass
        self.conn = None


def ok(status_js, what):
    st, js = status_js
    if st != 200:
        raise RuntimeError(f"{what}: HTTP {st}: {str(js)[:300]}")
    return js


# ---------------------------------------------------------------------------
# servers
# ---------------------------------------------------------------------------


class Server:
    """One server process (and its whole tree) on a given database."""

    def __init__(self, h, kind, db, tag):
        self.h = h
        self.kind = kind
        self.db = Path(db)
        self.tag = tag
        self.port = None
        self.proc = None
        self.log_path = h.work / f"{kind}-{tag}.log"
        self.art = h.work / f"{kind}-artifacts"
        self.samples = []  # (t, rss_kb, pss_kb)
        self._sampler = None
        self._stop_sampler = threading.Event()

    def command(self):
        h = self.h
        if self.kind == "stock":
            cmd = [str(VENV / "bin" / "mlflow"), "server", "--backend-store-uri", f"sqlite:///{self.db}",
                   "--artifacts-destination", str(self.art), "--host", "127.0.0.1", "--port", str(self.port)]
            if h.args.stock_workers:
                cmd += ["--workers", str(h.args.stock_workers)]
        else:
            cmd = [h.mlflowd_bin, "--backend-store", str(self.db), "--host", "127.0.0.1",
                   "--port", str(self.port), "--artifacts-destination", str(self.art)]
            cmd += shlex.split(h.args.mlflowd_args or "")
        if h.args.pin:
            cmd = ["taskset", "-c", "1"] + cmd
        return cmd

    def display_command(self):
        c = [self.h.args.mlflowd if x == self.h.mlflowd_bin else x for x in self.command()]
        return " ".join(shlex.quote(x) for x in c).replace(str(self.h.work), "$TMP").replace(
            str(ROOT) + "/", "").replace(f"--port {self.port}", "--port PORT")

    def start(self, timeout=240):
        """Start and wait for the first 200 on /health. Returns startup ms."""
        self.port = free_port()
        env = dict(os.environ)
        if self.kind == "stock":
            # no network calls home during the benchmark
            env["MLFLOW_DISABLE_TELEMETRY"] = "true"
            env["DO_NOT_TRACK"] = "true"
        self.logf = open(self.log_path, "ab")
        req = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nConnection: close\r\n\r\n".encode()
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.command(), stdout=self.logf, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True, cwd=self.h.work)
        while True:
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=2)
                try:
                    s.sendall(req)
                    data = s.recv(64)
                finally:
                    s.close()
                if data[:12] in (b"HTTP/1.1 200", b"HTTP/1.0 200"):
                    break
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with status {self.proc.returncode} during startup; "
                                   f"log tail:\n{self.log_tail()}")
            if time.perf_counter() - t0 > timeout:
                self.stop()
                raise RuntimeError(f"{self.kind} did not answer /health within {timeout} s")
            time.sleep(0.005)
        ms = (time.perf_counter() - t0) * 1e3
        self._stop_sampler.clear()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        return ms

    def log_tail(self, n=30):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def log_size(self):
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def count_in_log(self, text, since=0):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(since)
                return f.read().decode(errors="replace").count(text)
        except OSError:
            return 0

    def pids(self):
        return session_pids(self.proc.pid) if self.proc else []

    def rss_kb(self):
        return sum(proc_kb(p, "status", "VmRSS") for p in self.pids())

    def pss_kb(self):
        return sum(proc_kb(p, "smaps_rollup", "Pss") for p in self.pids())

    def cpu_s(self):
        return sum(proc_stat_cpu(p) for p in self.pids()) / CLK_TCK

    def thread_cpu(self):
        return thread_cpu(self.pids())

    def nprocs(self):
        return len(self.pids())

    def _sample(self):
        t0 = time.monotonic()
        while not self._stop_sampler.wait(1.0):
            try:
                self.samples.append((time.monotonic() - t0, self.rss_kb(), self.pss_kb()))
            except Exception:
                pass

    def peak_rss_kb(self):
        return max((s[1] for s in self.samples), default=0)

    def stop(self):
        self._stop_sampler.set()
        if not self.proc:
            return
        pid = self.proc.pid
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            self.proc.poll()
            if not session_pids(pid):
                break
            time.sleep(0.1)
        else:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.proc = None
        self.logf.close()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"


def db_bytes(db):
    """Size of the database after folding any WAL back in (server stopped)."""
    db = Path(db)
    try:
        c = sqlite3.connect(str(db))
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        c.close()
    except sqlite3.Error:
        pass
    total = 0
    for suffix in ("", "-wal", "-journal"):
        p = Path(str(db) + suffix)
        if p.exists():
            total += p.stat().st_size
    return total


def db_query(db, sql, args=()):
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=60)
    try:
        return c.execute(sql, args).fetchall()
    finally:
        c.close()


def evict_from_page_cache(db):
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(db) + suffix)
        if p.exists():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


# ---------------------------------------------------------------------------
# the deterministic data set
# ---------------------------------------------------------------------------


class Dataset:
    """Everything the seeder writes, generated from fixed seeds, so both
    servers get identical data and the expected answers are known."""

    def __init__(self, sc):
        self.n_runs = sc["search_runs"]
        self.steps = sc["search_steps"]
        self.hist_points = sc["hist_points"]
        self.small_hist = sc["small_hist"]
        self.bulk_runs = sc["bulk_runs"]
        self.bulk_points = sc["bulk_points"]
        self.m0_latest = {}

    def search_run(self, i):
        """(create body without experiment id, log-batch body without run id)."""
        rng = random.Random(1000003 * i + 17)
        name = f"run-{i:05d}"
        params = [{"key": "p0", "value": f"v{i % 10}"}, {"key": "p1", "value": "abc"[i % 3]}]
        params += [{"key": f"p{k}", "value": f"{rng.random():.6f}"} for k in range(2, 10)]
        tags = [{"key": f"t{k}", "value": f"tag{(i * 31 + k) % 97}"} for k in range(5)]
        metrics = []
        for s in range(self.steps):
            for k in range(10):
                metrics.append({"key": f"m{k}", "value": rng.random(), "timestamp": T0 + i * 1000 + s, "step": s})
        self.m0_latest[name] = [m for m in metrics if m["key"] == "m0"][-1]["value"]
        create = {"run_name": name, "start_time": T0 + i * 1000, "tags": []}
        return name, create, {"params": params, "tags": tags, "metrics": metrics}

    @staticmethod
    def series(seed, n, key="loss"):
        rng = random.Random(seed)
        return [{"key": key, "value": rng.random(), "timestamp": T0 + s, "step": s} for s in range(n)]

    def points(self):
        return (self.n_runs * self.steps * 10 + self.hist_points + self.small_hist
                + self.bulk_runs * self.bulk_points)

    def expected_search(self, q):
        names = [f"run-{i:05d}" for i in range(self.n_runs)]
        if q["filter"].startswith("metrics.m0"):
            names = [n for n in names if self.m0_latest[n] > 0.5]
        if q["filter"].startswith("params.p1"):
            names = [n for n in names if "abc"[int(n[4:]) % 3] == "a"]
        if q["order_by"] == ["metrics.m0 DESC"]:
            names.sort(key=lambda n: -self.m0_latest[n])
        else:  # MLflow's default: start_time DESC
            names.sort(key=lambda n: -int(n[4:]))
        return names[: q["max_results"]]


SEARCHES = {
    # id: (label, body without experiment ids)
    "w5_m_100": ("metric filter + metric order, 100/page",
                 {"filter": "metrics.m0 > 0.5", "order_by": ["metrics.m0 DESC"], "max_results": 100}),
    "w5_m_1000": ("metric filter + metric order, 1000/page",
                  {"filter": "metrics.m0 > 0.5", "order_by": ["metrics.m0 DESC"], "max_results": 1000}),
    "w5_p_100": ("param filter + metric order, 100/page",
                 {"filter": "params.p1 = 'a'", "order_by": ["metrics.m0 DESC"], "max_results": 100}),
    "w5_all_1000": ("no filter, default order, 1000/page",
                    {"filter": "", "order_by": [], "max_results": 1000}),
}



class RegistryData:
    """W11's registry: registered models bench-model-NNNNN, each with the same
    number of versions, generated deterministically so the expected answers
    are known. Versions written by direct SQL get timestamps T0 + their index;
    those the server creates, its own clock."""

    CREATE_MODEL = "zz-bench-create"  # create-model-version is timed on it; sorts after every bench-model-*
    RM_FILTER = "name LIKE 'bench-model-00%'"  # 1,000 models at full scale, every model at tiny
    MV_FILTER = "name LIKE 'bench-model-0001%'"  # 10 models: 100 versions at every scale

    def __init__(self, sc):
        self.n_models = sc["reg_models"]
        self.per = sc["reg_versions"]

    def n_versions(self):
        return self.n_models * self.per

    @staticmethod
    def name(i):
        return f"bench-model-{i:05d}"

    @staticmethod
    def model_tags(i):
        return [{"key": "team", "value": f"team-{i % 10}"}]

    @staticmethod
    def source(i, v):
        return f"s3://bench-registry/{i:05d}/{v}"

    @staticmethod
    def version_tags(i, v):
        return [{"key": "fold", "value": str((i + v) % 3)}]

    def models(self, prefix="bench-model-"):
        """Names in MLflow's default order (name ASC)."""
        return [self.name(i) for i in range(self.n_models) if self.name(i).startswith(prefix)]

    def versions(self, prefix="bench-model-"):
        """(name, version, source) ordered by name ASC, version DESC."""
        return [(self.name(i), v, self.source(i, v)) for i in range(self.n_models)
                if self.name(i).startswith(prefix) for v in range(self.per, 0, -1)]

    def mid_offset(self, total):
        """Offset of W11's middle page: half the rows, rounded down to a page of 100 (0: none)."""
        return total // 2 // 100 * 100


# W11 timed reads: id -> (label, path, query, middle page?)
REG_SEARCHES = {
    "w11_rm_first": ("search-registered-models, first page", "/registered-models/search",
                     {"max_results": 100}, False),
    "w11_rm_mid": ("search-registered-models, middle page (page_token)", "/registered-models/search",
                   {"max_results": 100}, True),
    "w11_rm_filter": (f"search-registered-models, {RegistryData.RM_FILTER}", "/registered-models/search",
                      {"max_results": 100, "filter": RegistryData.RM_FILTER}, False),
    "w11_mv_first": ("search-model-versions, first page", "/model-versions/search", {"max_results": 100}, False),
    "w11_mv_mid": ("search-model-versions, middle page (page_token)", "/model-versions/search",
                   {"max_results": 100}, True),
    "w11_mv_filter": (f"search-model-versions, {RegistryData.MV_FILTER}", "/model-versions/search",
                      {"max_results": 100, "filter": RegistryData.MV_FILTER}, False),
}


# ---------------------------------------------------------------------------
# the harness
# ---------------------------------------------------------------------------


class Harness:
    def __init__(self, args):
        self.args = args
        self.sc = SCALES[args.scale]
        self.work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="mlflowd-bench-"))
        self.work.mkdir(parents=True, exist_ok=True)
        self.bin = self.work / "bin"
        self.bin.mkdir(exist_ok=True)
        self.res = {"stock": {}, "mlflowd": {}, "ceilings": {}}
        self.answers = {"stock": {}, "mlflowd": {}}
        self.gates = {"stock": {}, "mlflowd": {}}  # workload -> list of failure strings
        self.notes = {"stock": [], "mlflowd": []}
        self.commands = {}
        self.noise = []  # background CPU % (other processes) during each timed run
        self.calib = []  # [phase, ms of the fixed CPU workload (calib.c) at its start]
        self.errors = []
        self.data = Dataset(self.sc)
        self.reg = RegistryData(self.sc)
        self.wrk_invocation = 0
        # a private copy, so a rebuild during the run cannot change the binary under test
        self.mlflowd_bin = args.mlflowd
        if "mlflowd" in args.servers and not args.from_json:
            self.mlflowd_bin = str(self.bin / "mlflowd")
            shutil.copy2(args.mlflowd, self.mlflowd_bin)
        self.acc = {"ok": 0, "slack": 0}  # 2xx answers and in-flight slack of write runs
        self.disk = block_device(self.work)  # where the databases live: its writes are counted

    # ---- tools -------------------------------------------------------------

    def compile_tools(self):
        cc = os.environ.get("CC", "cc")
        progs = {
            "sqlite_ceiling": ["-lsqlite3", "-lpthread"],
            "civetweb_ceiling": ["-lcivetweb", "-lpthread"],
            "reqlat": ["-lpthread", "-lm"],
            "calib": [],
        }
        extra = {"sqlite_ceiling": [str(ROOT / "storage" / "wal_vfs.c")]}  # mlflowd's WAL-write VFS
        for name, libs in progs.items():
            cmd = ([cc, "-O2", "-D_GNU_SOURCE", "-o", str(self.bin / name), str(BENCH / f"{name}.c")]
                   + extra.get(name, []) + libs)
            r = run_cmd(cmd)
            if r.returncode != 0:
                raise RuntimeError(f"compiling {name} failed:\n{r.stderr}")
            self.commands[f"compile {name}"] = " ".join(cmd).replace(str(self.work), "$TMP").replace(
                str(ROOT) + "/", "")
        common = (BENCH / "wrk_common.lua").read_text()
        for name in ("log_metric", "log_batch", "post_body"):
            (self.bin / f"{name}.lua").write_text(common + "\n" + (BENCH / f"{name}.lua").read_text())
        (self.bin / "plain.lua").write_text(common)

    def wrk(self, server, path, script, script_args, conc, dur):
        """One measurement with wrk. If too few requests completed for the
        figures to mean anything (a slow server and a short duration), it is
        repeated with a 4x longer duration, up to the scale's max_dur_s."""
        while True:
            js = self.wrk_once(server, path, script, script_args, conc, dur)
            if js["requests"] >= max(conc, self.sc["min_requests"]) or dur * 4 > self.sc["max_dur_s"]:
                return js
            log(f"  only {js['requests']} requests completed in {dur} s at c={conc}; repeating for {dur * 4} s")
            dur *= 4

    def wrk_once(self, server, path, script, script_args, conc, dur):
        """One wrk run. Returns the parsed summary plus CPU accounting."""
        self.wrk_invocation += 1
        if script_args and script in ("log_metric", "log_batch"):
            # a distinct step range for every invocation, so every point is new
            script_args = list(script_args)
            script_args[1] = self.wrk_invocation * 10**9 + 10**8
        port = server.port if hasattr(server, "port") else server
        url = f"http://127.0.0.1:{port}{path}"
        cmd = ["wrk", "-t1", f"-c{conc}", f"-d{dur}s", "--timeout", "30s", "--latency",
               "-s", str(self.bin / f"{script}.lua"), url]
        if script_args:
            cmd += ["--"] + [str(a) for a in script_args]
        if self.args.pin:
            cmd = ["taskset", "-c", "0"] + cmd
        srv_cpu0 = server.cpu_s() if isinstance(server, Server) else 0
        thr0 = server.thread_cpu() if isinstance(server, Server) else {}
        ch0 = children_cpu_s()
        b0, t0 = sys_cpu()
        on_disk = isinstance(server, Server) and server.db.parent == self.work
        dw0 = disk_written_bytes(self.disk) if on_disk else None
        m0 = time.monotonic()
        r = run_cmd(cmd)
        wall = time.monotonic() - m0
        dw1 = disk_written_bytes(self.disk) if dw0 is not None else None
        b1, t1 = sys_cpu()
        ch1 = children_cpu_s()
        thr1 = server.thread_cpu() if isinstance(server, Server) else {}
        srv_cpu1 = server.cpu_s() if isinstance(server, Server) else 0
        m = re.search(r"^BENCHJSON (\{.*\})$", r.stdout, re.M)
        if r.returncode != 0 or not m:
            raise RuntimeError(f"wrk failed ({r.returncode}): {r.stderr.strip()[:500]} {r.stdout[-500:]}")
        js = json.loads(m.group(1))
        secs = js["duration_us"] / 1e6
        js["seconds"] = secs
        js["ok"] = js["requests"] - js["err_status"]
        js["rps"] = js["ok"] / secs if secs else 0
        js["server_cpu_s"] = srv_cpu1 - srv_cpu0
        # each server thread's share of one core over the wall time of the wrk
        # run, summed by thread name (mlflowd names its threads), and the
        # busiest single thread (mlflowd's SQLite writer under W3)
        busy = [(v - thr0[k][0], name) for k, (v, name) in thr1.items() if k in thr0]
        pct = 100.0 / CLK_TCK / wall if wall > 0 else 0.0
        top = max(busy, default=(0, None))
        js["busiest_thread_pct"] = top[0] * pct if busy and pct else None
        js["busiest_thread"] = top[1] if busy and pct else None
        by_name = {}
        for ticks, name in busy:
            by_name[name] = by_name.get(name, 0.0) + ticks * pct
        js["thread_pct"] = by_name
        js["client_cpu_s"] = ch1 - ch0
        # what the disk holding the database received meanwhile (the server's
        # own writes and whatever the kernel wrote back for it then)
        js["disk_write_bytes"] = dw1 - dw0 if dw0 is not None and dw1 is not None else None
        # CPU used by everything else on the machine while we measured
        ncpu = os.cpu_count() or 1
        busy_s = (b1 - b0) / CLK_TCK
        wall_s = (t1 - t0) / CLK_TCK / ncpu
        other = max(0.0, busy_s - js["server_cpu_s"] - js["client_cpu_s"])
        js["other_cpu_pct"] = 100.0 * other / (wall_s * ncpu) if wall_s > 0 else 0
        self.noise.append(js["other_cpu_pct"])
        js["cmd"] = " ".join(cmd[:-len(script_args) - 1] if script_args else cmd).replace(f":{port}/", ":PORT/")
        self.acc["ok"] += js["ok"]
        self.acc["slack"] += conc + js["err_timeout"]
        return js

    def reqlat(self, port, method, path, body=None, follow=False, iters=None, secs=None, warmup=1):
        sc = self.sc
        cmd = [str(self.bin / "reqlat"), "-p", str(port), "-m", method, "-u", path,
               "-n", str(iters or sc["lat_iters"]), "-d", str(secs or sc["lat_s"]), "-w", str(warmup)]
        if body is not None:
            bf = self.work / f"body-{abs(hash(json.dumps(body))) % 10**9}.json"
            bf.write_text(json.dumps(body))
            cmd += ["-b", str(bf)]
        if follow:
            cmd += ["-g"]
        if self.args.pin:
            cmd = ["taskset", "-c", "0"] + cmd
        r = run_cmd(cmd, timeout=3600)
        try:
            js = json.loads(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise RuntimeError(f"reqlat failed: {r.stderr[:500]}")
        if js["errors"]:
            raise RuntimeError(f"reqlat: {js['errors']} error responses (status {js['bad_status']}): "
                               f"{r.stderr.strip()[:400]}")
        return js

    def open_loop(self, srv, path, runfile, rate, conc, dur):
        """W1 at a fixed offered rate (reqlat -R): latency counts from when
        each request was due, so stalls are not hidden by the client waiting
        (design notes 7.4). Every request inserts a new point."""
        self.wrk_invocation += 1
        tmpl = self.bin / "log_metric_template.json"
        tmpl.write_text('{"run_id": "%RUN%", "key": "w1_metric", "value": %V%, "timestamp": %TS%, '
                        '"step": %STEP%}')
        cmd = [str(self.bin / "reqlat"), "-p", str(srv.port), "-m", "POST", "-u", path, "-b", str(tmpl),
               "-R", f"{rate:.1f}", "-c", str(conc), "-r", str(runfile),
               "-s", str(self.wrk_invocation * 10**9 + 10**8), "-W", str(self.sc["warm_s"]), "-d", str(dur)]
        if self.args.pin:
            cmd = ["taskset", "-c", "0"] + cmd
        b0, t0 = sys_cpu()
        ch0 = children_cpu_s()
        srv_cpu0 = srv.cpu_s()
        r = run_cmd(cmd, timeout=3600)
        b1, t1 = sys_cpu()
        other = max(0.0, (b1 - b0) / CLK_TCK - (children_cpu_s() - ch0) - (srv.cpu_s() - srv_cpu0))
        wall = max(1e-9, (t1 - t0) / CLK_TCK)
        self.noise.append(100.0 * other / wall)
        try:
            js = json.loads(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise RuntimeError(f"reqlat -R failed: {r.stderr[:500]}")
        self.acc["ok"] += js["ok_all"]
        self.acc["slack"] += conc
        self.commands.setdefault("open loop", " ".join(cmd).replace(str(self.work), "$TMP").replace(
            f"-p {srv.port}", "-p PORT").replace(str(ROOT) + "/", ""))
        return js

    # ---- machine facts -----------------------------------------------------

    def machine(self):
        info = {}
        cpu = "?"
        try:
            for line in open("/proc/cpuinfo"):
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        info["cpu"] = cpu
        info["cores"] = os.cpu_count()
        try:
            mem = [l for l in open("/proc/meminfo") if l.startswith("MemTotal")][0].split()[1]
            info["mem_gib"] = round(int(mem) / 1024 / 1024, 1)
        except Exception:
            info["mem_gib"] = "?"
        info["kernel"] = platform.release()
        info["os"] = first_line(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"])
        # findmnt names ext4 as such (stat -f reports every ext* as "ext2/ext3")
        fs = first_line(["findmnt", "-n", "-o", "FSTYPE", "--target", str(self.work)]) \
            if shutil.which("findmnt") else "?"
        info["fs"] = fs if fs != "?" else first_line(["stat", "-f", "-c", "%T", str(self.work)])
        info["disk"] = first_line(["sh", "-c", f"df --output=source {shlex.quote(str(self.work))} | tail -1"])
        info["python"] = platform.python_version()
        try:
            import mlflow  # noqa: F401  (the venv's)
            info["mlflow"] = mlflow.__version__
        except Exception:
            info["mlflow"] = first_line([str(VENV / "bin" / "python"), "-c",
                                         "import mlflow; print(mlflow.__version__)"])
        info["python_sqlite"] = sqlite3.sqlite_version
        info["gcc"] = first_line(["cc", "--version"])
        info["wrk"] = first_line(["sh", "-c", "wrk -v 2>&1 | head -1"])
        info["civetweb"] = "?"
        try:
            m = re.search(r'#define CIVETWEB_VERSION "([^"]+)"', Path("/usr/include/civetweb.h").read_text())
            info["civetweb"] = m.group(1) if m else "?"
        except OSError:
            pass
        try:
            import ctypes
            lib = ctypes.CDLL("libsqlite3.so.0")
            lib.sqlite3_libversion.restype = ctypes.c_char_p
            info["sqlite"] = lib.sqlite3_libversion().decode()
        except OSError:
            info["sqlite"] = "?"
        info["civetweb_pkg"] = first_line(["dpkg-query", "-W", "-f=${Version}", "libcivetweb1"])
        info["sqlite_pkg"] = first_line(["dpkg-query", "-W", "-f=${Version}", "libsqlite3-0"])
        info["git"] = first_line(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
        if not re.fullmatch(r"[0-9a-f]{4,40}", info["git"]):
            info["git"] = "no commit yet"
        dirty = run_cmd(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"]).stdout.strip()
        info["git_dirty"] = bool(dirty)
        info["mlflowd_version"] = "?"
        if Path(self.mlflowd_bin).exists():
            import hashlib
            info["mlflowd_version"] = first_line([self.mlflowd_bin, "--version"])
            info["mlflowd_sha256"] = hashlib.sha256(Path(self.mlflowd_bin).read_bytes()).hexdigest()[:12]
            info["mlflowd_mtime"] = datetime.datetime.fromtimestamp(
                Path(self.args.mlflowd).stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        try:
            src = (ROOT / "storage" / "db.c").read_text()
            m = re.search(r"synchronous\s*=\s*(\w+)", src)
            info["mlflowd_sync"] = m.group(1) if m else "?"
            if "fdatasync(db->wal_fd)" in src:
                info["mlflowd_sync"] = ("NORMAL on the writer's connection, and a sync thread that fdatasyncs "
                                        "the WAL before the callers of each committed group are answered")
            info["mlflowd_wal"] = "WAL" if re.search(r"journal_mode\s*=\s*WAL", src) else "?"
        except OSError:
            info["mlflowd_sync"] = info["mlflowd_wal"] = "?"
        # what a fresh Python sqlite3 connection (stock's driver) uses
        c = sqlite3.connect(":memory:")
        info["stock_sync_default"] = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(
            c.execute("PRAGMA synchronous").fetchone()[0], "?")
        c.close()
        b0, t0 = sys_cpu()
        time.sleep(1.0)
        b1, t1 = sys_cpu()
        info["background_cpu_pct_at_start"] = round(100.0 * (b1 - b0) / max(1, t1 - t0), 1)
        info["loadavg_at_start"] = open("/proc/loadavg").read().split()[0]
        return info

    # ---- ceilings ----------------------------------------------------------

    def calibrate(self, phase):
        """Time the fixed CPU workload (calib.c) at the start of a phase, so
        the report shows how fast the machine ran then."""
        r = run_cmd([str(self.bin / "calib")])
        m = re.search(r"calib_ms=([0-9.]+)", r.stdout or "")
        if m:
            self.calib.append([phase, float(m.group(1))])
            log(f"CPU calibration at {phase}: {float(m.group(1)):.1f} ms")

    # ---- W15: the web UI ---------------------------------------------------

    def w15_ui(self):
        """W15: scripts/bench/ui_bench.mjs in headless chromium, mlflowd's UI
        and (small, full) stock's UI on a copy of the same database; it fills
        and starts its own servers. Its figures go into res (W15_*) and its
        report section into the report."""
        a = self.args
        node = shutil.which("node")
        chromium = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
        if not node or not os.access(chromium, os.X_OK) or \
                not (ROOT / "ui" / "node_modules" / "playwright-core").is_dir():
            msg = "W15 (UI) not run: node, chromium or ui/node_modules is missing (scripts/setup --tests)"
            self.notes["mlflowd"].append(msg)
            log(msg)
            return
        ui_scale, with_stock = W15_UI[a.scale]
        self.calibrate("W15 (UI)")
        out, js = self.work / "ui-bench.md", self.work / "ui-bench.json"
        cmd = [node, str(ROOT / "scripts" / "bench" / "ui_bench.mjs"), "--scale", ui_scale, "--out", str(out),
               "--json", str(js)]
        if not (with_stock and "stock" in a.servers):
            cmd.append("--no-stock")
        self.commands["W15"] = (f"node scripts/bench/ui_bench.mjs --scale {ui_scale} --out $TMP/ui-bench.md "
                                f"--json $TMP/ui-bench.json" + (" --no-stock" if cmd[-1] == "--no-stock" else ""))
        env = dict(os.environ, MLFLOWD_BIN=a.mlflowd, MLF_VENV_PY=str(VENV / "bin" / "python"))
        t0 = time.time()
        p = subprocess.run(cmd, env=env, timeout=W15_TIMEOUT_S[a.scale])
        if p.returncode != 0 or not js.exists():
            raise RuntimeError(f"ui_bench.mjs exited with status {p.returncode}")
        data = json.loads(js.read_text())
        for kind, vals in data["res"].items():
            r = self.res.setdefault(kind, {})
            for k in ("first_rows", "sort", "sort_duration", "scroll", "run_page", "chart_first", "chart"):
                if vals.get(k) is not None:
                    r[f"W15_{k}_ms"] = vals[k]
            if vals.get("size_kib"):
                r["W15_size_kib"] = vals["size_kib"]
        self.res["mlflowd"]["W15_size_kib"] = data["size"]["total_kib"]
        self.res["mlflowd"]["W15_ui_sc"] = data["sc"]
        self.ui_section = data["section"]
        log(f"W15 (UI) done in {time.time() - t0:.0f} s")

    def pre_312_schema(self, schema):
        """storage/schema.sql without the metric index MLflow 3.12 added
        (PRE_312_INDEX), written to the work folder: the layout of MLflow
        3.11 and before."""
        lines = schema.read_text().splitlines(keepends=True)
        kept = [ln for ln in lines if f"INDEX {PRE_312_INDEX} " not in ln]
        if len(kept) != len(lines) - 1:
            raise RuntimeError(f"{schema} should create {PRE_312_INDEX} on one line")
        out = self.work / "schema-pre-3.12.sql"
        out.write_text("".join(kept))
        return out

    def run_ceilings(self):
        sc = self.sc
        res = self.res["ceilings"]
        log("ceiling: raw SQLite inserts (sqlite_ceiling.c)")
        # Group commit at each W3 concurrency c > 1: c batches per transaction
        # over c runs, as W3's c clients send them. The last: lone commits
        # while one other thread keeps a CPU busy (one batch only).
        # Then the W3 shapes again on MLflow's layout before 3.12, without
        # the (run_uuid, key, step) index 3.12 added (three b-trees per
        # point instead of four), batches only.
        schema = ROOT / "storage" / "schema.sql"
        groups = [("FULL", cc, sc["ceil_reps"], 0, cc) for cc in sc["w3_conc"] if cc > 1]
        shapes = [("FULL", 1, sc["ceil_reps"], 0, 1)] + groups
        variants = ([v + (schema, "") for v in shapes + [("NORMAL", 1, 1, 0, 1), ("FULL", 1, sc["ceil_reps"], 1, 1)]]
                    + [v + (self.pre_312_schema(schema), PRE_312) for v in shapes])
        for sync, group, reps, spin, runs, schema_path, layout in variants:
            rows = []
            sfx = ((sync if group == 1 else f"{sync}_g{group}_runs{runs}") + (f"_spin{spin}" if spin else "")
                   + layout)
            commits = 0 if layout else sc["ceil_spin_commits"] if spin else sc["ceil_commits"]
            for rep in range(reps):
                cmd = [str(self.bin / "sqlite_ceiling"), str(schema_path),
                       str(self.work / "ceiling.db"), str(1000 if spin else sc["ceil_points"]),
                       str(commits), sync, str(group), str(spin), str(runs)]
                b0, t0 = sys_cpu()
                ch0 = children_cpu_s()
                r = run_cmd(cmd)
                b1, t1 = sys_cpu()
                own = children_cpu_s() - ch0
                if r.returncode != 0:
                    raise RuntimeError(f"sqlite_ceiling failed: {r.stderr}")
                other = max(0.0, (b1 - b0) / CLK_TCK - own)
                other_pct = 100.0 * other / max(1e-9, (t1 - t0) / CLK_TCK)
                self.noise.append(other_pct)
                kv = dict(line.split("=", 1) for line in r.stdout.split())
                rows.append(kv)
                lone = (f"{float(kv['commit_txn_per_s']):,.0f} single-point txn/s, p99.9 "
                        f"{float(kv['commit_p999_ms']):.2f} ms, {float(kv['commit_slow_time_pct']):.1f}% of the "
                        f"time in commits over 5 ms; " if commits else "")
                log(f"  {'MLflow < 3.12 layout, ' if layout else ''}synchronous={sync}, {group}x1000 rows per txn "
                    f"over {runs} run(s), {spin} busy threads, rep {rep + 1}/{reps}: "
                    f"{float(kv['batch_points_per_s']):,.0f} points/s; {lone}other CPU {other_pct:.0f}%")
            res[f"sqlite_batch_{sfx}"] = summary([float(k["batch_points_per_s"]) for k in rows])
            if commits:
                res[f"sqlite_commit_{sfx}"] = summary([float(k["commit_txn_per_s"]) for k in rows])
            if all("commit_p99_ms" in k for k in rows):
                res[f"sqlite_commit_p50_{sfx}"] = summary([float(k["commit_p50_ms"]) for k in rows])
                res[f"sqlite_commit_p99_{sfx}"] = summary([float(k["commit_p99_ms"]) for k in rows])
                for f in ("p999_ms", "max_ms", "slow_per_s", "slow_time_pct"):
                    res[f"sqlite_commit_{f}_{sfx}"] = summary([float(k[f"commit_{f}"]) for k in rows])
            res[f"sqlite_bytes_per_m_{sfx}"] = summary([float(k["bytes_per_million_points"]) for k in rows])
            if layout:
                continue
            res["sqlite_version"] = rows[0]["sqlite_version"]
            res["sqlite_cache_size"] = rows[0].get("cache_size")
            res["sqlite_vfs"] = rows[0].get("vfs")  # since 2026-12-04: mlflowd's WAL-write VFS
            also = ", ".join(f"'FULL {g} 0 {n}'" for _, g, _, _, n in groups)
            self.commands.setdefault(
                f"sqlite ceiling (also run with {also}, 'NORMAL 1 0 1' and, with 1000 points and more commits, "
                f"'FULL 1 1 1' as the last four arguments)",
                " ".join(cmd).replace(str(self.work), "$TMP").replace(str(ROOT) + "/", ""))
        log("ceiling: civetweb trivial handler (civetweb_ceiling.c)")
        port = free_port()
        p = subprocess.Popen(([ "taskset", "-c", "1"] if self.args.pin else [])
                             + [str(self.bin / "civetweb_ceiling"), str(port), "128"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self.commands["civetweb ceiling"] = f"$TMP/bin/civetweb_ceiling PORT 128"
        try:
            p.stdout.readline()
            runs = self.work / "ceiling-runids.txt"
            runs.write_text("\n".join(f"{i:032x}" for i in range(64)) + "\n")
            for c in sc["w1_conc"]:
                vals, p99s = [], []
                for rep in range(sc["ceil_reps"]):
                    js = self.wrk(port, f"{API}/runs/log-metric", "log_metric", [runs, 0, 1], c, sc["dur_s"])
                    vals.append(js["rps"])
                    p99s.append(js["p99_us"] / 1e3)
                res[f"civetweb_post_c{c}"] = summary(vals)
                res[f"civetweb_post_p99_c{c}"] = summary(p99s)
                log(f"  POST (log-metric body, reply {{}}) c={c}: {med(vals):,.0f} req/s, p99 {med(p99s):.2f} ms")
            js = self.wrk(port, "/health", "plain", [], 16, sc["dur_s"])
            res["civetweb_get_c16"] = summary([js["rps"]])
            log(f"  GET /health c=16: {js['rps']:,.0f} req/s")
        finally:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=10)

    # ---- per-server pieces -------------------------------------------------

    def new_server(self, kind, tag, db=None):
        return Server(self, kind, db or self.work / f"{kind}-{tag}.db", tag)

    def start(self, srv, what, warm=True):
        ms = srv.start()
        self.res[srv.kind].setdefault(what, []).append(ms)
        self.commands[f"{srv.kind} server"] = srv.display_command()
        log(f"[{srv.kind}] started on port {srv.port} in {ms:,.0f} ms ({what}); {srv.nprocs()} processes")
        if warm:
            self.warm_up(srv)
        return ms

    def gate(self, kind, workload, problem):
        self.gates[kind].setdefault(workload, []).append(problem)
        log(f"[{kind}] GATE FAILED {workload}: {problem}")

    def make_runs(self, srv, exp_name, n):
        cl = Client(srv.port)
        eid = ok(cl.post("/experiments/create", {"name": exp_name}), "experiments/create")["experiment_id"]
        ids = []
        for i in range(n):
            js = ok(cl.post("/runs/create", {"experiment_id": eid, "run_name": f"{exp_name}-{i}",
                                             "start_time": T0 + i}), "runs/create")
            ids.append(js["run"]["info"]["run_id"])
        cl.close()
        return eid, ids

    def w0_idle(self, srv):
        """Idle footprint: wait until the process tree stops changing (stock
        spawns its job-runner consumers after /health already answers), then
        idle_s more seconds, then sum VmRSS and Pss over the tree."""
        sc = self.sc
        t0 = time.monotonic()
        last, stable_since = srv.nprocs(), time.monotonic()
        while time.monotonic() - stable_since < 3 and time.monotonic() - t0 < 90:
            time.sleep(0.5)
            n = srv.nprocs()
            if n != last:
                last, stable_since = n, time.monotonic()
        time.sleep(sc["idle_s"])
        rss, pss = srv.rss_kb(), srv.pss_kb()
        r = self.res[srv.kind]
        r["idle_rss_mb"] = rss / 1024
        r["idle_pss_mb"] = pss / 1024
        r["idle_nprocs"] = srv.nprocs()
        log(f"[{srv.kind}] idle {time.monotonic() - t0:.0f} s after start: RSS {rss / 1024:,.1f} MiB, "
            f"PSS {pss / 1024:,.1f} MiB ({srv.nprocs()} processes)")

    def warm_up(self, srv):
        """Before any timing: 8 clients x 4 API reads, so that every worker
        process of the server has opened its store (stock opens it lazily on
        the first request a worker serves, which takes seconds)."""
        def one():
            c = Client(srv.port)
            for _ in range(4):
                c.post("/experiments/search", {"max_results": 10})
            c.close()
        ts = [threading.Thread(target=one) for _ in range(8)]
        t0 = time.perf_counter()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        log(f"[{srv.kind}] warm-up: 32 API requests from 8 clients in {time.perf_counter() - t0:,.2f} s")

    def write_workload(self, srv, wid, script, path, conc_list, points_per_req, key_sql, extra_args):
        """W1/W3: wrk at each concurrency, then check the rows landed."""
        sc = self.sc
        kind = srv.kind
        r = self.res[kind]
        eid, run_ids = self.make_runs(srv, f"bench-{wid.lower()}", max(conc_list))
        runfile = self.work / f"{kind}-{wid}-runs.txt"
        self.acc = {"ok": 0, "slack": 0}
        log_pos = srv.log_size()
        for c in conc_list:
            runfile.write_text("\n".join(run_ids[:c]) + "\n")
            if sc["warm_s"]:
                self.wrk_once(srv, path, script, [runfile, 0, 1] + extra_args, c, sc["warm_s"])
            rows = []
            for rep in range(sc["reps"]):
                js = self.wrk(srv, path, script, [runfile, 0, 1] + extra_args, c, sc["dur_s"])
                rows.append(js)
                errs = js["err_status"] + js["err_timeout"] + js["err_connect"] + js["err_read"] + js["err_write"]
                log(f"[{kind}] {wid} c={c} rep {rep + 1}/{sc['reps']}: {js['rps']:,.0f} req/s "
                    f"({js['rps'] * points_per_req:,.0f} points/s), p50 {js['p50_us'] / 1e3:.2f} ms, "
                    f"p99 {js['p99_us'] / 1e3:.2f} ms, errors {errs}, other CPU {js['other_cpu_pct']:.0f}%, "
                    f"busiest server thread {js['busiest_thread_pct'] or 0:.0f}% of a core "
                    f"({js.get('busiest_thread') or '?'})"
                    + (f", disk writes {js['disk_write_bytes'] / 1e6 / js['seconds']:,.0f} MB/s"
                       if js.get("disk_write_bytes") is not None else ""))
            r[f"{wid}_c{c}_rps"] = summary([x["rps"] for x in rows])
            r[f"{wid}_c{c}_pps"] = summary([x["rps"] * points_per_req for x in rows])
            r[f"{wid}_c{c}_p50"] = summary([x["p50_us"] / 1e3 for x in rows])
            r[f"{wid}_c{c}_p99"] = summary([x["p99_us"] / 1e3 for x in rows])
            r[f"{wid}_c{c}_errors"] = sum(x["err_status"] + x["err_timeout"] + x["err_connect"] + x["err_read"]
                                          + x["err_write"] for x in rows)
            r[f"{wid}_c{c}_requests"] = sum(x["requests"] for x in rows)
            tot_ok = sum(x["ok"] for x in rows)
            cpu = sum(x["server_cpu_s"] for x in rows)
            r[f"{wid}_c{c}_cpu_ms_per_req"] = 1e3 * cpu / tot_ok if tot_ok else None
            disk = [x for x in rows if x.get("disk_write_bytes") is not None]
            disk_points = sum(x["ok"] for x in disk) * points_per_req
            if disk_points:
                r[f"{wid}_c{c}_disk_mb_s"] = summary([x["disk_write_bytes"] / 1e6 / x["seconds"] for x in disk])
                r[f"{wid}_c{c}_disk_kib_per_point"] = sum(x["disk_write_bytes"] for x in disk) / 1024 / disk_points
            busy = [x["busiest_thread_pct"] for x in rows if x.get("busiest_thread_pct") is not None]
            r[f"{wid}_c{c}_busiest_pct"] = summary(busy) if busy else None
            names = [x["busiest_thread"] for x in rows if x.get("busiest_thread")]
            r[f"{wid}_c{c}_busiest_name"] = max(set(names), key=names.count) if names else None
            # per thread name, over the repetitions that saw it
            r[f"{wid}_c{c}_thread_pct"] = {
                n: summary([x["thread_pct"][n] for x in rows if n in x.get("thread_pct", {})])
                for n in sorted({n for x in rows for n in x.get("thread_pct", {})})}
            r[f"{wid}_c{c}_raw"] = rows
        if wid == "W1" and OPEN_LOOP_CONC in conc_list:
            self.w1_open_loop(srv, path, runfile, run_ids)
        r[f"{wid}_locked_in_log"] = srv.count_in_log("database is locked", log_pos)
        # correctness: every accepted point is in the table
        time.sleep(0.2)
        got = db_query(srv.db, f"SELECT count(*) FROM metrics WHERE {key_sql}")[0][0]
        want_lo = self.acc["ok"] * points_per_req
        want_hi = (self.acc["ok"] + self.acc["slack"]) * points_per_req
        r[f"{wid}_rows"] = {"rows": got, "accepted_points": want_lo}
        if not (want_lo <= got <= want_hi):
            self.gate(kind, wid, f"metrics table holds {got} points, but {want_lo} were acknowledged with 2xx "
                                 f"(at most {want_hi} possible)")
        else:
            log(f"[{kind}] {wid} check: {got:,} points in the table, {want_lo:,} acknowledged (ok)")

    def w14_connections(self, srv):
        """W14: W14_CLIENTS keep-alive clients logging metrics at once (wrk, one connection
        each), then the time a new client takes (connect, GET /health, answer) while
        W14_HELD other connections are open, half of them idle and half with half a header."""
        sc = self.sc
        kind = srv.kind
        r = self.res[kind]
        c = W14_CLIENTS
        _, run_ids = self.make_runs(srv, "bench-w14", c)
        runfile = self.work / f"{kind}-W14-runs.txt"
        runfile.write_text("\n".join(run_ids) + "\n")
        rows = []
        for rep in range(sc["reps"]):
            js = self.wrk(srv, f"{API}/runs/log-metric", "log_metric", [runfile, 0, 1], c, sc["dur_s"])
            rows.append(js)
            errs = js["err_status"] + js["err_timeout"] + js["err_connect"] + js["err_read"] + js["err_write"]
            log(f"[{kind}] W14 log-metric c={c} rep {rep + 1}/{sc['reps']}: {js['rps']:,.0f} req/s, "
                f"p50 {js['p50_us'] / 1e3:.2f} ms, p99 {js['p99_us'] / 1e3:.2f} ms, "
                f"max {js['lat_max_us'] / 1e3:.1f} ms, errors {errs}")
        done = [x for x in rows if x["ok"]]  # latencies of a run without one answer mean nothing
        r[f"W14_c{c}_rps"] = summary([x["rps"] for x in rows])
        if done:
            r[f"W14_c{c}_p99"] = summary([x["p99_us"] / 1e3 for x in done])
            r[f"W14_c{c}_max"] = summary([x["lat_max_us"] / 1e3 for x in done])
        r[f"W14_c{c}_errors"] = sum(x["err_status"] + x["err_timeout"] + x["err_connect"] + x["err_read"]
                                    + x["err_write"] for x in rows)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < W14_HELD + 256:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, W14_HELD + 256), hard))
        held, lat = [], []
        try:
            for i in range(W14_HELD):
                sk = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
                if i % 2:
                    sk.sendall(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n".encode())
                held.append(sk)
            for _ in range(W14_NEW_CLIENTS):
                t = time.monotonic()
                conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=120)
                conn.request("GET", "/health")
                resp = conn.getresponse()
                resp.read()
                conn.close()
                if resp.status != 200:
                    raise RuntimeError(f"GET /health answered {resp.status}")
                lat.append((time.monotonic() - t) * 1e3)
            r["W14_new_client_ms"] = summary(lat)
            log(f"[{kind}] W14 new client while {W14_HELD} connections are held: median {med(lat):.1f} ms, "
                f"max {max(lat):.1f} ms")
        except Exception as e:  # a server that cannot take them: reported, not fatal
            r["W14_new_client_error"] = f"{type(e).__name__}: {e}"
            log(f"[{kind}] W14 new client while {W14_HELD} connections are held: failed ({e})")
        finally:
            for sk in held:
                sk.close()

    def w1_open_loop(self, srv, path, runfile, run_ids):
        """W1 latency at fixed offered rates from OPEN_LOOP_CONC connections:
        50% and 80% of the server's own closed-loop maximum (design notes
        7.4), and for mlflowd also the rate of its target, when it can
        sustain it."""
        sc, kind = self.sc, srv.kind
        r = self.res[kind]
        top = r[f"W1_c{OPEN_LOOP_CONC}_rps"]["med"]
        points = [(f"ol{int(f * 100)}", f * top) for f in OPEN_LOOP_FRACTIONS]
        if kind == "mlflowd" and top > W1_TARGET_RPS:
            points.append(("olt", W1_TARGET_RPS))
        runfile.write_text("\n".join(run_ids[:OPEN_LOOP_CONC]) + "\n")
        for tag, rate in points:
            rows = []
            for rep in range(sc["reps"]):
                js = self.open_loop(srv, path, runfile, rate, OPEN_LOOP_CONC, sc["dur_s"])
                rows.append(js)
                log(f"[{kind}] W1 open loop at {rate:,.0f} req/s offered (c={OPEN_LOOP_CONC}) rep {rep + 1}/"
                    f"{sc['reps']}: p50 {js['p50_ms']:.2f} ms, p90 {js['p90_ms']:.2f} ms, p99 "
                    f"{js['p99_ms']:.2f} ms, errors {js['errors']}")
                if js["errors"]:
                    self.gate(kind, "W1", f"open loop at {rate:,.0f} req/s: {js['errors']} error responses "
                                          f"(status {js['bad_status']})")
            r[f"W1_{tag}_rate"] = rate
            for q in ("p50", "p90", "p99"):
                r[f"W1_{tag}_{q}"] = summary([x[f"{q}_ms"] for x in rows])
            r[f"W1_{tag}_rps"] = summary([x["iters"] / x["seconds"] for x in rows if x["seconds"] > 0])

    def w3_in_ram(self, disk_db):
        """mlflowd's W3 again on a fresh database in RAM (tmpfs: nothing
        reaches the disk and every sync returns at once), as W3ram: what
        W3 reaches when only the CPU bounds it, so the report can tell the
        disk's share from the writer's."""
        sc = self.sc
        used = sum(Path(str(disk_db) + x).stat().st_size for x in ("", "-wal") if Path(str(disk_db) + x).exists())
        need = 2 * used + 256 * 2**20
        if not RAM_DIR.is_dir() or shutil.disk_usage(RAM_DIR).free < need:
            self.notes["mlflowd"].append(f"W3 with the database in RAM not run: {RAM_DIR} is missing or has less "
                                         f"than {need / 2**20:,.0f} MiB free")
            log(f"[mlflowd] W3 in RAM skipped: {RAM_DIR} missing or under {need / 2**20:,.0f} MiB free")
            return
        ram = Path(tempfile.mkdtemp(prefix="mlflowd-bench-", dir=RAM_DIR))
        srv = self.new_server("mlflowd", "w3-ram", ram / "mlflowd-w3-ram.db")
        shown = self.commands.get("mlflowd server")  # start() records the RAM server's command there
        try:
            self.start(srv, "startup_ram_ms")
            self.commands["mlflowd server"] = shown
            self.commands["mlflowd server, W3 with the database in RAM"] = srv.display_command().replace(
                str(ram), f"{RAM_DIR}/$RAM")
            self.write_workload(srv, "W3ram", "log_batch", f"{API}/runs/log-batch", sc["w3_conc"], 1000,
                                "key LIKE 'metric_%'", [100, 10])
        finally:
            srv.stop()
            shutil.rmtree(ram, ignore_errors=True)

    def w3_limits(self, srv):
        """A 1001-metric log-batch must be refused with 400 INVALID_PARAMETER_VALUE."""
        cl = Client(srv.port)
        eid, ids = self.make_runs(srv, "bench-w3-limit", 1)
        body = {"run_id": ids[0], "metrics": [{"key": "k", "value": 1.0, "timestamp": T0 + i, "step": i}
                                              for i in range(1001)]}
        st, js = cl.post("/runs/log-batch", body)
        cl.close()
        ans = (st, js.get("error_code"))
        self.answers[srv.kind]["w3_1001"] = ans
        if ans != (400, "INVALID_PARAMETER_VALUE"):
            self.gate(srv.kind, "W3", f"1001-metric log-batch answered {st} {js.get('error_code')} "
                                      f"(want 400 INVALID_PARAMETER_VALUE)")

    # ---- seeding -----------------------------------------------------------

    def seed(self, srv):
        """Seed through the REST API with seed_threads clients. Search runs
        not written within the scale's seed budget are left to sql_fill()
        (design notes 7.2: a direct-SQL shortcut when REST seeding would take
        too long); the series runs always go through REST."""
        sc = self.sc
        d = self.data
        kind = srv.kind
        tl = threading.local()
        lock = threading.Lock()
        names = {}
        skipped = []
        rest_points = [0]

        def client():
            if not hasattr(tl, "c"):
                tl.c = Client(srv.port)
            return tl.c

        setup = Client(srv.port)
        eid = ok(setup.post("/experiments/create", {"name": "bench-search"}), "experiments/create")["experiment_id"]
        hid = ok(setup.post("/experiments/create", {"name": "bench-history"}), "experiments/create")["experiment_id"]
        setup.close()
        t0 = time.perf_counter()
        deadline = t0 + (self.args.seed_budget if self.args.seed_budget is not None else sc["seed_budget_s"])

        def one_search_run(i):
            name, create, batch = d.search_run(i)
            if i >= sc["seed_threads"] and time.perf_counter() > deadline:
                with lock:
                    skipped.append(i)
                return
            c = client()
            js = ok(c.post("/runs/create", dict(create, experiment_id=eid)), "runs/create")
            rid = js["run"]["info"]["run_id"]
            ok(c.post("/runs/log-batch", dict(batch, run_id=rid)), "runs/log-batch")
            with lock:
                names[name] = rid
                rest_points[0] += len(batch["metrics"])

        def one_series_run(name, seed, n):
            c = client()
            js = ok(c.post("/runs/create", {"experiment_id": hid, "run_name": name, "start_time": T0}),
                    "runs/create")
            rid = js["run"]["info"]["run_id"]
            pts = Dataset.series(seed, n)
            for k in range(0, n, 1000):
                ok(c.post("/runs/log-batch", {"run_id": rid, "metrics": pts[k:k + 1000]}), "runs/log-batch")
                with lock:
                    rest_points[0] += len(pts[k:k + 1000])
            with lock:
                names[name] = rid

        from concurrent.futures import ThreadPoolExecutor
        jobs = []
        with ThreadPoolExecutor(sc["seed_threads"]) as ex:
            jobs.append(ex.submit(one_series_run, "hist-big", 1, d.hist_points))
            jobs.append(ex.submit(one_series_run, "hist-small", 2, d.small_hist))
            for b in range(d.bulk_runs):
                jobs.append(ex.submit(one_series_run, f"bulk-{b:02d}", 100 + b, d.bulk_points))
            for i in range(d.n_runs):
                jobs.append(ex.submit(one_search_run, i))
            done = 0
            for j in jobs:
                j.result()
                done += 1
                if done % max(1, len(jobs) // 5) == 0:
                    log(f"[{kind}] seeding: {done}/{len(jobs)} runs")
        secs = time.perf_counter() - t0
        r = self.res[kind]
        r["seed_s"] = secs
        r["seed_rest_points"] = rest_points[0]
        r["seed_pps"] = rest_points[0] / secs
        r["seed_rest_runs"] = sum(1 for n in names if n.startswith("run-"))
        r["seed_sql_runs"] = len(skipped)
        log(f"[{kind}] seeded {len(names):,} runs and {rest_points[0]:,} points through the REST API in "
            f"{secs:,.1f} s ({rest_points[0] / secs:,.0f} points/s, {sc['seed_threads']} client threads)")
        if skipped:
            r["seed_projected_s"] = secs * d.points() / max(1, rest_points[0])
            log(f"[{kind}] seed budget spent: {len(skipped):,} search runs left for direct SQL "
                f"(REST for all would take ~{r['seed_projected_s']:,.0f} s)")
        return eid, hid, names, sorted(skipped)

    def sql_fill(self, db, eid, names, indices):
        """Write search runs straight into the SQLite file (server stopped),
        copying every column and system tag from a run the server itself
        created through the REST API, so the rows look like the server's own."""
        d = self.data
        tmpl_name = next(n for n in names if n.startswith("run-"))
        tid = names[tmpl_name]
        c = sqlite3.connect(str(db), timeout=60)
        c.execute("PRAGMA foreign_keys=ON")
        cols = [x[1] for x in c.execute("PRAGMA table_info(runs)")]
        trow = dict(zip(cols, c.execute("SELECT * FROM runs WHERE run_uuid = ?", (tid,)).fetchone()))
        ttags = [(k, v) for k, v in c.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (tid,))
                 if not re.fullmatch(r"t\d", k)]
        import uuid
        t0 = time.perf_counter()
        with c:
            for i in indices:
                name, create, batch = d.search_run(i)
                rid = uuid.uuid4().hex
                row = dict(trow)
                row.update(run_uuid=rid, name=name, start_time=create["start_time"],
                           artifact_uri=(trow["artifact_uri"] or "").replace(tid, rid))
                c.execute(f"INSERT INTO runs({','.join(cols)}) VALUES ({','.join('?' * len(cols))})",
                          [row[k] for k in cols])
                tags = [(k, name if k == "mlflow.runName" else v) for k, v in ttags]
                tags += [(t["key"], t["value"]) for t in batch["tags"]]
                c.executemany("INSERT INTO tags(key, value, run_uuid) VALUES (?, ?, ?)",
                              [(k, v, rid) for k, v in tags])
                c.executemany("INSERT INTO params(key, value, run_uuid) VALUES (?, ?, ?)",
                              [(p["key"], p["value"], rid) for p in batch["params"]])
                c.executemany("INSERT INTO metrics(key, value, timestamp, run_uuid, step, is_nan) "
                              "VALUES (?, ?, ?, ?, ?, 0)",
                              [(m["key"], m["value"], m["timestamp"], rid, m["step"]) for m in batch["metrics"]])
                latest = {}
                for m in batch["metrics"]:
                    cur = latest.get(m["key"])
                    if cur is None or (m["step"], m["timestamp"], m["value"]) >= (cur["step"], cur["timestamp"],
                                                                                  cur["value"]):
                        latest[m["key"]] = m
                c.executemany("INSERT INTO latest_metrics(key, value, timestamp, step, is_nan, run_uuid) "
                              "VALUES (?, ?, ?, ?, 0, ?)",
                              [(m["key"], m["value"], m["timestamp"], m["step"], rid) for m in latest.values()])
                names[name] = rid
        c.close()
        log(f"wrote {len(indices):,} search runs by direct SQL in {time.perf_counter() - t0:,.1f} s "
            f"(template: {tmpl_name})")

    # ---- reads: correctness ------------------------------------------------

    def search_body(self, eid, q):
        b = {"experiment_ids": [eid], "max_results": q["max_results"], "run_view_type": "ACTIVE_ONLY"}
        if q["filter"]:
            b["filter"] = q["filter"]
        if q["order_by"]:
            b["order_by"] = q["order_by"]
        return b

    @staticmethod
    def norm_run(run):
        info, data = run["info"], run.get("data", {})
        params = sorted((p["key"], p["value"]) for p in data.get("params", []))
        tags = sorted((t["key"], t["value"]) for t in data.get("tags", []) if re.fullmatch(r"t\d", t["key"]))
        mets = sorted((m["key"], float(m["value"]), int(m.get("step", 0)), int(m["timestamp"]))
                      for m in data.get("metrics", []))
        return (info.get("run_name"), info.get("status"), int(info.get("start_time", 0)), params, tags, mets)

    @staticmethod
    def shape_run(run):
        """Everything but values that are server-generated (ids, uris): for notes."""
        info, data = run["info"], run.get("data", {})
        return (sorted(info.keys()), sorted(data.keys()), sorted(t["key"] for t in data.get("tags", [])))

    def check_reads(self, srv, eid, names):
        kind = srv.kind
        d = self.data
        cl = Client(srv.port)
        ans = self.answers[kind]
        for sid, (label, q) in SEARCHES.items():
            try:
                js = ok(cl.post("/runs/search", self.search_body(eid, q)), "runs/search")
                runs = js.get("runs", [])
                got = [r["info"].get("run_name") for r in runs]
                want = d.expected_search(q)
                ans[sid] = [self.norm_run(r) for r in runs]
                ans[sid + "_shape"] = self.shape_run(runs[0]) if runs else None
                ans[sid + "_token"] = bool(js.get("next_page_token"))
                if got != want:
                    first = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
                    self.gate(kind, sid, f"{len(got)} runs returned, {len(want)} expected; first difference at "
                                         f"position {first}: got {got[first:first + 3]}, want {want[first:first + 3]}")
                else:
                    # latest m0 of every returned run must be the generator's
                    bad = [n for n, r in zip(got, ans[sid])
                           if not any(m[0] == "m0" and m[1] == d.m0_latest[n] for m in r[5])]
                    if bad:
                        self.gate(kind, sid, f"latest m0 wrong for {len(bad)} runs, e.g. {bad[:3]}")
            except Exception as e:
                self.gate(kind, sid, f"{e}")
        # histories: every page, in order, against the generator
        for hid_name, seed, n, wid in (("hist-big", 1, d.hist_points, "w7_hist_big"),
                                        ("hist-small", 2, d.small_hist, "w7_hist_small")):
            try:
                rid = names[hid_name]
                pts, tok, pages = [], None, 0
                while True:
                    params = {"run_id": rid, "metric_key": "loss", "max_results": 25000}
                    if tok:
                        params["page_token"] = tok
                    js = ok(cl.get("/metrics/get-history", params), "metrics/get-history")
                    pts += js.get("metrics", [])
                    pages += 1
                    tok = js.get("next_page_token")
                    if not tok or pages > 1000:
                        break
                got = [(int(m["step"]), int(m["timestamp"]), float(m["value"])) for m in pts]
                want = [(m["step"], m["timestamp"], m["value"]) for m in Dataset.series(seed, n)]
                ans[wid] = {"points": len(got), "pages": pages}
                if got != want:
                    self.gate(kind, wid, f"history of {n} points: got {len(got)} points in {pages} pages, "
                                         f"{'same length but different content/order' if len(got) == n else 'wrong length'}")
            except Exception as e:
                self.gate(kind, wid, f"{e}")
        # bulk interval: compared between servers (stock is the reference)
        try:
            ids = [names[f"bulk-{b:02d}"] for b in range(d.bulk_runs)]
            back = {v: k for k, v in names.items()}
            js = ok(cl.get("/metrics/get-history-bulk-interval",
                           {"run_ids": ids, "metric_key": "loss", "max_results": 320}, prefix=AJAX),
                    "get-history-bulk-interval")
            got = sorted((back.get(m.get("run_id"), "?"), int(m["step"]), int(m["timestamp"]), float(m["value"]))
                         for m in js.get("metrics", []))
            ans["w7_bulk"] = got
            per_run = {}
            for g in got:
                per_run[g[0]] = per_run.get(g[0], 0) + 1
            if len(per_run) != d.bulk_runs or max(per_run.values()) > 330 or min(per_run.values()) < 2:
                self.gate(kind, "w7_bulk", f"bulk-interval returned {len(got)} points over {len(per_run)} runs "
                                           f"(want {d.bulk_runs} runs, 2..321 points each)")
        except Exception as e:
            self.gate(kind, "w7_bulk", f"{e}")
        cl.close()

    # ---- reads: timing -----------------------------------------------------

    def lat_reps(self, vals):
        """Repetitions of a c=1 latency measurement: the scale's count, but
        at most 3 when one request takes longer than a second (stock on the
        big data set), to keep --scale full within its time budget."""
        if vals and vals[0]["p50_ms"] > 1000:
            return min(3, self.sc["reps"])
        return self.sc["reps"]

    def time_reads(self, srv, eid, names):
        sc = self.sc
        kind = srv.kind
        r = self.res[kind]
        d = self.data
        for sid, (label, q) in SEARCHES.items():
            if sid in self.gates[kind]:
                continue
            vals = []
            try:
                while len(vals) < self.lat_reps(vals):
                    vals.append(self.reqlat(srv.port, "POST", f"{API}/runs/search", body=self.search_body(eid, q),
                                            warmup=0 if vals else 1))
                r[f"{sid}_p50"] = summary([v["p50_ms"] for v in vals])
                r[f"{sid}_p99"] = summary([v["p99_ms"] for v in vals])
                r[f"{sid}_bytes"] = vals[-1]["bytes"]
                log(f"[{kind}] W5 {label}: p50 {r[sid + '_p50']['med']:.2f} ms "
                    f"(min {r[sid + '_p50']['min']:.2f}, max {r[sid + '_p50']['max']:.2f}), "
                    f"{vals[-1]['bytes']:,} bytes, {sum(v['iters'] for v in vals)} requests")
            except Exception as e:
                self.gate(kind, sid, f"timing: {e}")
        # W5 under concurrency (100/page)
        if "w5_m_100" not in self.gates[kind]:
            bf = self.work / f"{kind}-search.json"
            bf.write_text(json.dumps(self.search_body(eid, SEARCHES["w5_m_100"][1])))
            # a slow server gets a duration long enough for every connection to finish a few
            # requests, and at most 3 repetitions (as lat_reps does for c=1)
            lat1 = (r.get("w5_m_100_p50") or {}).get("med") or 0
            dur = sc["dur_s"]
            while dur < sc["max_dur_s"] and dur * 1000 < 3 * lat1 * sc["w5_conc"]:
                dur *= 2
            reps = min(3, sc["reps"]) if lat1 > 1000 else sc["reps"]
            rows = [self.wrk(srv, f"{API}/runs/search", "post_body", [bf], sc["w5_conc"], dur)
                    for _ in range(reps)]
            r["w5_m_100_conc_rps"] = summary([x["rps"] for x in rows])
            r["w5_m_100_conc_p99"] = summary([x["p99_us"] / 1e3 for x in rows])
            r["w5_m_100_conc_errors"] = sum(x["err_status"] + x["err_timeout"] for x in rows)
            log(f"[{kind}] W5 100/page at c={sc['w5_conc']}: {r['w5_m_100_conc_rps']['med']:,.1f} req/s, "
                f"p99 {r['w5_m_100_conc_p99']['med']:.1f} ms")
        # W7
        for wid, name, label in (("w7_hist_big", "hist-big", f"get-history {d.hist_points:,} points"),
                                 ("w7_hist_small", "hist-small", f"get-history {d.small_hist:,} points")):
            if wid in self.gates[kind]:
                continue
            try:
                path = f"{API}/metrics/get-history?" + urllib.parse.urlencode(
                    {"run_id": names[name], "metric_key": "loss", "max_results": 25000})
                vals = []
                while len(vals) < self.lat_reps(vals):
                    vals.append(self.reqlat(srv.port, "GET", path, follow=True, warmup=0 if vals else 1))
                r[f"{wid}_p50"] = summary([v["p50_ms"] for v in vals])
                r[f"{wid}_p99"] = summary([v["p99_ms"] for v in vals])
                r[f"{wid}_pages"] = vals[-1]["pages"]
                log(f"[{kind}] W7 {label} ({vals[-1]['pages']} pages): p50 {r[wid + '_p50']['med']:.2f} ms "
                    f"(min {r[wid + '_p50']['min']:.2f}, max {r[wid + '_p50']['max']:.2f})")
            except Exception as e:
                self.gate(kind, wid, f"timing: {e}")
        if "w7_bulk" not in self.gates[kind]:
            try:
                ids = [names[f"bulk-{b:02d}"] for b in range(d.bulk_runs)]
                path = f"{AJAX}/metrics/get-history-bulk-interval?" + urllib.parse.urlencode(
                    {"run_ids": ids, "metric_key": "loss", "max_results": 320}, doseq=True)
                vals = []
                while len(vals) < self.lat_reps(vals):
                    vals.append(self.reqlat(srv.port, "GET", path, warmup=0 if vals else 1))
                r["w7_bulk_p50"] = summary([v["p50_ms"] for v in vals])
                r["w7_bulk_p99"] = summary([v["p99_ms"] for v in vals])
                log(f"[{kind}] W7 bulk-interval {d.bulk_runs} runs x 320: p50 {r['w7_bulk_p50']['med']:.2f} ms")
                rows = [self.wrk(srv, path, "plain", [], sc["w7_conc"], sc["dur_s"]) for _ in range(sc["reps"])]
                r["w7_bulk_conc_rps"] = summary([x["rps"] for x in rows])
                r["w7_bulk_conc_p99"] = summary([x["p99_us"] / 1e3 for x in rows])
                log(f"[{kind}] W7 bulk-interval at c={sc['w7_conc']}: {r['w7_bulk_conc_rps']['med']:,.0f} req/s")
            except Exception as e:
                self.gate(kind, "w7_bulk", f"timing: {e}")

    # ---- W11 model registry ----------------------------------------------------

    def registry_seed(self, srv):
        """Registered models and their versions through the REST API with
        seed_threads clients, model by model, for at most reg_budget_s; the
        models not reached are returned for registry_sql_fill()."""
        sc, rd, kind = self.sc, self.reg, srv.kind
        tl = threading.local()
        lock = threading.Lock()
        skipped, done = [], [0]
        deadline = time.perf_counter() + sc["reg_budget_s"]

        def client():
            if not hasattr(tl, "c"):
                tl.c = Client(srv.port)
            return tl.c

        def one_model(i):
            if i >= sc["seed_threads"] and time.perf_counter() > deadline:
                with lock:
                    skipped.append(i)
                return
            c = client()
            ok(c.post("/registered-models/create", {"name": rd.name(i), "tags": rd.model_tags(i)}),
               "registered-models/create")
            for v in range(1, rd.per + 1):
                js = ok(c.post("/model-versions/create", {"name": rd.name(i), "source": rd.source(i, v),
                                                          "tags": rd.version_tags(i, v)}),
                        "model-versions/create")
                if str(js["model_version"]["version"]) != str(v):
                    raise RuntimeError(f"model-versions/create of {rd.name(i)} answered version "
                                       f"{js['model_version']['version']}, want {v}")
            with lock:
                done[0] += 1 + rd.per

        from concurrent.futures import ThreadPoolExecutor
        t0 = time.perf_counter()
        with ThreadPoolExecutor(sc["seed_threads"]) as ex:
            for j in [ex.submit(one_model, i) for i in range(rd.n_models)]:
                j.result()
        secs = time.perf_counter() - t0
        c = Client(srv.port)
        ok(c.post("/registered-models/create", {"name": rd.CREATE_MODEL}), "registered-models/create")
        c.close()
        r = self.res[kind]
        r["w11_fill_s"] = secs
        r["w11_fill_rps"] = done[0] / secs if secs else None
        r["w11_fill_api_models"] = rd.n_models - len(skipped)
        r["w11_fill_sql_models"] = len(skipped)
        log(f"[{kind}] W11: {rd.n_models - len(skipped):,} registered models and {done[0] - rd.n_models + len(skipped):,} "
            f"versions created through the REST API in {secs:,.1f} s ({r['w11_fill_rps']:,.0f} creates/s, "
            f"{sc['seed_threads']} client threads)" + (f"; {len(skipped):,} models left for direct SQL" if skipped else ""))
        return sorted(skipped)

    def registry_sql_fill(self, db, indices):
        """Write registered models, their versions and tags straight into the
        SQLite file (server stopped), copying every other column from the first
        model and version the server created itself."""
        rd = self.reg
        c = sqlite3.connect(str(db), timeout=60)
        c.execute("PRAGMA foreign_keys=ON")

        def template(table, where, args):
            cols = [x[1] for x in c.execute(f"PRAGMA table_info({table})")]
            row = c.execute(f"SELECT * FROM {table} WHERE {where}", args).fetchone()
            if row is None:
                raise RuntimeError(f"registry_sql_fill: no template row in {table}")
            return cols, dict(zip(cols, row))

        def insert(table, cols, rows):
            c.executemany(f"INSERT INTO {table}({','.join(cols)}) VALUES ({','.join('?' * len(cols))})",
                          [[r[k] for k in cols] for r in rows])

        mcols, mrow = template("registered_models", "name = ?", (rd.name(0),))
        vcols, vrow = template("model_versions", "name = ? AND version = 1", (rd.name(0),))
        mtcols, mtrow = template("registered_model_tags", "name = ?", (rd.name(0),))
        vtcols, vtrow = template("model_version_tags", "name = ? AND version = 1", (rd.name(0),))
        src0 = vrow["source"]
        t0 = time.perf_counter()
        with c:
            for i in indices:
                name = rd.name(i)
                insert("registered_models", mcols, [dict(mrow, name=name, creation_time=T0 + i,
                                                         last_updated_time=T0 + i)])
                insert("registered_model_tags", mtcols, [dict(mtrow, name=name, key=t["key"], value=t["value"])
                                                         for t in rd.model_tags(i)])
                vrows, vtrows = [], []
                for v in range(1, rd.per + 1):
                    src, ts = rd.source(i, v), T0 + i * rd.per + v
                    loc = vrow.get("storage_location")
                    vrows.append(dict(vrow, name=name, version=v, creation_time=ts, last_updated_time=ts, source=src,
                                      storage_location=loc.replace(src0, src) if isinstance(loc, str) else loc))
                    vtrows += [dict(vtrow, name=name, version=v, key=t["key"], value=t["value"])
                               for t in rd.version_tags(i, v)]
                insert("model_versions", vcols, vrows)
                insert("model_version_tags", vtcols, vtrows)
        c.close()
        log(f"wrote {len(indices):,} registered models and {len(indices) * rd.per:,} versions by direct SQL in "
            f"{time.perf_counter() - t0:,.1f} s (template: {rd.name(0)} version 1)")

    @staticmethod
    def norm_mv(v):
        tags = sorted((t["key"], t["value"]) for t in v.get("tags", []))
        return (v.get("name"), int(v.get("version", 0)), v.get("source"), v.get("status"),
                v.get("current_stage"), tags)

    @classmethod
    def norm_rm(cls, m):
        tags = sorted((t["key"], t["value"]) for t in m.get("tags", []))
        latest = sorted((int(v.get("version", 0)), v.get("current_stage"), v.get("source"), v.get("status"))
                        for v in m.get("latest_versions", []))
        return (m.get("name"), tags, latest)

    def reg_walk(self, cl, path, key, query, page, stop_at=None):
        """Every page of a registry search (or the first stop_at rows):
        (rows, next_page_token after the last page read)."""
        rows, tok = [], None
        while True:
            q = dict(query, max_results=page)
            if tok:
                q["page_token"] = tok
            js = ok(cl.get(path, q), path)
            rows += js.get(key, [])
            tok = js.get("next_page_token")
            if not tok or (stop_at is not None and len(rows) >= stop_at) or len(rows) > 10**7:
                return rows, tok

    @staticmethod
    def reg_page(offset, cap):
        """A page size (at most cap) whose pages end exactly at offset (a multiple of 100)."""
        page = min(offset, cap)
        return page if offset % page == 0 else 100

    def check_registry(self, srv):
        """W11 answers against the generator (and, through self.answers,
        against stock's). Returns {search id: page token} for the middle pages."""
        kind, rd = srv.kind, self.reg
        ans = self.answers[kind]
        cl = Client(srv.port)
        tokens = {}
        try:
            models, _ = self.reg_walk(cl, "/registered-models/search", "registered_models", {}, 1000)
            got = [m["name"] for m in models]
            want = rd.models() + [rd.CREATE_MODEL]
            if got != want:
                self.gate(kind, "w11_rm_first", f"all pages of search-registered-models: {len(got)} names, "
                                                f"{len(want)} expected (or not in name order)")
            bad = [m["name"] for m in models[:-1]
                   if [int(v["version"]) for v in m.get("latest_versions", [])] != [rd.per]]
            if bad:
                self.gate(kind, "w11_rm_first", f"latest_versions is not [{rd.per}] for {len(bad)} models, "
                                                f"e.g. {bad[:3]}")
            ans["w11_rm_first"] = [self.norm_rm(m) for m in models[:100]]
            js = ok(cl.get("/registered-models/search", REG_SEARCHES["w11_rm_filter"][2]), "rm search")
            got = [m["name"] for m in js.get("registered_models", [])]
            want = rd.models("bench-model-00")[:100]
            ans["w11_rm_filter"] = [self.norm_rm(m) for m in js.get("registered_models", [])]
            if got != want:
                self.gate(kind, "w11_rm_filter", f"{len(got)} models returned, {len(want)} expected")
            mid = rd.mid_offset(len(want := rd.models()))
            if mid:
                _, tokens["w11_rm_mid"] = self.reg_walk(cl, "/registered-models/search", "registered_models", {},
                                                        self.reg_page(mid, 1000), stop_at=mid)
                js = ok(cl.get("/registered-models/search", {"max_results": 100, "page_token": tokens["w11_rm_mid"]}),
                        "rm search")
                got = [m["name"] for m in js.get("registered_models", [])]
                ans["w11_rm_mid"] = got
                if got != want[mid:mid + 100]:
                    self.gate(kind, "w11_rm_mid", f"middle page: {got[:2]}..., want {want[mid:mid + 2]}...")
        except Exception as e:
            self.gate(kind, "w11_rm_first", f"{e}")
        try:
            order = {"order_by": ["name ASC", "version_number DESC"]}
            vers, _ = self.reg_walk(cl, "/model-versions/search", "model_versions", order, 10000)
            got = [(v["name"], int(v["version"]), v.get("source")) for v in vers]
            want = rd.versions()
            if got != want:
                self.gate(kind, "w11_mv_first", f"all pages of search-model-versions ordered by name, version: "
                                                f"{len(got)} versions, {len(want)} expected (or different)")
            ans["w11_mv_ordered"] = [self.norm_mv(v) for v in vers[:100]]
            ans["w11_mv_count"] = len(vers)
            # the default order (last_updated_timestamp DESC, name ASC, version DESC): timestamps are
            # each server's own, so the pages are checked for order and content, not compared
            for sid in ("w11_mv_first", "w11_mv_filter"):
                js = ok(cl.get("/model-versions/search", REG_SEARCHES[sid][2]), "mv search")
                page = js.get("model_versions", [])
                keys = [(-int(v["last_updated_timestamp"]), v["name"], -int(v["version"])) for v in page]
                pool = set(want if sid == "w11_mv_first" else rd.versions("bench-model-0001"))
                if (len(page) != min(100, len(pool)) or keys != sorted(keys)
                        or not {(v["name"], int(v["version"]), v.get("source")) for v in page} <= pool):
                    self.gate(kind, sid, f"{len(page)} versions, not in the default order or not the generated ones")
            mid = rd.mid_offset(len(want))
            if mid:
                _, tokens["w11_mv_mid"] = self.reg_walk(cl, "/model-versions/search", "model_versions", {},
                                                        self.reg_page(mid, 10000), stop_at=mid)
        except Exception as e:
            self.gate(kind, "w11_mv_first", f"{e}")
        cl.close()
        return tokens

    def time_registry(self, srv, tokens):
        kind, r, rd = srv.kind, self.res[srv.kind], self.reg
        for sid, (label, path, query, mid) in REG_SEARCHES.items():
            if sid in self.gates[kind] or (mid and not tokens.get(sid)):
                continue
            q = dict(query, page_token=tokens[sid]) if mid else query
            url = f"{API}{path}?" + urllib.parse.urlencode(q, doseq=True)
            try:
                vals = []
                while len(vals) < self.lat_reps(vals):
                    try:
                        vals.append(self.reqlat(srv.port, "GET", url, warmup=0 if vals else 1))
                    except RuntimeError as e:
                        if "(status 0)" not in str(e) or vals:
                            raise
                        # a dropped keep-alive connection (seen with stock on a busy machine): once more
                        log(f"[{kind}] W11 {label}: {e}; measuring once more")
                        vals.append(self.reqlat(srv.port, "GET", url, warmup=1))
                r[f"{sid}_p50"] = summary([v["p50_ms"] for v in vals])
                r[f"{sid}_p99"] = summary([v["p99_ms"] for v in vals])
                r[f"{sid}_bytes"] = vals[-1]["bytes"]
                log(f"[{kind}] W11 {label}: p50 {r[sid + '_p50']['med']:.2f} ms, {vals[-1]['bytes']:,} bytes")
            except Exception as e:
                self.gate(kind, sid, f"timing: {e}")
        # create-model-version on one model: every request a new version; afterwards its
        # versions must be exactly 1..n for the n requests sent (warm-up included)
        body = {"name": rd.CREATE_MODEL, "source": "s3://bench-registry/create"}
        try:
            vals = []
            while len(vals) < self.lat_reps(vals):
                vals.append(self.reqlat(srv.port, "POST", f"{API}/model-versions/create", body=body,
                                        warmup=0 if vals else 1))
            r["w11_create_p50"] = summary([v["p50_ms"] for v in vals])
            r["w11_create_p99"] = summary([v["p99_ms"] for v in vals])
            sent = sum(v["iters"] for v in vals) + 1
            cl = Client(srv.port)
            vers, _ = self.reg_walk(cl, "/model-versions/search", "model_versions",
                                    {"filter": f"name = '{rd.CREATE_MODEL}'"}, 10000)
            cl.close()
            got = sorted(int(v["version"]) for v in vers)
            if got != list(range(1, sent + 1)):
                self.gate(kind, "w11_create", f"{sent} create-model-version requests, versions stored: "
                                              f"{len(got)} (max {max(got, default=0)})")
            log(f"[{kind}] W11 create-model-version: p50 {r['w11_create_p50']['med']:.2f} ms "
                f"({sent} versions)")
        except Exception as e:
            self.gate(kind, "w11_create", f"{e}")

    # ---- W9 soak -----------------------------------------------------------

    def soak(self, srv, eid, names):
        sc = self.sc
        kind = srv.kind
        dur = sc["soak_s"]
        steps_per_run = sc["soak_steps"]
        cl = Client(srv.port)
        sid = ok(cl.post("/experiments/create", {"name": "bench-soak"}), "experiments/create")["experiment_id"]
        cl.close()
        stop_at = time.monotonic() + dur
        lock = threading.Lock()
        w_lat, r_lat = [], {"search": [], "history": []}
        counts = {"steps": 0, "errors": 0, "runs": 0, "requests": 0}
        search = self.search_body(eid, SEARCHES["w5_m_100"][1])

        def note(ok_, lat=None, bucket=None):
            with lock:
                counts["requests"] += 1
                if not ok_:
                    counts["errors"] += 1
                if lat is not None and bucket is not None:
                    bucket.append(lat)

        def call(c, method, path, body=None, params=None, bucket=None):
            t = time.perf_counter()
            try:
                if method == "GET":
                    st, js = c.get(path, params)
                else:
                    st, js = c.post(path, body)
            except Exception:
                st, js = 0, {}
            note(st == 200, (time.perf_counter() - t) * 1e3, bucket)
            return st, js

        def writer(w):
            c = Client(srv.port, timeout=60)
            n = 0
            while time.monotonic() < stop_at:
                st, js = call(c, "POST", "/runs/create", {"experiment_id": sid, "run_name": f"soak-{w}-{n}",
                                                           "start_time": int(time.time() * 1000)})
                if st != 200:
                    time.sleep(0.1)
                    continue
                rid = js["run"]["info"]["run_id"]
                n += 1
                call(c, "POST", "/runs/log-batch", {"run_id": rid, "params": [
                    {"key": f"hp{k}", "value": str(k * w)} for k in range(20)]})
                nxt = time.monotonic()
                for step in range(steps_per_run):
                    if time.monotonic() >= stop_at:
                        break
                    ts = int(time.time() * 1000)
                    st, _ = call(c, "POST", "/runs/log-batch", {"run_id": rid, "metrics": [
                        {"key": f"k{k}", "value": (step * 31 + k) % 97 / 97.0, "timestamp": ts, "step": step}
                        for k in range(10)]}, bucket=w_lat)
                    if st == 200:
                        with lock:
                            counts["steps"] += 1
                    nxt += 0.010
                    pause = nxt - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    else:
                        nxt = time.monotonic()  # behind: no catch-up burst
                call(c, "POST", "/runs/update", {"run_id": rid, "status": "FINISHED",
                                                 "end_time": int(time.time() * 1000)})
                with lock:
                    counts["runs"] += 1
            c.close()

        def reader(which):
            c = Client(srv.port, timeout=120)
            nxt = time.monotonic()
            while time.monotonic() < stop_at:
                if which == "search":
                    call(c, "POST", "/runs/search", search, bucket=r_lat["search"])
                else:
                    call(c, "GET", "/metrics/get-history",
                         params={"run_id": names["hist-small"], "metric_key": "loss", "max_results": 25000},
                         bucket=r_lat["history"])
                nxt += 2.0
                time.sleep(max(0.0, min(nxt - time.monotonic(), stop_at - time.monotonic())))
            c.close()

        rss0 = srv.rss_kb()
        n_samples0 = len(srv.samples)
        cpu0 = srv.cpu_s()
        threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
        threads += [threading.Thread(target=reader, args=(x,)) for x in ("search", "history")]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - t0
        cpu = srv.cpu_s() - cpu0
        rss1 = srv.rss_kb()
        samples = srv.samples[n_samples0:]
        slope = None
        if len(samples) >= 3:
            xs = [s[0] for s in samples]
            ys = [s[1] / 1024 for s in samples]
            mx, my = statistics.fmean(xs), statistics.fmean(ys)
            den = sum((x - mx) ** 2 for x in xs)
            slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den * 3600 if den else None

        def pct(xs, p):
            if not xs:
                return None
            xs = sorted(xs)
            return xs[min(len(xs) - 1, max(0, int(round(p / 100 * len(xs) + 0.4999)) - 1))]

        r = self.res[kind]
        r["w9"] = {
            "seconds": wall, "offered_steps_per_s": 8 * 100, "steps_per_s": counts["steps"] / wall,
            "runs_finished": counts["runs"], "requests": counts["requests"], "errors": counts["errors"],
            "error_pct": 100.0 * counts["errors"] / max(1, counts["requests"]),
            "writer_p50": pct(w_lat, 50), "writer_p99": pct(w_lat, 99),
            "search_p50": pct(r_lat["search"], 50), "search_p99": pct(r_lat["search"], 99),
            "history_p50": pct(r_lat["history"], 50), "history_p99": pct(r_lat["history"], 99),
            "rss_start_mb": rss0 / 1024, "rss_end_mb": rss1 / 1024,
            "rss_peak_mb": max([s[1] for s in samples] + [rss0, rss1]) / 1024,
            "rss_slope_mb_per_h": slope, "server_cpu_s": cpu,
        }
        w9 = r["w9"]
        log(f"[{kind}] W9 soak {wall:.0f} s: {w9['steps_per_s']:,.0f} of 800 offered steps/s, "
            f"writer p99 {w9['writer_p99'] or 0:.1f} ms, search p99 {w9['search_p99'] or 0:.1f} ms, "
            f"errors {counts['errors']}, RSS {w9['rss_start_mb']:.1f} -> {w9['rss_end_mb']:.1f} MiB")

    # ---- one server, all phases ---------------------------------------------

    def seeded_points(self, db):
        return db_query(db, "SELECT count(*) FROM metrics m JOIN runs r ON m.run_uuid = r.run_uuid "
                            "JOIN experiments e ON r.experiment_id = e.experiment_id "
                            "WHERE e.name IN ('bench-search', 'bench-history')")[0][0]

    def measure_seeded_db(self, srv):
        r = self.res[srv.kind]
        nbytes = db_bytes(srv.db)
        n_all = db_query(srv.db, "SELECT count(*) FROM metrics")[0][0]
        n_points = self.seeded_points(srv.db)
        r["seed_db_mb"] = nbytes / 2**20
        r["seed_db_points"] = n_points
        r["bytes_per_m_points"] = nbytes / n_all * 1e6 if n_all else None
        r["journal_mode"] = db_query(srv.db, "PRAGMA journal_mode")[0][0]
        log(f"[{srv.kind}] seeded db: {nbytes / 2**20:,.1f} MiB for {n_all:,} points "
            f"({r['bytes_per_m_points'] / 2**20:,.1f} MiB per million points); journal_mode={r['journal_mode']}")
        if n_points != self.data.points():
            self.gate(srv.kind, "seed", f"{n_points} seeded points in the db, {self.data.points()} sent")

    def bench_server(self, kind):
        sc = self.sc
        wl = self.args.workloads
        r = self.res[kind]
        log(f"==== {kind} ====")
        runs_needed = bool({"W5", "W7", "W9"} & set(wl))  # the seeded runs
        reads = runs_needed or "W11" in wl
        if "W12" in wl:
            self.calibrate(f"{kind}: traces (W12)")
            bench_traces.run(self, kind, log, summary)
        # P1: empty db: W0 (startup, idle), W1, W3 (a fresh db for W3 at small/full)
        self.calibrate(f"{kind}: empty-db phase (W0, W1, W3)")
        srv = self.new_server(kind, "empty")
        try:
            self.start(srv, "startup_empty_ms", warm=False)
            self.w0_idle(srv)
            self.warm_up(srv)
            r["warm_rss_mb"] = srv.rss_kb() / 1024
            # the cheapest request, on one keep-alive connection: the per-request floor
            try:
                js = self.reqlat(srv.port, "GET", "/health", iters=200, secs=sc["lat_s"])
            except RuntimeError as e:
                if "(status 0)" not in str(e):
                    raise
                # a dropped keep-alive connection (seen with stock on a busy machine): once more
                log(f"[{kind}] GET /health: {e}; measuring once more")
                js = self.reqlat(srv.port, "GET", "/health", iters=200, secs=sc["lat_s"])
            r["health_p50"] = js["p50_ms"]
            log(f"[{kind}] GET /health on a keep-alive connection: p50 {js['p50_ms']:.3f} ms")
            if "W1" in wl:
                self.write_workload(srv, "W1", "log_metric", f"{API}/runs/log-metric", sc["w1_conc"], 1,
                                    "key = 'w1_metric'", [])
            if "W14" in wl:
                self.w14_connections(srv)
            if "W3" in wl:
                if sc["fresh_groups"] and "W1" in wl:
                    srv.stop()
                    srv = self.new_server(kind, "w3")
                    self.start(srv, "startup_empty_ms")
                self.write_workload(srv, "W3", "log_batch", f"{API}/runs/log-batch", sc["w3_conc"], 1000,
                                    "key LIKE 'metric_%'", [100, 10])
                self.w3_limits(srv)
            r["peak_rss_write_mb"] = srv.peak_rss_kb() / 1024
            if "W3" in wl and kind == "mlflowd":
                if not sc["single_start"]:
                    srv.stop()  # nothing else runs meanwhile (at tiny scale it stays up, idle)
                self.w3_in_ram(srv.db)
            if "W13" in wl:
                srv = bench_soak.run(self, srv, log)
            if not reads:
                return
            # P2: seed through the REST API (same server at tiny scale)
            if not sc["single_start"]:
                srv.stop()
                srv = self.new_server(kind, "seeded")
                self.start(srv, "startup_empty_ms")
            eid, hid, names, skipped = self.seed(srv) if runs_needed else (None, None, {}, [])
            reg_skipped = self.registry_seed(srv) if "W11" in wl else []
            restart = sc["startup_reps"] > 0 or skipped or reg_skipped
            if restart:
                srv.stop()
                if skipped:
                    self.sql_fill(srv.db, eid, names, skipped)
                if reg_skipped:
                    self.registry_sql_fill(srv.db, reg_skipped)
            if runs_needed:
                self.measure_seeded_db(srv)
            # P3: restart on the seeded db with its file evicted from the page cache
            for rep in range(sc["startup_reps"] if restart else 0):
                evict_from_page_cache(srv.db)
                srv = self.new_server(kind, "seeded", srv.db)
                self.start(srv, "startup_seeded_ms" if sc["startup_reps"] else "startup_empty_ms")
                if rep < sc["startup_reps"] - 1:
                    srv.stop()
            if restart and not sc["startup_reps"]:
                srv = self.new_server(kind, "seeded", srv.db)
                self.start(srv, "startup_after_fill_ms")
            time.sleep(sc["idle_s"])
            r["idle_seeded_rss_mb"] = srv.rss_kb() / 1024
            if {"W5", "W7"} & set(wl):
                self.check_reads(srv, eid, names)
                self.calibrate(f"{kind}: reads (W5, W7)")
                self.time_reads(srv, eid, names)
            if "W11" in wl:
                tokens = self.check_registry(srv)
                self.calibrate(f"{kind}: registry (W11)")
                self.time_registry(srv, tokens)
            if "W9" in wl:
                self.soak(srv, eid, names)
        finally:
            srv.stop()

    def run(self):
        a = self.args
        log(f"benchmark at scale '{a.scale}', workdir {self.work}")
        self.info = self.machine()
        self.info["run_date"] = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
        log(f"machine: {self.info['cpu']}, {self.info['cores']} cores, kernel {self.info['kernel']}, "
            f"fs {self.info['fs']}; background CPU {self.info['background_cpu_pct_at_start']}%")
        if self.info["background_cpu_pct_at_start"] > 15:
            log("WARNING: other processes are using the CPU; figures will be noisy")
        self.compile_tools()
        # The ceilings run right before mlflowd (after stock), so that they
        # see the same machine conditions as the figures compared with them.
        order = [k for k in ("stock",) if k in a.servers] + ["ceilings"] + \
                [k for k in ("mlflowd",) if k in a.servers]
        for step in order:
            if step == "ceilings":
                if "ceilings" not in a.workloads:
                    continue
                self.calibrate("ceilings")
                try:
                    self.run_ceilings()
                except Exception as e:
                    self.errors.append(f"ceilings: {e}")
                    log(f"ceilings failed: {e}")
                    traceback.print_exc()
                continue
            try:
                self.bench_server(step)
            except Exception as e:
                self.errors.append(f"{step}: {e}")
                log(f"[{step}] aborted: {e}")
                traceback.print_exc()
        if "W15" in a.workloads and "mlflowd" in a.servers:
            try:
                self.w15_ui()
            except Exception as e:
                self.errors.append(f"W15: {e}")
                log(f"W15 (UI) failed: {e}")
        self.calibrate("end")
        self.compare_answers()
        self.info["loadavg_at_end"] = open("/proc/loadavg").read().split()[0]

    def compare_answers(self):
        if not ("stock" in self.args.servers and "mlflowd" in self.args.servers):
            return
        a, b = self.answers["stock"], self.answers["mlflowd"]
        for k in sorted(set(a) | set(b)):
            if k.endswith("_shape"):
                if a.get(k) and b.get(k) and a[k] != b[k]:
                    for part, (x, y) in zip(("run info fields", "run data fields", "run tag keys"),
                                            zip(a[k], b[k])):
                        only_s, only_m = sorted(set(x) - set(y)), sorted(set(y) - set(x))
                        if only_s or only_m:
                            n = (f"runs/search answers: {part} only stock sends: {', '.join(only_s) or 'none'}; "
                                 f"only mlflowd sends: {', '.join(only_m) or 'none'}")
                            if n not in self.notes["mlflowd"]:
                                self.notes["mlflowd"].append(n)
                continue
            if k.endswith("_token"):
                if k in a and k in b and a[k] != b[k]:
                    self.notes["mlflowd"].append(f"{k[:-6]}: next_page_token present: stock {a[k]}, "
                                                 f"mlflowd {b[k]}")
                continue
            if k not in a or k not in b:
                continue
            if a[k] != b[k]:
                wid = k
                if k in self.gates["stock"]:
                    continue  # stock itself failed its check; nothing to compare against
                detail = ""
                if isinstance(a[k], list) and isinstance(b[k], list):
                    first = next((i for i, (x, y) in enumerate(zip(a[k], b[k])) if x != y),
                                 min(len(a[k]), len(b[k])))
                    detail = (f"; {len(a[k])} vs {len(b[k])} items, first difference at {first}: "
                              f"stock {str(a[k][first] if first < len(a[k]) else None)[:200]} / "
                              f"mlflowd {str(b[k][first] if first < len(b[k]) else None)[:200]}")
                self.gate("mlflowd", wid, f"answer differs from stock's{detail}")
            else:
                log(f"answers equal: {k}")


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------


def busiest_name(r, wid, c):
    """' (name)' of the busiest server thread in a write workload's table row, if known."""
    name = r.get(f"{wid}_c{c}_busiest_name")
    return f" (`{name}`)" if name else ""


def fmt(v, unit=""):
    if v is None:
        return "—"
    if isinstance(v, dict):
        v = v["med"]
    if v == 0:
        return "0" + unit
    if isinstance(v, int):
        return f"{v:,}" + unit
    if abs(v) >= 1000:
        s = f"{v:,.0f}"
    elif abs(v) >= 100:
        s = f"{v:.0f}"
    elif abs(v) >= 10:
        s = f"{v:.1f}"
    elif abs(v) >= 1:
        s = f"{v:.2f}"
    else:
        s = f"{v:.3f}"
    return s + unit


def fmt_target(v, unit=""):
    return (f"{int(v):,}" if float(v).is_integer() else f"{v:g}") + unit


def fmt_range(s, unit=""):
    if s is None:
        return "—"
    if not isinstance(s, dict):
        return fmt(s, unit)
    if s["n"] == 1:
        return fmt(s["med"], unit)
    return f"{fmt(s['med'], unit)} ({fmt(s['min'])}–{fmt(s['max'])})"


def group_ceilings(c, sc, layout=""):
    """The raw SQLite group-commit ceilings among the ceilings' results c, as
    [(W3 concurrency, what, summary)]: for each W3 concurrency n > 1, n
    log-batches of n runs per transaction. Older results, from before the
    ceiling spread its batches over runs, hold one row of ten batches of one
    run instead (concurrency None). layout: "" for MLflow's layout as
    mlflowd keeps it, PRE_312 for the one before MLflow 3.12."""
    if layout:
        return [(n, f"{n} log-batches of {n} runs", c[f"sqlite_batch_FULL_g{n}_runs{n}{layout}"])
                for n in sc["w3_conc"] if n > 1 and c.get(f"sqlite_batch_FULL_g{n}_runs{n}{layout}")]
    out = []
    for n in sc["w3_conc"]:
        v = c.get(f"sqlite_batch_FULL_g{n}_runs{n}")
        if n > 1 and v:
            out.append((n, f"{n} log-batches of {n} runs", v))
    if c.get("sqlite_batch_FULL_g10"):
        out.append((None, "10 log-batches of one run", c["sqlite_batch_FULL_g10"]))
    return out


def startup_summary(xs):
    return summary(xs) if isinstance(xs, list) else None


def write_report(out, text, part=None):
    """Writes a report to out; with part, as a section between part's markers inside out (replacing the
    part's earlier text, or appended), its headings one level down, the rest of out as it was."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not part:
        out.write_text(text)
        return
    begin, end = f"<!-- bench-part:{part}:begin -->", f"<!-- bench-part:{part}:end -->"
    body = "\n".join("#" + ln if ln.startswith("#") else ln for ln in text.rstrip("\n").split("\n"))
    body = body.replace("## Benchmarks: mlflowd vs stock MLflow", f"## Benchmarks, part {part}", 1)
    block = f"{begin}\n{body}\n{end}\n"
    doc = out.read_text() if out.exists() else ""
    b, e = doc.find(begin), doc.find(end)
    if b >= 0 and e > b:
        doc = doc[:b] + block + doc[e + len(end):].lstrip("\n")
    else:
        doc = doc.rstrip("\n") + "\n\n" + block if doc else block
    out.write_text(doc)


class Report:
    def __init__(self, h):
        self.h = h
        self.rows = []  # for the plot: (label, ratio, target_ratio)

    def val(self, kind, key):
        v = self.h.res[kind].get(key)
        if isinstance(v, list):
            return summary(v)
        return v

    def build(self):
        h = self.h
        sc = h.sc
        s, m, c = h.res["stock"], h.res["mlflowd"], h.res["ceilings"]
        grp = group_ceilings(c, sc)
        best_grp = max(grp, key=lambda x: x[2]["med"]) if grp else None
        # the same shapes on MLflow's layout before 3.12 (since 2026-12-03)
        pre = ([(1, "one batch", c[f"sqlite_batch_FULL{PRE_312}"])] if c.get(f"sqlite_batch_FULL{PRE_312}") else [])
        pre += group_ceilings(c, sc, PRE_312)
        now_med = {n: v["med"] for n, _, v in grp}
        if c.get("sqlite_batch_FULL"):
            now_med[1] = c["sqlite_batch_FULL"]["med"]
        pre_cost = [1 - now_med[n] / v["med"] for n, _, v in pre if n in now_med]  # the index's share
        best_pre = max(pre, key=lambda x: x[2]["med"]) if pre else None
        info = h.info
        d = h.data
        L = []
        # the run's date, also when re-rendered from a kept results.json
        now = info.get("run_date") or datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
        L.append("# Benchmarks: mlflowd vs stock MLflow")
        L.append("")
        wl = getattr(h.args, "workloads", None)
        cmd = f"scripts/bench/run --scale {h.args.scale}"
        if wl and list(wl) != ALL_WORKLOADS:
            cmd += " --workloads " + ",".join(wl)
        if getattr(h.args, "part", None):
            cmd += f" --part {h.args.part}"
        L.append(f"Generated by `{cmd}` on {now}; do not edit by hand, "
                 f"rerun the script. Method and rationale: the benchmark design notes (workloads W0–W9, "
                 f"fairness rules); deviations are listed at the end.")
        L.append("")
        if h.args.scale != "full":
            L.append(f"> **Scale `{h.args.scale}`**: a reduced run. Only `--scale full` figures are "
                     f"meant to be compared with the targets.")
            L.append("")
        noisy = max(h.noise) if h.noise else 0
        if (med(h.noise) or 0) > 15:
            L.append(f"> **Noisy machine**: other processes used a median {med(h.noise) or 0:.0f}% (up to "
                     f"{noisy:.0f}%) of the CPUs during the timed runs. Absolute figures are pessimistic; "
                     f"ratios less so.")
            L.append("")
        if h.errors:
            L.append("> **Parts of the run failed**: " + "; ".join(e.replace("\n", " ")[:300] for e in h.errors))
            L.append("")

        # ---- summary table
        L.append("## Results")
        L.append("")
        L.append("Medians over repeated runs, with (min–max) where there was more than one. "
                 "Throughput: higher is better, ratio = mlflowd ÷ stock. Latency, time, memory and size: "
                 "lower is better, ratio = stock ÷ mlflowd. So a ratio above 1 always means mlflowd wins.")
        L.append("")
        L.append("| workload | stock | mlflowd | ratio | target (mlflowd) | met? |")
        L.append("|---|---|---|---|---|---|")

        def gate_of(kind, wids):
            probs = []
            for w in wids:
                probs += h.gates[kind].get(w, [])
            return probs

        def row(label, key, unit, better, target_abs=None, target_ratio=None, gate_ids=(), plot=True,
                ceiling=None, ceiling_frac=None, sv=None, mv=None, short=None):
            sv = sv if sv is not None else self.val("stock", key)
            mv = mv if mv is not None else self.val("mlflowd", key)
            if sv is None and mv is None:
                return
            sg, mg = gate_of("stock", gate_ids), gate_of("mlflowd", gate_ids)
            smed = sv["med"] if isinstance(sv, dict) else sv
            mmed = mv["med"] if isinstance(mv, dict) else mv
            ratio = None
            if smed is not None and mmed is not None and not sg and not mg and smed > 0 and mmed > 0:
                ratio = mmed / smed if better == "hi" else smed / mmed
            checks = []
            met = None
            if mmed is not None and not mg:
                if target_abs is not None:
                    okv = mmed >= target_abs if better == "hi" else mmed < target_abs
                    checks.append(okv)
                if target_ratio is not None and ratio is not None:
                    checks.append(ratio >= target_ratio)
                if ceiling_frac is not None and ceiling:
                    checks.append(mmed >= ceiling_frac * ceiling)
                if checks:
                    met = all(checks)
            tparts = []
            if target_abs is not None:
                tparts.append(("≥ " if better == "hi" else "< ") + fmt_target(target_abs, unit))
            if target_ratio is not None:
                tparts.append(f"≥ {target_ratio:g}× stock")
            if ceiling_frac is not None:
                tparts.append(f"≥ {ceiling_frac:.0%} of raw SQLite")
            scell = "gate failed" if sg else fmt_range(sv, unit)
            mcell = "**gate failed**" if mg else fmt_range(mv, unit)
            if mg and mmed is not None:
                mcell += f" (timed {fmt(mmed, unit)})"
            metcell = "—" if met is None else ("yes" if met else "**no**")
            if met and target_ratio is not None and ratio is None:
                metcell = "yes (ratio not measured)"
            if mg:
                metcell = "**no** (answers wrong)"
            L.append(f"| {label} | {scell} | {mcell} | {fmt(ratio, '×') if ratio else '—'} | "
                     f"{', '.join(tparts) or '—'} | {metcell} |")
            if plot and ratio:
                self.rows.append((short or label, ratio, target_ratio, met))

        su_e_s = startup_summary(s.get("startup_empty_ms"))
        su_e_m = startup_summary(m.get("startup_empty_ms"))
        su_s_s = startup_summary(s.get("startup_seeded_ms"))
        su_s_m = startup_summary(m.get("startup_seeded_ms"))
        pts = d.points()
        row("W0 start → first 200 on /health, empty db", None, " ms", "lo", 50, sv=su_e_s, mv=su_e_m,
            short="W0 startup, empty db")
        row(f"W0 start → first 200, db with {pts:,} points (db file evicted from page cache)", None, " ms", "lo",
            50, sv=su_s_s, mv=su_s_m, gate_ids=("seed",), short="W0 startup, seeded db (cold)")
        row("W0 GET /health, c=1 on a keep-alive connection: p50", "health_p50", " ms", "lo", plot=False)
        row("W0 idle RSS, whole process tree", "idle_rss_mb", " MiB", "lo", 10, short="W0 idle RSS")
        row(f"W14 log-metric, {W14_CLIENTS} keep-alive clients: req/s", f"W14_c{W14_CLIENTS}_rps", "", "hi",
            plot=False)
        row(f"W14 log-metric, {W14_CLIENTS} keep-alive clients: p99", f"W14_c{W14_CLIENTS}_p99", " ms", "lo",
            100, plot=False)
        row(f"W14 log-metric, {W14_CLIENTS} keep-alive clients: slowest request", f"W14_c{W14_CLIENTS}_max",
            " ms", "lo", plot=False)
        row(f"W14 new client (connect, GET /health) while {W14_HELD:,} connections sit idle or half-sent: "
            f"median", "W14_new_client_ms", " ms", "lo", plot=False)
        ui_sc = (h.res["mlflowd"].get("W15_ui_sc") or {})
        if ui_sc:
            n, cr, cp = ui_sc["nRuns"], ui_sc["chartRuns"], ui_sc["chartPoints"]
            row(f"W15 UI: first rows of a {n:,}-run experiment, from navigation", "W15_first_rows_ms", " ms", "lo",
                1000, plot=False)
            row("W15 UI: sort the runs by a metric column", "W15_sort_ms", " ms", "lo", 300, plot=False)
            row(f"W15 UI: sort the runs by duration (all {n:,} loaded, sorted in the page)", "W15_sort_duration_ms",
                " ms", "lo", plot=False)
            row(f"W15 UI: scroll the runs table from the first to the last of {n:,} runs", "W15_scroll_ms", " ms",
                "lo", 3000, plot=False)
            row("W15 UI: run page, from navigation", "W15_run_page_ms", " ms", "lo", 300, plot=False)
            row(f"W15 UI: chart of {cr} runs x {cp:,} points, first frame (preview sample)", "W15_chart_first_ms",
                " ms", "lo", plot=False)
            row(f"W15 UI: chart of {cr} runs x {cp:,} points, every spike drawn (stock: its chart drawn)",
                "W15_chart_ms", " ms", "lo", 500, plot=False)
            row("W15 UI: code and libraries, gzip as served (stock: JS+CSS of its first page)", "W15_size_kib",
                " KiB", "lo", 150, plot=False)
        row("W0 idle PSS, whole process tree", "idle_pss_mb", " MiB", "lo", plot=False)
        for cc in sc["w1_conc"]:
            tabs = 8000 if cc == 16 else None
            tr = 20 if cc == 16 else None
            row(f"W1 log-metric, c={cc}: req/s", f"W1_c{cc}_rps", "", "hi", tabs, tr, gate_ids=("W1",),
                plot=cc in (1, 16), short=f"W1 log-metric c={cc}")
        for cc in sc["w1_conc"]:
            row(f"W1 log-metric, c={cc}: p99 latency (closed loop)", f"W1_c{cc}_p99", " ms", "lo",
                5 if cc == 16 else None, gate_ids=("W1",), plot=False)
        for f in OPEN_LOOP_FRACTIONS:
            tag = f"ol{int(f * 100)}"
            rates = ", ".join(f"{k} {fmt(h.res[k].get(f'W1_{tag}_rate'))}" for k in ("stock", "mlflowd")
                              if h.res[k].get(f"W1_{tag}_rate"))
            row(f"W1 log-metric, c={OPEN_LOOP_CONC}, open loop at {f:.0%} of each server's max ({rates} req/s): "
                f"p99", f"W1_{tag}_p99", " ms", "lo", gate_ids=("W1",), plot=False)
        if m.get("W1_olt_p99"):
            for q in ("p50", "p90", "p99"):
                row(f"W1 log-metric, c={OPEN_LOOP_CONC}, open loop at {W1_TARGET_RPS:,} req/s: {q}",
                    f"W1_olt_{q}", " ms", "lo", 5 if q == "p99" else None, gate_ids=("W1",), plot=False)
        sq = c.get("sqlite_batch_FULL", {}) or {}
        for cc in sc["w3_conc"]:
            row(f"W3 log-batch 1000 points, c={cc}: points/s", f"W3_c{cc}_pps", "", "hi", 150000, 30,
                gate_ids=("W3",), ceiling=sq.get("med"), ceiling_frac=0.6, plot=True,
                short=f"W3 log-batch 1000 c={cc}")
        for cc in sc["w3_conc"]:
            row(f"W3 log-batch 1000 points, c={cc}: p99 latency", f"W3_c{cc}_p99", " ms", "lo",
                gate_ids=("W3",), plot=False)
        nr = f"{d.n_runs:,}"
        bench_traces.report_rows(row, sc)
        row(f"W5 search-runs on {nr} runs, metric filter + order, 100/page: p50", "w5_m_100_p50", " ms", "lo",
            10, 30, gate_ids=("w5_m_100",), short="W5 search metric filter, 100/page")
        row(f"W5 search-runs on {nr} runs, metric filter + order, 1000/page: p50", "w5_m_1000_p50", " ms", "lo",
            50, 30, gate_ids=("w5_m_1000",), short="W5 search metric filter, 1000/page")
        row(f"W5 search-runs on {nr} runs, param filter + metric order, 100/page: p50", "w5_p_100_p50", " ms",
            "lo", gate_ids=("w5_p_100",), short="W5 search param filter, 100/page")
        row(f"W5 search-runs on {nr} runs, no filter, 1000/page: p50", "w5_all_1000_p50", " ms", "lo",
            gate_ids=("w5_all_1000",), short="W5 search no filter, 1000/page")
        row(f"W5 search-runs 100/page at c={sc['w5_conc']}: req/s", "w5_m_100_conc_rps", "", "hi",
            gate_ids=("w5_m_100",), plot=False)
        row(f"W7 get-history, {d.hist_points:,}-point series (all pages of 25,000): p50", "w7_hist_big_p50",
            " ms", "lo", 50 if d.hist_points >= 100000 else None, gate_ids=("w7_hist_big",),
            short=f"W7 get-history {d.hist_points:,} pts")
        row(f"W7 get-history, {d.small_hist:,}-point series: p50", "w7_hist_small_p50", " ms", "lo",
            gate_ids=("w7_hist_small",), short=f"W7 get-history {d.small_hist:,} pts")
        row(f"W7 get-history-bulk-interval, {d.bulk_runs} runs × 320 points: p50", "w7_bulk_p50", " ms", "lo", 5,
            gate_ids=("w7_bulk",), short="W7 bulk-interval 10 x 320")
        row(f"W7 get-history-bulk-interval at c={sc['w7_conc']}: req/s", "w7_bulk_conc_rps", "", "hi",
            gate_ids=("w7_bulk",), plot=False)
        rd = h.reg
        nrm, nmv = f"{rd.n_models:,}", f"{rd.n_versions():,}"
        row(f"W11 search-registered-models on {nrm} models, 100/page, first page: p50", "w11_rm_first_p50", " ms",
            "lo", 5, 100, gate_ids=("w11_rm_first",), short="W11 search registered models")
        row(f"W11 search-registered-models on {nrm} models, 100/page, middle page: p50", "w11_rm_mid_p50", " ms",
            "lo", 5, 100, gate_ids=("w11_rm_first", "w11_rm_mid"), plot=False)
        row(f"W11 search-registered-models, `{rd.RM_FILTER}`, 100/page: p50", "w11_rm_filter_p50", " ms", "lo",
            gate_ids=("w11_rm_filter",), plot=False)
        row(f"W11 search-model-versions on {nmv} versions, 100/page, first page: p50", "w11_mv_first_p50", " ms",
            "lo", 5, 100, gate_ids=("w11_mv_first",), short="W11 search model versions")
        row(f"W11 search-model-versions on {nmv} versions, 100/page, middle page: p50", "w11_mv_mid_p50", " ms",
            "lo", 5, 100, gate_ids=("w11_mv_first",), plot=False)
        row(f"W11 search-model-versions, `{rd.MV_FILTER}` ({len(rd.versions('bench-model-0001')):,} versions): p50",
            "w11_mv_filter_p50", " ms", "lo",
            gate_ids=("w11_mv_filter",), plot=False)
        row("W11 create-model-version, c=1: p50", "w11_create_p50", " ms", "lo", 2, gate_ids=("w11_create",),
            short="W11 create-model-version")
        sw, mw = s.get("w9"), m.get("w9")
        if sw or mw:
            g = lambda x, k: x.get(k) if x else None  # noqa: E731
            row(f"W9 soak ({sc['soak_s']} s): accepted steps/s (800 offered)", None, "", "hi",
                sv=g(sw, "steps_per_s"), mv=g(mw, "steps_per_s"), plot=False)
            row("W9 soak: writer log-batch p99", None, " ms", "lo", sv=g(sw, "writer_p99"), mv=g(mw, "writer_p99"),
                plot=False)
            row("W9 soak: reader search p99", None, " ms", "lo", sv=g(sw, "search_p99"), mv=g(mw, "search_p99"),
                plot=False)
            row("W9 soak: errors (% of requests)", None, "%", "lo", sv=g(sw, "error_pct"),
                mv=g(mw, "error_pct"), plot=False)
            row("W9 soak: RSS at end, whole tree", None, " MiB", "lo", sv=g(sw, "rss_end_mb"),
                mv=g(mw, "rss_end_mb"), plot=False)
        bench_soak.report_rows(row, sc)
        bs = s.get("bytes_per_m_points")
        bm = m.get("bytes_per_m_points")
        row("DB size per million points (seeded db, after checkpoint)", None, " MiB", "lo",
            sv=bs / 2**20 if bs else None, mv=bm / 2**20 if bm else None, plot=False)
        if bs and bm:
            L[-1] = L[-1].rsplit("|", 3)[0] + f"| ≤ stock | {'yes' if bm <= bs else '**no**'} |"
        row("Seeding through the REST API: points/s", "seed_pps", "", "hi", plot=False)
        L.append("")
        hs = s.get("health_p50")
        if hs and hs > 30:
            L.append(f"Stock answers even `GET /health` in {hs:.0f} ms on a keep-alive connection (it takes "
                     f"~1–2 ms on a new connection): its responses leave in two TCP segments, and Nagle's "
                     f"algorithm holds the second until the client's delayed ACK (~40 ms). The MLflow Python "
                     f"client reuses connections (`requests.Session`), so real clients pay this on every call; "
                     f"it is part of stock's figures here, as it is in use.")
            L.append("")
        sq_abs = (c.get("sqlite_batch_FULL") or {}).get("med")
        if sq_abs and sq_abs < 150000:
            if best_grp and best_grp[2]["med"] >= 150000:
                L.append(f"The absolute W3 target (150,000 points/s) is above this machine's raw SQLite figure "
                         f"with one log-batch per transaction ({sq_abs:,.0f} points/s, see Ceilings), but raw "
                         f"SQLite with {best_grp[1]} per transaction reaches {best_grp[2]['med']:,.0f}: only "
                         f"group commit over many runs brings it within reach.")
            else:
                L.append(f"The absolute W3 target (150,000 points/s) is above this machine's raw SQLite ceiling "
                         f"({sq_abs:,.0f} points/s in 1000-row transactions, see Ceilings): on this disk the "
                         f"fraction of the ceiling is the meaningful figure.")
            if best_pre and best_pre[2]["med"] >= 150000 and (not best_grp or best_grp[2]["med"] < 150000):
                L.append(f"It is not above SQLite with the layout of MLflow before 3.12: without the "
                         f"`(run_uuid, key, step)` metric index that 3.12 added, raw SQLite reaches "
                         f"{best_pre[2]['med']:,.0f} points/s with {best_pre[1]} per transaction. The target "
                         f"fits that layout's three b-trees per point, not the four of MLflow 3.17.2's, which "
                         f"mlflowd keeps so that one file opens in both.")
            st3 = [(cc, (s.get(f"W3_c{cc}_pps") or {}).get("med")) for cc in sc["w3_conc"]]
            st3 = [(cc, v) for cc, v in st3 if v]
            if st3 and best_grp:
                need = ", ".join(f"{30 * v:,.0f} at c={cc}" for cc, v in st3)
                if all(30 * v > best_grp[2]["med"] for _, v in st3):
                    L.append(f"So is the 30× ratio: 30 times stock's W3 figures is {need} points/s, above even "
                             f"raw SQLite with {best_grp[1]} per transaction ({best_grp[2]['med']:,.0f} points/s).")
            L.append("")
        L.append("c = concurrent keep-alive connections (wrk, closed loop: latency under overload includes "
                 "queueing at the client). Latency rows at c=1 are from `reqlat` (one connection, "
                 "request after request). Open-loop rows are from `reqlat -R`: the connections send at a fixed "
                 "total rate whatever the answers do, and each latency counts from when its request was due, so "
                 "a stall counts against every request it held back (a closed loop stops sending while it "
                 "waits, and hides most of them). \"gate failed\" means the server's answers were wrong or "
                 "differed from stock's, so its figure is not reported (see Correctness).")
        L.append("")
        if self.rows and not h.args.no_plot:
            png = self.plot()
            if png:
                L.append(f"![mlflowd ÷ stock per workload, and W1 against the civetweb ceiling]({png})")
                L.append("")

        # ---- ceilings
        L.append("## Ceilings on this machine")
        L.append("")
        L.append("Measured in the same run by small programs under `scripts/bench/`, compiled with `cc -O2`.")
        L.append("")
        L.append("| ceiling | figure |")
        L.append("|---|---|")
        if c.get("sqlite_batch_FULL"):
            # since 2026-12-03 the program uses mlflowd's writer settings and says so
            kib = c.get("sqlite_cache_size")
            vfs = ", WAL writes gathered by mlflowd's VFS (`storage/wal_vfs.c`)" if c.get("sqlite_vfs") else ""
            settings = (f"mlflowd's writer settings (multi-thread mode, no memory statistics, "
                        f"{-int(kib) // 1024} MiB page cache{vfs}), " if kib else "")
            L.append(f"| SQLite {c.get('sqlite_version', '')}, MLflow's metrics tables, {settings}WAL, "
                     f"synchronous=FULL, 1000-row transactions (100 keys × 10 steps + latest_metrics upsert), "
                     f"prepared statements: points/s | {fmt_range(c['sqlite_batch_FULL'])} |")
            L.append(f"| same, one point per transaction (log-metric shape): commits/s | "
                     f"{fmt_range(c['sqlite_commit_FULL'])} |")
            if c.get("sqlite_commit_p99_FULL"):
                L.append(f"| same, latency of one such commit, one at a time (SQLite's own checkpoints included): "
                         f"p50; p99 | {fmt_range(c['sqlite_commit_p50_FULL'], ' ms')}; "
                         f"{fmt_range(c['sqlite_commit_p99_FULL'], ' ms')} |")
            for sfx, what in (("FULL", "nothing else running"),
                              ("FULL_spin1", "while one other thread keeps a CPU busy")):
                if c.get(f"sqlite_commit_slow_time_pct_{sfx}"):
                    L.append(f"| same, {what}: p99.9; max; commits over 5 ms per second (share of the time "
                             f"spent in them) | {fmt_range(c[f'sqlite_commit_p999_ms_{sfx}'], ' ms')}; "
                             f"{fmt(c[f'sqlite_commit_max_ms_{sfx}']['med'], ' ms')}; "
                             f"{fmt_range(c[f'sqlite_commit_slow_per_s_{sfx}'])} "
                             f"({fmt(c[f'sqlite_commit_slow_time_pct_{sfx}']['med'], '%')}) |")
            for cc, what, v in grp:
                shape = f" (as W3's {cc} clients send them)" if cc else ""
                at = f" at c={cc}" if cc else ""
                L.append(f"| same, {what}{shape} per transaction, what group commit could reach{at}: points/s | "
                         f"{fmt_range(v)} |")
            if pre:
                L.append(f"| same, MLflow's layout before 3.12 (without the `(run_uuid, key, step)` metric index: "
                         f"three b-trees per point instead of four), "
                         + "; ".join(what for _, what, _ in pre) + " per transaction: points/s | "
                         + "; ".join(fmt_range(v) for _, _, v in pre) + " |")
            if c.get("sqlite_batch_NORMAL"):
                L.append(f"| same with synchronous=NORMAL: points/s in 1000-row txns; commits/s | "
                         f"{fmt_range(c['sqlite_batch_NORMAL'])}; {fmt_range(c['sqlite_commit_NORMAL'])} |")
            L.append(f"| size of MLflow's metrics layout per million points (raw inserts, one run) | "
                     f"{fmt(c['sqlite_bytes_per_m_FULL']['med'] / 2**20, ' MiB')} |")
        for cc in sc["w1_conc"]:
            if c.get(f"civetweb_post_c{cc}"):
                L.append(f"| civetweb {info['civetweb']}, trivial handler, POST of a log-metric body, reply `{{}}`, "
                         f"c={cc}: req/s (p99) | {fmt_range(c[f'civetweb_post_c{cc}'])} "
                         f"({fmt(c[f'civetweb_post_p99_c{cc}']['med'], ' ms')}) |")
        if c.get("civetweb_get_c16"):
            L.append(f"| civetweb GET /health, c=16: req/s | {fmt_range(c['civetweb_get_c16'])} |")
        ram = [(cc, m[f"W3ram_c{cc}_pps"]) for cc in sc["w3_conc"] if m.get(f"W3ram_c{cc}_pps")]
        if ram:
            L.append(f"| mlflowd's own W3 on a fresh database in RAM (tmpfs: nothing reaches the disk, syncs return at "
                     f"once), " + " / ".join(f"c={cc}" for cc, _ in ram) + ": points/s | "
                     + " / ".join(fmt_range(v) for _, v in ram) + " |")
        L.append("")
        L.append("mlflowd as a fraction of the ceilings:")
        L.append("")
        L.append("| mlflowd figure | ceiling | fraction |")
        L.append("|---|---|---|")

        def frac(label, num, den, target=None):
            if num is None or not den:
                return
            n = num["med"] if isinstance(num, dict) else num
            dd = den["med"] if isinstance(den, dict) else den
            t = ""
            if target:
                t = f" (target ≥ {target:.0%}: {'met' if n / dd >= target else '**not met**'})"
            L.append(f"| {label} | {fmt(dd)} | {n / dd:.0%}{t} |")

        if m:
            best3 = max((m.get(f"W3_c{cc}_pps") or {"med": 0})["med"] for cc in sc["w3_conc"]) if any(
                m.get(f"W3_c{cc}_pps") for cc in sc["w3_conc"]) else None
            frac("W3 log-batch, best points/s over c", best3, c.get("sqlite_batch_FULL"), 0.6)
            for cc in sc["w3_conc"]:
                frac(f"W3 log-batch c={cc} points/s vs the same with the database in RAM",
                     m.get(f"W3_c{cc}_pps"), m.get(f"W3ram_c{cc}_pps"))
            for cc, what, v in grp:
                if cc:
                    frac(f"W3 log-batch c={cc} points/s vs {what} per transaction", m.get(f"W3_c{cc}_pps"), v)
                else:
                    frac(f"W3 log-batch, best points/s over c, vs {what} per transaction", best3, v)
            for cc in sc["w1_conc"]:
                frac(f"W1 log-metric c={cc} req/s vs civetweb POST c={cc}", m.get(f"W1_c{cc}_rps"),
                     c.get(f"civetweb_post_c{cc}"))
            frac("W1 log-metric c=1 req/s vs SQLite single-point commits/s", m.get("W1_c1_rps"),
                 c.get("sqlite_commit_FULL"))
            frac("W1 log-metric c=16 req/s vs SQLite single-point commits/s (above 100% = group commit)",
                 m.get("W1_c16_rps"), c.get("sqlite_commit_FULL"))
            if m.get("bytes_per_m_points") and c.get("sqlite_bytes_per_m_FULL"):
                frac("seeded db MiB per million points vs raw metrics layout (MiB)", m["bytes_per_m_points"] / 2**20,
                     c["sqlite_bytes_per_m_FULL"]["med"] / 2**20)
        L.append("")

        # ---- bounds
        if m:
            L.append("## What bounds each figure")
            L.append("")
            L.append("From profiles of mlflowd under each workload (`perf record -g` on the server while the "
                     "workload runs); the numbers are this run's.")
            L.append("")
            g1 = c.get("sqlite_batch_FULL")
            out_of_reach = (", so the 150k points/s target is above what SQLite itself reaches with MLflow's "
                            "layout on this machine" if best_grp and best_grp[2]["med"] < 150000 else "")
            reach = [f"{fmt(g1)} points/s with one batch"] + [f"{fmt(v)} with {what}" for _, what, v in grp]
            reach = ", ".join(reach[:-1]) + " and " + reach[-1] if len(reach) > 1 else reach[0]
            index_cost = ""
            if pre_cost:
                lo, hi = min(pre_cost), max(pre_cost)
                share = (f"up to {hi:.0%}" if lo <= 0 else f"{lo:.0%}" if round(lo * 100) == round(hi * 100)
                         else f"{lo:.0%}–{hi:.0%}")
                index_cost = (" On MLflow's layout before 3.12, without the `(run_uuid, key, step)` index "
                              "that 3.12 added for metric-history reads, the same program reaches "
                              + ", ".join(f"{fmt(v)} with {what}" for _, what, v in pre)
                              + f": that one index costs {share} of SQLite's rate here. Each batch adds 10 "
                              "entries to the end of each of its 100 keys' ranges within its run, so each batch "
                              "dirties about one leaf page of it per key, and batches of different runs "
                              "committed together share none of them.")
            passes = (" Here mlflowd passes the one-batch figure: the program inserts, commits, syncs and "
                      "checkpoints on one thread (without SQLite's checkpoints it gains 4–8%), while mlflowd "
                      "parses on the worker threads and checkpoints on a thread of its own."
                      if best3 and g1 and best3 > g1["med"] else "")
            busy = [(cc, (m.get(f"W3_c{cc}_busiest_pct") or {}).get("med")) for cc in sc["w3_conc"]]
            busy = [(cc, v) for cc, v in busy if v is not None]
            c1_waits = "at c=1 each batch also waits for its client and its sync"
            names = {cc: m.get(f"W3_c{cc}_busiest_name") for cc, _ in busy}
            if busy and all(names.values()):
                # this run's own figures, by the names mlflowd gives its threads
                who = sorted(set(names.values()))
                if who == ["mlflowd-writer"]:
                    who = "was the writer (`mlflowd-writer`) at every concurrency, busy "
                else:
                    who = ("was " + ", ".join(f"`{names[cc]}` at c={cc}" for cc, _ in busy) + ", busy ")
                busy_w3 = ("In this run the busiest mlflowd thread " + who
                           + ", ".join(f"{v:.0f}% of a core at c={cc}" for cc, v in busy)
                           + f" (median over the repetitions; {c1_waits}). ")
            elif busy:
                # results from before mlflowd named its threads: the perf profiles show it is the writer
                busy_w3 = ("In this run the busiest mlflowd thread (the writer, by the perf profiles of "
                           "2026-12-03) was busy "
                           + ", ".join(f"{v:.0f}% of a core at c={cc}" for cc, v in busy)
                           + f" (median over the repetitions; {c1_waits}). ")
            else:
                busy_w3 = ("Per-thread CPU (from /proc, 6 s inside 12-s W3 runs of 2026-12-03): the writer "
                           f"thread was busy 87–91% of a core at c=4 and c=16, 59% at c=1 ({c1_waits}). ")
            # the writer's CPU per 1000-point batch at each c > 1 (at c=1 it also waits)
            per = [(cc, v / 100 / m[f"W3_c{cc}_rps"]["med"] * 1e3) for cc, v in busy
                   if cc > 1 and (m.get(f"W3_c{cc}_rps") or {}).get("med")]
            if per:
                least = min(ms for _, ms in per)
                per_batch = ("That is " + ", ".join(f"{ms:.1f} ms at c={cc}" for cc, ms in per)
                             + " of one core per 1000 points, so a writer busy all the time would reach about "
                             f"{1e3 / least:.0f}k points/s on this machine. ")
            else:
                per_batch = ("At c=4 that was about 8.6 ms of one core per 1000 points, so a writer busy all "
                             "the time would reach about 116k points/s on this machine. ")
            helpers = {}
            for cc in sc["w3_conc"]:
                for n, v in (m.get(f"W3_c{cc}_thread_pct") or {}).items():
                    if n in ("mlflowd-ckpt", "mlflowd-sync") and v:
                        helpers.setdefault(n, []).append(v["med"])
            if len(helpers) == 2:
                rng = {n: (f"{min(v):.0f}–{max(v):.0f}%" if round(min(v)) != round(max(v)) else f"{min(v):.0f}%")
                       for n, v in helpers.items()}
                busy_w3 += (f"Beside it the checkpoint thread took {rng['mlflowd-ckpt']} of a core and the sync "
                            f"thread {rng['mlflowd-sync']} (medians at each concurrency). ")
            else:
                busy_w3 += ("Beside it the checkpoint thread took 16–26% of a core and the sync thread under 5% "
                            "(measured on 2026-12-03). ")
            # this run's split of W3 between the disk and the CPU (since 2026-12-06)
            ram = [(cc, m[f"W3ram_c{cc}_pps"]["med"], (m.get(f"W3ram_c{cc}_busiest_pct") or {}).get("med"))
                   for cc in sc["w3_conc"] if m.get(f"W3ram_c{cc}_pps")]
            disk_split = ""
            if ram:
                best_ram = max(v for _, v, _ in ram)
                wbusy = [b for cc, _, b in ram if b is not None and cc > 1]
                share = [m[f"W3_c{cc}_pps"]["med"] / v for cc, v, _ in ram if m.get(f"W3_c{cc}_pps")]
                disk_split = ("On a fresh database in RAM (tmpfs, "
                              "where nothing reaches the disk and every sync returns at once) mlflowd reached "
                              + ", ".join(f"{fmt(v)} at c={cc}" for cc, v, _ in ram) + " points/s"
                              + (f", its writer busy {min(wbusy):.0f}–{max(wbusy):.0f}% of a core at c > 1"
                                 if wbusy else "")
                              + (f"; on the disk W3 reached {min(share):.0%}–{max(share):.0%} of that"
                                 if share else "")
                              + (". So even with no disk at all W3 stays below 150k points/s on this machine: the "
                                 "writer's CPU for SQLite's work bounds it first. " if best_ram < 150000 else ". "))
            kib = [(cc, m.get(f"W3_c{cc}_disk_kib_per_point"), m.get(f"W3_c{cc}_disk_mb_s"))
                   for cc in sc["w3_conc"] if m.get(f"W3_c{cc}_disk_kib_per_point")]
            if kib:
                sk = [s.get(f"W3_c{cc}_disk_kib_per_point") for cc, _, _ in kib if s.get(f"W3_c{cc}_disk_kib_per_point")]
                disk_split += ("The disk received "
                               + ", ".join(f"{fmt(mb)} MB/s ({k:.1f} KiB per point) at c={cc}" for cc, k, mb in kib)
                               + " from mlflowd under W3 (WAL frames and the checkpoints' copies, /proc/diskstats)"
                               + (f", and {min(sk):.1f}–{max(sk):.1f} KiB per point from stock (rollback journal "
                                  "and database file)" if sk else "")
                               + (f": a point takes about {m['bytes_per_m_points'] / 1e6:.0f} bytes in the "
                                  "database file, but SQLite writes whole 4 KiB pages. "
                                  if m.get("bytes_per_m_points") else ". "))
            L.append(f"- **W3 log-batch** ({fmt(best3)} points/s at best): the one writer that SQLite allows per "
                     "database, busy with SQLite's own work. " + disk_split + "Every point goes into MLflow's four "
                     "b-trees (the "
                     "table, the 6-column primary key led by `key`, the `run_uuid` index and the "
                     "`(run_uuid, key, step)` index), and a 100-key batch touches about 100 leaf pages of each "
                     "key-led index, all rewritten to the WAL and synced before the answer. " + busy_w3 +
                     "By perf with DWARF call graphs at "
                     "c=4, 70% of the writer's own work is the batch's inserts (b-tree seeks, inserts and "
                     "rebalancing) and 30% the commit, which writes the batch's WAL frames; mlflowd's code outside "
                     "SQLite takes under 2% of it. " + per_batch +
                     "More clients only queue behind the writer. "
                     f"The raw SQLite program reaches {reach} per transaction{out_of_reach}"
                     + ("." + index_cost + " " if index_cost else "; ") +
                     "mlflowd's own work (HTTP, JSON, validation, sorting the batch) runs on the worker threads, "
                     "checkpoints run on a thread of their own, and concurrent batches share a commit. "
                     "A batch writes about 540 WAL frames (2.2 MB): appending to the end of each key's range in "
                     "the middle of a key-led index makes SQLite split a full leaf about every other batch, "
                     "rebalancing it with two neighbours and their parent (in the `(run_uuid, key, step)` index, "
                     "about 3 pages per key per batch). Under sustained batches the checkpoint thread never "
                     "catches up with the WAL's last frame, so the WAL starts over only when the writer finishes a "
                     "checkpoint itself at 32,768 pages (128 MiB), about every 0.4 s; it copies only what the "
                     "checkpoint thread has not (10–16 ms). Until 2026-12-03 the checkpoint thread was not woken "
                     "again after a restart whose first commit wrote over 1,000 pages, so the writer copied the "
                     "whole WAL at the bound (about 65 ms every 0.4 s); fixing that cut W3's p99 at c=4 from "
                     "88–138 ms to 39–45 ms and left its throughput within noise. "
                     "What raised it a little: a 32 MiB page cache for the writer instead of 8 MiB (since "
                     "2026-12-03; in interleaved runs in ABBA order W3 gained 4–5% at c=1, 6–8% at c=4 and 8–12% at "
                     "c=16, W1 and the reads stayed within noise, and peak RSS under writes went from 33 to 57 MiB): "
                     "batches of many runs in one commit touch a leaf per run and key, more than 8 MiB holds. "
                     "And gathering WAL writes (since 2026-12-04, `storage/wal_vfs.c`): SQLite writes each frame "
                     "with two pwrite calls, about 1,100 per batch, each a trip through the kernel's write path; "
                     "mlflowd's VFS sends a batch's frames out in about 20 writes of up to 124 KiB. In two rounds "
                     "of interleaved runs at the small scale (ABAB, then BAAB) W3 gained 13–18% at c=1, 6–27% at "
                     "c=4 and 5–32% at c=16 (mean of each binary's medians per round), and the raw SQLite program "
                     "8–25% with one or 4 batches per transaction; the ceilings here use it too. "
                     "And running a group's jobs without a savepoint each (since 2026-12-04): a savepoint makes "
                     "SQLite copy every page a job touches first into a statement journal, which cost the raw "
                     "SQLite program 10–25% with 8 or 16 batches per transaction; the writer now runs a group "
                     "without them and, only when a job fails, rolls the group back and runs it again with one "
                     "savepoint per job. In interleaved runs at the small scale (ABBAAB) W3 gained 18% at c=4 and "
                     "21% at c=16 (mean of each binary's medians; c=1, one job per group, unchanged), and on a "
                     "fresh database driven by wrk alone (3 rounds, ABABAB) 6% at c=4 and 12% at c=16. "
                     "And the checkpoint thread below the writer (since 2026-12-06, nice +10): at equal priority "
                     "it preempted the writer on the two cores; in four interleaved rounds W3 gained 10% at c=4 "
                     "(means 127.6k and 140.7k points/s, the writer busy 85% and 88% of a core), while c=16 and "
                     "W1 at c=16 stayed within noise. "
                     "What did not raise it: a 64 MiB cache in an earlier trial (no gain measured then), "
                     "8 or 16 KiB pages, a WITHOUT ROWID metrics table "
                     "(raw SQLite 54k/88k points/s against 95k/167k); 2 KiB pages for new databases (W3 +0–7%, "
                     "but the param-filter search about 30% and bulk-interval at c=8 about 10% slower); and, in "
                     "mlflowd itself (interleaved A/B runs), the writer without foreign-key checks (within noise), "
                     "waking the checkpoint thread every 8,000 WAL pages instead of 1,000 (a quarter fewer bytes "
                     "written, W3 +4–6% at c=4 but its p99 57 → 70 ms, as the writer copies more at the bound), or "
                     "keeping freed heap memory mapped (13,000 page faults a second fewer, within noise); "
                     "on 2026-12-06, one INSERT … SELECT per batch from a virtual table over its points instead "
                     "of one statement per point (20% fewer instructions by callgrind, but no faster by the "
                     "clock: the b-tree work is bound by memory, not instructions), a WAL bound of 131,072 pages "
                     "(within noise), and `secure_delete=OFF` (Debian builds SQLite with it on, and without "
                     "lookaside memory; 1% fewer instructions). "
                     "The figure follows the machine's speed: on a slow afternoon of the same day (CPU calibration "
                     "63–66 ms), with the program still on SQLite's default settings, raw SQLite reached only "
                     "49–51k points/s with one batch per transaction and 93–96k "
                     "with ten batches of one run, and mlflowd 71–80k at c=4, so the fraction of the ceiling is the "
                     "figure that carries from run to run. Spread over as many runs as W3's clients log to, group "
                     "commit gains less (that afternoon 59–60k points/s with 4 batches of 4 runs, 68–79k with 16 "
                     "of 16, against 90–99k with 10 of one run): each run's batch lands in leaves of its own in the "
                     "`(run_uuid, key, step)` index, so the ceilings now measure that shape." + passes)
            raw16 = [x for x in m.get("W1_c16_raw") or [] if x.get("busiest_thread_pct") is not None]
            w1_cpu = ""
            if raw16:
                # this run's CPU at c=16: the server's threads together, wrk, the busiest server thread
                srv = statistics.median(x["server_cpu_s"] / x["seconds"] for x in raw16)
                cli = statistics.median(x["client_cpu_s"] / x["seconds"] for x in raw16)
                top = statistics.median(x["busiest_thread_pct"] for x in raw16)
                who = m.get("W1_c16_busiest_name")
                w1_cpu = (f" In this run at c=16 mlflowd's threads used {srv:.2f} of the two cores together and "
                          f"wrk {cli:.2f} (medians), and no mlflowd thread was busier than {top:.0f}% of a core"
                          + (f" (the busiest was `{who}`)." if who else "."))
            L.append(f"- **W1 log-metric** ({fmt(m.get('W1_c16_rps'))} req/s at c=16): the writer thread, "
                     "which per group commit writes every page the group dirtied to the WAL (each point touches "
                     "the leaf pages of four metric b-trees and of latest_metrics), while the sync thread "
                     "fdatasyncs the WAL for the group before; the client, the 16 worker threads, the writer and "
                     "the sync thread share two cores. civetweb alone answers "
                     f"{fmt(c.get('civetweb_post_c16'))} req/s for the same POST, and one SQLite commit per point "
                     f"reaches {fmt(c.get('sqlite_commit_FULL'))} commits/s. Measured with an instrumented build "
                     "(6 s at c=16): groups of 5–6 jobs (median; at most 16) write about 28 WAL frames (115 KB) "
                     "each; the WAL sync takes 0.45–0.5 ms at the median." + w1_cpu)
            spin = c.get("sqlite_commit_slow_time_pct_FULL_spin1")
            quiet = c.get("sqlite_commit_slow_time_pct_FULL")
            slow_s = c.get("sqlite_commit_slow_per_s_FULL_spin1")
            # a disk that synced every lone commit within 5 ms, even with a CPU busy
            prompt = bool(slow_s and slow_s["med"] < 1)
            spin_txt = (f"Lone SQLite commits show it (Ceilings): with nothing else running "
                        f"{fmt(quiet['med'], '%')} of the time goes to commits over 5 ms (SQLite's own "
                        f"checkpoints among them); while one other thread keeps a CPU busy, "
                        f"{fmt(slow_s['med'])} commits a second take over 5 ms, "
                        f"{fmt(spin['med'], '%')} of the time, up to "
                        f"{fmt(c['sqlite_commit_max_ms_FULL_spin1']['med'], ' ms')}. " if spin and quiet else "")
            olt = m.get("W1_olt_p99")
            head = (f"- **W1 latency** (p99 {fmt(m.get('W1_c16_p99', {}).get('med'), ' ms')} in the closed loop "
                    f"at c=16" + (f", {fmt(olt['med'], ' ms')} at {W1_TARGET_RPS:,} req/s offered" if olt else "")
                    + "): ")
            vm = ("On this machine (a virtual machine whose disk is served by its host), a sync issued while a "
                  "CPU is busy now and then completes only at the next 100-ms boundary, 10–20 ms late. ")
            if prompt:
                head += ("in this run the disk synced promptly: lone SQLite commits stayed under 5 ms even while "
                         "another thread kept a CPU busy (Ceilings, up to "
                         f"{fmt(c['sqlite_commit_max_ms_FULL_spin1']['med'], ' ms')}), and the p99 is set by the "
                         "occasional group whose sync is slow. It is not always so. " + vm +
                         "On such days (in an earlier run, 20% of the time went to lone commits over 5 ms with a "
                         "CPU busy, and the p99 at 8,000 req/s offered was 18.5 ms) the p99 is set by these "
                         "waits. ")
            else:
                head += "the disk's late syncs while the CPUs are busy. " + vm + spin_txt
            L.append(head +
                     "A client that sends one request at a time meets only the one commit that waits, so a lone "
                     f"commit's p99 with a CPU busy stays at {fmt(c.get('sqlite_commit_p99_FULL_spin1', {}).get('med'), ' ms')}; a "
                     "server under load holds back every request that arrives during the wait (at 8,000 req/s a "
                     "15 ms wait holds about 120), so the open-loop p90 and p99 are set by these waits, and the "
                     "closed loop hides most of them because its clients stop sending while they wait. Traced in "
                     "mlflowd (open loop, 4,000 req/s, 8 s, on a slow day): the slow requests come in episodes "
                     "100 ms apart (or a multiple of it), each starting with one WAL fdatasync of 11–17 ms while "
                     "most syncs take 0.16 ms (median); `perf sched timehist` on a plain write-and-fdatasync loop "
                     "beside one spinning thread shows the syncing thread asleep for 17–19 ms with 0.03 ms of "
                     "scheduling delay, woken by the disk's completion interrupt at the 100-ms boundary, and with "
                     "no thread spinning the same loop has no slow sync in 3 s. In mlflowd the episodes stayed "
                     "with no checkpoints at all, without the writer's own checkpoint, and with the writer waiting "
                     "for each sync instead of committing the next group meanwhile (p99 13–15 ms at 4,000 req/s "
                     "offered in each case). So on such days the 5 ms p99 target is below what this disk allows "
                     "while the CPUs are busy; what mlflowd controls is that a group needs one sync and a request "
                     "waits for no more than its own group's.")
            L.append("- **Reads on both cores**: a long read uses the machine's second core through a small pool "
                     "of helper threads (`storage/pool.c`, one per CPU beyond the first), each with its own read "
                     "connection. The answer of a parallel read is used only when the request's own connection "
                     "shows by `PRAGMA data_version` that nothing was committed meanwhile (one snapshot); "
                     "otherwise the read runs again on one connection. With two cores the read figures below "
                     "are therefore bounded by about half of the work, plus what stays serial.")
            L.append(f"- **W7 get-history** ({fmt(m.get('w7_hist_big_p50'), ' ms')} for "
                     f"{sc['hist_points']:,} points in pages of 25,000): MLflow orders a series by "
                     "(timestamp, step, value) and no MLflow index holds that order, so the first page reads the "
                     "whole series through the `(run_uuid, key, step)` index, one table lookup per point "
                     "(about a quarter of a microsecond each), in two step ranges on two threads, and keeps it "
                     "on the read connection for the following pages; each page's JSON (about 80 bytes per "
                     "point, of which the shortest round-trip form of each value takes 55–90 ns on this "
                     "machine) is written in two halves on two threads, then sent over loopback. By instruction "
                     "count (callgrind) a 100,000-point read is about 55% SQLite and 35% JSON.")
            L.append(f"- **W7 get-history-bulk-interval** ({fmt(m.get('w7_bulk_p50'), ' ms')}): MLflow's sampling "
                     "keeps the first row of each of 320 equal buckets of every run's rows; mlflowd steps once "
                     "through each run's `(run_uuid, key, step)` index range (steps and rowids only) to place "
                     "every row, then fetches the kept rows by rowid in one statement; the runs are shared "
                     "between the two threads. SQLite's per-row cost (about 0.15 µs per index entry stepped "
                     "through, about 0.7 µs per row fetched) and the JSON of the points make up the time.")
            L.append("- **W5 search-runs**: the metric filter and order walk mlflowd's `latest_metrics (key, value)` "
                     "index; the 1000-per-page figure is mostly reading and writing 1000 full runs (params, tags, "
                     "latest metrics, inputs) as JSON. The page's five content queries run on the two threads, "
                     "and its JSON is written in two halves.")
            L.append("- **DB size**: MLflow's tables, with mlflowd's two small indexes (`latest_metrics (key, value)`"
                     " and `runs (experiment_id, start_time)`), whose size grows with runs × keys, not with points."
                     " In a seeded database of this scale (SQLite's dbstat) they take 2.1 and 0.2 MiB. Run ids are"
                     " time-ordered (UUID version 7: milliseconds first, then random bits), so a new run's rows go"
                     " near the end of MLflow's run_uuid-led indexes; with stock's random UUID4 ids each run's rows"
                     " land at a random place and those indexes end about 82–84% full (about 88% with ordered ids"
                     " in a simulation of this seeding). Page size does not help: 1 KiB pages made W1 20–30% faster"
                     " but W3 15% and get-history 13% slower, and a vacuumed file 2.4% larger.")
            L.append("")

        # ---- details
        L.append("## Details")
        L.append("")
        L.append("### Write workloads (W1, W3)")
        L.append("")
        L.append("| server | workload | c | req/s | points/s | p50 ms | p99 ms | errors | server CPU ms/request "
                 "| busiest server thread, % of a core | disk writes MB/s (KiB per point) |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for kind in h.args.servers:
            r = h.res[kind]
            for wid, cl, label in (("W1", sc["w1_conc"], "W1"), ("W3", sc["w3_conc"], "W3"),
                                   ("W3ram", sc["w3_conc"], "W3, database in RAM")):
                for cc in cl:
                    if not r.get(f"{wid}_c{cc}_rps"):
                        continue
                    dk = r.get(f"{wid}_c{cc}_disk_mb_s")
                    disk = (f"{fmt(dk)} ({fmt(r[f'{wid}_c{cc}_disk_kib_per_point'])})" if dk
                            else "none (in RAM)" if wid == "W3ram" else "—")
                    L.append(f"| {kind} | {label} | {cc} | {fmt_range(r[f'{wid}_c{cc}_rps'])} | "
                             f"{fmt(r[f'{wid}_c{cc}_pps'])} | {fmt(r[f'{wid}_c{cc}_p50'])} | "
                             f"{fmt(r[f'{wid}_c{cc}_p99'])} | {r[f'{wid}_c{cc}_errors']} of "
                             f"{r[f'{wid}_c{cc}_requests']:,} | {fmt(r.get(f'{wid}_c{cc}_cpu_ms_per_req'))} | "
                             f"{fmt(r.get(f'{wid}_c{cc}_busiest_pct'))}{busiest_name(r, wid, cc)} | {disk} |")
            for wid in ("W1", "W3"):
                if r.get(f"{wid}_locked_in_log"):
                    L.append(f"| {kind} | {wid} | | \"database is locked\" in the server log: "
                             f"{r[f'{wid}_locked_in_log']} times | | | | | | | |")
        L.append("")
        L.append("### Memory, size, seeding")
        L.append("")
        L.append("| | stock | mlflowd |")
        L.append("|---|---|---|")

        def both(label, key, unit="", scale=1.0):
            vs = [h.res[k].get(key) for k in ("stock", "mlflowd")]
            cells = [("—" if v is None else v if isinstance(v, str)
                      else fmt((v["med"] if isinstance(v, dict) else v) * scale if scale != 1.0
                               else (v["med"] if isinstance(v, dict) else v), unit)) for v in vs]
            L.append(f"| {label} | {cells[0]} | {cells[1]} |")

        both("processes in the server tree (idle)", "idle_nprocs")
        both("idle RSS, fresh empty db", "idle_rss_mb", " MiB")
        both("idle PSS, fresh empty db", "idle_pss_mb", " MiB")
        both("RSS after the first 32 API requests", "warm_rss_mb", " MiB")
        both("RSS after restart on the seeded db (idle)", "idle_seeded_rss_mb", " MiB")
        both("peak RSS during W1/W3", "peak_rss_write_mb", " MiB")
        both("seeded db size", "seed_db_mb", " MiB")
        both("seeded db points (SELECT count(*))", "seed_db_points")
        both("seed wall time", "seed_s", " s")
        both("seed rate through the REST API (points/s)", "seed_pps")
        both("search runs seeded through the REST API", "seed_rest_runs")
        both("search runs written by direct SQL (seed budget spent)", "seed_sql_runs")
        both("projected time to seed everything through REST", "seed_projected_s", " s")
        both("journal_mode of the seeded db file", "journal_mode")
        both("W11 registry fill through the REST API (creates/s)", "w11_fill_rps")
        both("W11 registry fill wall time", "w11_fill_s", " s")
        both("W11 registered models created through the REST API", "w11_fill_api_models")
        both("W11 registered models written by direct SQL (budget spent)", "w11_fill_sql_models")
        L.append("")
        if sw or mw:
            L.append("### W9 soak")
            L.append("")
            L.append("| | stock | mlflowd |")
            L.append("|---|---|---|")
            for k, label, unit in (("seconds", "duration", " s"), ("steps_per_s", "accepted steps/s (800 offered)", ""),
                                   ("runs_finished", "runs finished", ""), ("requests", "requests", ""),
                                   ("errors", "errors", ""), ("writer_p50", "writer log-batch p50", " ms"),
                                   ("writer_p99", "writer log-batch p99", " ms"),
                                   ("search_p50", "reader search p50", " ms"), ("search_p99", "reader search p99", " ms"),
                                   ("history_p50", "reader get-history p50", " ms"),
                                   ("history_p99", "reader get-history p99", " ms"),
                                   ("rss_start_mb", "RSS start", " MiB"), ("rss_end_mb", "RSS end", " MiB"),
                                   ("rss_peak_mb", "RSS peak", " MiB"), ("rss_slope_mb_per_h", "RSS slope", " MiB/h"),
                                   ("server_cpu_s", "server CPU", " s")):
                L.append(f"| {label} | {fmt(sw.get(k) if sw else None, unit)} | {fmt(mw.get(k) if mw else None, unit)} |")
            L.append("")
            L.append("Soak clients are Python threads (8 writers, 2 readers), so latencies include ~0.1–0.5 ms "
                     "of client overhead for both servers.")
            L.append("")
        L += bench_soak.report_section(h)
        if getattr(h, "ui_section", None):
            L += h.ui_section.rstrip("\n").split("\n")
            L.append("")

        # ---- correctness
        L.append("## Correctness")
        L.append("")
        L.append("Before timing, each server's answers are checked against the generator's expected data, and "
                 "mlflowd's against stock's:")
        L.append("")
        L.append("- W1/W3: after the runs, `SELECT count(*)` of the benchmark's metric keys equals the points "
                 "acknowledged with 2xx (plus at most the requests in flight when wrk stopped); a 1001-metric "
                 "log-batch is refused with 400 `INVALID_PARAMETER_VALUE`.")
        L.append("- W5: for each query the run names, in order, equal the expected list (computed from the "
                 "generated data); params, the t* tags and every latest metric (key, value, step, timestamp) are "
                 "equal between the servers.")
        L.append("- W7: every page of get-history is fetched and the points (step, timestamp, value, in order) "
                 "equal the generated series; bulk-interval answers (run, step, timestamp, value) are equal "
                 "between the servers.")
        L.append("- Seeding: the number of rows in `metrics` equals the number of points sent.")
        L.append("- W11: every page of search-registered-models lists the generated models in name order, each "
                 "with its last version as `latest_versions`; every page of search-model-versions ordered by "
                 "name and version lists the generated versions with their sources; the filtered pages and the "
                 "middle page hold the expected models; the default-order pages (last_updated_timestamp DESC, "
                 "name, version DESC: each server's own timestamps) are in that order and hold generated versions; "
                 "after the create-model-version timing the model's versions are exactly 1..n for the n requests "
                 "sent. The first pages (models with tags and latest versions; versions with tags) are equal "
                 "between the servers.")
        L.append("")
        any_fail = False
        for kind in h.args.servers:
            for w, probs in h.gates[kind].items():
                for p in probs:
                    any_fail = True
                    L.append(f"- **{kind} {w}: {p}**")
        if not any_fail:
            L.append("All checks passed" + (" and the answers were equal." if len(h.args.servers) == 2 else "."))
        for n in h.notes["mlflowd"]:
            L.append(f"- note (not a gate): {n}")
        L.append("")

        # ---- setup
        L.append("## Setup")
        L.append("")
        L.append(f"- Machine: {info['cpu']}, {info['cores']} cores, {info['mem_gib']} GiB RAM; {info['os']}; "
                 f"kernel {info['kernel']}; databases on {info['fs']} ({info['disk']}).")
        L.append(f"- Load at start: loadavg {info['loadavg_at_start']}, background CPU "
                 f"{info['background_cpu_pct_at_start']}%; loadavg at end {info.get('loadavg_at_end', '?')}. "
                 f"CPU used by other processes during timed runs: median {med(h.noise) or 0:.0f}%, max "
                 f"{max(h.noise) if h.noise else 0:.0f}% of the machine.")
        if h.calib:
            cs = [ms for _, ms in h.calib]
            spread = ("The same machine gave different speeds over the run" if max(cs) > 1.1 * min(cs)
                      else "The machine's speed stayed within 10% over the run")
            L.append("- CPU calibration: a fixed single-core workload (`scripts/bench/calib.c`: sort and format "
                     f"200,000 doubles; median of 7) timed at the start of each phase. {spread}; lower is faster: "
                     + "; ".join(f"{p} {ms:.1f} ms" for p, ms in h.calib) + ".")
        L.append(f"- Versions: MLflow {info['mlflow']} (Python {info['python']}, its SQLite "
                 f"{info['python_sqlite']}); {info['mlflowd_version']} (binary sha256 {info.get('mlflowd_sha256', '?')}, built "
                 f"{info.get('mlflowd_mtime', '?')}) at git {info['git']}"
                 f"{' (uncommitted changes)' if info['git_dirty'] else ''}; SQLite {info.get('sqlite', '?')} "
                 f"(libsqlite3-0 {info['sqlite_pkg']}); civetweb {info['civetweb']} (libcivetweb1 "
                 f"{info['civetweb_pkg']}); {info['gcc']}; {info['wrk']}.")
        L.append(f"- Durability: stock MLflow uses SQLite's defaults: journal_mode=DELETE (rollback journal; "
                 f"MLflow sets no WAL) and synchronous={info['stock_sync_default']} (SQLite's default; MLflow "
                 f"sets foreign_keys, busy_timeout=20000, case_sensitive_like). mlflowd: journal_mode="
                 f"{info['mlflowd_wal']}, synchronous={info['mlflowd_sync']} (storage/db.c), one writer with "
                 f"group commit; a 2xx is sent after the commit and the sync of the WAL holding it. Journal mode found in the seeded files: "
                 f"stock {s.get('journal_mode', '?')}, mlflowd {m.get('journal_mode', '?')}.")
        L.append(f"- Placement: {'server on CPU 1, load generators on CPU 0 (taskset)' if h.args.pin else 'not pinned: server and load generator share both CPUs (as in the ceiling measurements of the design notes)'}. "
                 f"One server runs at a time; each phase starts on a fresh database.")
        warm = f" after a {sc['warm_s']} s warm-up" if sc["warm_s"] else ""
        L.append(f"- Scale `{h.args.scale}`: {sc['reps']} measured repetitions of {sc['dur_s']} s per load point"
                 f"{warm}; "
                 f"c=1 latency: up to {sc['lat_iters']} requests or {sc['lat_s']} s per repetition; "
                 f"seeded data: {d.n_runs:,} runs × (10 params, 5 tags, 10 metrics × {d.steps} steps) in one "
                 f"experiment, one {d.hist_points:,}-point and one {d.small_hist:,}-point series, "
                 f"{d.bulk_runs} runs × {d.bulk_points:,} points for bulk-interval: {d.points():,} points.")
        L.append("")
        L.append("### Commands")
        L.append("")
        L.append("```")
        L.append(f"scripts/bench/run --scale {h.args.scale}" + (" --pin" if h.args.pin else ""))
        for k, v in h.commands.items():
            L.append(f"# {k}")
            L.append(v)
        L.append("# load (examples; PORT is a free port, $TMP the work directory)")
        for kind in h.args.servers:
            raw = h.res[kind].get(f"W1_c16_raw")
            if raw:
                L.append(raw[0]["cmd"].replace(str(h.work), "$TMP"))
                break
        for kind in h.args.servers:
            raw = h.res[kind].get(f"W3_c4_raw")
            if raw:
                L.append(raw[0]["cmd"].replace(str(h.work), "$TMP"))
                break
        L.append("$TMP/bin/reqlat -p PORT -m POST -u /api/2.0/mlflow/runs/search -b search.json -n N -d SECONDS")
        L.append("$TMP/bin/reqlat -p PORT -m GET -g -u '/api/2.0/mlflow/metrics/get-history?run_id=…"
                 "&metric_key=loss&max_results=25000' -n N -d SECONDS")
        L.append("```")
        L.append("")
        L.append("### Deviations from the design notes")
        L.append("")
        L.append("- Durations are condensed so that `--scale full` ends well within an hour: "
                 f"{sc['dur_s']} s per load point instead of 60 s, {sc['reps']} repetitions; the W9 soak lasts "
                 f"{sc['soak_s']} s instead of 30 min.")
        L.append(f"- Open-loop latency (`reqlat -R`, with the latency counted from when each request was due) "
                 f"is measured for W1 at c={OPEN_LOOP_CONC} only; the other latency figures are closed-loop (wrk "
                 "`--latency`, `reqlat`). `hey` and wrk2 are not used.")
        L.append("- Not run: W2 (log-batch of 10), W4 on its own (its shape is the W9 writer), W6 (deep "
                 "pagination), W8 (UI page load), W10 (read while write); MLflow 2.9.2 and `--workers 1` "
                 "configurations (use `--stock-workers 1` for the latter).")
        L.append("- Cold start on the seeded db evicts only the db file from the page cache "
                 "(`posix_fadvise(DONTNEED)`); executables and Python modules stay cached.")
        L.append("- Stock runs with `MLFLOW_DISABLE_TELEMETRY=true` and `DO_NOT_TRACK=true` (no calls home).")
        for kind in h.args.servers:
            n = h.res[kind].get("seed_sql_runs")
            if n:
                L.append(f"- Seeding shortcut (design notes 7.2): {kind} wrote {h.res[kind].get('seed_rest_runs', 0):,} "
                         f"runs through the REST API within the seed budget; the other {n:,} search runs were "
                         f"inserted directly with SQL into its database, copying the columns and system tags of a "
                         f"run {kind} had created itself. Seeding everything through REST would have taken about "
                         f"{h.res[kind].get('seed_projected_s', 0):,.0f} s.")
        L.append("- Added: W11, the model registry (not in the design notes). Its data is written during the "
                 "seeding phase, so the seeded database of W0's cold start also holds the registry rows.")
        for kind in h.args.servers:
            n = h.res[kind].get("w11_fill_sql_models")
            if n:
                L.append(f"- Registry shortcut: {kind} created {h.res[kind].get('w11_fill_api_models', 0):,} "
                         f"registered models with their versions through the REST API within the budget; the "
                         f"other {n:,} models and their versions were inserted directly with SQL, copying the "
                         f"columns of the first model and version {kind} had created itself.")
        L += bench_soak.deviations(h)
        L.append("")
        return "\n".join(L) + "\n"

    def plot(self):
        h = self.h
        out = Path(h.args.out)
        png = out.with_suffix(".png") if not h.args.part else out.with_name(f"{out.stem}-{h.args.part}.png")
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except Exception as e:
            log(f"no plot: matplotlib unavailable ({e})")
            return None
        sc = h.sc
        # the W1 panel only when W1 ran (a run of other workloads gets the ratios alone)
        w1 = "W1" in getattr(h.args, "workloads", ["W1"])
        fig, axes = (plt.subplots(1, 2, figsize=(13, 5.5), gridspec_kw={"width_ratios": [1.5, 1]}) if w1 else
                     plt.subplots(1, 1, figsize=(8, 5.5)))
        ax = axes[0] if w1 else axes
        labels = [r[0] for r in self.rows]
        ratios = [r[1] for r in self.rows]
        y = list(range(len(labels)))[::-1]
        colors = ["#999" if r[3] is None else "#2a7" if r[3] else "#d62" for r in self.rows]
        ax.barh(y, ratios, color=colors)
        for yy, r in zip(y, self.rows):
            if r[2]:
                ax.plot([r[2], r[2]], [yy - 0.4, yy + 0.4], color="k", lw=1.5)
            ax.text(r[1] * 1.08, yy, f"{r[1]:,.0f}×" if r[1] >= 10 else f"{r[1]:.1f}×", va="center", fontsize=7)
        ax.set_yticks(y)
        ax.set_yticklabels(labels, fontsize=7)
        ax.set_xscale("log")
        ax.axvline(1, color="grey", lw=0.8)
        ax.set_xlabel("mlflowd advantage over stock (×, log scale); black tick: ratio target;\n"
                      "green: every target of the row met, red: not met, grey: no target", fontsize=8)
        ax.set_xlim(right=max(ratios + [1]) * 3)
        ax.set_title(f"mlflowd vs stock MLflow {h.info['mlflow']} (scale {h.args.scale})", fontsize=10)
        if not w1:
            fig.tight_layout()
            fig.savefig(png, dpi=110)
            plt.close(fig)
            log(f"wrote {png}")
            return os.path.relpath(png, out.parent)
        ax2 = axes[1]
        cs = sc["w1_conc"]
        for kind, key, style in (("stock", "W1_c{}_rps", "o-"), ("mlflowd", "W1_c{}_rps", "s-")):
            ys = [(h.res[kind].get(key.format(cc)) or {}).get("med") for cc in cs]
            if any(ys):
                ax2.plot(cs, [v or float("nan") for v in ys], style, label=f"{kind} log-metric")
        ys = [(h.res["ceilings"].get(f"civetweb_post_c{cc}") or {}).get("med") for cc in cs]
        if any(ys):
            ax2.plot(cs, [v or float("nan") for v in ys], "k--", label="civetweb trivial POST (ceiling)")
        cm = (h.res["ceilings"].get("sqlite_commit_FULL") or {}).get("med")
        if cm:
            ax2.axhline(cm, color="grey", ls=":", label="SQLite 1-point commits/s (FULL)")
        ax2.set_xscale("log", base=2)
        ax2.set_yscale("log")
        ax2.set_xticks(cs)
        ax2.set_xticklabels([str(x) for x in cs])
        ax2.set_xlabel("concurrent connections")
        ax2.set_ylabel("requests/s")
        ax2.set_title("W1 single log-metric", fontsize=10)
        if ax2.get_legend_handles_labels()[0]:
            ax2.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(png, dpi=110)
        plt.close(fig)
        log(f"wrote {png}")
        try:
            return os.path.relpath(png, out.parent)
        except ValueError:
            return str(png)


# ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description="mlflowd vs stock MLflow benchmark (see scripts/bench/run)")
    ap.add_argument("--scale", choices=sorted(SCALES), default="full")
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"),
                    help="report path; the plot goes next to it with a .png suffix")
    ap.add_argument("--servers", default="stock,mlflowd", help="comma list of stock, mlflowd")
    ap.add_argument("--workloads", default=",".join(ALL_WORKLOADS),
                    help=f"comma list of {','.join(ALL_WORKLOADS)} (W0 always runs)")
    ap.add_argument("--mlflowd", default=str(ROOT / "build" / "mlflowd"), help="mlflowd binary")
    ap.add_argument("--mlflowd-args", default="", help="extra mlflowd flags, e.g. '--workers 64'")
    ap.add_argument("--stock-workers", default=None, help="pass --workers N to mlflow server (default: its own)")
    ap.add_argument("--pin", action="store_true", help="server on CPU 1, load generators on CPU 0")
    ap.add_argument("--workdir", default=None, help="work directory (default: a new temp dir, removed at the end)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (databases, logs, results.json)")
    ap.add_argument("--part", default=None, metavar="NAME",
                    help="write this run's report as part NAME of --out (between its markers, the rest kept) "
                         "instead of replacing the file: for runs of some workloads beside a full report")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--from-json", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--seed-budget", type=float, default=None,
                    help="seconds of REST seeding per server before the rest is written by direct SQL "
                         "(default: 60/120/300 s for tiny/small/full)")
    a = ap.parse_args()
    a.servers = [x.strip() for x in a.servers.split(",") if x.strip()]
    a.workloads = [x.strip() for x in a.workloads.split(",") if x.strip()]
    for s in a.servers:
        if s not in ("stock", "mlflowd"):
            ap.error(f"unknown server {s}")
    if "mlflowd" in a.servers and not os.access(a.mlflowd, os.X_OK):
        print(f"bench: {a.mlflowd} is missing; build it first (scripts/setup), or pass --servers stock",
              file=sys.stderr)
        return 1
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed (apt-get install wrk, or scripts/setup --tests)", file=sys.stderr)
        return 1
    if "stock" in a.servers and not (VENV / "bin" / "mlflow").exists():
        print(f"bench: {VENV}/bin/mlflow is missing; run scripts/setup --tests", file=sys.stderr)
        return 1
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    if a.from_json:
        # re-render a report from a kept results.json (no measurements)
        saved = json.loads(Path(a.from_json).read_text())
        a.scale, a.servers, a.pin = saved["scale"], saved["servers"], saved.get("pin", False)
        a.workdir = str(Path(a.from_json).parent)
        h = Harness(a)
        for k in ("info", "res", "gates", "notes", "noise", "errors", "commands"):
            setattr(h, k, saved[k])
        h.calib = saved.get("calib", [])
        h.ui_section = saved.get("ui_section")
        for i in range(h.data.n_runs):
            h.data.search_run(i)
        write_report(a.out, Report(h).build(), a.part)
        log(f"wrote {a.out}")
        return 0
    h = Harness(a)
    pin = ROOT / "tests" / "requirements.txt"
    try:
        h.run()
        raw = h.work / "results.json"
        raw.write_text(json.dumps({"scale": a.scale, "servers": a.servers, "pin": a.pin, "info": h.info,
                                   "res": h.res, "gates": h.gates, "notes": h.notes, "noise": h.noise,
                                   "calib": h.calib, "ui_section": getattr(h, "ui_section", None),
                                   "errors": h.errors, "commands": h.commands, "answers": h.answers},
                                  indent=1, default=str))
        out = Path(a.out)
        write_report(out, Report(h).build(), a.part)
        log(f"wrote {out}")
        want = None
        if pin.exists():
            m = re.search(r"^mlflow==(\S+)", pin.read_text(), re.M)
            want = m.group(1) if m else None
        if want and h.info.get("mlflow") != want:
            log(f"WARNING: .venv has mlflow {h.info.get('mlflow')}, the project pins {want}")
        failed = any(h.gates[k] for k in a.servers) or h.errors
        if failed:
            log("some correctness gates failed or a phase aborted: see the report")
        return 1 if failed else 0
    finally:
        if a.keep or a.workdir:
            log(f"work directory kept: {h.work}")
        else:
            shutil.rmtree(h.work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
