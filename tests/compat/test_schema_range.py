"""Which stores mlflowd serves, judged from the file's own schema: stock MLflow 3.18.0's (as it
is, and still openable by 3.18.0 afterwards), 3.17.2's, a head from the future that only adds
tables or nullable columns; and which it refuses, with one line, exit status 1 and the file
byte for byte unchanged: an older head (with the command that upgrades it), a head that changed
a column mlflowd writes, and files that are not a usable MLflow store."""

import random
import sqlite3
import subprocess

import pytest
import requests
from mlflow import MlflowClient

import compat_util as cu
import releases
from store_data import check_populated, populate, snapshot

pytestmark = pytest.mark.mlflowd_only


def start(db, tmp_path, extra=()):
    """Run mlflowd on db expecting a refusal; returns (status, output lines)."""
    args = [cu.MLFLOWD_BIN, "--backend-store", str(db), "--host", "127.0.0.1", "--port", str(cu.free_port()),
            "--artifacts-destination", str(tmp_path / "art"), *extra]
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=30, cwd=tmp_path, env=cu.server_env())
    except subprocess.TimeoutExpired:
        pytest.fail(f"mlflowd did not refuse {db} within 30 s")
    return p.returncode, [ln for ln in (p.stdout + p.stderr).splitlines() if ln.strip()]


def assert_refused(db, tmp_path, *words):
    before = db.read_bytes()
    rc, lines = start(db, tmp_path)
    assert rc == 1, lines
    assert len(lines) == 1, f"expected one line, got {lines}"
    for w in words:
        assert w in lines[0], f"{w!r} not in {lines[0]!r}"
    assert db.read_bytes() == before, "mlflowd changed a file it refused"
    for suffix in ("-wal", "-shm", "-journal"):
        assert not db.with_name(db.name + suffix).exists() or suffix == "-shm", f"{suffix} left behind"
    return lines[0]


def edit_schema(db, *statements):
    """Change declared column types and constraints in place (the stored records stay valid)."""
    con = sqlite3.connect(db)
    con.execute("PRAGMA writable_schema=ON")
    for sql in statements:
        con.execute(sql)
    con.commit()
    con.execute("PRAGMA writable_schema=OFF")
    con.close()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


def set_head(db, head):
    con = sqlite3.connect(db)
    con.execute("UPDATE alembic_version SET version_num = ?", (head,))
    con.commit()
    con.close()


# ---- served ----


def test_stock_318_store_served_as_is_and_still_opens_in_318(mlflowd_factory, tmp_path):
    db = tmp_path / "stock318.db"
    uri = f"sqlite:///{db}"
    exp_ids = releases.client(releases.NEWEST, "populate", uri, cu.uniq("s318"), full=True)
    via_sql = releases.client(releases.NEWEST, "snapshot", uri, *exp_ids, full=True)
    check_populated(via_sql, exp_ids)
    assert releases.head_of(db) == releases.NEWEST_HEAD
    schema_before = releases.normalized_schema(db)

    srv = mlflowd_factory(db_path=db, artifacts=tmp_path / "art")
    http = MlflowClient(srv.url)
    assert snapshot(http, exp_ids) == via_sql
    rid = http.create_run(exp_ids[0], run_name="by-mlflowd").info.run_id
    http.log_metric(rid, "m", 3.0, timestamp=5, step=1)
    http.set_terminated(rid)
    assert srv.stop() == 0

    # the head and MLflow's layout are as 3.18.0 left them, and 3.18.0 reads everything
    assert releases.head_of(db) == releases.NEWEST_HEAD
    assert releases.normalized_schema(db) == schema_before
    after = releases.client(releases.NEWEST, "snapshot", uri, *exp_ids, full=True)
    assert after[exp_ids[0]]["runs"][rid]["metrics"] == {"m": 3.0}
    assert after[exp_ids[0]]["runs"][rid]["info"][3] == "FINISHED"
    del after[exp_ids[0]]["runs"][rid]
    assert after == via_sql


def test_317_store_migrated_by_a_318_client_is_still_served(mlflowd_factory, tmp_path):
    # MLflow 3.18.0 migrates any store it opens, even for a read-only search; mlflowd serves
    # the store before and after that
    db = tmp_path / "s317.db"
    stock = MlflowClient(tracking_uri=f"sqlite:///{db}")
    exp_ids = populate(stock, cu.uniq("s317"))
    want = snapshot(stock, exp_ids)
    assert releases.head_of(db) == releases.PINNED_HEAD
    srv = mlflowd_factory(db_path=db, artifacts=tmp_path / "art")
    assert snapshot(MlflowClient(srv.url), exp_ids) == want
    assert srv.stop() == 0
    assert releases.head_of(db) == releases.PINNED_HEAD, "mlflowd changed the head on its own"

    releases.client(releases.NEWEST, "snapshot", f"sqlite:///{db}", *exp_ids, full=True)
    assert releases.head_of(db) == releases.NEWEST_HEAD
    srv = mlflowd_factory(db_path=db, artifacts=tmp_path / "art")
    assert snapshot(MlflowClient(srv.url), exp_ids) == want


def test_future_head_that_only_adds_is_served(mlflowd_factory, tmp_path, fresh_db_template):
    db = cu.copy_db(fresh_db_template, tmp_path / "future.db")
    con = sqlite3.connect(db)
    con.executescript("""
        CREATE TABLE future_things (id INTEGER NOT NULL PRIMARY KEY, note TEXT NOT NULL);
        ALTER TABLE runs ADD COLUMN future_note VARCHAR(100);
        ALTER TABLE metrics ADD COLUMN future_flag BOOLEAN DEFAULT '0' NOT NULL;
        UPDATE alembic_version SET version_num = 'aaaaaaaaaaaa';
    """)
    con.commit()
    con.close()
    srv = mlflowd_factory(db_path=db)
    api = cu.Api(srv)
    rid = api.create_run(api.create_experiment("future"))
    api.log_metric(rid, "m", 1.0, step=0, timestamp=1)
    assert api.get_run(rid)["data"]["metrics"][0]["value"] == 1.0
    assert srv.stop() == 0
    con = sqlite3.connect(db)
    assert con.execute("SELECT future_flag FROM metrics WHERE run_uuid = ?", (rid,)).fetchall() == [(0,)]
    assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [("aaaaaaaaaaaa",)]
    con.close()


# ---- refused: the schema ----


@pytest.mark.parametrize("change, words", [
    # a column mlflowd writes got another type
    ("UPDATE sqlite_master SET sql = replace(sql, 'status VARCHAR(9)', 'status INTEGER') WHERE name = 'runs'",
     ["table runs", "column status", "INTEGER", "VARCHAR(9)"]),
    # shorter than what mlflowd writes
    ("UPDATE sqlite_master SET sql = replace(sql, 'value VARCHAR(8000) NOT NULL', 'value VARCHAR(100) NOT NULL') "
     "WHERE name = 'params'", ["table params", "column value", "VARCHAR(100)"]),
    # NOT NULL where mlflowd writes NULL
    ("UPDATE sqlite_master SET sql = replace(sql, 'value VARCHAR(8000), ', 'value VARCHAR(8000) NOT NULL, ') "
     "WHERE name = 'tags'", ["table tags", "column value", "NOT NULL"]),
    # a new NOT NULL column without a default, which mlflowd's inserts do not fill
    ("UPDATE sqlite_master SET sql = replace(sql, 'is_nan BOOLEAN DEFAULT ''0'' NOT NULL, ', "
     "'is_nan BOOLEAN DEFAULT ''0'' NOT NULL, origin VARCHAR(20) NOT NULL, ') WHERE name = 'metrics'",
     ["table metrics", "column origin", "NOT NULL without a default"]),
    # a column mlflowd reads is gone
    ("UPDATE sqlite_master SET sql = replace(sql, 'dataset_profile TEXT, ', '') WHERE name = 'datasets'",
     ["table datasets", "column dataset_profile", "missing"]),  # (the table is empty: its records still fit)
])
def test_future_head_that_changed_a_column_mlflowd_writes_is_refused(tmp_path, fresh_db_template, change, words):
    db = cu.copy_db(fresh_db_template, tmp_path / "changed.db")
    set_head(db, "bbbbbbbbbbbb")
    edit_schema(db, change)
    line = assert_refused(db, tmp_path, str(db), "bbbbbbbbbbbb", "unknown to mlflowd", *words)
    assert "mlflowd db upgrade" not in line


def test_store_of_stock_2_22_4_is_refused_with_the_upgrade_command(tmp_path):
    db = tmp_path / "old.db"
    releases.client("2.22.4", "populate", f"sqlite:///{db}", cu.uniq("old"), full=True)
    head = releases.head_of(db)
    line = assert_refused(db, tmp_path, head, releases.NEWEST_HEAD, "missing")
    assert line.endswith(f"upgrade it with: mlflowd db upgrade {db}"), line


# ---- refused: not a usable store ----


def test_text_file_is_refused(tmp_path):
    db = tmp_path / "notes.db"
    db.write_bytes(b"this is not an sqlite database\n" * 200)
    assert_refused(db, tmp_path, str(db), "not an SQLite database")


def test_short_garbage_is_refused(tmp_path):
    db = tmp_path / "short.db"
    db.write_bytes(b"SQLite")
    assert_refused(db, tmp_path, str(db), "not an SQLite database")


def test_sqlite_file_of_another_program_is_refused(tmp_path):
    db = tmp_path / "other.db"
    con = sqlite3.connect(db)
    con.executescript("CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT); "
                      "INSERT INTO accounts (owner) VALUES ('someone');")
    con.commit()
    con.close()
    assert_refused(db, tmp_path, str(db), "not MLflow's", "alembic_version")


@pytest.fixture
def filled_store(tmp_path, fresh_db_template, mlflowd_factory):
    """A store with some pages of data, in rollback-journal mode (so the file alone holds it)."""
    db = cu.copy_db(fresh_db_template, tmp_path / "filled.db")
    srv = mlflowd_factory(db_path=db)
    api = cu.Api(srv)
    rid = api.create_run(api.create_experiment("filled"))
    api.okpost("/runs/log-batch", {"run_id": rid, "metrics": [
        {"key": f"k{k}", "value": float(s), "timestamp": s, "step": s} for k in range(20) for s in range(50)]})
    assert srv.stop() == 0
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    assert db.stat().st_size > 200 * 1024
    return db


def test_truncated_store_is_refused(tmp_path, filled_store):
    data = filled_store.read_bytes()
    filled_store.write_bytes(data[: len(data) // 2])
    assert_refused(filled_store, tmp_path, str(filled_store), "truncated")


def test_corrupt_store_is_refused(tmp_path, filled_store):
    data = bytearray(filled_store.read_bytes())
    rnd = random.Random(7)
    page = 4096
    for p in range(2, len(data) // page, 3):  # every third page after the schema's
        for i in range(p * page, p * page + 64):
            data[i] = rnd.randrange(256)
    filled_store.write_bytes(bytes(data))
    assert_refused(filled_store, tmp_path, str(filled_store), "damaged")


def test_corrupt_schema_page_is_refused(tmp_path, filled_store):
    data = bytearray(filled_store.read_bytes())
    data[100:4096] = bytes(random.Random(3).randrange(256) for _ in range(3996))
    filled_store.write_bytes(bytes(data))
    line = assert_refused(filled_store, tmp_path, str(filled_store))
    assert "malformed" in line or "damaged" in line or "not a usable" in line, line

