"""A scripted user session with one MLflow release's client (run inside its environment,
.venvs/mlflow-<version>) against the tracking server at argv[1]: logging, artifacts,
search_runs to a DataFrame, nested runs, datasets, a pyfunc model logged, loaded and used, the
model registry (versions, aliases, stages on 2.x, tags, search, models:/ URIs, rename, deletes) and
the mlflow CLI's experiments/runs/artifacts commands. Prints one JSON summary of what the
client saw, with ids and times taken out, so the summaries of two servers compare equal."""

import json
import os
import re
import subprocess
import sys
import tempfile

import mlflow
import pandas as pd
from mlflow import MlflowClient


class AddN(mlflow.pyfunc.PythonModel):
    def __init__(self, n):
        self.n = n

    def predict(self, context, model_input, params=None):
        return model_input["x"] + self.n


def scrub(text, ids):
    text = re.sub(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?( UTC)?", "<time>", text)
    text = re.sub(r"\b1\d{12}\b", "<ms>", text)
    for value in sorted(ids, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(value)}\b", f"<id{len(value)}>", text)
    return text


def version_view(mv, ids):
    return {"version": mv.version, "stage": mv.current_stage, "status": mv.status, "description": mv.description,
            "tags": dict(mv.tags), "aliases": sorted(getattr(mv, "aliases", []) or []),
            "source": scrub(mv.source or "", ids), "run_id": scrub(mv.run_id or "", ids)}


def model_view(rm, ids):
    return {"name": rm.name, "description": rm.description, "tags": dict(rm.tags),
            "aliases": dict(getattr(rm, "aliases", {}) or {}),
            "latest": sorted((v.version, v.current_stage) for v in rm.latest_versions or [])}


def error_code(fn):
    try:
        fn()
    except mlflow.exceptions.MlflowException as e:
        return e.error_code
    return None


def registry(client, name, model_uri, run_id, ids):
    """The registry steps; what the client saw."""
    v2 = mlflow.__version__ < "3"
    out = {}
    mv1 = mlflow.register_model(model_uri, name)
    mv2 = mlflow.register_model(model_uri, name, tags={"round": "2"})
    out["registered"] = [version_view(mv1, ids), version_view(mv2, ids)]
    out["register_again_code"] = error_code(lambda: client.create_registered_model(name))
    client.update_registered_model(name, description="adds n")
    client.update_model_version(name, "1", description="first")
    client.set_registered_model_tag(name, "owner", "team-a")
    client.set_model_version_tag(name, "1", "validated", "yes")
    client.set_model_version_tag(name, "2", "tmp", "x")
    client.delete_model_version_tag(name, "2", "tmp")
    client.set_registered_model_alias(name, "champion", "1")
    client.set_registered_model_alias(name, "challenger", "2")
    out["by_alias"] = version_view(client.get_model_version_by_alias(name, "champion"), ids)
    if v2:
        client.transition_model_version_stage(name, "1", "Production")
        client.transition_model_version_stage(name, "2", "Staging")
        out["latest_staging"] = [v.version for v in client.get_latest_versions(name, stages=["Staging"])]
        out["predict_stage"] = mlflow.pyfunc.load_model(f"models:/{name}/Production").predict(
            pd.DataFrame({"x": [2.0]})).tolist()
    out["model"] = model_view(client.get_registered_model(name), ids)
    out["versions"] = sorted((version_view(v, ids) for v in client.search_model_versions(f"name = '{name}'")),
                             key=lambda v: v["version"])
    out["search_models"] = [m.name for m in client.search_registered_models(filter_string=f"name LIKE '{name}%'")]
    out["search_tag"] = [m.name for m in client.search_registered_models(filter_string="tags.owner = 'team-a'")]
    out["search_versions_tag"] = [v.version for v in client.search_model_versions(
        f"name = '{name}' AND tags.validated = 'yes'")]
    for uri in (f"models:/{name}/1", f"models:/{name}@champion"):
        out[f"predict {uri.replace(name, '<name>')}"] = mlflow.pyfunc.load_model(uri).predict(
            pd.DataFrame({"x": [1.0]})).tolist()
    out["missing_alias_code"] = error_code(lambda: client.get_model_version_by_alias(name, "nobody"))
    client.delete_registered_model_alias(name, "challenger")
    client.delete_model_version(name, "2")
    out["after_deletes"] = model_view(client.get_registered_model(name), ids)
    out["deleted_version_code"] = error_code(lambda: client.get_model_version(name, "2"))
    renamed = name + "-renamed"
    client.rename_registered_model(name, renamed)
    out["renamed"] = [client.get_registered_model(renamed).name,
                      [v.version for v in client.search_model_versions(f"name = '{renamed}'")],
                      error_code(lambda: client.get_registered_model(name))]
    client.delete_registered_model(renamed)
    out["deleted_model_code"] = error_code(lambda: client.get_registered_model(renamed))
    return out


def main(url, tag):
    mlflow.set_tracking_uri(url)
    client = MlflowClient(url)
    out = {}
    exp_id = mlflow.set_experiment(f"session-{tag}").experiment_id
    work = tempfile.mkdtemp()
    with mlflow.start_run(run_name="parent") as parent:
        mlflow.log_param("lr", 0.01)
        mlflow.log_params({"layers": 3, "act": "relu"})
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.9, "f1": 0.8})
        mlflow.set_tags({"team": "a", "stage": "dev"})
        with open(os.path.join(work, "notes.txt"), "w") as f:
            f.write("hello\n")
        os.makedirs(os.path.join(work, "d", "e"))
        with open(os.path.join(work, "d", "e", "f.csv"), "w") as f:
            f.write("a,b\n1,2\n")
        mlflow.log_artifact(os.path.join(work, "notes.txt"))
        mlflow.log_artifacts(os.path.join(work, "d"), artifact_path="data")
        mlflow.log_text("some text", "texts/t.txt")
        mlflow.log_dict({"k": [1, 2]}, "conf/c.json")
        df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
        mlflow.log_input(mlflow.data.from_pandas(df, name="train-df"), context="training")
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_metric("child_metric", 5.0)
        info = mlflow.pyfunc.log_model(**{("name" if mlflow.__version__ >= "3" else "artifact_path"): "model"},
                                       python_model=AddN(10), input_example=pd.DataFrame({"x": [1.0]}))
    ids = {parent.info.run_id, child.info.run_id, exp_id}
    if getattr(info, "model_id", None):
        ids.add(info.model_id)
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    out["predict"] = loaded.predict(pd.DataFrame({"x": [1.0, 2.5]})).tolist()
    out["model_uri_scheme"] = info.model_uri.split(":")[0]

    out["registry"] = registry(client, f"session-model-{tag}", info.model_uri, parent.info.run_id, ids)

    run = client.get_run(parent.info.run_id)
    out["params"] = run.data.params
    out["metrics"] = run.data.metrics
    out["tags"] = sorted(k for k in run.data.tags if k != "mlflow.log-model.history")
    if "mlflow.log-model.history" in run.data.tags:
        hist = json.loads(run.data.tags["mlflow.log-model.history"])
        out["log_model_history"] = [sorted(h["flavors"]) for h in hist]
    out["loss_history"] = [(m.step, m.value) for m in client.get_metric_history(parent.info.run_id, "loss")]
    out["inputs"] = [(d.dataset.name, d.dataset.source_type, sorted((t.key, t.value) for t in d.tags))
                     for d in run.inputs.dataset_inputs]
    out["artifacts"] = sorted(a.path for a in client.list_artifacts(parent.info.run_id))
    out["data_artifacts"] = sorted((a.path, a.file_size) for a in client.list_artifacts(parent.info.run_id, "data/e"))
    dl = mlflow.artifacts.download_artifacts(run_id=parent.info.run_id, artifact_path="data", dst_path=work + "/dl")
    out["downloaded"] = sorted(os.path.relpath(os.path.join(r, f), dl) for r, _, fs in os.walk(dl) for f in fs)
    out["text"] = mlflow.artifacts.load_text(f"runs:/{parent.info.run_id}/texts/t.txt")
    out["dict"] = mlflow.artifacts.load_dict(f"runs:/{parent.info.run_id}/conf/c.json")

    frame = mlflow.search_runs([exp_id], order_by=["attributes.start_time ASC"])
    out["frame_columns"] = sorted(c for c in frame.columns if not c.startswith("tags.mlflow.log-model"))
    out["frame_rows"] = [[r.get("tags.mlflow.runName"), r.get("metrics.loss"), r.get("params.lr"), r.get("status")]
                         for r in frame.to_dict("records")]
    nested = client.search_runs([exp_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    out["nested"] = [r.info.run_name for r in nested]

    env = dict(os.environ, MLFLOW_TRACKING_URI=url)
    cli = os.path.join(os.path.dirname(sys.executable), "mlflow")
    commands = {
        "experiments": [cli, "experiments", "search"],
        "runs_list": [cli, "runs", "list", "--experiment-id", exp_id],
        "runs_describe": [cli, "runs", "describe", "--run-id", parent.info.run_id],
        "artifacts_list": [cli, "artifacts", "list", "--run-id", parent.info.run_id],
        "artifacts_download": [cli, "artifacts", "download", "--run-id", parent.info.run_id, "--artifact-path",
                               "notes.txt", "--dst-path", work + "/cli"],
    }
    for name, cmd in commands.items():
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
        text = p.stdout
        if name == "experiments":  # other tests' experiments may be on the server: keep this one's line
            text = "\n".join(ln for ln in text.splitlines() if f"session-{tag}" in ln or "Name" in ln)
        if name == "runs_describe":  # the run's data (times, ids, the checkout and the model history vary)
            data = json.loads(text)["data"]
            data["tags"] = {k: "<git>" if k.startswith("mlflow.source.git.") else v
                            for k, v in data.get("tags", {}).items() if k != "mlflow.log-model.history"}
            text = json.dumps(data, sort_keys=True)
        if name == "runs_list":  # runs started in the same second are listed by name: order by name
            lines = scrub(text, ids).splitlines()
            text = "\n".join(lines[:2] + sorted(lines[2:]))
        if name == "artifacts_list":
            text = json.dumps(sorted((a["path"], a["is_dir"]) for a in json.loads(text)))
        out[f"cli_{name}"] = [p.returncode, scrub(text.replace(work, "<work>"), ids)]
    print(json.dumps(out, sort_keys=True, default=str))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
