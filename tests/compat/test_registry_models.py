"""Registered models that hold real models: a pyfunc model logged and registered through the
client (log_model(registered_model_name=...), register_model from runs:/ and models:/<model_id>),
then loaded back by every registry URI form and asked to predict, once in a fresh process; the
logged model's mlflow.modelVersions tag; the UI's /model-versions/get-artifact route; and MLflow
3.x's refusal of version sources outside the run's or logged model's artifacts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

import compat_util as cu


class AddN(mlflow.pyfunc.PythonModel):
    def __init__(self, n):
        self.n = n

    def predict(self, context, model_input, params=None):
        return model_input["x"] + self.n


@pytest.fixture(scope="module")
def srv(module_server):
    mlflow.set_tracking_uri(module_server.url)
    mlflow.set_registry_uri(module_server.url)
    yield module_server
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)


@pytest.fixture(autouse=True)
def _point_client(srv):
    # conftest resets the fluent client's state around every test
    mlflow.set_tracking_uri(srv.url)
    mlflow.set_registry_uri(srv.url)
    yield


@pytest.fixture(scope="module")
def mc(srv):
    return MlflowClient(srv.url)


@pytest.fixture(scope="module")
def registered(srv, mc):
    """One model name with versions 1 (n=1, via log_model) and 2 (n=2, via register_model from
    runs:/), version 2 in Production with alias 'champion'."""
    name = cu.uniq("reg-model")
    mlflow.set_experiment(cu.uniq("reg-exp"))
    with mlflow.start_run() as run:
        info1 = mlflow.pyfunc.log_model(name="model", python_model=AddN(1), registered_model_name=name,
                                        pip_requirements=["mlflow"])
    with mlflow.start_run() as run2:
        info2 = mlflow.pyfunc.log_model(name="model", python_model=AddN(2), pip_requirements=["mlflow"])
    mv2 = mlflow.register_model(f"runs:/{run2.info.run_id}/model", name)
    assert mv2.version == "2"
    mc.transition_model_version_stage(name, "2", "Production")
    mc.set_registered_model_alias(name, "champion", "2")
    return {"name": name, "run1": run.info.run_id, "run2": run2.info.run_id, "model1": info1.model_id,
            "model2": info2.model_id}


def _predict(uri):
    return list(mlflow.pyfunc.load_model(uri).predict(pd.DataFrame({"x": [1, 2]})))


def test_versions_point_at_logged_models(registered, mc):
    name = registered["name"]
    v1, v2 = mc.get_model_version(name, "1"), mc.get_model_version(name, "2")
    assert v1.run_id == registered["run1"] and v2.run_id == registered["run2"]
    assert v1.source == f"models:/{registered['model1']}" and v2.source == f"models:/{registered['model2']}"
    lm = mc.get_logged_model(registered["model2"])
    assert mc.get_model_version_download_uri(name, "2") == lm.artifact_location
    # the logged model lists its registered versions: the server's set_model_versions_tags writes
    # the version as a number, then the 3.17.2 client appends it again as a string
    assert json.loads(lm.tags["mlflow.modelVersions"]) == [{"name": name, "version": 2}, {"name": name, "version": "2"}]
    assert json.loads(mc.get_logged_model(registered["model1"]).tags["mlflow.modelVersions"]) == \
        [{"name": name, "version": 1}, {"name": name, "version": "1"}]


@pytest.mark.parametrize("suffix,expected", [
    ("/1", [2, 3]), ("/2", [3, 4]), ("@champion", [3, 4]), ("/latest", [3, 4]), ("/Production", [3, 4]),
])
def test_load_model_by_registry_uri(registered, suffix, expected):
    assert _predict(f"models:/{registered['name']}{suffix}") == expected


def test_load_model_in_fresh_process(registered, srv, tmp_path):
    code = (
        "import mlflow, pandas as pd\n"
        f"mlflow.set_tracking_uri({srv.url!r})\n"
        f"m = mlflow.pyfunc.load_model('models:/{registered['name']}@champion')\n"
        "print(list(m.predict(pd.DataFrame({'x': [10]}))))\n"
    )
    env = {**os.environ, **cu.CLIENT_ENV}
    env.pop("MLFLOW_TRACKING_URI", None)
    # the model's class is pickled by reference to this module
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(__file__), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "[12]"


def test_register_from_model_id(registered, mc):
    name = cu.uniq("reg-by-id")
    mv = mlflow.register_model(f"models:/{registered['model1']}", name)
    assert mv.version == "1" and mv.run_id == registered["run1"]
    assert _predict(f"models:/{name}/1") == [2, 3]
    tags = json.loads(mc.get_logged_model(registered["model1"]).tags["mlflow.modelVersions"])
    assert tags[-2:] == [{"name": name, "version": 1}, {"name": name, "version": "1"}]


def test_model_version_get_artifact(registered, srv):
    api = cu.Api(srv)
    r = api.s.get(f"{srv.url}/model-versions/get-artifact",
                  params={"name": registered["name"], "version": "2", "path": "MLmodel"})
    assert r.status_code == 200, r.text[:300]
    assert "python_function" in r.text
    r = api.s.get(f"{srv.url}/model-versions/get-artifact",
                  params={"name": registered["name"], "version": "2", "path": "../../../etc/passwd"})
    cu.assert_error(r, 400)
    r = api.s.get(f"{srv.url}/model-versions/get-artifact",
                  params={"name": registered["name"], "version": "9", "path": "MLmodel"})
    cu.assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST")
    r = api.s.get(f"{srv.url}/model-versions/get-artifact",
                  params={"name": registered["name"], "version": "2", "path": "nope.txt"})
    assert r.status_code == 404
    api.s.close()


def test_sources_outside_the_run_or_model_are_refused(registered, srv):
    api = cu.Api(srv)
    name = registered["name"]
    run1, run2, m1 = registered["run1"], registered["run2"], registered["model1"]
    run2_uri = api.get_run(run2)["info"]["artifact_uri"]
    msg_run = "The run_id request parameter must identify the resource that contains the source."
    msg_model = "The model_id request parameter must identify the resource that contains the source."
    cases = [
        ({"source": f"runs:/{run2}/model", "run_id": run1}, msg_run),
        ({"source": f"runs:/{run2}/model"}, msg_run),
        ({"source": f"{run2_uri}/model", "run_id": run1}, msg_run),
        ({"source": f"{run2_uri}/model"}, msg_run),
        ({"source": "mlflow-artifacts:/0/other/artifacts", "run_id": run2}, msg_run),
        ({"source": f"models:/{m1}", "run_id": run1}, msg_model),
        ({"source": f"models:/{m1}", "model_id": registered["model2"]}, msg_model),
        ({"source": f"runs:/{run1}/model", "model_id": m1}, msg_model),
        ({"source": f"{run2_uri}/../../x", "run_id": run2}, "an absolute path must be provided"),
        ({"source": f"{run2_uri}/%2E%2E/%2E%2E/x", "run_id": run2}, "an absolute path must be provided"),
        ({"source": "/etc", "run_id": run2}, "To use a local path as a model version source"),
        ({"source": "file:///etc/passwd"}, "To use a local path as a model version source"),
        ({"source": "http://evil.example/x"}, "cannot use the 'http' scheme"),
        ({"source": f"models:/{name}/1", "run_id": run2}, "must match the referenced model version"),
        ({"source": f"models://other/{name}/1"}, "Registered model sources must use the active model registry"),
        ({"source": "dummy-source", "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}],
          "run_id": run1}, "Invalid model version source"),
        ({"source": "s3://b/x", "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}]},
         "Invalid prompt source: 's3://b/x'. Prompt sources must use an MLflow placeholder."),
    ]
    for body, msg in cases:
        r = api.post("/model-versions/create", {"name": name, **body})
        if "dummy-source" in str(body):
            # a prompt version on a model name: accepted by the source rule (placeholder), so the
            # store creates it; what matters is that nothing else is accepted
            assert r.status_code == 200, r.text
            continue
        cu.assert_error(r, 400, "INVALID_PARAMETER_VALUE", msg)
    # and the accepted forms
    ok = api.okpost("/model-versions/create", {"name": name, "source": f"runs:/{run2}/model", "run_id": run2})
    assert ok["model_version"]["source"] == f"runs:/{run2}/model"
    ok = api.okpost("/model-versions/create", {"name": name, "source": f"{run2_uri}/model", "run_id": run2})
    assert ok["model_version"]["run_id"] == run2
    ok = api.okpost("/model-versions/create", {"name": name, "source": f"models:/{name}@champion"})
    assert ok["model_version"]["source"] == f"models:/{name}/2" and ok["model_version"]["run_id"] == run2
    assert api.okget("/model-versions/get-download-uri", {"name": name, "version": ok["model_version"]["version"]}) \
        == api.okget("/model-versions/get-download-uri", {"name": name, "version": "2"})
    api.s.close()


def test_unknown_run_or_model_in_source(registered, srv):
    api = cu.Api(srv)
    r = api.post("/model-versions/create", {"name": registered["name"], "source": "mlflow-artifacts:/0/x/artifacts/m",
                                            "run_id": "0123456789abcdef0123456789abcdef"})
    cu.assert_error(r, 400, "INVALID_PARAMETER_VALUE", "The run_id request parameter must identify")
    api.s.close()
    with pytest.raises(MlflowException):
        mlflow.register_model("runs:/0123456789abcdef0123456789abcdef/model", cu.uniq("x"))


@pytest.mark.mlflowd_only
def test_unknown_logged_model_in_source(registered, srv):
    """Stock MLflow accepts the source check (the ids agree) and then fails fetching the logged
    model with 500 INTERNAL_ERROR; mlflowd answers 400 with the same message."""
    api = cu.Api(srv)
    r = api.post("/model-versions/create", {"name": registered["name"], "source": "models:/m-nope",
                                            "model_id": "m-nope"})
    cu.assert_error(r, 400, "INVALID_PARAMETER_VALUE",
                    "Unable to fetch model from model URI source artifact location 'models:/m-nope'.Error: Logged "
                    "model with ID 'm-nope' not found.")
    api.s.close()


def test_source_validation_regex(mlflowd_factory, monkeypatch):
    """MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX on the server restricts sources."""
    monkeypatch.setenv("MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX", "^s3://allowed/")
    srv = mlflowd_factory()
    api = cu.Api(srv)
    api.okpost("/registered-models/create", {"name": "m"})
    api.okpost("/model-versions/create", {"name": "m", "source": "s3://allowed/x"})
    r = api.post("/model-versions/create", {"name": "m", "source": "s3://other/x"})
    cu.assert_error(r, 400, "INVALID_PARAMETER_VALUE", "Invalid model version source: 's3://other/x'.")
    api.s.close()


def test_registry_with_local_artifact_storage(mlflowd_factory, tmp_path):
    """--no-serve-artifacts: artifacts in a local folder the client writes itself; local version
    sources are accepted inside the run's artifact folder only."""
    root = tmp_path / "mlruns"
    srv = mlflowd_factory(extra_args=["--no-serve-artifacts", "--default-artifact-root", str(root)])
    mlflow.set_tracking_uri(srv.url)
    mlflow.set_registry_uri(srv.url)
    mlflow.set_experiment(cu.uniq("local-exp"))
    name = cu.uniq("local-model")
    with mlflow.start_run() as run:
        mlflow.pyfunc.log_model(name="model", python_model=AddN(5), registered_model_name=name,
                                pip_requirements=["mlflow"])
        mlflow.log_text("hello", "files/a.txt")
    assert _predict(f"models:/{name}/1") == [6, 7]
    api = cu.Api(srv)
    run_root = api.get_run(run.info.run_id)["info"]["artifact_uri"]
    local_dir = run_root[len("file://"):] if run_root.startswith("file://") else run_root
    ok = api.okpost("/model-versions/create",
                    {"name": name, "source": f"{local_dir}/files", "run_id": run.info.run_id})
    assert ok["model_version"]["version"] == "2"
    r = api.post("/model-versions/create", {"name": name, "source": str(tmp_path), "run_id": run.info.run_id})
    cu.assert_error(r, 400, "INVALID_PARAMETER_VALUE",
                    f"Invalid model version source: '{tmp_path.resolve()}'. To use a local path as a model version "
                    "source, the run_id request parameter has to be specified")
    r = api.post("/model-versions/create",
                 {"name": name, "source": f"{local_dir}/../../..", "run_id": run.info.run_id})
    cu.assert_error(r, 400, "INVALID_PARAMETER_VALUE", "To use a local path as a model version source")
    api.s.close()
