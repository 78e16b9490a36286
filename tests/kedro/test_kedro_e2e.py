"""End-to-end test: a real Kedro project (tests/kedro/project) with kedro-mlflow, run
with `kedro run` in subprocesses against a fresh mlflowd; what landed is read back
with MlflowClient.

One server and one copy of the project serve the whole module (each `kedro run` costs
seconds of imports), so the tests run in file order: training, then the prediction
from the registered model, then the failing pipeline, then a second training run.

MLFLOWD_COMPAT_TARGET=stock runs the same test against stock `mlflow server`
(how the assertions were checked against MLflow's own behaviour).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat"))
from compat_util import STOCK_MODE, VENV_BIN, server_env, start_mlflowd, start_stock  # noqa: E402

from mlflow import MlflowClient  # noqa: E402

PROJECT = Path(__file__).resolve().parent / "project"
EXPERIMENT = "kedro_e2e"  # conf/base/mlflow.yml
MODEL_NAME = "kedro_e2e_iris"  # src/kedro_e2e/pipeline_registry.py
KEDRO_RUN_TIMEOUT = 600  # seconds; a bound, not a speed target


class KedroProject:
    def __init__(self, path: Path, url: str):
        self.path = path
        self.url = url
        self.env = server_env()
        self.env.update(
            {
                "MLFLOW_TRACKING_URI": url,
                # set here, not inherited: mlflow.set_registry_uri() in another test of the
                # same process exports its own server's URI
                "MLFLOW_REGISTRY_URI": url,
                "KEDRO_DISABLE_TELEMETRY": "true",
                "NO_COLOR": "1",
                "COLUMNS": "200",
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )

    def run(self, pipeline: str) -> subprocess.CompletedProcess:
        """`kedro run --pipeline <pipeline>` in the project copy; its output is kept in
        <project>/kedro-<pipeline>.log and returned."""
        proc = subprocess.run(
            [str(VENV_BIN / "kedro"), "run", "--pipeline", pipeline],
            cwd=self.path,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=KEDRO_RUN_TIMEOUT,
        )
        (self.path / f"kedro-{pipeline}.log").write_text(proc.stdout)
        return proc


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("kedro-e2e")
    srv = start_stock(work) if STOCK_MODE else start_mlflowd(work, extra_args=["--quiet"])
    yield srv
    srv.check_alive()  # the whole Kedro traffic left the server running
    status = srv.stop()
    assert status in (0, None) or srv.kind != "mlflowd", f"mlflowd exited with {status}"


@pytest.fixture(scope="module")
def project(server, tmp_path_factory):
    dst = tmp_path_factory.mktemp("kedro-project") / "project"
    shutil.copytree(PROJECT, dst, ignore=shutil.ignore_patterns("data", "__pycache__", "*.log"))
    return KedroProject(dst, server.url)


@pytest.fixture(scope="module")
def client(server):
    return MlflowClient(tracking_uri=server.url, registry_uri=server.url)


@pytest.fixture(scope="module")
def experiment_id(client, training):
    exp = client.get_experiment_by_name(EXPERIMENT)
    assert exp is not None, "kedro-mlflow did not create the experiment of mlflow.yml"
    return exp.experiment_id


@pytest.fixture(scope="module")
def training(project):
    proc = project.run("training")
    assert proc.returncode == 0, f"kedro run --pipeline training failed:\n{proc.stdout[-6000:]}"
    return proc


def runs_named(client, experiment_id, name):
    return client.search_runs([experiment_id], filter_string=f"tags.mlflow.runName = '{name}'")


@pytest.fixture(scope="module")
def training_run(client, experiment_id):
    runs = runs_named(client, experiment_id, "training")
    assert len(runs) == 1, [r.info for r in runs]
    return runs[0]


def test_training_run_logs_params_metrics_and_artifact(project, client, training_run, tmp_path):
    run = training_run
    assert run.info.status == "FINISHED"
    assert run.info.end_time is not None and run.info.end_time >= run.info.start_time
    # parameters.yml, flattened by kedro-mlflow (dict_params.flatten)
    assert run.data.params == {"seed": "7", "model_options.C": "0.5", "model_options.max_iter": "300"}
    assert run.data.tags["kedro_command"] == "kedro run --pipeline=training"
    assert run.data.tags["pipeline_names"] == "['training']"

    report = json.loads((project.path / "data/08_reporting/report.json").read_text())
    assert report["rows"] == 150 and 0.8 < report["accuracy"] <= 1.0
    assert run.data.metrics == {"accuracy": report["accuracy"], "log_loss": report["log_loss"]}
    # log_model re-sends the step-0 metrics with the model's id: still one point each
    for key in ("accuracy", "log_loss"):
        hist = client.get_metric_history(run.info.run_id, key)
        assert [(m.value, m.step) for m in hist] == [(report[key], 0)], hist

    assert [a.path for a in client.list_artifacts(run.info.run_id, "reports")] == ["reports/report.json"]
    got = client.download_artifacts(run.info.run_id, "reports/report.json", str(tmp_path))
    assert json.loads(Path(got).read_text()) == report


def test_training_run_logs_and_registers_the_inference_model(client, experiment_id, training_run):
    run_id = training_run.info.run_id
    models = client.search_logged_models(experiment_ids=[experiment_id])
    assert len(models) == 1, models
    lm = models[0]
    assert (lm.name, lm.source_run_id, lm.status.to_int(), lm.experiment_id) == (
        "model",
        run_id,
        lm.status.READY.to_int(),
        experiment_id,
    )
    assert [o.model_id for o in training_run.outputs.model_outputs] == [lm.model_id]
    # the files of the pyfunc model that kedro-mlflow logged (KedroPipelineModel)
    files = {a.path for a in client.list_logged_model_artifacts(lm.model_id)}
    assert {"MLmodel", "python_model.pkl", "requirements.txt"} <= files, files

    rm = client.get_registered_model(MODEL_NAME)
    assert rm.name == MODEL_NAME
    versions = client.search_model_versions(f"name = '{MODEL_NAME}'")
    assert len(versions) == 1, versions
    mv = client.get_model_version(MODEL_NAME, "1")
    assert (mv.name, mv.version, mv.run_id, mv.status, mv.source) == (
        MODEL_NAME,
        "1",
        run_id,
        "READY",
        f"models:/{lm.model_id}",
    )
    assert [v.version for v in rm.latest_versions] == ["1"]
    uri = client.get_model_version_download_uri(MODEL_NAME, "1")
    assert uri == lm.artifact_location, (uri, lm.artifact_location)


def test_registered_model_predicts_like_the_local_model(project, client, experiment_id, training_run):
    proc = project.run("predict_registered")
    assert proc.returncode == 0, f"kedro run --pipeline predict_registered failed:\n{proc.stdout[-6000:]}"
    out = project.path / "data/07_model_output"
    local = pd.read_csv(out / "local_predictions.csv")
    registry = pd.read_csv(out / "registry_predictions.csv")
    assert len(local) == 150 and list(local.columns) == ["prediction"]
    pd.testing.assert_frame_equal(registry, local)
    runs = runs_named(client, experiment_id, "predict_registered")
    assert [r.info.status for r in runs] == ["FINISHED"]


def test_failing_node_leaves_its_run_failed(project, client, experiment_id, training_run):
    proc = project.run("failing")
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "deliberate failure of the failing pipeline" in proc.stdout
    runs = runs_named(client, experiment_id, "failing")
    assert len(runs) == 1, [r.info for r in runs]
    run = runs[0]
    assert run.info.status == "FAILED"
    assert run.info.end_time is not None and run.info.end_time >= run.info.start_time
    assert run.data.params == {"seed": "7"}  # logged before the node raised
    # nothing left RUNNING in the experiment
    statuses = {r.info.run_name: r.info.status for r in client.search_runs([experiment_id])}
    assert statuses.pop("failing") == "FAILED" and set(statuses.values()) == {"FINISHED"}, statuses


def test_second_training_run_registers_version_2(project, client, experiment_id, training_run):
    # registered-models/create now answers RESOURCE_ALREADY_EXISTS, which the client
    # tolerates; the new version belongs to the new run and its own logged model
    proc = project.run("training")
    assert proc.returncode == 0, f"second kedro run --pipeline training failed:\n{proc.stdout[-6000:]}"
    runs = runs_named(client, experiment_id, "training")
    assert len(runs) == 2 and {r.info.status for r in runs} == {"FINISHED"}, [r.info for r in runs]
    new = next(r for r in runs if r.info.run_id != training_run.info.run_id)
    versions = {v.version: v for v in client.search_model_versions(f"name = '{MODEL_NAME}'")}
    assert sorted(versions) == ["1", "2"], versions
    assert (versions["2"].run_id, versions["2"].status) == (new.info.run_id, "READY")
    models = client.search_logged_models(experiment_ids=[experiment_id])
    (lm,) = [m for m in models if m.source_run_id == new.info.run_id]
    assert versions["2"].source == f"models:/{lm.model_id}"
    assert [v.version for v in client.get_registered_model(MODEL_NAME).latest_versions] == ["2"]
