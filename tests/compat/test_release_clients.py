"""A scripted user session (tests/compat/release_session.py: logging, artifacts, search_runs to a
DataFrame, nested runs, datasets, a pyfunc model logged, loaded and used, the model registry, the
mlflow CLI's experiments/runs/artifacts commands) with the clients of MLflow 3.18.0 and 2.22.4, each against
mlflowd and against stock `mlflow server` of the same release: the client sees the same.
Part of the schema_span ctest entry (it needs the releases' environments)."""

import json
import subprocess

import pytest

import compat_util as cu
import releases

pytestmark = pytest.mark.mlflowd_only


def session(version, url, workdir):
    py = releases.venv(version, True) / "bin" / "python"
    p = subprocess.run([str(py), str(releases.HERE / "release_session.py"), url, version], capture_output=True,
                       text=True, timeout=900, env=cu.server_env(), cwd=workdir)
    assert p.returncode == 0, f"the MLflow {version} session failed against {url}:\n{p.stderr[-4000:]}"
    return json.loads(p.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("version", [releases.NEWEST, "2.22.4"])
def test_release_client_session_same_as_stock(version, tmp_path, mlflowd_factory):
    mlflow_bin = releases.venv(version, True) / "bin" / "mlflow"
    stock = cu.start_stock(tmp_path / "stock", mlflow_bin=mlflow_bin, timeout=180)
    try:
        theirs = session(version, stock.url, tmp_path)
    finally:
        cu.stop_stock(stock)
    srv = mlflowd_factory(workdir=tmp_path / "mlflowd")
    ours = session(version, srv.url, tmp_path)
    assert ours["predict"] == [11.0, 12.5]
    assert ours["nested"] == ["child"]
    reg = ours["registry"]
    assert [v["version"] for v in reg["versions"]] == ["1", "2"] and reg["by_alias"]["version"] == "1"
    assert reg["model"]["aliases"] == {"champion": "1", "challenger": "2"} and reg["model"]["tags"] == {"owner": "team-a"}
    assert reg["predict models:/<name>/1"] == reg["predict models:/<name>@champion"] == [11.0]
    assert reg["search_versions_tag"] == ["1"] and reg["renamed"][1] == ["1"]
    assert reg["deleted_model_code"] == reg["deleted_version_code"] == "RESOURCE_DOES_NOT_EXIST"
    if version.startswith("2."):
        assert reg["latest_staging"] == ["2"] and reg["predict_stage"] == [12.0]
    differ = {k: (ours.get(k), theirs.get(k)) for k in sorted(set(ours) | set(theirs)) if ours.get(k) != theirs.get(k)}
    assert not differ, f"what the MLflow {version} client saw differs (mlflowd, stock): {differ}"
