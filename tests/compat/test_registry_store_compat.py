"""The model registry is MLflow's on disk: a registry stock MLflow 3.17.2 (the pinned client)
wrote is served by mlflowd with the same answers, what mlflowd then writes (versions, aliases,
renames) reads back in stock MLflow's own store on the same file, and version numbers continue
across both. The file stays at the head stock created it with: mlflowd never migrates it, so the
pinned release can read it both before and after."""

import sqlite3

from mlflow import MlflowClient

import compat_util as cu
import releases


def populate_registry(client: MlflowClient, prefix: str) -> None:
    """A model registry with tags, aliases, stages, a soft-deleted version and a rename."""
    a = f"{prefix}-reg-a"
    client.create_registered_model(a, tags={"team": "a", "note": "ünïcode ✓"}, description="model a")
    for i in range(1, 4):
        client.create_model_version(a, f"s3://bucket/{prefix}/v{i}", tags={"i": str(i)}, description=f"v{i}")
    client.set_model_version_tag(a, "1", "extra", "x")
    client.transition_model_version_stage(a, "2", "Production")
    client.set_registered_model_alias(a, "champion", "2")
    client.set_registered_model_alias(a, "old", "3")
    client.delete_model_version(a, "3")
    b = f"{prefix}-reg-b"
    client.create_registered_model(b)
    client.create_model_version(b, f"s3://bucket/{prefix}/b1")
    client.set_registered_model_tag(b, "gone", "soon")
    client.delete_registered_model_tag(b, "gone")
    client.rename_registered_model(b, f"{prefix}-reg-b2")


def snapshot_registry(client: MlflowClient, prefix: str) -> dict:
    """The registry as a client sees it (versions as text and unset text as None: the SQL store
    gives numbers and None where REST gives text and "")."""
    models = {}
    for rm in client.search_registered_models(f"name LIKE '{prefix}-reg-%'"):
        models[rm.name] = {
            "rm": (rm.description or None, rm.creation_timestamp, rm.last_updated_timestamp, dict(rm.tags),
                   {k: str(x) for k, x in rm.aliases.items()},
                   sorted((str(v.version), v.current_stage) for v in rm.latest_versions)),
            "latest": sorted((str(v.version), v.current_stage, tuple(v.aliases))
                             for v in client.get_latest_versions(rm.name)),
            "versions": [(str(v.version), v.current_stage, v.source, v.run_id or None, v.description or None,
                          v.status, dict(v.tags),
                          v.creation_timestamp, v.last_updated_timestamp)
                         for v in client.search_model_versions(f"name = '{rm.name}'")],
            "aliases": {al: str(client.get_model_version_by_alias(rm.name, al).version) for al in rm.aliases},
        }
    return models


def check_registry(snap, prefix):
    a = snap[f"{prefix}-reg-a"]
    assert a["rm"][3] == {"team": "a", "note": "ünïcode ✓"} and a["rm"][4] == {"champion": "2"}
    assert [v[0] for v in a["versions"]] == ["2", "1"] and a["aliases"] == {"champion": "2"}
    assert ("2", "Production", ("champion",)) in a["latest"]
    assert snap[f"{prefix}-reg-b2"]["versions"][0][:2] == ("1", "None") and f"{prefix}-reg-b" not in snap


def alembic_head(db):
    with sqlite3.connect(db) as con:
        return con.execute("SELECT version_num FROM alembic_version").fetchall()


def test_registry_shared_both_ways(mlflowd_factory, tmp_path):
    db = tmp_path / "stock-written.db"
    stock = MlflowClient(tracking_uri=f"sqlite:///{db}")
    prefix = cu.uniq("reg")
    populate_registry(stock, prefix)
    reg_sql = snapshot_registry(stock, prefix)
    check_registry(reg_sql, prefix)
    assert alembic_head(db) == [(releases.PINNED_HEAD,)]

    srv = mlflowd_factory(db_path=db, artifacts=tmp_path / "art")
    http = MlflowClient(srv.url)
    assert snapshot_registry(http, prefix) == reg_sql
    # numbering continues after stock's versions (the deleted one counts)
    assert http.create_model_version(f"{prefix}-reg-a", "s3://bucket/by-mlflowd").version == "4"
    http.set_registered_model_alias(f"{prefix}-reg-a", "new", "4")
    http.rename_registered_model(f"{prefix}-reg-a", f"{prefix}-reg-c")
    reg_http = snapshot_registry(http, prefix)
    assert srv.stop() == 0

    fresh_stock = MlflowClient(tracking_uri=f"sqlite:///{db}")
    assert snapshot_registry(fresh_stock, prefix) == reg_http
    assert fresh_stock.get_model_version_by_alias(f"{prefix}-reg-c", "new").source == "s3://bucket/by-mlflowd"
    # stock writes the next version; mlflowd, started again, numbers the one after it
    assert str(fresh_stock.create_model_version(f"{prefix}-reg-c", "s3://bucket/by-stock").version) == "5"
    srv2 = mlflowd_factory(db_path=db, artifacts=tmp_path / "art")
    http2 = MlflowClient(srv2.url)
    assert snapshot_registry(http2, prefix) == snapshot_registry(fresh_stock, prefix)
    assert http2.create_model_version(f"{prefix}-reg-c", "s3://bucket/again").version == "6"
    assert alembic_head(db) == [(releases.PINNED_HEAD,)]
