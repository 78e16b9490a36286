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


# --------------------------------------------------------------------------------------
# HTTP framing: HEAD, request smuggling, civetweb's own refusals, ranges, 100-continue
# --------------------------------------------------------------------------------------


def host(srv) -> str:
    return f"Host: 127.0.0.1:{srv.port}\r\n"


def rest_of(s: socket.socket) -> bytes:
    """Everything until the server closes (or ANSWER_TIMEOUT)."""
    out = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        out += chunk
    return out


@pytest.mark.parametrize("path", ["/health", "/", "/version", "/no-such-page",
                                  "/api/2.0/mlflow/experiments/get?experiment_id=0",
                                  "/api/2.0/mlflow/experiments/get?experiment_id=999999",
                                  "/api/2.0/mlflow/no-such-endpoint"])
def test_head_answer_has_headers_and_no_body(module_server, path):
    """HEAD then GET on one keep-alive connection: the HEAD answer has the GET's status and
    Content-Length and no body, so the GET's answer is read intact after it."""
    srv = module_server
    s = connect(srv)
    try:
        s.sendall(f"GET {path} HTTP/1.1\r\n{host(srv)}\r\n".encode())
        gst, gh, gbody = read_answer(s)
        s.sendall(f"HEAD {path} HTTP/1.1\r\n{host(srv)}\r\n".encode())
        hst, hh, _ = read_answer(s, head_only=True)
        assert hst == gst
        assert hh.get("content-length") == gh.get("content-length") == str(len(gbody))
        s.sendall(f"GET /health HTTP/1.1\r\n{host(srv)}Connection: close\r\n\r\n".encode())
        st, _, body = read_answer(s)
        assert (st, body) == (200, b"OK")
        assert rest_of(s) == b""
    finally:
        s.close()


SMUGGLED = "GET /api/2.0/mlflow/experiments/get-by-name?experiment_name=smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.mark.parametrize("framing", [
    "Content-Length: {n}\r\nTransfer-Encoding: chunked\r\n",
    "Transfer-Encoding: chunked\r\nContent-Length: {n}\r\n",
    "Content-Length: 0\r\nContent-Length: {n}\r\n",
    "Content-Length: {n}, {n}\r\n",
    "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
    "Content-Length : {n}\r\n",
])
def test_ambiguous_framing_is_refused_and_closes(module_server, framing):
    """A body that a proxy in front could frame differently, with a request hidden in it:
    one 400 with MLflow's error body, then the connection closes; the hidden request is
    never answered."""
    srv = module_server
    body = "0\r\n\r\n" + SMUGGLED
    s = connect(srv)
    try:
        s.sendall((f"POST /api/2.0/mlflow/experiments/create HTTP/1.1\r\n{host(srv)}"
                   "Content-Type: application/json\r\n" + framing.format(n=len(body)) + "\r\n" + body).encode())
        st, h, ebody = read_answer(s)
        assert st == 400, ebody
        assert h.get("connection", "").lower() == "close"
        assert _error(ebody)["error_code"] == "BAD_REQUEST"
        assert rest_of(s) == b""  # nothing else, in particular no answer to the hidden request
    finally:
        s.close()


@pytest.mark.parametrize("raw,status", [
    (b"GET /x" + b"a" * 70000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400),  # URL over the header limit
    (b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"b" * 70000 + b"\r\n\r\n", 400),
    (b"GARBAGE\r\n\r\n", 400),
    (b"BREW /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400),
    (b"GET /health HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n", 505),
])
def test_civetweb_refusals_are_mlflow_errors(module_server, raw, status):
    s = connect(module_server)
    try:
        s.sendall(raw)
        st, h, body = read_answer(s)
        assert st == status
        assert h.get("content-type") == "application/json"
        assert _error(body)["message"]
        assert rest_of(s) == b""
    finally:
        s.close()
    alive(cu.Api(module_server))


def test_expect_100_continue(module_server):
    """The client waits for "100 Continue" before it sends the body."""
    srv = module_server
    body = json.dumps({"name": cu.uniq("continue")}).encode()
    s = connect(srv)
    try:
        s.sendall((f"POST /api/2.0/mlflow/experiments/create HTTP/1.1\r\n{host(srv)}"
                   f"Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: {len(body)}\r\n"
                   "\r\n").encode())
        st, _, _ = read_answer(s, head_only=True)
        assert st == 100
        s.sendall(body)
        st, _, answer = read_answer(s)
        assert st == 200, answer
        assert json.loads(answer)["experiment_id"]
    finally:
        s.close()


ARTIFACT = bytes(range(256)) * 40  # 10,240 bytes


def _ranges(srv):
    """(status, Content-Range, Content-Length, body) of ranged downloads of one artifact,
    through both download routes."""
    a = cu.Api(srv)
    exp = a.create_experiment()
    run = a.create_run(exp)
    up = requests.put(f"{srv.url}/api/2.0/mlflow-artifacts/artifacts/{exp}/{run}/artifacts/f.bin",
                      data=ARTIFACT, timeout=ANSWER_TIMEOUT)
    assert up.status_code == 200, up.text
    out = []
    for path in (f"/api/2.0/mlflow-artifacts/artifacts/{exp}/{run}/artifacts/f.bin",
                 f"/get-artifact?path=f.bin&run_uuid={run}"):
        for rng in ("bytes=10-19", "bytes=-5", "bytes=10230-", "bytes=10235-20000", "bytes=0-0",
                    "bytes=10240-", "bytes=20000-30000", "bytes=abc", None):
            r = requests.get(srv.url + path, headers={"Range": rng} if rng else {}, timeout=ANSWER_TIMEOUT)
            out.append((path.split("?")[0].rsplit("/", 4)[0], rng, r.status_code, r.headers.get("Content-Range"),
                        r.headers.get("Content-Length"), r.content if r.status_code != 416 else b""))
    return out


def test_range_requests_on_artifact_downloads(module_server):
    got = _ranges(module_server)
    by = {(p, rng): (st, cr, body) for p, rng, st, cr, _, body in got}
    for p in {p for p, *_ in got}:
        assert by[(p, "bytes=10-19")] == (206, "bytes 10-19/10240", ARTIFACT[10:20])
        assert by[(p, "bytes=-5")] == (206, "bytes 10235-10239/10240", ARTIFACT[-5:])
        assert by[(p, "bytes=10235-20000")] == (206, "bytes 10235-10239/10240", ARTIFACT[-5:])
        assert by[(p, "bytes=10240-")][:2] == (416, "bytes */10240")
        assert by[(p, None)] == (200, None, ARTIFACT)
        assert by[(p, "bytes=abc")] == (200, None, ARTIFACT)


def test_range_requests_match_stock(module_server, stock_server):
    """Status, Content-Range and bytes as stock answers them. Not compared: a malformed
    Range (stock answers 400 on one route and 416 on the other; mlflowd ignores it, as
    RFC 9110 says) and the body of a 416 (stock's is HTML on one route)."""
    def cmp(rows):
        return [(p, rng, st, cr, body) for p, rng, st, cr, _, body in rows if rng != "bytes=abc"]
    assert cmp(_ranges(module_server)) == cmp(_ranges(stock_server))


# --------------------------------------------------------------------------------------
# request log and doubled slashes
# --------------------------------------------------------------------------------------


def test_request_log_escapes_control_characters(mlflowd_factory):
    """A %0a in a path must not write a line of its own into the request log."""
    srv = mlflowd_factory()
    s = connect(srv)
    try:
        s.sendall(f"GET /api/2.0/mlflow/x%0aFAKE%20LINE%0d%1b[31m%c3%a9\\ HTTP/1.1\r\n{host(srv)}"
                  "Connection: close\r\n\r\n".encode())
        assert read_answer(s)[0] == 404
    finally:
        s.close()
    cu.Api(srv).okget("/experiments/get", {"experiment_id": "0"})  # a later line: the log is flushed
    lines = srv.log_path.read_text(errors="replace").splitlines()
    assert not [ln for ln in lines if ln.startswith("FAKE")], lines[-5:]
    assert any(ln == "GET /api/2.0/mlflow/x\\x0aFAKE LINE\\x0d\\x1b[31m\\xc3\\xa9\\x5c" for ln in lines), lines[-5:]


DOUBLED = ["//api/2.0/mlflow/experiments/get?experiment_id=0",
           "///api/2.0/mlflow/experiments/get?experiment_id=0",
           "/api//2.0/mlflow/experiments/get?experiment_id=0",
           "/api/2.0/mlflow//experiments/get?experiment_id=0",
           "/api/2.0//mlflow/experiments//get?experiment_id=0"]


def _doubled(srv):
    out = []
    for path in DOUBLED:
        s = connect(srv)
        try:
            s.sendall(f"GET {path} HTTP/1.1\r\n{host(srv)}Connection: close\r\n\r\n".encode())
            st, h, body = read_answer(s)
        finally:
            s.close()
        loc = h.get("location")
        out.append((path, st, loc and loc.split(str(srv.port), 1)[1],
                    json.loads(body)["experiment"]["experiment_id"] if st == 200 else None))
    return out


def test_doubled_slashes_as_stock(module_server):
    assert _doubled(module_server) == [
        (DOUBLED[0], 200, None, "0"),
        (DOUBLED[1], 200, None, "0"),
        (DOUBLED[2], 308, "/api/2.0/mlflow/experiments/get?experiment_id=0", None),
        (DOUBLED[3], 308, "/api/2.0/mlflow/experiments/get?experiment_id=0", None),
        (DOUBLED[4], 308, "/api/2.0/mlflow/experiments/get?experiment_id=0", None),
    ]


def test_doubled_slashes_match_stock(module_server, stock_server):
    assert _doubled(module_server) == _doubled(stock_server)


def test_trickling_upload_gets_408_and_leaves_nothing(short_deadline):
    """An artifact upload trickling one byte at a time is cut once it falls behind the
    deadline plus MLF_MIN_UPLOAD_BYTES_PER_S, answered 408, and nothing is stored."""
    srv = short_deadline
    a = cu.Api(srv)
    exp = a.create_experiment()
    run = a.create_run(exp)
    path = f"/api/2.0/mlflow-artifacts/artifacts/{exp}/{run}/artifacts/slow.bin"
    s = connect(srv)
    try:
        s.sendall(f"PUT {path} HTTP/1.1\r\n{host(srv)}Content-Length: 100000\r\n\r\nx".encode())
        s.settimeout(0.3)
        answer = b""
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while time.monotonic() < deadline and b"\r\n\r\n" not in answer:
            try:
                s.sendall(b"x")
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
    finally:
        s.close()
    assert requests.get(srv.url + path, timeout=ANSWER_TIMEOUT).status_code == 404
    # the one worker is free again; a normal upload goes through
    r = requests.put(srv.url + path, data=b"y" * 100000, timeout=ANSWER_TIMEOUT)
    assert r.status_code == 200, r.text
    assert requests.get(srv.url + path, timeout=ANSWER_TIMEOUT).content == b"y" * 100000
