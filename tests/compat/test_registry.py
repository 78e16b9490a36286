"""The model registry through the real client: every MlflowClient registry method (registered
models, versions, tags, aliases, the deprecated stage API, searches with paging), and the bad
inputs MLflow refuses, each sent. One server for the module: every test works on its own
model names."""

from __future__ import annotations

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException, RestException

import compat_util as cu


@pytest.fixture(scope="module")
def mc(module_server):
    return MlflowClient(module_server.url)


@pytest.fixture
def name():
    return cu.uniq("rm")


def _err(exc_info):
    """(error_code, message) of the server's answer."""
    e = exc_info.value
    body = getattr(e, "json", None) or {}
    return e.error_code, body.get("message", e.message)


# ------------------------------------------------------------------ registered models


def test_create_get_update_delete(mc, name):
    rm = mc.create_registered_model(name, tags={"team": "a", "k": "v"}, description="first")
    assert rm.name == name and rm.description == "first" and rm.tags == {"team": "a", "k": "v"}
    assert rm.creation_timestamp > 0 and rm.last_updated_timestamp == rm.creation_timestamp
    got = mc.get_registered_model(name)
    assert got.name == name and got.tags == {"team": "a", "k": "v"} and got.latest_versions == []
    upd = mc.update_registered_model(name, description="second")
    assert upd.description == "second" and upd.last_updated_timestamp >= rm.last_updated_timestamp
    assert mc.get_registered_model(name).description == "second"
    mc.delete_registered_model(name)
    with pytest.raises(MlflowException) as e:
        mc.get_registered_model(name)
    assert _err(e) == ("RESOURCE_DOES_NOT_EXIST", f"Registered Model with name={name} not found")


def test_duplicate_and_bad_names(mc, name):
    mc.create_registered_model(name)
    with pytest.raises(MlflowException) as e:
        mc.create_registered_model(name)
    assert _err(e) == ("RESOURCE_ALREADY_EXISTS", f"Registered Model (name={name}) already exists.")
    for bad, msg in [("a/b", "Invalid model name 'a/b'. Names cannot contain '/' or ':'."),
                     ("a:b", "Invalid model name 'a:b'. Names cannot contain '/' or ':'."),
                     ("   ", "Missing value for required parameter 'name'.")]:
        with pytest.raises(MlflowException) as e:
            mc.create_registered_model(bad)
        assert _err(e) == ("INVALID_PARAMETER_VALUE", msg)
    with pytest.raises(MlflowException) as e:
        mc.create_registered_model("..")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE" and "Names may be treated as files" in e.value.message


def test_rename_carries_versions_tags_aliases(mc, name, tmp_path):
    mc.create_registered_model(name, tags={"t": "1"})
    for _ in range(2):
        mc.create_model_version(name, "s3://bucket/model", run_id=None)
    mc.set_registered_model_alias(name, "champ", "2")
    mc.set_model_version_tag(name, "1", "vt", "x")
    new = name + "-new"
    mc.rename_registered_model(name, new)
    got = mc.get_registered_model(new)
    assert got.tags == {"t": "1"} and got.aliases == {"champ": "2"}
    assert [v.version for v in mc.search_model_versions(f"name = '{new}'", order_by=["version_number ASC"])] \
        == ["1", "2"]
    assert mc.get_model_version(new, "1").tags == {"vt": "x"}
    assert mc.get_model_version_by_alias(new, "champ").version == "2"
    with pytest.raises(MlflowException) as e:
        mc.get_registered_model(name)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    other = cu.uniq("rm")
    mc.create_registered_model(other)
    with pytest.raises(MlflowException) as e:
        mc.rename_registered_model(other, new)
    assert e.value.error_code == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(MlflowException) as e:
        mc.rename_registered_model(name + "-missing", name + "-x")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_registered_model_tags(mc, name):
    mc.create_registered_model(name)
    mc.set_registered_model_tag(name, "a", "1")
    mc.set_registered_model_tag(name, "a", "2")
    mc.set_registered_model_tag(name, "b", "x" * 5000)
    assert mc.get_registered_model(name).tags == {"a": "2", "b": "x" * 5000}
    mc.delete_registered_model_tag(name, "a")
    mc.delete_registered_model_tag(name, "never-set")  # no error, as in MLflow
    assert mc.get_registered_model(name).tags == {"b": "x" * 5000}
    with pytest.raises(MlflowException) as e:
        mc.set_registered_model_tag(name, "k" * 251, "v")
    assert _err(e) == ("INVALID_PARAMETER_VALUE", "'key' exceeds the maximum length of 250 characters")
    with pytest.raises(MlflowException) as e:
        mc.set_registered_model_tag(name, "k", "v" * 100_001)
    assert _err(e) == ("INVALID_PARAMETER_VALUE", "'value' exceeds the maximum length of 100000 characters")
    with pytest.raises(MlflowException) as e:
        mc.set_registered_model_tag(name + "-missing", "k", "v")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_delete_takes_versions_tags_aliases(mc, name, module_server):
    mc.create_registered_model(name, tags={"a": "b"})
    mc.create_model_version(name, "s3://bucket/m", tags={"x": "y"})
    mc.set_registered_model_alias(name, "prod", "1")
    mc.delete_registered_model(name)
    import sqlite3
    con = sqlite3.connect(module_server.db_path)
    try:
        for table in ("registered_models", "model_versions", "registered_model_tags", "model_version_tags",
                      "registered_model_aliases"):
            assert con.execute(f"SELECT count(*) FROM {table} WHERE name = ?", (name,)).fetchone()[0] == 0, table
    finally:
        con.close()
    # the name is free again, and versions start over at 1
    mc.create_registered_model(name)
    assert mc.create_model_version(name, "s3://bucket/m").version == "1"
