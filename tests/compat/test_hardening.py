"""Hostile input aimed at the server process itself: requests that once crashed it
(stack overflow in SQLite's LIKE matching), and, in later sections, connection
starvation and HTTP framing. Each test sends the input and then checks that the
server still answers."""

from __future__ import annotations

import pytest

import compat_util as cu

pytestmark = pytest.mark.mlflowd_only

LONG = 8000  # a run tag value of MLflow's maximum length, all "a"
MAX_LIKE_PATTERN = 50000  # api/limits.h MLF_MAX_LIKE_PATTERN_BYTES


def wildcards(n: int) -> str:
    """'%a' n times then '%b': SQLite's LIKE recurses once per '%' against a long 'aaa…'."""
    return "%a" * n + "%b"


@pytest.fixture(scope="module")
def like_data(module_api):
    a = module_api
    exp = a.create_experiment(tags=[{"key": "d", "value": "a" * 20000}])
    run = a.create_run(exp)
    a.okpost("/runs/set-tag", {"run_id": run, "key": "t", "value": "a" * LONG})
    a.okpost("/runs/log-parameter", {"run_id": run, "key": "p", "value": "a" * 6000})
    a.okpost("/logged-models", {"experiment_id": exp, "name": "a" * 500})
    return exp, run


def alive(api):
    assert api.get("/health").status_code == 200


# The largest pattern SQLite accepts, and one that crashed a 100 KiB worker stack (600).
@pytest.mark.parametrize("n", [600, (MAX_LIKE_PATTERN - 2) // 2])
@pytest.mark.parametrize("op", ["LIKE", "ILIKE"])
def test_like_with_many_wildcards_answers(module_api, like_data, n, op):
    exp, run = like_data
    a = module_api
    pat = wildcards(n)
    j = a.okpost("/runs/search", {"experiment_ids": [exp], "filter": f"tags.t {op} '{pat}'"})
    assert j.get("runs", []) == []
    j = a.okpost("/runs/search", {"experiment_ids": [exp], "filter": f"params.p {op} '{pat}'"})
    assert j.get("runs", []) == []
    j = a.okpost("/experiments/search", {"filter": f"tags.d {op} '{pat}'", "max_results": 10})
    assert j.get("experiments", []) == []
    j = a.okpost("/logged-models/search", {"experiment_ids": [exp], "filter": f"name {op} '{pat}'"})
    assert j.get("models", []) == []
    # a matching pattern with as many wildcards as the value allows still matches
    j = a.okpost("/runs/search", {"experiment_ids": [exp], "filter": f"tags.t {op} '{'%a' * min(n, LONG)}%'"})
    assert [r["info"]["run_id"] for r in j["runs"]] == [run]
    alive(a)


def test_like_on_get_experiments_search(module_api, like_data):
    """experiments/search is a GET too, so any web page can send it."""
    a = module_api
    j = a.okget("/experiments/search", {"filter": f"tags.d LIKE '{wildcards(600)}'", "max_results": 10})
    assert j.get("experiments", []) == []
    alive(a)


def test_like_pattern_over_sqlite_limit_is_invalid(module_api, like_data):
    exp, _ = like_data
    a = module_api
    pat = wildcards(MAX_LIKE_PATTERN // 2)
    r = a.post("/runs/search", {"experiment_ids": [exp], "filter": f"tags.t LIKE '{pat}'"})
    assert r.status_code == 400, r.text[:300]
    assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "LIKE" in r.json()["message"]
    alive(a)


# --------------------------------------------------------------------------------------
# connections: idle, slow and keep-alive clients must not take every worker
# --------------------------------------------------------------------------------------

import json  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import requests  # noqa: E402

ANSWER_TIMEOUT = 30  # seconds: generous; a served request takes milliseconds


def connect(srv) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=ANSWER_TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_answer(s: socket.socket, head_only: bool = False) -> tuple[int, dict, bytes]:
    """One HTTP answer from s: (status, headers lower-cased, body by Content-Length)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before an answer: {buf[:200]!r}")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = 0 if head_only else int(headers.get("content-length", "0"))
    while len(rest) < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:n] if n else rest


def get_health(port: int) -> bytes:
    return f"GET /health HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n".encode()


def test_new_client_served_while_1000_connections_idle_or_slow(mlflowd_factory):
    """1,000 connections that send nothing, half a header, or half a small body sit in the
    gate, not on the four workers: a new client is answered at once, and the held
    connections are still open and served when they finally send their request."""
    srv = mlflowd_factory(extra_args=["--workers", "4", "--request-timeout-ms", "600000", "--quiet"])
    idle, slow_head, slow_body = [], [], []
    try:
        for i in range(1000):
            s = connect(srv)
            if i % 3 == 1:
                s.sendall(f"GET /health HTTP/1.1\r\nHost: localhost:{srv.port}\r\n".encode())
                slow_head.append(s)
            elif i % 3 == 2:
                s.sendall(f"POST /api/2.0/mlflow/experiments/create HTTP/1.1\r\nHost: localhost:{srv.port}\r\n"
                          "Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"name\"".encode())
                slow_body.append(s)
            else:
                idle.append(s)
        a = cu.Api(srv)
        assert requests.get(srv.url + "/health", timeout=ANSWER_TIMEOUT).status_code == 200
        exp = a.okpost("/experiments/create", {"name": "served-under-1000"}, timeout=ANSWER_TIMEOUT)
        assert exp["experiment_id"]
        # the held connections were kept, and each is served once its request is complete
        for s in idle[:5]:
            s.sendall(get_health(srv.port))
            assert read_answer(s)[0] == 200
        for s in slow_head[:5]:
            s.sendall(b"\r\n")
            assert read_answer(s)[0] == 200
        for k, s in enumerate(slow_body[:5]):
            s.sendall(f": \"slow-{k}\"}}".ljust(33).encode())
            st, _, body = read_answer(s)
            assert st == 200, body
    finally:
        for s in idle + slow_head + slow_body:
            s.close()
    assert requests.get(srv.url + "/health", timeout=ANSWER_TIMEOUT).status_code == 200


def test_idle_keep_alive_clients_do_not_starve_new_ones(mlflowd_factory):
    """More keep-alive sessions than workers, each idle after one request (and idle
    connections kept for a minute): a new client is still served, and every session goes
    on working (the server closes idle ones when others wait; the client reconnects)."""
    srv = mlflowd_factory(extra_args=["--workers", "2", "--keep-alive-timeout-ms", "60000", "--quiet"])
    sessions = [requests.Session() for _ in range(6)]
    try:
        for s in sessions:
            assert s.get(srv.url + "/health", timeout=ANSWER_TIMEOUT).status_code == 200
        assert requests.get(srv.url + "/health", timeout=ANSWER_TIMEOUT).status_code == 200
        for s in sessions:
            assert s.get(srv.url + "/health", timeout=ANSWER_TIMEOUT).status_code == 200
    finally:
        for s in sessions:
            s.close()


def test_busy_keep_alive_clients_beyond_workers_all_finish(mlflowd_factory):
    """Eight clients logging metrics back to back on two workers: all finish (answers say
    "Connection: close" while others wait, so clients take turns)."""
    srv = mlflowd_factory(extra_args=["--workers", "2", "--keep-alive-timeout-ms", "60000", "--quiet"])
    a = cu.Api(srv)
    run = a.create_run(a.create_experiment())
    errors, done = [], []

    def client(k):
        try:
            c = cu.Api(srv)
            for i in range(25):
                c.log_metric(run, f"m{k}", float(i), step=i)
            done.append(k)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors[:3]
    assert sorted(done) == list(range(8))


def _error(body: bytes) -> dict:
    j = json.loads(body)
    # MLflow's error body: code and message, with the classification fields stock sends too
    assert {"error_code", "message"} <= set(j) <= {"error_code", "message", "sqlstate", "error_class"}, j
    return j


@pytest.fixture(scope="module")
def short_deadline(tmp_path_factory):
    """One worker and a one-second request deadline."""
    srv = cu.start_mlflowd(tmp_path_factory.mktemp("deadline"),
                           extra_args=["--workers", "1", "--request-timeout-ms", "1000", "--quiet"])
    yield srv
    srv.stop()


@pytest.mark.parametrize("what", ["nothing", "half a header", "half a small body"])
def test_request_not_arriving_in_time_gets_408(short_deadline, what):
    srv = short_deadline
    s = connect(srv)
    try:
        if what == "half a header":
            s.sendall(f"GET /health HTTP/1.1\r\nHost: localhost:{srv.port}\r\n".encode())
        elif what == "half a small body":
            s.sendall(f"POST /api/2.0/mlflow/experiments/create HTTP/1.1\r\nHost: localhost:{srv.port}\r\n"
                      "Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"na".encode())
        st, h, body = read_answer(s)
        assert st == 408
        assert h.get("connection", "").lower() == "close"
        assert "did not arrive within 1000 ms" in _error(body)["message"]
        assert s.recv(10) == b""  # closed
    finally:
        s.close()
    assert requests.get(srv.url + "/health", timeout=ANSWER_TIMEOUT).status_code == 200


def test_trickling_large_body_gets_408_and_frees_the_worker(short_deadline):
    """A body too large to be held in the gate trickles in one byte at a time: the worker
    answers 408 once the deadline passed and is free again for the next client (one worker)."""
    srv = short_deadline
    s = connect(srv)
    try:
        s.sendall(f"POST /api/2.0/mlflow/experiments/create HTTP/1.1\r\nHost: localhost:{srv.port}\r\n"
                  "Content-Type: application/json\r\nContent-Length: 200000\r\n\r\n{".encode())
        s.settimeout(0.3)
        answer = b""
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while time.monotonic() < deadline and b"\r\n\r\n" not in answer:
            try:
                s.sendall(b" ")
            except OSError:
                pass
            try:
                chunk = s.recv(65536)
                if not chunk:
                    break
                answer += chunk
            except socket.timeout:
                pass
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:300]
        body = answer.split(b"\r\n\r\n", 1)[1]
        s.settimeout(ANSWER_TIMEOUT)
        while True:
            try:
                chunk = s.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            body += chunk
        assert "request body did not arrive within 1000 ms" in _error(body)["message"]
    finally:
        s.close()
    assert requests.get(srv.url + "/health", timeout=ANSWER_TIMEOUT).status_code == 200
