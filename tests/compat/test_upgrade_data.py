"""The data `mlflowd db upgrade` moves as MLflow's own migrations do, with real files: traces
written by the tracing clients of MLflow 2.22.4 and 3.10.1 (spans, token usage, costs, models,
sessions, feedback), to which rows with the odd values MLflow's trace analytics migration
(75868b020152) converts by Python's rules are added, and issues with categories written by
MLflow 3.17.2's store (8b6ad64cb8f5 hashes them). Each store is upgraded once by mlflowd and
once by stock 3.18.0's `mlflow db upgrade`: every table holds the same rows, and the 3.18.0
client reads the same traces from both files and through mlflowd serving its file, as does the
pinned 3.17.2 client through mlflowd. Stores on which MLflow's migration stops, or whose
data mlflowd does not convert, are refused and left as they were.
Part of the schema_span ctest entry (it needs the releases' environments)."""

import json
import shutil
import sqlite3
import subprocess

import pytest

import compat_util as cu
import release_traces
import releases

pytestmark = pytest.mark.mlflowd_only

TOKEN_KEYS = ["input_tokens", "output_tokens", "total_tokens", "cache_read_input_tokens",
              "cache_creation_input_tokens", "cache_creation_input_tokens_above_1hr"]

# Values of the trace metadata the migration promotes to columns (Decimal, float and JSON rules).
TOKEN_USAGE = [
    {"input_tokens": "12", "output_tokens": " 7 ", "total_tokens": "1_9", "cache_read_input_tokens": 1.5,
     "cache_creation_input_tokens": True, "cache_creation_input_tokens_above_1hr": "1e2"},
    {"input_tokens": 1e300, "output_tokens": 9223372036854775807, "total_tokens": -3,
     "cache_read_input_tokens": "abc", "cache_creation_input_tokens": [1],
     "cache_creation_input_tokens_above_1hr": None},
    {"input_tokens": "2.50e1", "output_tokens": "-0", "total_tokens": "0x10", "cache_read_input_tokens": "9.5",
     "cache_creation_input_tokens": "Infinity", "cache_creation_input_tokens_above_1hr": 1e19},
    "not json", [1, 2],
]
COST = [
    {"input_cost": "0.5", "output_cost": "1e400", "total_cost": " 2_5.0 "},
    {"input_cost": 3, "output_cost": True, "total_cost": "nan"},
    {"input_cost": "0x10", "output_cost": "1__0", "total_cost": "-inf"},
    "[]", {"input_cost": {"a": 1}, "output_cost": "1.", "total_cost": ".5e-3"},
]
ASSESSMENT_VALUES = ["12345678901234567890123", "NaN", "1e400", '" No\\u00a0"', "yes", "  YES  ", "null",
                     "[1]", "-0.0", "false", '"maybe"', "7"]


def mlflowd_cmd(*args, timeout=120):
    return subprocess.run([cu.MLFLOWD_BIN, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env=cu.server_env())


def tables(con):
    return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def clone(con, table, where, args, **changes):
    """Copies the rows of table matching where, with columns changed."""
    cols = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
    sel = ", ".join("?" if c in changes else f'"{c}"' for c in cols)
    vals = [changes[c] for c in cols if c in changes]
    con.execute(f'INSERT INTO "{table}" ({", ".join(cols)}) SELECT {sel} FROM "{table}" WHERE {where}',
                [*vals, *args])


def add_odd_traces(db, tid):
    """Traces cloned from tid, in the Default experiment (values like these break the client's
    reading), whose metadata, metrics, spans and assessments hold the values above."""
    con = sqlite3.connect(db)
    have = tables(con)
    for i in range(len(TOKEN_USAGE)):
        new = f"tr-odd-{i}"
        clone(con, "trace_info", "request_id = ?", [tid], request_id=new, experiment_id=0)
        meta = {"mlflow.trace.tokenUsage": TOKEN_USAGE[i], "mlflow.trace.cost": COST[i],
                "mlflow.trace.session": "sessión-" + "s" * 300 * (i % 2)}
        if i == 3:
            meta["mlflow.gateway.endpointId"] = "ep-1"
            del meta["mlflow.trace.cost"]
        for k, v in meta.items():
            con.execute("INSERT INTO trace_request_metadata (request_id, key, value) VALUES (?, ?, ?)",
                        (new, k, v if isinstance(v, str) else json.dumps(v)))
        con.execute("INSERT INTO trace_tags (request_id, key, value) VALUES (?, 'mlflow.traceName', ?)",
                    (new, "n" * (5000 if i == 1 else 3) + "ü"))
        if "trace_metrics" in have and i == 0:  # a metric wins over the metadata, even a NULL one
            con.execute("INSERT INTO trace_metrics (request_id, key, value) VALUES (?, 'input_tokens', 4.0)", (new,))
            con.execute("INSERT INTO trace_metrics (request_id, key, value) VALUES (?, 'output_tokens', NULL)",
                        (new,))
            con.execute("INSERT INTO trace_metrics (request_id, key, value) VALUES (?, 'total_tokens', 2.5)", (new,))
        if "spans" in have:
            clone(con, "spans", "trace_id = ?", [tid], trace_id=new, experiment_id=0)
            dims = [None, "null", "{}", json.dumps({"mlflow.llm.model": "m" * 600, "mlflow.llm.provider": None})]
            con.execute("UPDATE spans SET dimension_attributes = ? WHERE trace_id = ? AND parent_span_id IS NOT NULL",
                        (dims[i % len(dims)], new))
        if "span_metrics" in have:
            clone(con, "span_metrics", "trace_id = ?", [tid], trace_id=new)
            con.execute("UPDATE span_metrics SET value = ? WHERE trace_id = ? AND key = 'input_cost'",
                        ([None, float("inf"), 2.0, 7.5, 1e300][i], new))
    if "assessments" in have:
        for j, v in enumerate(ASSESSMENT_VALUES):
            clone(con, "assessments", "assessment_id = (SELECT min(assessment_id) FROM assessments)", [],
                  assessment_id=f"a-odd-{j}", value=v, trace_id=f"tr-odd-{j % len(TOKEN_USAGE)}")
    con.commit()
    con.close()


def without_expectation_validity(seen):
    """The client's Expectation.from_proto drops `valid`, which its SQL store sets: a read over
    HTTP (either server) and one of the file differ there alone."""
    for t in seen.values():
        for a in t["info"].get("assessments", []):
            if "expectation" in a:
                a.pop("valid", None)
    return seen


def upgrade_both(db, tmp_path):
    ours, stock = tmp_path / "ours.db", tmp_path / "stock.db"
    shutil.copy(db, ours)
    shutil.copy(db, stock)
    p = mlflowd_cmd("db", "upgrade", ours)
    assert p.returncode == 0, p.stdout + p.stderr
    releases.mlflow_cli(releases.NEWEST, "db", "upgrade", f"sqlite:///{stock}", full=True)
    assert releases.head_of(ours) == releases.head_of(stock) == releases.NEWEST_HEAD
    assert releases.normalized_schema(ours) == releases.normalized_schema(stock), releases.schema_diff(ours, stock)
    a, b = releases.all_rows(ours), releases.all_rows(stock)
    differ = {t: (sorted(set(a.get(t, [])) - set(b.get(t, []))), sorted(set(b.get(t, [])) - set(a.get(t, []))))
              for t in set(a) | set(b) if a.get(t) != b.get(t)}
    assert not differ, f"rows differ (mlflowd, stock): {differ}"
    con = sqlite3.connect(ours)
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    con.close()
    return ours, stock


@pytest.mark.parametrize("version", ["2.22.4", "3.10.1"])
def test_upgrade_moves_traces_as_stock(version, tmp_path, mlflowd_factory):
    db = tmp_path / "release.db"
    exp_id, tids = releases.client(version, "populate", f"sqlite:///{db}", "traces", full=version == "2.22.4",
                                   script="release_traces.py", cwd=tmp_path)
    add_odd_traces(db, tids[0])
    ours, stock = upgrade_both(db, tmp_path)

    con = sqlite3.connect(ours)
    names = dict(con.execute("SELECT request_id, trace_name FROM trace_info"))
    assert names[tids[1]] == "agent-1" and len(names["tr-odd-1"]) == 4096
    assert con.execute("SELECT count(*) FROM trace_tags WHERE key = 'mlflow.traceName'").fetchone()[0] == 0
    if version == "3.10.1":
        row = con.execute(f"SELECT {', '.join(TOKEN_KEYS)}, input_cost, total_cost, session_id FROM trace_info "
                          "WHERE request_id = ?", (tids[2],)).fetchone()
        assert row[:3] == (12, 5, 17) and row[-1] == "session-0"
        odd = con.execute(f"SELECT {', '.join(TOKEN_KEYS)} FROM trace_info WHERE request_id = 'tr-odd-0'").fetchone()
        assert odd == (4, None, None, None, None, 100)
        assert con.execute("SELECT count(*) FROM spans WHERE model_name = 'model-1'").fetchone()[0] == 2
    con.close()

    # the 3.18.0 client reads the same traces from both stores, and through mlflowd serving ours
    shutil.copy(ours, tmp_path / "served.db")
    srv = mlflowd_factory(db_path=tmp_path / "served.db", artifacts=tmp_path / "art")
    seen_ours, seen_stock, seen_served = releases.client(
        releases.NEWEST, "read", exp_id, f"sqlite:///{ours}", f"sqlite:///{stock}", srv.url, full=True,
        script="release_traces.py", cwd=tmp_path)
    assert set(seen_ours) == set(tids)
    assert seen_ours == seen_stock
    assert without_expectation_validity(seen_served) == without_expectation_validity(seen_stock)
    # and the pinned 3.17.2 client (this process) through mlflowd
    assert json.loads(json.dumps(release_traces.read(exp_id, srv.url), sort_keys=True, default=str)) == seen_served
    if version == "3.10.1":
        assert seen_ours[tids[0]]["token_usage"] == {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}


def test_upgrade_moves_issue_categories_as_stock(tmp_path):
    """Issues with categories written by MLflow 3.17.2's store (the pinned .venv)."""
    db = tmp_path / "issues.db"
    script = (
        "import sys\n"
        "from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore\n"
        "s = SqlAlchemyStore(sys.argv[1], sys.argv[2])\n"
        "e = s.create_experiment('issues')\n"
        "cats = [['Hallucination', ' hallucination\\u00a0', 'Tone', 'tone', 'Ärger STRASSE', '\\u0130stanbul',"
        " 'Kelvin \\u212a'], [], None, ['x']]\n"
        "for i, c in enumerate(cats):\n"
        "    s.create_issue(e, f'issue-{i}', 'd', categories=c)\n")
    subprocess.run([str(cu.VENV_BIN / "python"), "-c", script, f"sqlite:///{db}", str(tmp_path / "art")],
                   check=True, capture_output=True, timeout=300, env=cu.server_env())
    assert releases.head_of(db) == releases.PINNED_HEAD
    ours, _ = upgrade_both(db, tmp_path)
    con = sqlite3.connect(ours)
    got = con.execute("SELECT count(*), count(DISTINCT issue_id) FROM issue_categories").fetchone()
    assert got == (6, 2)  # the first issue's 7 categories, 2 of them the same as others once lowered; 'x'
    con.close()


@pytest.mark.parametrize("categories,trace_sql", [
    ('["ΣΟΦΙΑ"]', None),  # Python lowers a capital sigma by its neighbours: mlflowd refuses
    ('"tone"', None),  # not a list of strings: MLflow's migration stops (or splits the string)
    (None, "UPDATE spans SET dimension_attributes = '{\"other\": 1}'"),  # MLflow's migration stops
])
def test_upgrade_refuses_data_it_does_not_move(categories, trace_sql, tmp_path, fresh_db_template):
    db = tmp_path / "odd.db"
    if trace_sql:
        releases.client("3.10.1", "create", f"sqlite:///{db}")
        con = sqlite3.connect(db)
        con.execute("INSERT INTO trace_info (request_id, experiment_id, timestamp_ms, execution_time_ms, status) "
                    "VALUES ('tr-1', 0, 1, 1, 'OK')")
        con.execute("INSERT INTO spans (trace_id, experiment_id, span_id, status, start_time_unix_nano, content) "
                    "VALUES ('tr-1', 0, 's1', 'OK', 1, '{}')")
        con.execute(trace_sql)
    else:
        # a store at the head before MLflow's issue contract migration, with one issue
        cu.copy_db(fresh_db_template, db)
        con = sqlite3.connect(db)
        con.execute("DROP TABLE issue_categories")
        con.execute("UPDATE alembic_version SET version_num = 'e7d1f4b2a9c6'")
        con.execute("INSERT INTO issues (issue_id, experiment_id, name, description, status, categories, "
                    "created_timestamp, last_updated_timestamp) VALUES ('i1', 0, 'n', 'd', 'pending', ?, 1, 1)",
                    (categories,))
    con.commit()
    con.close()
    before = db.read_bytes()
    p = mlflowd_cmd("db", "upgrade", db)
    assert p.returncode == 1 and "nothing changed" in p.stderr, p.stderr
    assert ("issue categories" if categories else "dimension attributes") in p.stderr, p.stderr
    assert db.read_bytes() == before and not list(tmp_path.glob("odd.db.bak-*"))
