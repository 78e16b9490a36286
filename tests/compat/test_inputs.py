"""Dataset inputs: mlflow.log_input with pandas / numpy datasets, run.inputs, search-datasets,
dataset filters in search_runs, raw log-inputs validation."""

import numpy as np
import pandas as pd
import pytest

import mlflow
from compat_util import AJAX, assert_invalid, assert_not_found, uniq

SEARCH_DATASETS = AJAX + "/experiments/search-datasets"


@pytest.fixture
def logged(client):
    exp = mlflow.set_experiment(uniq("inputs"))
    df = pd.DataFrame({"a": [1, 2, 3], "b": [0.1, 0.2, 0.3]})
    train = mlflow.data.from_pandas(df, name="train-df", targets="b")
    arr = mlflow.data.from_numpy(np.arange(10).reshape(5, 2), name="np-data")
    valid = mlflow.data.from_pandas(pd.DataFrame({"x": ["u", "v"]}), name="valid-df")
    with mlflow.start_run(run_name="A") as a:
        mlflow.log_input(train, context="training", tags={"extra": "t"})
        mlflow.log_input(arr, context="eval")
        mlflow.log_input(train, context="training")  # again: no duplicate
    with mlflow.start_run(run_name="B") as b:
        mlflow.log_input(valid, context="validation")
        mlflow.log_input(train, context="training")
    with mlflow.start_run(run_name="C") as c:
        pass
    return {"eid": exp.experiment_id, "a": a.info.run_id, "b": b.info.run_id, "c": c.info.run_id,
            "train": train, "arr": arr, "valid": valid}


def test_run_inputs(client, logged):
    run = client.get_run(logged["a"])
    inputs = run.inputs.dataset_inputs
    assert [(i.dataset.name, i.dataset.digest) for i in inputs] == [
        ("train-df", logged["train"].digest), ("np-data", logged["arr"].digest)]
    tags0 = {t.key: t.value for t in inputs[0].tags}
    assert tags0 == {"mlflow.data.context": "training", "extra": "t"}
    assert {t.key: t.value for t in inputs[1].tags} == {"mlflow.data.context": "eval"}
    d = inputs[0].dataset
    assert d.source_type == logged["train"].source._get_source_type()
    assert d.source == logged["train"].source.to_json()
    assert d.schema == logged["train"]._to_mlflow_entity().schema
    assert d.profile == logged["train"]._to_mlflow_entity().profile
    assert client.get_run(logged["c"]).inputs.dataset_inputs == []


def test_run_inputs_json(api, logged):
    run = api.get_run(logged["b"])
    ins = run["inputs"]["dataset_inputs"]
    assert [i["dataset"]["name"] for i in ins] == ["valid-df", "train-df"]
    ds = ins[0]["dataset"]
    assert set(ds) == {"name", "digest", "source_type", "source", "schema", "profile"}
    assert api.get_run(logged["c"])["inputs"] == {}


def test_search_runs_returns_inputs(client, logged):
    runs = client.search_runs([logged["eid"]], "attributes.run_name = 'A'")
    assert [i.dataset.name for i in runs[0].inputs.dataset_inputs] == ["train-df", "np-data"]


def test_search_datasets(api, logged):
    j = api.okpost(SEARCH_DATASETS, {"experiment_ids": [logged["eid"]]})
    got = sorted((s["experiment_id"], s["name"], s["digest"], s["context"]) for s in j["dataset_summaries"])
    eid = logged["eid"]
    assert got == sorted([
        (eid, "train-df", logged["train"].digest, "training"),
        (eid, "np-data", logged["arr"].digest, "eval"),
        (eid, "valid-df", logged["valid"].digest, "validation"),
    ])


def test_search_datasets_empty_and_errors(api, logged):
    other = api.create_experiment()
    assert api.okpost(SEARCH_DATASETS, {"experiment_ids": [other]}) == {}
    assert_invalid(api.post(SEARCH_DATASETS, {}), "SearchDatasets request must specify at least one experiment_id.")
    assert_invalid(api.post(SEARCH_DATASETS, {"experiment_ids": [str(i) for i in range(21)]}),
                   "SearchDatasets request cannot specify more than 20 experiment_ids. Received 21 experiment_ids.")
    api.okpost(SEARCH_DATASETS, {"experiment_ids": [str(i) for i in range(20)]})  # 20 is the limit


@pytest.mark.parametrize("flt,expected", [
    ("datasets.name = 'train-df'", ["A", "B"]),
    ("dataset.name LIKE 'np%'", ["A"]),
    ("datasets.name ILIKE 'VALID%'", ["B"]),
    ("datasets.context = 'eval'", ["A"]),
    ("datasets.context ILIKE 'TRAIN%'", ["A", "B"]),
    ("datasets.name IN ('np-data', 'zz')", ["A"]),
    ("datasets.name NOT IN ('np-data')", ["A", "B"]),
    ("datasets.name != 'np-data'", ["A", "B"]),
    ("datasets.name = 'valid-df' AND datasets.context = 'validation'", ["B"]),
    ("datasets.name = 'nosuch'", []),
])
def test_dataset_filters(client, logged, flt, expected):
    runs = client.search_runs([logged["eid"]], flt)
    assert sorted(r.info.run_name for r in runs) == expected


def test_dataset_digest_filter(client, logged):
    runs = client.search_runs([logged["eid"]], f"datasets.digest = '{logged['arr'].digest}'")
    assert [r.info.run_name for r in runs] == ["A"]


def test_log_inputs_raw(api):
    rid = api.create_run(api.create_experiment())
    ds = {"name": "raw", "digest": "abc123", "source_type": "local", "source": "{\"uri\": \"/x\"}"}
    api.okpost("/runs/log-inputs", {"run_id": rid, "datasets": [
        {"dataset": ds, "tags": [{"key": "mlflow.data.context", "value": "train"}]}]})
    ins = api.get_run(rid)["inputs"]["dataset_inputs"]
    assert ins == [{"tags": [{"key": "mlflow.data.context", "value": "train"}], "dataset": ds}]
    # MLflow does not enforce the dataset fields the proto calls required: a missing one is
    # stored as an empty string.
    for missing in ("digest", "source_type", "source"):
        bad = dict(ds, name="no-" + missing)
        del bad[missing]
        api.okpost("/runs/log-inputs", {"run_id": rid, "datasets": [{"dataset": bad}]})
    got = {i["dataset"]["name"]: i["dataset"] for i in api.get_run(rid)["inputs"]["dataset_inputs"]}
    assert got["no-digest"]["digest"] == "" and got["no-source"]["source"] == ""
    assert got["no-source_type"]["source_type"] == ""
    assert_not_found(api.post("/runs/log-inputs", {"run_id": "0123456789abcdef0123456789abcdef",
                                                   "datasets": [{"dataset": ds}]}))
    assert_invalid(api.post("/runs/log-inputs", {"datasets": [{"dataset": ds}]}))


def test_log_inputs_limits(api):
    rid = api.create_run(api.create_experiment())

    def post(**over):
        ds = {"name": "n", "digest": "d", "source_type": "local", "source": "s"}
        ds.update(over)
        return api.post("/runs/log-inputs", {"run_id": rid, "datasets": [{"dataset": ds}]})

    assert post(name="a" * 500).status_code == 200
    assert_invalid(post(name="b" * 501))
    assert post(name="c", digest="d" * 36).status_code == 200
    assert_invalid(post(name="e", digest="d" * 37))

    def post_tag(name, key, value):
        return api.post("/runs/log-inputs", {"run_id": rid, "datasets": [
            {"dataset": {"name": name, "digest": "d", "source_type": "local", "source": "s"},
             "tags": [{"key": key, "value": value}]}]})

    assert post_tag("t1", "k" * 255, "v" * 500).status_code == 200
    assert_invalid(post_tag("t2", "k" * 256, "v"), "'key' exceeds the maximum length of 255 characters")
    assert_invalid(post_tag("t3", "k", "v" * 501), "'value' exceeds the maximum length of 500 characters")
    names = [i["dataset"]["name"] for i in api.get_run(rid)["inputs"]["dataset_inputs"]]
    assert sorted(names) == sorted(["a" * 500, "c", "t1"])


def test_search_runs_page_keeps_each_runs_inputs_and_outputs(client, logged):
    # One search page holds several runs: every run gets its own dataset
    # inputs (with their tags) and logged-model outputs, no other run's. Model
    # inputs are get-run's alone: MLflow's search leaves them out.
    from mlflow.entities import LoggedModelInput, LoggedModelOutput

    eid = logged["eid"]
    m1 = client.create_logged_model(experiment_id=eid, name="m-in").model_id
    m2 = client.create_logged_model(experiment_id=eid, name="m-out").model_id
    client.log_inputs(logged["a"], models=[LoggedModelInput(m1)])
    client.log_outputs(logged["a"], models=[LoggedModelOutput(m2, 3)])
    client.log_outputs(logged["b"], models=[LoggedModelOutput(m1, 7)])
    runs = {r.info.run_name: r for r in client.search_runs([eid])}
    assert set(runs) == {"A", "B", "C"}

    def datasets(r):
        return [(i.dataset.name, {t.key: t.value for t in i.tags}) for i in r.inputs.dataset_inputs]

    assert datasets(runs["A"]) == [("train-df", {"mlflow.data.context": "training", "extra": "t"}),
                                   ("np-data", {"mlflow.data.context": "eval"})]
    assert datasets(runs["B"]) == [("valid-df", {"mlflow.data.context": "validation"}),
                                   ("train-df", {"mlflow.data.context": "training"})]
    assert datasets(runs["C"]) == []
    assert [m.model_id for m in runs["A"].inputs.model_inputs] == []
    assert [m.model_id for m in client.get_run(logged["a"]).inputs.model_inputs] == [m1]
    assert [(m.model_id, m.step) for m in runs["A"].outputs.model_outputs] == [(m2, 3)]
    assert [m.model_id for m in runs["B"].inputs.model_inputs] == []
    assert [(m.model_id, m.step) for m in runs["B"].outputs.model_outputs] == [(m1, 7)]
    assert not runs["C"].inputs.model_inputs and not runs["C"].outputs.model_outputs


def test_search_page_of_many_runs_gives_each_run_its_own_contents(client, api):
    # A page this long has its runs' contents loaded by several threads at
    # once and its JSON written in two halves: every run must still get
    # exactly its own params, tags, latest metrics, dataset inputs and
    # logged-model outputs, and the page must keep the search's order.
    from mlflow.entities import Dataset, DatasetInput, InputTag, LoggedModelOutput

    eid = api.create_experiment()
    n = 150
    ids = {}
    for i in range(n):
        rid = api.create_run(eid, run_name=f"r{i:03d}", start_time=1_000_000 + i)
        api.okpost("/runs/log-batch", {"run_id": rid,
                                       "params": [{"key": "p", "value": str(i)}],
                                       "tags": [{"key": "t", "value": f"tag{i}"}],
                                       "metrics": [{"key": "m", "value": float(s * i), "timestamp": 5, "step": s}
                                                   for s in range(3)]})
        ids[i] = rid
    for i in range(0, n, 10):
        ds = Dataset(name=f"ds{i}", digest=f"d{i}", source_type="local", source=f"/data/{i}")
        client.log_inputs(ids[i], datasets=[DatasetInput(ds, [InputTag("which", str(i))])])
    models = {}
    for i in range(0, n, 25):
        models[i] = client.create_logged_model(experiment_id=eid, name=f"model{i}").model_id
        client.log_outputs(ids[i], models=[LoggedModelOutput(models[i], i)])
    page = api.search_runs([eid], max_results=1000)["runs"]
    assert [r["info"]["run_name"] for r in page] == [f"r{i:03d}" for i in reversed(range(n))]
    for r in page:
        i = int(r["info"]["run_name"][1:])
        data = r["data"]
        assert r["info"]["run_id"] == ids[i]
        assert data["params"] == [{"key": "p", "value": str(i)}]
        assert {t["key"]: t["value"] for t in data["tags"]}["t"] == f"tag{i}"
        assert [(m["key"], m["value"], m["step"]) for m in data["metrics"]] == [("m", float(2 * i), 2)]
        inputs = r.get("inputs", {}).get("dataset_inputs", [])
        assert [(d["dataset"]["name"], d["tags"]) for d in inputs] == (
            [(f"ds{i}", [{"key": "which", "value": str(i)}])] if i % 10 == 0 else [])
        outputs = r.get("outputs", {}).get("model_outputs", [])
        assert outputs == ([{"model_id": models[i], "step": i}] if i % 25 == 0 else [])
    # the stock client decodes the same page
    runs = client.search_runs([eid], max_results=1000)
    assert [r.data.params["p"] for r in runs] == [str(i) for i in reversed(range(n))]


def test_search_page_is_one_snapshot_under_concurrent_writes(api):
    # A long page's metrics and tags are loaded by different threads; a
    # writer that sets a tag and logs the metric of the same value in one
    # log-batch must never be seen half done (a page mixing two snapshots).
    from compat_util import read_while_writing

    eid = api.create_experiment()
    rids = [api.create_run(eid, start_time=1_000 + i) for i in range(80)]
    hot = rids[40]

    def batch(k):
        return {"run_id": hot, "tags": [{"key": "k", "value": str(k)}],
                "metrics": [{"key": "m", "value": float(k), "timestamp": k, "step": k}]}

    def read(i):
        page = api.search_runs([eid], max_results=1000)["runs"]
        assert len(page) == 80
        run = next(r for r in page if r["info"]["run_id"] == hot)
        tag = {x["key"]: x["value"] for x in run["data"].get("tags", [])}.get("k")
        metric = {x["key"]: x["value"] for x in run["data"].get("metrics", [])}.get("m")
        assert (tag is None and metric is None) or float(tag) == metric, (
            f"page {i} mixed two snapshots: tag k={tag}, metric m={metric}")
        return metric or 0

    seen = read_while_writing(api, batch, read)
    assert seen[-1] > seen[0], "the writer committed nothing during the searches"
