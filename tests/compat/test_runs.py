"""Runs: start/end through the fluent API, MlflowClient create/update/terminate,
get_run, delete/restore, and the run JSON shape."""

import re

import mlflow
import pytest
from mlflow.entities import RunStatus, ViewType
from mlflow.exceptions import MlflowException

from compat_util import assert_invalid, assert_not_found, now_ms, uniq

RUN_ID_RE = re.compile(r"^[0-9a-f]{32}$")


def test_start_and_end_run(client):
    exp = mlflow.set_experiment(uniq("runs"))
    t0 = now_ms()
    with mlflow.start_run(run_name="my-run") as run:
        rid = run.info.run_id
        assert RUN_ID_RE.match(rid)
        assert run.info.status == "RUNNING"
        assert run.info.run_name == "my-run"
        assert run.info.experiment_id == exp.experiment_id
        assert run.info.lifecycle_stage == "active"
        assert run.info.artifact_uri == f"mlflow-artifacts:/{exp.experiment_id}/{rid}/artifacts"
        assert run.info.end_time is None
        assert mlflow.active_run().info.run_id == rid
    assert mlflow.active_run() is None
    r = client.get_run(rid)
    assert r.info.status == "FINISHED"
    assert t0 - 5000 <= r.info.start_time <= r.info.end_time <= now_ms() + 5000
    assert r.data.tags["mlflow.runName"] == "my-run"
    assert r.data.tags["mlflow.user"]
    assert "mlflow.source.name" in r.data.tags and r.data.tags["mlflow.source.type"] == "LOCAL"
    assert r.info.user_id == r.data.tags["mlflow.user"]


@pytest.mark.parametrize("status", ["FAILED", "KILLED", "FINISHED"])
def test_end_run_status(client, status):
    mlflow.set_experiment(uniq("status"))
    run = mlflow.start_run()
    mlflow.end_run(status=status)
    r = client.get_run(run.info.run_id)
    assert r.info.status == status
    assert r.info.end_time is not None


def test_exception_in_with_block_marks_run_failed(client):
    mlflow.set_experiment(uniq("fail"))
    with pytest.raises(ZeroDivisionError):
        with mlflow.start_run() as run:
            1 / 0
    assert client.get_run(run.info.run_id).info.status == "FAILED"


def test_generated_run_name(client):
    mlflow.set_experiment(uniq("gen"))
    with mlflow.start_run() as run:
        pass
    name = client.get_run(run.info.run_id).info.run_name
    assert re.match(r"^[a-z]+-[a-z]+-\d+$", name), name
    assert client.get_run(run.info.run_id).data.tags["mlflow.runName"] == name


def test_nested_runs(client):
    mlflow.set_experiment(uniq("nested"))
    with mlflow.start_run() as parent:
        with mlflow.start_run(nested=True) as child:
            assert mlflow.active_run().info.run_id == child.info.run_id
        assert mlflow.active_run().info.run_id == parent.info.run_id
    c = client.get_run(child.info.run_id)
    assert c.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert c.info.status == "FINISHED"
    found = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
                               output_format="list")
    assert [r.info.run_id for r in found] == [child.info.run_id]


def test_resume_run(client):
    mlflow.set_experiment(uniq("resume"))
    with mlflow.start_run() as run:
        mlflow.log_param("a", 1)
    rid = run.info.run_id
    assert client.get_run(rid).info.status == "FINISHED"
    with mlflow.start_run(run_id=rid):
        assert client.get_run(rid).info.status == "RUNNING"
        mlflow.log_param("b", 2)
    r = client.get_run(rid)
    assert r.info.status == "FINISHED"
    assert r.data.params == {"a": "1", "b": "2"}


def test_client_create_run_and_update(client):
    eid = client.create_experiment(uniq("cr"))
    run = client.create_run(eid, start_time=1234, tags={"t": "v"}, run_name="named")
    rid = run.info.run_id
    assert run.info.start_time == 1234
    assert run.info.status == "RUNNING"
    assert run.data.tags == {"t": "v", "mlflow.runName": "named"}
    client.update_run(rid, name="renamed")
    r = client.get_run(rid)
    assert r.info.run_name == "renamed" and r.data.tags["mlflow.runName"] == "renamed"
    client.set_terminated(rid, status="KILLED", end_time=5678)
    r = client.get_run(rid)
    assert (r.info.status, r.info.end_time) == ("KILLED", 5678)
    # update_run with only a status keeps the name
    client.update_run(rid, status="FINISHED")
    r = client.get_run(rid)
    assert r.info.status == "FINISHED" and r.info.run_name == "renamed" and r.info.end_time == 5678


def test_set_run_name_tag_renames_run(client):
    eid = client.create_experiment(uniq("rn"))
    rid = client.create_run(eid, run_name="first").info.run_id
    client.set_tag(rid, "mlflow.runName", "second")
    assert client.get_run(rid).info.run_name == "second"


def test_run_name_mismatching_tag_rejected(api):
    eid = api.create_experiment()
    r = api.post("/runs/create", {"experiment_id": eid, "run_name": "a",
                                  "tags": [{"key": "mlflow.runName", "value": "b"}]})
    assert_invalid(r)


def test_run_name_from_tag(api):
    eid = api.create_experiment()
    run = api.okpost("/runs/create", {"experiment_id": eid, "tags": [{"key": "mlflow.runName", "value": "fromtag"}]})
    assert run["run"]["info"]["run_name"] == "fromtag"


def test_get_run_missing(client, api):
    with pytest.raises(MlflowException) as e:
        client.get_run("0123456789abcdef0123456789abcdef")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert_not_found(api.get("/runs/get", {"run_id": "0123456789abcdef0123456789abcdef"}),
                     "Run with id=0123456789abcdef0123456789abcdef not found")


def test_get_run_accepts_run_uuid(api):
    rid = api.create_run(api.create_experiment())
    assert api.okget("/runs/get", {"run_uuid": rid})["run"]["info"]["run_id"] == rid


def test_delete_and_restore_run(client):
    eid = client.create_experiment(uniq("delrun"))
    keep = client.create_run(eid).info.run_id
    rid = client.create_run(eid).info.run_id
    client.delete_run(rid)
    r = client.get_run(rid)
    assert r.info.lifecycle_stage == "deleted"

    def ids(view):
        return {x.info.run_id for x in client.search_runs([eid], run_view_type=view)}

    assert ids(ViewType.ACTIVE_ONLY) == {keep}
    assert ids(ViewType.DELETED_ONLY) == {rid}
    assert ids(ViewType.ALL) == {keep, rid}
    # logging to a deleted run is refused
    with pytest.raises(MlflowException) as e:
        client.log_param(rid, "p", "v")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    client.restore_run(rid)
    assert client.get_run(rid).info.lifecycle_stage == "active"
    assert ids(ViewType.ACTIVE_ONLY) == {keep, rid}
    client.log_param(rid, "p", "v")


def test_update_deleted_run_rejected(api):
    eid = api.create_experiment()
    rid = api.create_run(eid)
    api.okpost("/runs/delete", {"run_id": rid})
    assert_invalid(api.post("/runs/update", {"run_id": rid, "status": "FINISHED"}))
    assert api.get_run(rid)["info"]["status"] == "RUNNING"


def test_delete_restore_missing_run(api):
    missing = "0123456789abcdef0123456789abcdef"
    assert_not_found(api.post("/runs/delete", {"run_id": missing}))
    assert_not_found(api.post("/runs/restore", {"run_id": missing}))


def test_create_run_in_deleted_experiment_rejected(api):
    eid = api.create_experiment()
    api.okpost("/experiments/delete", {"experiment_id": eid})
    assert_invalid(api.post("/runs/create", {"experiment_id": eid}))


def test_create_run_in_missing_experiment(api):
    assert_not_found(api.post("/runs/create", {"experiment_id": "987654"}))


def test_run_json_shape(api):
    eid = api.create_experiment()
    t = now_ms()
    run = api.okpost("/runs/create", {"experiment_id": eid, "start_time": t, "user_id": "alice",
                                      "run_name": "shape", "tags": [{"key": "x", "value": "y"}]})["run"]
    info = run["info"]
    rid = info["run_id"]
    assert info == {
        "run_uuid": rid,
        "run_id": rid,
        "experiment_id": eid,
        "run_name": "shape",
        "user_id": "alice",
        "status": "RUNNING",
        "start_time": t,
        "artifact_uri": f"mlflow-artifacts:/{eid}/{rid}/artifacts",
        "lifecycle_stage": "active",
    }
    assert sorted(run["data"]["tags"], key=lambda d: d["key"]) == [
        {"key": "mlflow.runName", "value": "shape"}, {"key": "x", "value": "y"}]
    assert "metrics" not in run["data"] and "params" not in run["data"]
    upd = api.okpost("/runs/update", {"run_id": rid, "status": "FINISHED", "end_time": t + 5})
    assert upd["run_info"]["status"] == "FINISHED" and upd["run_info"]["end_time"] == t + 5
    assert upd["run_info"]["run_id"] == rid
    got = api.get_run(rid)
    assert got["info"]["end_time"] == t + 5 and got["info"]["status"] == "FINISHED"
    # run_uuid is accepted instead of run_id on updates
    api.okpost("/runs/update", {"run_uuid": rid, "status": "KILLED"})
    assert api.get_run(rid)["info"]["status"] == "KILLED"


def test_run_status_enum_values(api):
    rid = api.create_run(api.create_experiment())
    for s in ("SCHEDULED", "FAILED", "KILLED", "FINISHED", "RUNNING"):
        api.okpost("/runs/update", {"run_id": rid, "status": s})
        assert api.get_run(rid)["info"]["status"] == s
    assert RunStatus.is_terminated(RunStatus.from_string("KILLED"))
