"""Artifacts and MLflow 3 logged models through the stock mlflow client (issue 3)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

import compat_util as cu
import mlflow

FILES = {
    "a.txt": b"hello\n",
    "empty.bin": b"",
    "bin/blob.bin": bytes(range(256)) * 4096,
    "nested/deep/er/x.json": b'{"k": [1, 2, 3]}',
    "uni/r\u00e9sum\u00e9 \u65e5\u672c.txt": "caf\u00e9 \u2615".encode(),
    "sp ace/with space.csv": b"a,b\n1,2\n",
}


def _write_tree(d: Path) -> None:
    for rel, data in FILES.items():
        p = d / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


def _read_tree(d: Path) -> dict:
    out = {}
    for root, _, files in os.walk(d):
        for f in files:
            p = Path(root) / f
            out[str(p.relative_to(d))] = p.read_bytes()
    return out


def test_log_and_download_artifacts_roundtrip(client, mlflowd, tmp_path):
    src = tmp_path / "src"
    _write_tree(src)
    mlflow.set_experiment(cu.uniq("art"))
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(src), artifact_path="tree")
        mlflow.log_artifact(str(src / "a.txt"))
        mlflow.log_text("some text \u2603", "notes/t.txt")
        mlflow.log_dict({"x": 1, "y": [1, 2]}, "d/conf.json")
    rid = run.info.run_id
    top = {f.path: f for f in client.list_artifacts(rid)}
    assert set(top) == {"a.txt", "d", "notes", "tree"}
    assert top["a.txt"].file_size == len(FILES["a.txt"]) and not top["a.txt"].is_dir
    assert top["tree"].is_dir and top["tree"].file_size is None
    sub = {f.path for f in client.list_artifacts(rid, "tree/nested")}
    assert sub == {"tree/nested/deep"}
    dst = Path(client.download_artifacts(rid, "tree", str(tmp_path / "dl")))
    assert _read_tree(dst) == FILES
    dst2 = Path(mlflow.artifacts.download_artifacts(f"runs:/{rid}/tree", dst_path=str(tmp_path / "dl2")))
    assert _read_tree(dst2) == FILES
    assert mlflow.artifacts.load_text(f"runs:/{rid}/notes/t.txt") == "some text \u2603"
    assert mlflow.artifacts.load_dict(f"runs:/{rid}/d/conf.json") == {"x": 1, "y": [1, 2]}
    exp = run.info.experiment_id
    uri = f"mlflow-artifacts:/{exp}/{rid}/artifacts/tree/bin/blob.bin"
    got = Path(mlflow.artifacts.download_artifacts(uri, dst_path=str(tmp_path / "dl3"))).read_bytes()
    assert got == FILES["bin/blob.bin"]
    # Bytes on disk under the destination, exactly.
    assert _read_tree(Path(mlflowd.artifacts) / exp / rid / "artifacts" / "tree") == FILES


def test_log_image_and_figure(client, tmp_path):
    np = pytest.importorskip("numpy")
    with mlflow.start_run() as run:
        mlflow.log_image(np.zeros((4, 4, 3), dtype=np.uint8), "img/zero.png")
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            fig = plt.figure()
            plt.plot([1, 2])
            mlflow.log_figure(fig, "img/fig.png")
        except ImportError:
            pass
    names = {f.path for f in client.list_artifacts(run.info.run_id, "img")}
    assert "img/zero.png" in names
    p = client.download_artifacts(run.info.run_id, "img/zero.png", str(tmp_path))
    assert Path(p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


MODEL_CODE = '''
import mlflow.pyfunc

class Doubler(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        with open(context.artifacts["factor"]) as f:
            self.factor = int(f.read())

    def predict(self, context, model_input, params=None):
        return [v * self.factor for v in model_input["x"]]
'''


def test_pyfunc_log_and_load_in_fresh_process(client, mlflowd, tmp_path):
    pd = pytest.importorskip("pandas")
    code = tmp_path / "doubler_mod.py"
    code.write_text(MODEL_CODE)
    factor = tmp_path / "factor.txt"
    factor.write_text("2")
    sys.path.insert(0, str(tmp_path))
    try:
        import doubler_mod

        mlflow.set_experiment(cu.uniq("models"))
        with mlflow.start_run() as run:
            mlflow.log_param("lr", "0.1")
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=doubler_mod.Doubler(),
                artifacts={"factor": str(factor)},
                code_paths=[str(code)],
                input_example=pd.DataFrame({"x": [1, 2]}),
            )
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("doubler_mod", None)
    mid = info.model_id
    lm = client.get_logged_model(mid)
    assert lm.status.to_int() == 2 if hasattr(lm.status, "to_int") else str(lm.status).endswith("READY")
    assert lm.artifact_location == f"mlflow-artifacts:/{run.info.experiment_id}/models/{mid}/artifacts"
    assert lm.source_run_id == run.info.run_id
    assert lm.params.get("lr") == "0.1"
    # The model layout lands byte for byte under the destination.
    mdir = Path(mlflowd.artifacts) / run.info.experiment_id / "models" / mid / "artifacts"
    for f in ("MLmodel", "conda.yaml", "python_env.yaml", "requirements.txt", "python_model.pkl"):
        assert (mdir / f).is_file(), f
    assert (mdir / "artifacts" / "factor.txt").read_text() == "2"
    dl = Path(mlflow.artifacts.download_artifacts(f"models:/{mid}", dst_path=str(tmp_path / "dl")))
    for f in ("MLmodel", "conda.yaml", "python_env.yaml", "requirements.txt"):
        assert (dl / f).read_bytes() == (mdir / f).read_bytes()
    assert (dl / "artifacts" / "factor.txt").read_bytes() == b"2"
    # Load and predict in a fresh interpreter, from both URI forms.
    script = (
        "import sys, mlflow, pandas as pd\n"
        "mlflow.set_tracking_uri(sys.argv[1])\n"
        "for uri in sys.argv[2:]:\n"
        "    m = mlflow.pyfunc.load_model(uri)\n"
        "    print(list(m.predict(pd.DataFrame({'x': [3, 5]}))))\n"
    )
    env = cu.server_env()
    out = subprocess.run(
        [sys.executable, "-c", script, mlflowd.url, f"runs:/{run.info.run_id}/model", f"models:/{mid}"],
        capture_output=True, text=True, env=env, timeout=300, cwd=str(tmp_path / "dl"),
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-2:] == ["[6, 10]", "[6, 10]"], out.stdout


def test_logged_model_api(client, api):
    exp = api.create_experiment()
    run = api.create_run(exp)
    m = api.okpost("/logged-models", {"experiment_id": exp, "name": "alpha", "model_type": "clf",
                                      "source_run_id": run, "params": [{"key": "p", "value": "1"}],
                                      "tags": [{"key": "t", "value": "x"}]})["model"]
    mid = m["info"]["model_id"]
    assert mid.startswith("m-") and len(mid) == 34
    assert m["info"]["status"] == "LOGGED_MODEL_PENDING"
    assert m["info"]["artifact_uri"] == f"mlflow-artifacts:/{exp}/models/{mid}/artifacts"
    assert m["data"]["params"] == [{"key": "p", "value": "1"}]
    api.okpost(f"/logged-models/{mid}/params", {"model_id": mid, "params": [{"key": "q", "value": "2"}]})
    api.ok(api.request("PATCH", f"/logged-models/{mid}/tags", {"tags": [{"key": "t", "value": "y"},
                                                                         {"key": "u", "value": "z"}]}))
    api.ok(api.request("DELETE", f"/logged-models/{mid}/tags/u", {}))
    cu.assert_not_found(api.request("DELETE", f"/logged-models/{mid}/tags/u", {}))
    j = api.ok(api.request("PATCH", f"/logged-models/{mid}", {"model_id": mid, "status": "LOGGED_MODEL_READY"}))
    assert j["model"]["info"]["status"] == "LOGGED_MODEL_READY"
    g = api.okget(f"/logged-models/{mid}")["model"]
    assert {t["key"]: t["value"] for t in g["info"]["tags"]} == {"t": "y"}
    assert {p["key"]: p["value"] for p in g["data"]["params"]} == {"p": "1", "q": "2"}
    m2 = api.okpost("/logged-models", {"experiment_id": exp, "name": "beta"})["model"]["info"]["model_id"]

    def search(**kw):
        body = {"experiment_ids": [exp]}
        body.update(kw)
        return [x["info"]["model_id"] for x in api.okpost("/logged-models/search", body).get("models", [])]

    assert search() == [m2, mid]  # newest first
    assert search(filter="name = 'alpha'") == [mid]
    assert search(filter="name LIKE 'a%'") == [mid]
    assert search(filter="name ILIKE 'ALP%'") == [mid]
    assert search(filter="name IN ('alpha', 'beta')") == [m2, mid]
    assert search(filter="params.q = '2' AND tags.t = 'y'") == [mid]
    assert search(filter="attributes.model_type != 'clf'") == []
    assert search(filter=f"creation_timestamp > 0 AND name != 'alpha'") == [m2]
    assert search(order_by=[{"field_name": "name", "ascending": True}]) == [mid, m2]
    page = api.okpost("/logged-models/search", {"experiment_ids": [exp], "max_results": 1})
    assert len(page["models"]) == 1 and page["next_page_token"]
    page2 = api.okpost("/logged-models/search", {"experiment_ids": [exp], "max_results": 1,
                                                 "page_token": page["next_page_token"]})
    assert page2["models"][0]["info"]["model_id"] == mid
    cu.assert_invalid(api.post("/logged-models/search", {"experiment_ids": [exp], "filter": "name = 'a' OR x"}))
    cu.assert_invalid(api.post("/logged-models/search", {"experiment_ids": [exp], "filter": "metrics.a LIKE 'x'"}))
    cu.assert_invalid(api.post("/logged-models", {"experiment_id": exp, "name": "a/b"}))
    cu.assert_not_found(api.post("/logged-models", {"experiment_id": "99999"}))
    # client-level calls
    assert client.get_logged_model(mid).name == "alpha"
    client.set_logged_model_tags(mid, {"k": "v"})
    client.delete_logged_model_tag(mid, "k")
    assert [x.model_id for x in client.search_logged_models([exp], filter_string="name = 'beta'")] == [m2]
    api.ok(api.request("DELETE", f"/logged-models/{mid}", {"model_id": mid}))
    cu.assert_not_found(api.get(f"/logged-models/{mid}"), "Logged model with ID")
    assert api.okget(f"/logged-models/{mid}", {"allow_deleted": "true"})["model"]["info"]["model_id"] == mid
    assert search() == [m2]


def test_artifact_service_details(mlflowd, api):
    base = mlflowd.url + "/api/2.0/mlflow-artifacts/artifacts"
    s = requests.Session()
    r = s.put(base + "/9/x/page.html", data=b"<script>alert(1)</script>")
    assert r.status_code == 200 and r.json() == {}
    r = s.get(base + "/9/x/page.html")
    assert r.status_code == 200 and r.content == b"<script>alert(1)</script>"
    assert r.headers["Content-Disposition"] == "attachment; filename=page.html"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Type"].startswith("text/html")
    assert s.get(base + "/9/x/MLmodel").status_code == 404
    s.put(base + "/9/x/MLmodel", data=b"flavors: {}\n")
    assert s.get(base + "/9/x/MLmodel").headers["Content-Type"].startswith("text/plain")
    r = s.get(base + "/9/nope.txt")
    cu.assert_not_found(r, "No such artifact")
    assert s.get(base, params={"path": "9"}).json() == {"files": [{"path": "x", "is_dir": True}]}
    assert s.get(base, params={"path": "9/x/page.html"}).json() == {}
    assert s.get(base, params={"path": "9/missing"}).json() == {}
    r = s.get(base + "/9/x")
    cu.assert_invalid(r, "directory")
    for op in ("create", "complete", "abort"):
        r = s.post(mlflowd.url + f"/api/2.0/mlflow-artifacts/mpu/{op}/9/x/big.bin",
                   json={"path": "big.bin", "num_parts": 2})
        j = cu.assert_error(r, 501, "NOT_IMPLEMENTED")
        assert j["message"].startswith("Multipart upload is not supported for the current artifact repository")
    r = s.delete(base + "/9/x")
    assert r.status_code == 200 and r.json() == {}
    assert not (Path(mlflowd.artifacts) / "9" / "x").exists()
    # ajax alias
    assert s.put(mlflowd.url + "/ajax-api/2.0/mlflow-artifacts/artifacts/9/y.txt", data=b"y").status_code == 200
    assert s.get(mlflowd.url + "/ajax-api/2.0/mlflow-artifacts/artifacts/9/y.txt").content == b"y"


def test_get_artifact_and_run_listing(mlflowd, api):
    exp = api.create_experiment()
    run = api.create_run(exp)
    s = requests.Session()
    s.put(mlflowd.url + f"/api/2.0/mlflow-artifacts/artifacts/{exp}/{run}/artifacts/d/f.txt", data=b"F")
    j = api.okget("/artifacts/list", {"run_id": run})
    assert j == {"root_uri": f"mlflow-artifacts:/{exp}/{run}/artifacts", "files": [{"path": "d", "is_dir": True}]}
    j = api.okget("/artifacts/list", {"run_id": run, "path": "d"})
    assert j["files"] == [{"path": "d/f.txt", "is_dir": False, "file_size": 1}]
    r = s.get(mlflowd.url + "/get-artifact", params={"run_id": run, "path": "d/f.txt"})
    assert r.status_code == 200 and r.content == b"F"
    assert r.headers["Content-Disposition"] == "attachment; filename=f.txt"
    cu.assert_not_found(s.get(mlflowd.url + "/get-artifact", params={"run_id": run, "path": "d/none"}))


@pytest.mark.mlflowd_only
def test_upload_disconnect_leaves_no_partial_file(mlflowd):
    path = "/api/2.0/mlflow-artifacts/artifacts/7/partial.bin"
    sock = socket.create_connection(("127.0.0.1", mlflowd.port))
    sock.sendall((f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{mlflowd.port}\r\n"
                  "Content-Length: 10000000\r\n\r\n").encode() + b"x" * 1_000_000)
    time.sleep(0.3)
    sock.close()
    d = Path(mlflowd.artifacts) / "7"
    deadline = time.time() + 10
    while time.time() < deadline:
        if d.exists() and not any(d.iterdir()):
            break
        time.sleep(0.1)
    assert not (d / "partial.bin").exists()
    assert list(d.iterdir()) == [], list(d.iterdir())  # temporary removed too
    # A complete upload under the same name works afterwards, and replaces atomically.
    assert requests.put(mlflowd.url + path, data=b"ok").status_code == 200
    assert (d / "partial.bin").read_bytes() == b"ok"
    mlflowd.check_alive()


@pytest.mark.mlflowd_only
def test_no_serve_artifacts(mlflowd_factory, tmp_path):
    srv = mlflowd_factory(extra_args=["--no-serve-artifacts"])
    for method in ("GET", "PUT", "DELETE"):
        r = requests.request(method, srv.url + "/api/2.0/mlflow-artifacts/artifacts/1/a.txt", data=b"x")
        assert r.status_code == 503, (method, r.text)
        assert "--no-serve-artifacts" in r.text
    r = requests.get(srv.url + "/api/2.0/mlflow-artifacts/artifacts", params={"path": "1"})
    assert r.status_code == 503
    # Experiments get a local location; the client writes there directly.
    mlflow.set_tracking_uri(srv.url)
    exp = mlflow.create_experiment(cu.uniq("local"))
    loc = mlflow.get_experiment(exp).artifact_location
    assert loc.startswith("/") or loc.startswith("file:"), loc
    with mlflow.start_run(experiment_id=exp) as run:
        mlflow.log_text("direct", "t.txt")
    assert mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/t.txt") == "direct"
    j = cu.Api(srv).okget("/artifacts/list", {"run_id": run.info.run_id})
    assert j["files"] == [{"path": "t.txt", "is_dir": False, "file_size": 6}]


def test_local_experiment_location(client, mlflowd, tmp_path):
    loc = tmp_path / "exp-local"
    exp = client.create_experiment(cu.uniq("loc"), artifact_location=str(loc))
    with mlflow.start_run(experiment_id=exp) as run:
        mlflow.log_text("here", "x/t.txt")
    assert (loc / run.info.run_id / "artifacts" / "x" / "t.txt").read_text() == "here"
    assert [f.path for f in client.list_artifacts(run.info.run_id, "x")] == ["x/t.txt"]
    assert mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/x/t.txt") == "here"


@pytest.mark.parametrize("bad", [
    "http:///#/../../../../../../../../etc/", "file:///tmp/x#../../etc", "http://foo/bar?a=../../../../etc",
    "http://foo/bar;../../etc", "runs:/abc/artifacts", "x" * 3000,
])
def test_experiment_artifact_location_validation(api, bad):
    cu.assert_invalid(api.post("/experiments/create", {"name": cu.uniq("bad"), "artifact_location": bad}))


# ---- differential: the same calls against stock mlflow server ----


def _listing_and_bytes(url: str, exp_run: tuple[str, str]) -> tuple:
    s = requests.Session()
    exp, run = exp_run
    base = f"{url}/api/2.0/mlflow-artifacts/artifacts/{exp}/{run}/artifacts"
    for rel, data in FILES.items():
        assert s.put(f"{base}/{rel}", data=data).status_code == 200
    out = {}
    for p in ("", "/nested", "/nested/deep/er", "/a.txt", "/missing"):
        out["list" + p] = s.get(f"{url}/api/2.0/mlflow-artifacts/artifacts",
                                params={"path": f"{exp}/{run}/artifacts{p}"}).json()
        out["runlist" + p] = s.get(f"{url}/api/2.0/mlflow/artifacts/list",
                                   params={"run_id": run, "path": p.lstrip("/")} if p else {"run_id": run}).json()
        out["runlist" + p].pop("root_uri", None)
    for rel in FILES:
        r = s.get(f"{base}/{rel}")
        out["get " + rel] = (r.status_code, r.content, r.headers.get("Content-Type"),
                             r.headers.get("Content-Disposition"), r.headers.get("X-Content-Type-Options"))
    r = s.get(f"{base}/nope.txt")
    out["404"] = (r.status_code, r.json().get("error_code"))
    return out


@pytest.mark.mlflowd_only
def test_differential_listing_and_downloads(mlflowd, stock_server):
    results = []
    for srv in (mlflowd, stock_server):
        a = cu.Api(srv)
        exp = a.create_experiment()
        run = a.create_run(exp)
        results.append((_listing_and_bytes(srv.url, (exp, run))))
    ours, stock = results
    for k in stock:
        if k.startswith("get "):
            assert ours[k][:2] == stock[k][:2], k
            assert ours[k][2].split(";")[0] == stock[k][2].split(";")[0], (k, ours[k][2], stock[k][2])
            assert ours[k][3:] == stock[k][3:], (k, ours[k][3:], stock[k][3:])
        else:
            assert ours[k] == stock[k], (k, json.dumps(ours[k]), json.dumps(stock[k]))
