"""Metric history: get_metric_history (incl. >25000 points, paged by the client),
raw get-history paging, get-history-bulk-interval sampling, and the ajax get-history-bulk."""

import math
import sqlite3

import pytest

from compat_util import AJAX, assert_invalid, read_while_writing, uniq

BULK_INTERVAL = AJAX + "/metrics/get-history-bulk-interval"
BULK = AJAX + "/metrics/get-history-bulk"


def log_series(api, rid, key, n, step=lambda i: i, value=lambda i: float(i), ts=lambda i: 1000 + i):
    for start in range(0, n, 1000):
        api.okpost("/runs/log-batch", {"run_id": rid, "metrics": [
            {"key": key, "value": value(i), "timestamp": ts(i), "step": step(i)}
            for i in range(start, min(n, start + 1000))]})


@pytest.fixture
def rid(api):
    return api.create_run(api.create_experiment())


def test_client_history_over_25000_points(client, api, rid):
    n = 25_010
    log_series(api, rid, "big", n)
    hist = client.get_metric_history(rid, "big")  # the client pages by 25000
    assert len(hist) == n
    assert [m.step for m in hist] == list(range(n))
    assert hist[-1].value == float(n - 1) and hist[-1].timestamp == 1000 + n - 1
    assert client.get_run(rid).data.metrics["big"] == float(n - 1)


def test_long_history_keeps_mlflows_order_across_step_ranges(client, api, rid):
    # a series this long is read in two step ranges at once and its JSON
    # written in two halves; timestamps that run against the steps make the
    # halves interleave in MLflow's (timestamp, step, value) order
    n = 40_000
    log_series(api, rid, "long", n, ts=lambda i: 1000 + (i * 7919) % 5000, value=lambda i: float(i % 13))
    want = sorted((1000 + (i * 7919) % 5000, i, float(i % 13)) for i in range(n))
    got = [(m.timestamp, m.step, m.value) for m in client.get_metric_history(rid, "long")]
    assert got == want
    raw = api.okget("/metrics/get-history", {"run_id": rid, "metric_key": "long"})["metrics"]
    assert [(m["timestamp"], m["step"], m["value"]) for m in raw] == want
    assert raw[0] == {"key": "long", "value": want[0][2], "timestamp": want[0][0], "step": want[0][1]}


def test_long_history_read_is_one_snapshot_under_concurrent_writes(api, rid):
    # every log-batch of the writer adds a point at step 10 and one at step
    # 39,990, one in each half of the series' step range, so a read that
    # mixed two snapshots (one range before a batch, the other after it)
    # would hold more points at one of the two steps
    log_series(api, rid, "snap", 40_000)

    def batch(k):
        return {"run_id": rid, "metrics": [{"key": "snap", "value": float(k), "timestamp": 100_000 + k, "step": step}
                                           for step in (10, 39_990)]}

    def read(i):
        ms = api.okget("/metrics/get-history", {"run_id": rid, "metric_key": "snap"})["metrics"]
        low = sum(1 for m in ms if m["step"] == 10)
        high = sum(1 for m in ms if m["step"] == 39_990)
        assert low == high, f"read {i} mixed two snapshots: {low} vs {high} points"
        return low

    reads = read_while_writing(api, batch, read)
    assert reads[-1] > reads[0], "the writer committed nothing during the reads"


def test_history_ordering_timestamp_step_value(client, api, rid):
    pts = [(5, 300, 1.0), (1, 100, 2.0), (0, 300, 0.5), (2, 200, -1.0), (2, 200, -3.0)]
    api.okpost("/runs/log-batch", {"run_id": rid, "metrics": [
        {"key": "o", "value": v, "timestamp": t, "step": s} for s, t, v in pts]})
    got = [(m.step, m.timestamp, m.value) for m in client.get_metric_history(rid, "o")]
    assert got == sorted(pts, key=lambda p: (p[1], p[0], p[2]))


def test_raw_history_paging(api, rid):
    log_series(api, rid, "p", 10)
    j = api.okget("/metrics/get-history", {"run_id": rid, "metric_key": "p", "max_results": 4})
    assert [m["step"] for m in j["metrics"]] == [0, 1, 2, 3] and j["next_page_token"]
    j = api.okget("/metrics/get-history", {"run_id": rid, "metric_key": "p", "max_results": 4,
                                           "page_token": j["next_page_token"]})
    assert [m["step"] for m in j["metrics"]] == [4, 5, 6, 7] and j["next_page_token"]
    j = api.okget("/metrics/get-history", {"run_id": rid, "metric_key": "p", "max_results": 4,
                                           "page_token": j["next_page_token"]})
    assert [m["step"] for m in j["metrics"]] == [8, 9] and "next_page_token" not in j
    # exact fit: no token
    j = api.okget("/metrics/get-history", {"run_id": rid, "metric_key": "p", "max_results": 10})
    assert len(j["metrics"]) == 10 and "next_page_token" not in j
    # absent max_results: everything
    j = api.okget("/metrics/get-history", {"run_id": rid, "metric_key": "p"})
    assert len(j["metrics"]) == 10
    assert api.history(rid, "p", max_results=3) == j["metrics"]
    assert j["metrics"][0] == {"key": "p", "value": 0.0, "timestamp": 1000, "step": 0}


def test_paged_history_keeps_one_order_and_sees_writes_between_pages(api, rid):
    # timestamps out of step order: the series has to be re-ordered, and the
    # pages of one read (the server keeps the ordered series between them)
    # must join up to exactly the full read
    n = 60
    log_series(api, rid, "shuffled", n, ts=lambda i: 1000 + (i * 37) % 20, value=lambda i: float(i % 7))
    full = api.okget("/metrics/get-history", {"run_id": rid, "metric_key": "shuffled"})["metrics"]
    assert [(m["timestamp"], m["step"], m["value"]) for m in full] == sorted(
        (1000 + (i * 37) % 20, i, float(i % 7)) for i in range(n))
    assert api.history(rid, "shuffled", max_results=7) == full
    # a write between two pages: the next page is cut from the new state
    q = {"run_id": rid, "metric_key": "shuffled", "max_results": 10}
    first = api.okget("/metrics/get-history", q)
    assert first["metrics"] == full[:10]
    api.okpost("/runs/log-metric", {"run_id": rid, "key": "shuffled", "value": -1.0, "timestamp": 0, "step": 999})
    second = api.okget("/metrics/get-history", dict(q, page_token=first["next_page_token"]))
    after = api.okget("/metrics/get-history", {"run_id": rid, "metric_key": "shuffled"})["metrics"]
    assert after[0]["step"] == 999 and after[1:] == full
    assert second["metrics"] == after[10:20]


def test_paged_history_sees_a_write_by_another_process(api, mlflowd, rid):
    # a point written straight into the database file by another process
    # (not through the server) between two pages must show in the next page
    log_series(api, rid, "ext", 30)
    q = {"run_id": rid, "metric_key": "ext", "max_results": 10}
    first = api.okget("/metrics/get-history", q)
    with sqlite3.connect(mlflowd.db_path, timeout=20) as db:
        db.execute("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
                   "VALUES ('ext', -1.0, 0, ?, 999, 0)", (rid,))
    second = api.okget("/metrics/get-history", dict(q, page_token=first["next_page_token"]))
    after = api.okget("/metrics/get-history", {"run_id": rid, "metric_key": "ext"})["metrics"]
    assert after[0]["step"] == 999 and len(after) == 31
    assert second["metrics"] == after[10:20]


def test_history_accepts_run_uuid_and_ajax(api, rid):
    log_series(api, rid, "u", 3)
    a = api.okget("/metrics/get-history", {"run_uuid": rid, "metric_key": "u"})
    b = api.okget(AJAX + "/metrics/get-history", {"run_id": rid, "metric_key": "u"})
    assert a == b and len(a["metrics"]) == 3


def test_history_missing_key_or_run(client, api, rid):
    assert api.okget("/metrics/get-history", {"run_id": rid, "metric_key": "nokey", "max_results": 3}) == {}
    assert client.get_metric_history(rid, "nokey") == []
    assert_invalid(api.get("/metrics/get-history", {"run_id": rid}),
                   "Missing value for required parameter 'metric_key'")
    assert_invalid(api.get("/metrics/get-history", {"run_id": rid, "metric_key": "u", "page_token": "zzz"}))


def test_history_of_nan_and_inf(client, api, rid):
    for i, v in enumerate(["NaN", 1.0, "Infinity", "-Infinity"]):
        api.okpost("/runs/log-metric", {"run_id": rid, "key": "x", "value": v, "timestamp": 10 + i, "step": i})
    vals = [m.value for m in client.get_metric_history(rid, "x")]
    assert math.isnan(vals[0]) and vals[1:] == [1.0, 1.7976931348623157e308, -1.7976931348623157e308]


# ---- get-history-bulk-interval ------------------------------------------------------------


def bulk_interval(api, run_ids, key, **kw):
    params = {"run_ids": run_ids, "metric_key": key}
    params.update(kw)
    return api.okget(BULK_INTERVAL, params).get("metrics", [])


def test_bulk_interval_small_series_returns_everything(api, rid):
    log_series(api, rid, "m", 20)
    got = bulk_interval(api, [rid], "m")
    assert [m["step"] for m in got] == list(range(20))
    assert got[0] == {"key": "m", "value": 0.0, "timestamp": 1000, "step": 0, "run_id": rid}


@pytest.mark.parametrize("n,max_results", [(100, 7), (1000, 10), (1000, 2), (3000, 2500), (57, 56)])
def test_bulk_interval_sampling_keeps_first_and_last(api, rid, n, max_results):
    log_series(api, rid, "m", n)
    got = bulk_interval(api, [rid], "m", max_results=max_results)
    steps = [m["step"] for m in got]
    assert len(steps) == max_results
    assert steps[0] == 0 and steps[-1] == n - 1
    assert steps == sorted(set(steps))
    assert all(m["run_id"] == rid and m["value"] == float(m["step"]) for m in got)


def ntile_sample(rows, n):
    """MLflow's sampling: rows in (step, timestamp, value) order split into n
    NTILE buckets, the first row of each kept and the last row in place of
    the final sample."""
    if len(rows) <= n:
        return rows
    q, r = divmod(len(rows), n)
    starts = [b * (q + 1) if b < r else r * (q + 1) + (b - r) * q for b in range(n)]
    return [rows[i] for i in starts[:-1]] + [rows[-1]]


@pytest.mark.parametrize("dup", [False, True])
def test_bulk_interval_picks_mlflows_rows_with_gaps(api, rid, dup):
    # steps with gaps (one row per step: the server's position-based path);
    # with dup, one step holds two rows (the general SQL sampling)
    n = 1237
    steps = [3 * i + (i % 7 == 0) for i in range(n)]
    if dup:
        steps[500] = steps[499]
    log_series(api, rid, "g", n, step=lambda i: steps[i], value=lambda i: float(i), ts=lambda i: 5000 + i)
    rows = sorted((steps[i], 5000 + i, float(i)) for i in range(n))
    for max_results in (320, 100, 7):
        got = [(m["step"], m["timestamp"], m["value"]) for m in bulk_interval(api, [rid], "g", max_results=max_results)]
        assert got == ntile_sample(rows, max_results)


def test_bulk_interval_max_results_1_returns_last_point(api, rid):
    log_series(api, rid, "m", 50)
    got = bulk_interval(api, [rid], "m", max_results=1)
    assert [m["step"] for m in got] == [49]


def test_bulk_interval_step_range(api, rid):
    log_series(api, rid, "m", 100)
    got = bulk_interval(api, [rid], "m", start_step=10, end_step=20)
    assert [m["step"] for m in got] == list(range(10, 21))
    got = bulk_interval(api, [rid], "m", start_step=10, end_step=20, max_results=4)
    steps = [m["step"] for m in got]
    assert len(steps) == 4 and steps[0] == 10 and steps[-1] == 20


def test_bulk_interval_many_runs(api):
    eid = api.create_experiment()
    runs = [api.create_run(eid) for _ in range(3)]
    for k, r in enumerate(runs):
        log_series(api, r, "m", 30 + 10 * k, step=lambda i, k=k: i * (k + 1))
    got = bulk_interval(api, runs, "m", max_results=5)
    # grouped by run in request order, each sampled separately with its own first/last step
    assert [m["run_id"] for m in got] == [r for r in runs for _ in range(5)]
    for k, r in enumerate(runs):
        steps = [m["step"] for m in got if m["run_id"] == r]
        assert steps[0] == 0 and steps[-1] == (29 + 10 * k) * (k + 1)


def test_bulk_interval_same_step_many_values(api, rid):
    # many values at step 0 (log_metric without a step): sampled by row, stays bounded
    log_series(api, rid, "s", 3000, step=lambda i: 0, ts=lambda i: 1000 + i)
    got = bulk_interval(api, [rid], "s", max_results=10)
    assert len(got) == 10
    assert got[0]["timestamp"] == 1000 and got[-1]["timestamp"] == 3999


def test_bulk_interval_api_route_too(api, rid):
    log_series(api, rid, "m", 5)
    a = api.okget("/metrics/get-history-bulk-interval", {"run_ids": [rid], "metric_key": "m"})
    assert [m["step"] for m in a["metrics"]] == [0, 1, 2, 3, 4]


def test_bulk_interval_unknown_key_or_run_is_empty(api, rid):
    log_series(api, rid, "m", 5)
    assert bulk_interval(api, [rid], "nokey") == []
    assert bulk_interval(api, ["0123456789abcdef0123456789abcdef"], "m") == []


@pytest.mark.parametrize("params,message", [
    ({"start_step": 10}, "If either start step or end step are specified, both must be specified."),
    ({"end_step": 10}, "If either start step or end step are specified, both must be specified."),
    ({"start_step": 20, "end_step": 10}, "end_step must be greater than start_step. Found start_step=20 and end_step=10."),
    ({"max_results": 0}, "max_results must be between 1 and 2500."),
    ({"max_results": 2501}, "max_results must be between 1 and 2500."),
    ({"max_results": "x"}, None),
    ({"metric_key": None}, "Missing value for required parameter 'metric_key'"),
    ({"run_ids": None}, "Missing value for required parameter 'run_ids'"),
])
def test_bulk_interval_errors(api, rid, params, message):
    p = {"run_ids": [rid], "metric_key": "m"}
    p.update(params)
    p = {k: v for k, v in p.items() if v is not None}
    assert_invalid(api.get(BULK_INTERVAL, p), message)


def test_bulk_interval_run_id_limit(api, rid):
    log_series(api, rid, "m", 3)
    assert len(bulk_interval(api, [rid] * 100, "m")) >= 3
    assert_invalid(api.get(BULK_INTERVAL, {"run_ids": [rid] * 101, "metric_key": "m"}),
                   "GetMetricHistoryBulkInterval request must specify at most 100 run_ids. Received 101 run_ids.")


# ---- ajax get-history-bulk ------------------------------------------------------------------


def test_bulk_history(api):
    eid = api.create_experiment()
    runs = sorted(api.create_run(eid) for _ in range(2))
    log_series(api, runs[1], "m", 4)
    log_series(api, runs[0], "m", 3, step=lambda i: i * 3)
    j = api.okget(BULK, {"run_id": [runs[1], runs[0]], "metric_key": "m"})
    # sorted by run id, then timestamp/step/value; each point carries its run_id
    assert [(m["run_id"], m["step"]) for m in j["metrics"]] == [
        (runs[0], 0), (runs[0], 3), (runs[0], 6), (runs[1], 0), (runs[1], 1), (runs[1], 2), (runs[1], 3)]
    assert j["metrics"][0] == {"key": "m", "value": 0.0, "timestamp": 1000, "step": 0, "run_id": runs[0]}
    j = api.okget(BULK, {"run_id": runs, "metric_key": "m", "max_results": 2})
    assert [(m["run_id"], m["step"]) for m in j["metrics"]] == [(runs[0], 0), (runs[0], 3)]
    assert api.okget(BULK, {"run_id": runs, "metric_key": "nokey"}) == {"metrics": []}


def test_bulk_history_errors(api, rid):
    assert_invalid(api.get(BULK, {"metric_key": "m"}), "GetMetricHistoryBulk request must specify at least one run_id.")
    assert_invalid(api.get(BULK, {"run_id": rid}), "GetMetricHistoryBulk request must specify a metric_key.")
    assert_invalid(api.get(BULK, {"run_id": [rid] * 101, "metric_key": "m"}),
                   "GetMetricHistoryBulk request cannot specify more than 100 run_ids. Received 101 run_ids.")


def test_metric_history_of_other_experiment_run_unaffected(api):
    a = api.create_run(api.create_experiment(uniq("a")))
    b = api.create_run(api.create_experiment(uniq("b")))
    log_series(api, a, "m", 5)
    assert api.history(b, "m") == []


@pytest.mark.parametrize("n,max_results", [(1000, 7), (3001, 320), (641, 320)])
def test_bulk_interval_picks_the_rows_mlflow_picks(api, rid, n, max_results):
    # MLflow 3.17 keeps the first row of each of NTILE(max_results) buckets over the ordered
    # series, and the series' last row in place of the final sample.
    log_series(api, rid, "m", n)
    got = [m["step"] for m in bulk_interval(api, [rid], "m", max_results=max_results)]
    q, r = divmod(n, max_results)
    starts = [b * (q + 1) if b < r else r * (q + 1) + (b - r) * q for b in range(max_results)]
    assert got == starts[:-1] + [n - 1]


def test_bulk_interval_extra_row_at_one_step_still_samples_like_mlflow(api, rid):
    # 1000 one-row steps plus a second row at step 3: row index and step disagree after it
    log_series(api, rid, "m", 1000)
    api.okpost("/runs/log-metric", {"run_id": rid, "key": "m", "value": 3.5, "timestamp": 5000, "step": 3})
    rows = sorted([(i, 1000 + i) for i in range(1000)] + [(3, 5000)])
    n, max_results = len(rows), 7
    q, r = divmod(n, max_results)
    starts = [b * (q + 1) if b < r else r * (q + 1) + (b - r) * q for b in range(max_results)]
    want = [rows[s] for s in starts[:-1]] + [rows[-1]]
    got = [(m["step"], m["timestamp"]) for m in bulk_interval(api, [rid], "m", max_results=max_results)]
    assert got == want
