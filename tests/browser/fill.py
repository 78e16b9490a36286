"""Fills an mlflowd for the browser tests through the stock `mlflow` client:
an experiment of three runs with params, metric histories, tags, a Markdown note
and artifacts of every previewed kind (text, JSON, YAML, Markdown, CSV, TSV,
HTML, PNG, a nested folder and a saved pyfunc model with a signature), an MLflow
3 logged model, and an experiment whose names, values and file names are XSS
payloads. Prints one JSON line of the ids the tests need.

    .venv/bin/python tests/browser/fill.py http://127.0.0.1:PORT
"""
import json
import os
import sys
import tempfile

import numpy as np
import pandas as pd

os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")

import mlflow  # noqa: E402
from mlflow.entities import Metric, Param, RunTag  # noqa: E402
from mlflow.models import infer_signature  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

# Every payload sets window.__xss or opens a dialog if it ever runs.
XSS_IMG = '<img src=x onerror="window.__xss=1;alert(1)">'
XSS_SCRIPT = "<script>window.__xss=1;alert(1)</script>"
XSS_LINK = "javascript:window.__xss=1;alert(1)"
XSS_SVG = '<svg onload="window.__xss=1;alert(1)"></svg>'

HISTORY_STEPS = 60


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input * 2


def write(d, rel, content, mode="w"):
    p = os.path.join(d, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, mode) as f:
        f.write(content)


def png_bytes():
    from PIL import Image
    import io

    img = Image.new("RGB", (48, 32))
    for x in range(48):
        for y in range(32):
            img.putpixel((x, y), (x * 5, y * 7, 128))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def main(url):
    mlflow.set_tracking_uri(url)
    client = MlflowClient(url)
    out = {}

    exp_id = client.create_experiment("ui-demo", tags={"mlflow.note.content": "Demo **experiment** for the UI tests."})
    out["experiment_id"] = exp_id
    runs = []
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    for i, (name, lr, opt) in enumerate([("run-a", "0.1", "adam"), ("run-b", "0.01", "sgd"), ("run-c", "0.01", "adam")]):
        r = client.create_run(exp_id, run_name=name, tags={"team": "vision", "mlflow.note.content": f"Notes of *{name}*"})
        rid = r.info.run_id
        ts = 1_700_000_000_000
        metrics = [Metric("loss", 1.0 / (s + 1 + i), ts + s, s) for s in range(HISTORY_STEPS)]
        metrics += [Metric("acc", 0.5 + 0.004 * s + 0.05 * i, ts + s, s) for s in range(HISTORY_STEPS)]
        metrics.append(Metric("f1", 0.7 + 0.1 * i, ts, 0))
        params = [Param("lr", lr), Param("optimizer", opt), Param("epochs", "10")]
        client.log_batch(rid, metrics=metrics, params=params, tags=[RunTag("stage", "dev" if i else "prod")])
        runs.append(rid)
    out["run_ids"] = runs

    # artifacts of run-a, one of each previewed kind
    with tempfile.TemporaryDirectory() as d:
        write(d, "notes.txt", "hello from the artifact browser\nline two\n")
        write(d, "config.json", json.dumps({"lr": 0.1, "layers": [64, 32], "name": "demo"}))
        write(d, "params.yaml", "lr: 0.1\nlayers:\n  - 64\n  - 32\n")
        write(d, "README.md", "# Model card\n\nSome **bold** text and a [link](https://example.com).\n")
        write(d, "table.csv", 'a,b,c\n1,2,"three, with comma"\n4,5,6\n')
        write(d, "data.tsv", "k\tv\nalpha\t1\nbeta\t2\n")
        write(d, "report.html", "<html><head><style>h1 { color: rgb(200, 0, 0) }</style></head><body><h1 id='h'>Report</h1>"
              "<script>window.parent.__xss=1;alert(1)</script></body></html>")
        write(d, "plots/curve.png", png_bytes(), "wb")
        write(d, "nested/deeper/leaf.txt", "leaf\n")
        client.log_artifacts(runs[0], d)
    with tempfile.TemporaryDirectory() as d:
        mdir = os.path.join(d, "model")
        mlflow.pyfunc.save_model(mdir, python_model=Doubler(), pip_requirements=["mlflow"],
                                 signature=infer_signature(df, df * 2))
        client.log_artifacts(runs[0], mdir, "model")

    # an MLflow 3 logged model
    with mlflow.start_run(run_id=runs[1]):
        info = mlflow.pyfunc.log_model(name="doubler", python_model=Doubler(), pip_requirements=["mlflow"],
                                       signature=infer_signature(df, df * 2), params={"scale": "2"})
        mlflow.log_metric("rmse", 0.25, model_id=info.model_id)
    out["model_id"] = info.model_id

    # XSS payloads everywhere a user string reaches the UI
    xid = client.create_experiment(XSS_IMG, tags={"mlflow.note.content": f"{XSS_IMG}\n\n[click]({XSS_LINK})\n\n{XSS_SCRIPT}"})
    out["xss_experiment_id"] = xid
    xruns = []
    for n, payload in enumerate([XSS_SCRIPT, XSS_IMG]):
        r = client.create_run(xid, run_name=payload, tags={
            "mlflow.note.content": f"{XSS_SVG}\n{XSS_IMG}\n[x]({XSS_LINK})",
            "payload": XSS_IMG, "link": XSS_LINK})
        # keys must match MLflow's key pattern ([\w./ -]); values are free
        client.log_batch(r.info.run_id, metrics=[Metric("x/onerror alert 1", 1.0 + n, 0, 0),
                                                 Metric("loss", 0.5 + n, 0, 0)],
                         params=[Param("payload", XSS_IMG), Param("script", XSS_SCRIPT), Param("link", XSS_LINK)])
        xruns.append(r.info.run_id)
    with tempfile.TemporaryDirectory() as d:
        write(d, f"{XSS_IMG}.txt", XSS_SCRIPT)
        write(d, f"{XSS_SCRIPT.replace('/', '')}.md", f"{XSS_IMG}\n\n[x]({XSS_LINK})\n")
        client.log_artifacts(xruns[0], d)
    out["xss_run_ids"] = xruns
    # and in the registry, when the server has one
    try:
        client.create_registered_model(XSS_IMG, tags={"payload": XSS_SCRIPT},
                                       description=f"{XSS_IMG} [x]({XSS_LINK})")
        client.create_model_version(XSS_IMG, f"runs:/{runs[0]}/model", run_id=runs[0],
                                    description=XSS_SVG, tags={"payload": XSS_IMG})
        client.set_registered_model_alias(XSS_IMG, "xss", "1")
        out["xss_model"] = XSS_IMG
    except mlflow.exceptions.MlflowException as e:
        if "ENDPOINT_NOT_FOUND" not in str(e) and "404" not in str(e):
            raise
        out["xss_model"] = None
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
