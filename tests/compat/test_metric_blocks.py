"""The block summaries behind the charts' min/max sample (storage/metric_blocks.h).

One summary row per 32 steps of each series, kept by mlflowd's writer for its own batches and
by triggers on MLflow's metrics table for every other writer of the file; the sampler reads
those rows instead of every point. These tests hold the
sample to an oracle computed here from the stored points, for series written by mlflowd, by
stock MLflow's own store code in another process, written before the triggers existed (built
on first use, in several write jobs when long), and after points were deleted or changed
behind mlflowd's back. They also check that the blocks mlflowd's writer and the triggers keep
are the blocks a build computes from the points."""

import math
import random
import sqlite3

import pytest

from mlflow.entities import Metric

from compat_util import uniq

pytestmark = pytest.mark.mlflowd_only

MINMAX = "/ajax-api/2.0/mlflowd/metrics/get-history-bulk-minmax"
B = 32  # MLF_METRIC_BLOCK_STEPS


def _ro(db):
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True)


def _stored(db, run_id, key):
    with _ro(db) as con:
        return con.execute("SELECT step, timestamp, value, is_nan FROM metrics WHERE run_uuid = ? AND key = ?",
                           (run_id, key)).fetchall()


def _summarized(db, run_id, key):
    with _ro(db) as con:
        return con.execute("SELECT count(*) FROM mlflowd_metric_series WHERE run_uuid = ? AND key = ?",
                           (run_id, key)).fetchone()[0] == 1


def _blocks(db, run_id, key):
    with _ro(db) as con:
        return con.execute("SELECT * FROM mlflowd_metric_blocks WHERE run_uuid = ? AND key = ? ORDER BY block",
                           (run_id, key)).fetchall()


def _oracle(points, max_results, rng=None):
    """The sample as metric_blocks.h and metrics.c define it, from the stored rows."""
    pts = [p for p in points if rng is None or rng[0] <= p[0] <= rng[1]]
    if not pts:
        return []
    lo, hi = min(p[0] for p in pts), max(p[0] for p in pts)
    q = (hi - lo) // max_results
    w = q + 1
    if q >= 2**63:
        base, w = (lo // B) * B, 2**63
    elif w < B:
        base = lo
    else:
        base, w = (lo // B) * B, -(-w // B) * B
    buckets = {}
    for p in pts:
        buckets.setdefault((p[0] - base) // w, []).append(p)
    out = []
    for b in sorted(buckets):
        ps = buckets[b]
        keep = {min(ps), max(ps)}
        finite = [p for p in ps if not p[3]]
        if finite:
            keep.add(min(finite, key=lambda p: (p[2], p[0], p[1])))
            keep.add(min(finite, key=lambda p: (-p[2], p[0], p[1])))
        out += sorted(keep)
    return [(s, t, "NaN" if n else v) for s, t, v, n in out]


def _sample(api, run_ids, key, max_results, rng=None):
    params = {"run_ids": run_ids, "metric_key": key, "max_results": max_results}
    if rng:
        params.update(start_step=rng[0], end_step=rng[1])
    r = api.request("GET", MINMAX, params=params)
    assert r.status_code == 200, r.text
    return r.json().get("metrics", [])


QUERIES = [(1, None), (3, None), (10, None), (97, None), (2500, None), (10, (37, 4001)), (50, (-100, 100)),
           (7, (-(2**63), 2**63 - 1)), (4, (1000, 1100)), (300, (64, 2047))]


def _check(api, db, run_id, key):
    pts = _stored(db, run_id, key)
    for mr, rng in QUERIES:
        got = [(m["step"], m["timestamp"], m["value"]) for m in _sample(api, [run_id], key, mr, rng)]
        assert got == _oracle(pts, mr, rng), (key, mr, rng)


def _series(rnd, n, first_step=0, stride=1):
    """Points with several values per step now and then, NaN, +-inf and spikes."""
    ms = []
    for i in range(n):
        step = first_step + i * stride
        for j in range(1 + (rnd.random() < 0.1) * rnd.randint(1, 2)):
            v = rnd.gauss(0, 1)
            if rnd.random() < 0.01:
                v = rnd.choice([math.nan, math.inf, -math.inf, 1e6, -1e6])
            ms.append((step, 1000 + i + (j if rnd.random() < 0.5 else 0), v))
    return ms


def _log(client, run_id, key, series):
    ms = [Metric(key, v, t, s) for s, t, v in series]
    for i in range(0, len(ms), 1000):
        client.log_batch(run_id, metrics=ms[i : i + 1000])


def test_sample_from_blocks_equals_the_points(client, api, mlflowd):
    rnd = random.Random(7)
    run = client.create_run(client.create_experiment(uniq("blocks"))).info.run_id
    _log(client, run, "dense", _series(rnd, 5000))
    _log(client, run, "negative", _series(rnd, 900, first_step=-3000, stride=7))
    # a block where the same value is the lowest twice, and a block of NaN only
    _log(client, run, "ties", [(s, 5000 - s, 1.0 if s % 3 else 0.0) for s in range(200)]
         + [(s, 1, math.nan) for s in range(256, 288)])
    # out of order: later steps first, earlier ones afterwards
    late = _series(rnd, 3000)
    _log(client, run, "shuffled", late[1500:] + late[:1500])
    for key in ("dense", "negative", "ties", "shuffled"):
        assert _summarized(mlflowd.db_path, run, key), key
        _check(api, mlflowd.db_path, run, key)
    # the spike survives whatever the bucket width
    spike = max(p for p in _stored(mlflowd.db_path, run, "dense") if not p[3] and abs(p[2]) < 1e300)
    got = _sample(api, [run], "dense", 5)
    assert (spike[0], spike[2]) in [(m["step"], m["value"]) for m in got]


def test_blocks_kept_by_writes_equal_blocks_built(client, api, mlflowd):
    rnd = random.Random(11)
    run = client.create_run(client.create_experiment(uniq("blocks-built"))).info.run_id
    _log(client, run, "loss", _series(rnd, 4000))
    for s in range(0, 4000, 97):  # single points into existing blocks
        client.log_metric(run, "loss", rnd.gauss(0, 5), timestamp=99999, step=s)
    kept = _blocks(mlflowd.db_path, run, "loss")
    assert len(kept) == 4000 // B
    # another program drops the mark: the next sample builds the blocks from the points
    with sqlite3.connect(mlflowd.db_path) as con:
        con.execute("DELETE FROM mlflowd_metric_series WHERE run_uuid = ?", (run,))
    _check(api, mlflowd.db_path, run, "loss")
    assert _summarized(mlflowd.db_path, run, "loss")
    assert _blocks(mlflowd.db_path, run, "loss") == kept


def test_stock_store_writes_keep_the_blocks(client, mlflowd_factory, tmp_path):
    """Stock MLflow's SqlAlchemyStore logs into the file mlflowd serves: the triggers run in its
    process; a delete and an update by another program make mlflowd build the series again.
    (Stock 3.17.2 created the file, so its store code accepts the head.)"""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    from compat_util import Api

    db = tmp_path / "shared.db"
    SqlAlchemyStore(f"sqlite:///{db}", str(tmp_path / "art")).engine.dispose()
    mlflowd = mlflowd_factory(db_path=db, artifacts=tmp_path / "art")
    client, api = type(client)(mlflowd.url), Api(mlflowd)
    run = client.create_run(client.create_experiment(uniq("blocks-stock"))).info.run_id
    _log(client, run, "a", _series(random.Random(3), 700))
    store = SqlAlchemyStore(f"sqlite:///{mlflowd.db_path}", str(mlflowd.artifacts))
    try:
        rnd = random.Random(5)
        for key in ("a", "b"):  # into a series mlflowd started, and a new one
            pts = _series(rnd, 1500, first_step=500)
            for i in range(0, len(pts), 500):
                store.log_batch(run, metrics=[Metric(key, v, t, s) for s, t, v in pts[i : i + 500]], params=[],
                                tags=[])
    finally:
        store.engine.dispose()
    for key in ("a", "b"):
        assert _summarized(mlflowd.db_path, run, key), key
        _check(api, mlflowd.db_path, run, key)
    # the blocks the triggers kept are the blocks a build computes from the points
    kept = {key: _blocks(mlflowd.db_path, run, key) for key in ("a", "b")}
    with sqlite3.connect(mlflowd.db_path) as con:
        con.execute("DELETE FROM mlflowd_metric_series WHERE run_uuid = ?", (run,))
    for key in ("a", "b"):
        _sample(api, [run], key, 10)
        assert _summarized(mlflowd.db_path, run, key) and _blocks(mlflowd.db_path, run, key) == kept[key], key
    with sqlite3.connect(mlflowd.db_path) as con:
        con.execute("DELETE FROM metrics WHERE run_uuid = ? AND key = 'a' AND step BETWEEN 600 AND 650", (run,))
        con.execute("UPDATE metrics SET value = 1e9 WHERE run_uuid = ? AND key = 'b' AND step = 1200", (run,))
    assert not _summarized(mlflowd.db_path, run, "a") and not _summarized(mlflowd.db_path, run, "b")
    for key in ("a", "b"):
        _check(api, mlflowd.db_path, run, key)
        assert _summarized(mlflowd.db_path, run, key)
    assert (1200, 1e9) in [(m["step"], m["value"]) for m in _sample(api, [run], "b", 5, (1152, 1215))]
    api.s.close()


def test_series_older_than_the_triggers_are_built(client, mlflowd_factory, tmp_path):
    """A store whose series were written without the triggers (an older mlflowd, or a migration
    that rebuilt the metrics table): mlflowd puts them back at start, forgets every summary,
    and builds a series when it is first sampled, a long one in several write jobs."""
    srv = mlflowd_factory(workdir=tmp_path / "one")
    client = type(client)(srv.url)
    run = client.create_run(client.create_experiment(uniq("blocks-old"))).info.run_id
    rnd = random.Random(13)
    long = [(s, 1000 + s, rnd.gauss(0, 1)) for s in range(130_000)]  # past MLF_METRIC_BLOCKS_BUILD_ROWS
    long[123_456] = (123_456, 1000 + 123_456, 777.0)
    _log(client, run, "long", long)
    _log(client, run, "short", _series(rnd, 300))
    assert srv.stop() == 0
    with sqlite3.connect(srv.db_path) as con:
        for t in ("insert", "delete", "update"):
            con.execute(f"DROP TRIGGER mlflowd_metric_blocks_{t}")
        # a leftover mark that must not be trusted
        con.execute("UPDATE mlflowd_metric_blocks SET hi_value = -1 WHERE run_uuid = ?", (run,))
    srv2 = mlflowd_factory(db_path=srv.db_path, artifacts=srv.artifacts, workdir=tmp_path / "two")
    from compat_util import Api

    api = Api(srv2)
    with _ro(srv.db_path) as con:
        assert con.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'mlflowd_metric_blocks_%'"
                           ).fetchone()[0] == 3
        assert con.execute("SELECT count(*) FROM mlflowd_metric_series").fetchone()[0] == 0
    for key in ("long", "short"):
        _check(api, srv.db_path, run, key)
        assert _summarized(srv.db_path, run, key)
    assert (123_456, 777.0) in [(m["step"], m["value"]) for m in _sample(api, [run], "long", 10)]
    assert len(_blocks(srv.db_path, run, "long")) == 130_000 // B + (130_000 % B > 0)
    # a key nobody logged leaves no mark
    assert _sample(api, [run], "nothing", 10) == []
    assert not _summarized(srv.db_path, run, "nothing")
    api.s.close()
