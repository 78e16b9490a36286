"""bench_traces.py: W12 of the benchmark, MLflow 3 traces, run by bench.py for each server.

  ingest  16 clients each send whole traces as the MLflow client does at a trace's end: the
          spans as one OTLP protobuf export (POST /v1/traces, 50 spans) and the trace info
          (StartTraceV3, POST /api/3.0/mlflow/traces); traces per second and the p50 of one
          trace's two requests.
  search  search-traces (POST /api/3.0/mlflow/traces/search) at 100 per page over the scale's
          trace count (written into the database file before the server starts, the same rows
          for both servers): no filter, and a status filter; p50 through reqlat. The trace ids
          of each page must equal between the servers (bench.py's answer comparison).
"""

import http.client
import json
import random
import sqlite3
import threading
import time

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Status

SPANS = 50
CLIENTS = 16
T0_MS = 1_760_000_000_000
SEARCHES = {
    "w12_search_all": ("no filter, 100/page", {"max_results": 100}),
    "w12_search_err": ("status = 'ERROR', 100/page", {"filter": "status = 'ERROR'", "max_results": 100}),
}


def otlp_body(trace_hex, t0_ns):
    """One trace of SPANS spans (a root and a chain of children) as an OTLP export."""
    req = ExportTraceServiceRequest()
    scope = req.resource_spans.add().scope_spans.add()
    tid = bytes.fromhex(trace_hex)
    for i in range(SPANS):
        s = scope.spans.add()
        s.trace_id = tid
        s.span_id = (i + 1).to_bytes(8, "big")
        if i:
            s.parent_span_id = (i if i < 10 else 1).to_bytes(8, "big")
        s.name = "root" if i == 0 else f"step-{i}"
        s.start_time_unix_nano = t0_ns + i * 1000
        s.end_time_unix_nano = t0_ns + 10_000_000 - i * 1000
        for k, v in (("mlflow.traceRequestId", json.dumps("tr-" + trace_hex)),
                     ("mlflow.spanType", json.dumps("CHAIN" if i == 0 else "TOOL")),
                     ("mlflow.spanInputs", json.dumps({"query": f"question {i}", "k": i})),
                     ("mlflow.spanOutputs", json.dumps({"answer": "x" * 64}))):
            a = s.attributes.add()
            a.key = k
            a.value.string_value = v
        s.status.code = Status.STATUS_CODE_OK
    return req.SerializeToString()


def start_body(trace_hex, exp_id, t0_ms):
    return json.dumps({"trace": {"trace_info": {
        "trace_id": "tr-" + trace_hex,
        "trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp_id}},
        "request_time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0_ms / 1000)) + f".{t0_ms % 1000:03d}Z",
        "execution_duration": "0.010s", "state": "OK",
        "trace_metadata": {"mlflow.trace_schema.version": "3", "mlflow.user": "bench"},
        "tags": {"mlflow.traceName": "root"},
        "request_preview": '{"query": "question 0"}', "response_preview": '{"answer": "x"}'}}})


def ingest(port, exp_id, seconds, seed, clients=CLIENTS):
    """`clients` threads sending traces for `seconds`: (traces/s, p50 ms, errors)."""
    lats, errors = [], []
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    start = time.monotonic()

    def client(n):
        rng = random.Random(seed * 1000 + n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        mine = []
        while time.monotonic() < stop:
            th = "%032x" % rng.getrandbits(128)
            t0 = time.monotonic()
            for attempt in range(2):  # a server may close an idle keep-alive connection: reconnect once
                try:
                    conn.request("POST", "/v1/traces", otlp_body(th, time.time_ns()),
                                 {"Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": exp_id})
                    r = conn.getresponse()
                    r.read()
                    conn.request("POST", "/api/3.0/mlflow/traces",
                                 start_body(th, exp_id, int(time.time() * 1000)), {"Content-Type": "application/json"})
                    r2 = conn.getresponse()
                    r2.read()
                    status = (r.status, r2.status)
                    break
                except OSError as e:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
                    status = (str(e), "")
            if status != (200, 200):
                with lock:
                    errors.append(f"{status[0]}/{status[1]}")
                continue
            mine.append((time.monotonic() - t0) * 1000)
        conn.close()
        with lock:
            lats.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    lats.sort()
    p50 = lats[len(lats) // 2] if lats else None
    return len(lats) / elapsed, p50, errors


def fill(db, exp_id, n):
    """n finished traces in experiment exp_id, written as MLflow keeps them (every 7th ERROR)."""
    con = sqlite3.connect(db)
    rng = random.Random(11)
    rows, tags, meta = [], [], []
    for i in range(n):
        tid = "tr-%032x" % rng.getrandbits(128)
        rows.append((tid, int(exp_id), T0_MS + i * 1000, 10 + i % 50, "ERROR" if i % 7 == 0 else "OK",
                     '{"query": "q%d"}' % i, '{"answer": "a%d"}' % i, f"trace-{i % 10}"))
        tags.append(("mlflow.artifactLocation", f"mlflow-artifacts:/{exp_id}/traces/{tid}/artifacts", tid))
        tags.append(("team", f"t{i % 5}", tid))
        meta.append(("mlflow.trace_schema.version", "3", tid))
        meta.append(("mlflow.user", "bench", tid))
    with con:
        con.executemany("INSERT INTO trace_info (request_id, experiment_id, timestamp_ms, execution_time_ms, "
                        "status, request_preview, response_preview, trace_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        rows)
        con.executemany("INSERT INTO trace_tags (key, value, request_id) VALUES (?, ?, ?)", tags)
        con.executemany("INSERT INTO trace_request_metadata (key, value, request_id) VALUES (?, ?, ?)", meta)
    con.close()


def search_body(exp_id, q):
    body = {"locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp_id}}]}
    body.update(q)
    return body


def page_ids(port, exp_id, q):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    conn.request("POST", "/api/3.0/mlflow/traces/search", json.dumps(search_body(exp_id, q)),
                 {"Content-Type": "application/json"})
    r = conn.getresponse()
    data = json.loads(r.read() or b"{}")
    conn.close()
    if r.status != 200:
        raise RuntimeError(f"search-traces answered {r.status}: {str(data)[:300]}")
    return [t["trace_id"] for t in data.get("traces", [])]


def create_experiment(port, name):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    conn.request("POST", "/api/2.0/mlflow/experiments/create", json.dumps({"name": name}),
                 {"Content-Type": "application/json"})
    r = conn.getresponse()
    data = json.loads(r.read() or b"{}")
    conn.close()
    if r.status != 200:
        raise RuntimeError(f"experiments/create answered {r.status}: {str(data)[:300]}")
    return data["experiment_id"]


def run(h, kind, log, summary):
    """W12 for one server kind on the harness h (bench.Harness); log prints a progress line,
    summary makes bench.py's {med, min, max, n} of repeated figures."""
    sc = h.sc
    r = h.res[kind]
    srv = h.new_server(kind, "traces")
    try:
        h.start(srv, "startup_traces_ms")
        exp_id = create_experiment(srv.port, "bench-traces")
        secs = sc["dur_s"] * 2
        clients = sc.get("trace_clients", CLIENTS)
        tps, p50, errors = ingest(srv.port, exp_id, secs, 1, clients)
        if errors:
            h.gate(kind, "w12_ingest", f"{len(errors)} failed traces, first: {errors[0]}")
        r["w12_ingest_tps"] = tps
        r["w12_ingest_p50"] = p50
        log(f"[{kind}] W12 ingest of {SPANS}-span traces from {clients} clients: {tps:,.1f} traces/s, "
                   f"p50 {p50 or 0:.1f} ms per trace ({len(errors)} errors)")
        # the searched traces live in an experiment of their own: the ingest phase wrote
        # as many traces as each server could take, so the two would differ otherwise
        exp_id = create_experiment(srv.port, "bench-traces-search")
        srv.stop()
        n = sc["trace_search"]
        fill(srv.db, exp_id, n)
        srv = h.new_server(kind, "traces", srv.db)
        h.start(srv, "startup_traces_ms")
        for sid, (label, q) in SEARCHES.items():
            try:
                ids = page_ids(srv.port, exp_id, q)
                h.answers[kind][sid] = ids
                vals = []
                while len(vals) < h.lat_reps(vals):
                    vals.append(h.reqlat(srv.port, "POST", "/api/3.0/mlflow/traces/search",
                                         body=search_body(exp_id, q), warmup=0 if vals else 1))
                r[f"{sid}_p50"] = summary([v["p50_ms"] for v in vals])
                log(f"[{kind}] W12 search-traces over {n:,} traces, {label}: "
                           f"p50 {r[sid + '_p50']['med']:.2f} ms")
            except Exception as e:
                h.gate(kind, sid, f"{e}")
    except Exception as e:
        h.gate(kind, "w12_ingest", f"{e}")
    finally:
        srv.stop()


def report_rows(row, sc):
    n = f"{sc['trace_search']:,}"
    c = sc.get("trace_clients", CLIENTS)
    row(f"W12 trace ingest, {SPANS}-span traces from {c} clients (OTLP + StartTraceV3): traces/s",
        "w12_ingest_tps", "", "hi", None, 30, gate_ids=("w12_ingest",), short=f"W12 trace ingest c={c}")
    row(f"W12 trace ingest, {SPANS}-span traces from {c} clients: p50 per trace", "w12_ingest_p50", " ms",
        "lo", gate_ids=("w12_ingest",), plot=False)
    for sid, (label, _) in SEARCHES.items():
        row(f"W12 search-traces on {n} traces, {label}: p50", f"{sid}_p50", " ms", "lo", 10, 30,
            gate_ids=(sid,), short=f"W12 search-traces {label}")
