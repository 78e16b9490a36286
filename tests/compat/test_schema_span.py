"""The span of MLflow schemas mlflowd takes, with real files: a store created and filled by
stock MLflow of each release below (its own client, in .venvs/mlflow-<version>), upgraded once
by `mlflowd db upgrade` and once by stock MLflow 3.18.0's `mlflow db upgrade`: both results have
the same schema (sqlite_master normalized) and the same rows, and the stock client reads the
store mlflowd upgraded through mlflowd as the release's own client read it before.

Registered as its own ctest entry (schema_span): the first run builds the environments
(scripts/mlflow-venv, about a minute each; scripts/setup --tests builds them beforehand)."""

import shutil
import sqlite3
import subprocess

import pytest
from mlflow import MlflowClient

import compat_util as cu
import releases
from store_data import check_populated, snapshot

pytestmark = pytest.mark.mlflowd_only

# Releases whose stores are upgraded: the first 2.x, a middle and the last 2.x, the first 3.0
# patch, a middle 3.x, the pinned 3.17.2 and 3.18.0 itself.
SPAN = ["2.0.1", "2.9.2", "2.22.4", "3.0.1", "3.10.1", releases.PINNED, releases.NEWEST]
FULL = {"2.22.4", releases.NEWEST}  # environments the other suites use whole


def mlflowd_cmd(*args, timeout=120):
    return subprocess.run([cu.MLFLOWD_BIN, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env=cu.server_env())


@pytest.fixture(scope="module", params=SPAN)
def release_store(request, tmp_path_factory):
    """(version, store as the release left it, the release's own snapshot of it, experiment ids)."""
    version = request.param
    d = tmp_path_factory.mktemp(f"span-{version}")
    db = d / "release.db"
    uri = f"sqlite:///{db}"
    full = version in FULL
    exp_ids = releases.client(version, "populate", uri, cu.uniq(f"v{version}"), full=full)
    snap = releases.client(version, "snapshot", uri, *exp_ids, full=full)
    check_populated(snap, exp_ids, datasets=tuple(map(int, version.split(".")[:2])) >= (2, 4))
    return version, db, snap, exp_ids


def test_upgrade_matches_stock(release_store, tmp_path, mlflowd_factory):
    version, db, snap, exp_ids = release_store
    head = releases.head_of(db)
    ours, stock = tmp_path / "ours.db", tmp_path / "stock.db"
    shutil.copy(db, ours)
    shutil.copy(db, stock)

    p = mlflowd_cmd("db", "upgrade", ours)
    assert p.returncode == 0, p.stdout + p.stderr
    if head == releases.NEWEST_HEAD:
        assert "nothing to do" in p.stdout
        assert not list(tmp_path.glob("ours.db.bak-*"))
    else:
        assert f"from MLflow schema head {head} to {releases.NEWEST_HEAD}" in p.stdout, p.stdout
        backup = tmp_path / f"ours.db.bak-{head}"
        assert backup.read_bytes() == db.read_bytes(), "the backup is not the file as it was"
    releases.mlflow_cli(releases.NEWEST, "db", "upgrade", f"sqlite:///{stock}", full=True)

    assert releases.head_of(ours) == releases.head_of(stock) == releases.NEWEST_HEAD
    assert releases.normalized_schema(ours) == releases.normalized_schema(stock), releases.schema_diff(ours, stock)
    assert releases.all_rows(ours) == releases.all_rows(stock)
    con = sqlite3.connect(ours)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    con.close()

    # the stock client reads the upgraded store through mlflowd as the release read it
    srv = mlflowd_factory(db_path=ours, artifacts=tmp_path / "art")
    http = MlflowClient(srv.url)
    assert snapshot(http, exp_ids) == snap
    rid = http.create_run(exp_ids[0], run_name="after-upgrade").info.run_id
    http.log_metric(rid, "m", 1.0, timestamp=1, step=0)
    assert srv.stop() == 0
    # and stock 3.18.0 opens what mlflowd wrote without migrating anything
    after = releases.client(releases.NEWEST, "snapshot", f"sqlite:///{ours}", *exp_ids, full=True)
    assert after[exp_ids[0]]["runs"][rid]["metrics"] == {"m": 1.0}
    assert releases.head_of(ours) == releases.NEWEST_HEAD


def test_upgrade_flag_at_start(tmp_path, mlflowd_factory):
    db = tmp_path / "old.db"
    exp_ids = releases.client("2.22.4", "populate", f"sqlite:///{db}", cu.uniq("flag"), full=True)
    head = releases.head_of(db)
    srv = mlflowd_factory(db_path=db, extra_args=["--upgrade-db"])
    assert MlflowClient(srv.url).get_experiment(exp_ids[0]).lifecycle_stage == "active"
    assert releases.head_of(db) == releases.NEWEST_HEAD
    assert (tmp_path / f"old.db.bak-{head}").exists()


def test_upgrade_refusals_leave_the_file_unchanged(tmp_path, fresh_db_template):
    # a head mlflowd does not know
    unknown = cu.copy_db(fresh_db_template, tmp_path / "unknown.db")
    con = sqlite3.connect(unknown)
    con.execute("DELETE FROM experiments")
    con.execute("UPDATE alembic_version SET version_num = 'cccccccccccc'")
    con.execute("ALTER TABLE runs RENAME COLUMN name TO run_name")  # so it is not served either
    con.commit()
    con.close()
    before = unknown.read_bytes()
    p = mlflowd_cmd("db", "upgrade", unknown)
    assert p.returncode == 1 and "cccccccccccc" in p.stderr and "does not know" in p.stderr, p.stderr
    assert unknown.read_bytes() == before and not list(tmp_path.glob("unknown.db.bak-*"))

    # not an MLflow store at all
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    p = mlflowd_cmd("db", "upgrade", other)
    assert p.returncode == 1 and "alembic_version" in p.stderr, p.stderr


def test_upgrade_usage():
    p = mlflowd_cmd("db", "downgrade", "x.db")
    assert p.returncode == 2 and "mlflowd db upgrade FILE" in p.stderr
