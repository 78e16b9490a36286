"""Experiments through the fluent API and MlflowClient: create, get, get by name, rename,
delete, restore, tags."""

import time

import mlflow
import pytest
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException

from compat_util import assert_invalid, assert_not_found, now_ms, uniq


def test_set_experiment_creates_then_reuses(client):
    name = uniq("setexp")
    t0 = now_ms()
    exp = mlflow.set_experiment(name)
    assert exp.name == name
    assert exp.lifecycle_stage == "active"
    assert exp.experiment_id.isdigit() and exp.experiment_id != "0"
    assert exp.artifact_location == f"mlflow-artifacts:/{exp.experiment_id}"
    assert t0 - 5000 <= exp.creation_time <= now_ms() + 5000
    assert exp.last_update_time == exp.creation_time
    again = mlflow.set_experiment(name)
    assert again.experiment_id == exp.experiment_id
    by_id = mlflow.set_experiment(experiment_id=exp.experiment_id)
    assert by_id.name == name
    # runs started now land in that experiment
    with mlflow.start_run() as run:
        assert run.info.experiment_id == exp.experiment_id


def test_default_experiment(client):
    exp = client.get_experiment("0")
    assert exp.name == "Default"
    assert exp.lifecycle_stage == "active"
    assert exp.artifact_location == "mlflow-artifacts:/0"
    assert client.get_experiment_by_name("Default").experiment_id == "0"


def test_experiment_ids_are_increasing_integers(client):
    ids = [int(client.create_experiment(uniq("inc"))) for _ in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3 and ids[0] > 0


def test_create_and_get_experiment_with_tags(client):
    name = uniq("tags")
    eid = client.create_experiment(name, tags={"team": "a", "empty": "", "unicode": "ünï ✓"})
    exp = client.get_experiment(eid)
    assert exp.name == name
    assert exp.tags == {"team": "a", "empty": "", "unicode": "ünï ✓"}
    assert client.get_experiment_by_name(name).experiment_id == eid


def test_create_experiment_with_artifact_location(client, tmp_path):
    loc = (tmp_path / "custom-art").as_uri()
    eid = client.create_experiment(uniq("loc"), artifact_location=loc)
    assert client.get_experiment(eid).artifact_location == loc
    run = client.create_run(eid)
    assert run.info.artifact_uri == f"{loc}/{run.info.run_id}/artifacts"


def test_get_experiment_by_name_missing_is_none(client):
    assert client.get_experiment_by_name(uniq("missing")) is None
    assert mlflow.get_experiment_by_name(uniq("missing")) is None


def test_get_experiment_missing_raises(client):
    with pytest.raises(MlflowException) as e:
        client.get_experiment("987654")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_duplicate_experiment_name(client):
    name = uniq("dup")
    client.create_experiment(name)
    with pytest.raises(MlflowException) as e:
        client.create_experiment(name)
    assert e.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert f"Experiment(name={name}) already exists" in e.value.message


def test_experiment_names_are_case_sensitive(client):
    name = uniq("Case")
    a = client.create_experiment(name)
    b = client.create_experiment(name.lower())
    assert a != b
    assert client.get_experiment_by_name(name).experiment_id == a
    assert client.get_experiment_by_name(name.lower()).experiment_id == b


def test_rename_experiment(client):
    old, new = uniq("old"), uniq("new")
    eid = client.create_experiment(old)
    before = client.get_experiment(eid)
    time.sleep(0.01)
    client.rename_experiment(eid, new)
    exp = client.get_experiment(eid)
    assert exp.name == new
    assert exp.last_update_time >= before.last_update_time
    assert client.get_experiment_by_name(old) is None
    assert client.get_experiment_by_name(new).experiment_id == eid


def test_rename_to_existing_name_fails(client):
    a, b = uniq("a"), uniq("b")
    client.create_experiment(a)
    eid = client.create_experiment(b)
    with pytest.raises(MlflowException) as e:
        client.rename_experiment(eid, a)
    # stock MLflow answers 400 BAD_REQUEST here (the IntegrityError surfaces as is);
    # RESOURCE_ALREADY_EXISTS is also a 400 and the better code, so either is accepted.
    assert e.value.error_code in ("BAD_REQUEST", "RESOURCE_ALREADY_EXISTS")
    assert e.value.get_http_status_code() == 400
    assert client.get_experiment(eid).name == b


def test_delete_and_restore_experiment(client):
    name = uniq("del")
    eid = client.create_experiment(name)
    r1 = client.create_run(eid).info.run_id
    r2 = client.create_run(eid).info.run_id
    client.delete_experiment(eid)
    exp = client.get_experiment(eid)
    assert exp.lifecycle_stage == "deleted"
    assert exp.last_update_time >= exp.creation_time
    # still found by name (the client needs that to refuse set_experiment)
    assert client.get_experiment_by_name(name).lifecycle_stage == "deleted"
    # its runs are deleted with it
    assert client.get_run(r1).info.lifecycle_stage == "deleted"
    assert client.get_run(r2).info.lifecycle_stage == "deleted"
    active = {e.experiment_id for e in client.search_experiments(view_type=ViewType.ACTIVE_ONLY)}
    deleted = {e.experiment_id for e in client.search_experiments(view_type=ViewType.DELETED_ONLY)}
    assert eid not in active and eid in deleted
    # the fluent API refuses a deleted experiment
    with pytest.raises(MlflowException):
        mlflow.set_experiment(name)
    # a deleted experiment's name stays taken
    with pytest.raises(MlflowException) as e:
        client.create_experiment(name)
    assert e.value.error_code == "RESOURCE_ALREADY_EXISTS"

    client.restore_experiment(eid)
    assert client.get_experiment(eid).lifecycle_stage == "active"
    assert client.get_run(r1).info.lifecycle_stage == "active"
    assert client.get_run(r2).info.lifecycle_stage == "active"
    assert mlflow.set_experiment(name).experiment_id == eid


def test_delete_restore_wrong_state(api):
    # MLflow looks the experiment up among those in the expected state: 404 otherwise.
    eid = api.create_experiment()
    assert_not_found(api.post("/experiments/restore", {"experiment_id": eid}))
    api.okpost("/experiments/delete", {"experiment_id": eid})
    assert_not_found(api.post("/experiments/delete", {"experiment_id": eid}), f"No Experiment with id={eid} exists")
    assert_not_found(api.post("/experiments/delete", {"experiment_id": "987654"}))
    assert_not_found(api.post("/experiments/restore", {"experiment_id": "987654"}))


def test_experiment_tags_set_overwrite_delete(client):
    eid = client.create_experiment(uniq("etag"))
    client.set_experiment_tag(eid, "k", "v1")
    client.set_experiment_tag(eid, "k", "v2")
    client.set_experiment_tag(eid, "other", "x")
    assert client.get_experiment(eid).tags == {"k": "v2", "other": "x"}
    client.delete_experiment_tag(eid, "k")
    assert client.get_experiment(eid).tags == {"other": "x"}
    with pytest.raises(MlflowException) as e:
        client.delete_experiment_tag(eid, "k")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_fluent_experiment_tags(client):
    eid = mlflow.set_experiment(uniq("fluenttag")).experiment_id
    mlflow.set_experiment_tag("a", "1")
    mlflow.set_experiment_tags({"b": "2", "c": "3"})
    assert mlflow.get_experiment(eid).tags == {"a": "1", "b": "2", "c": "3"}


def test_experiment_tag_on_deleted_experiment_rejected(api):
    eid = api.create_experiment()
    api.okpost("/experiments/delete", {"experiment_id": eid})
    assert_invalid(api.post("/experiments/set-experiment-tag", {"experiment_id": eid, "key": "k", "value": "v"}))
    assert "tags" not in api.okget("/experiments/get", {"experiment_id": eid})["experiment"]


def test_experiment_json_shape(api):
    name = uniq("shape")
    eid = api.create_experiment(name, tags=[{"key": "k", "value": "v"}])
    exp = api.okget("/experiments/get", {"experiment_id": eid})["experiment"]
    assert exp["experiment_id"] == eid and isinstance(eid, str)
    assert exp["name"] == name
    assert exp["artifact_location"] == f"mlflow-artifacts:/{eid}"
    assert exp["lifecycle_stage"] == "active"
    assert isinstance(exp["creation_time"], int) and isinstance(exp["last_update_time"], int)
    assert exp["tags"] == [{"key": "k", "value": "v"}]
    same = api.okget("/experiments/get-by-name", {"experiment_name": name})["experiment"]
    assert same == exp
    # ajax alias answers the same
    assert api.okget("/ajax-api/2.0/mlflow/experiments/get", {"experiment_id": eid})["experiment"] == exp
