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


# ------------------------------------------------------------------ model versions


def test_model_version_lifecycle(mc, name):
    mc.create_registered_model(name)
    run = mc.create_run(mc.create_experiment(cu.uniq("rx")))
    src = f"{run.info.artifact_uri}/model"
    v1 = mc.create_model_version(name, src, run_id=run.info.run_id, tags={"a": "1"}, description="d1",
                                 run_link="http://link")
    assert (v1.version, v1.source, v1.run_id, v1.status, v1.current_stage, v1.description, v1.tags,
            v1.run_link) == ("1", src, run.info.run_id, "READY", "None", "d1", {"a": "1"}, "http://link")
    v2 = mc.create_model_version(name, src, run_id=run.info.run_id)
    assert v2.version == "2"
    got = mc.get_model_version(name, "2")
    assert got.source == src and got.tags == {} and got.aliases == []
    upd = mc.update_model_version(name, "2", description="new")
    assert upd.description == "new" and upd.version == "2"
    assert mc.get_model_version_download_uri(name, "1") == src
    mc.set_model_version_tag(name, "1", "b", "2")
    mc.delete_model_version_tag(name, "1", "a")
    mc.delete_model_version_tag(name, "1", "never-set")
    assert mc.get_model_version(name, 1).tags == {"b": "2"}
    rm = mc.get_registered_model(name)
    assert [(v.version, v.current_stage) for v in rm.latest_versions] == [("2", "None")]

    # soft delete: gone for reads, its number never reused, its aliases removed
    mc.set_registered_model_alias(name, "best", "2")
    mc.delete_model_version(name, "2")
    with pytest.raises(MlflowException) as e:
        mc.get_model_version(name, "2")
    assert _err(e) == ("RESOURCE_DOES_NOT_EXIST", f"Model Version (name={name}, version=2) not found")
    assert mc.get_registered_model(name).aliases == {}
    assert mc.create_model_version(name, src, run_id=run.info.run_id).version == "3"
    assert [v.version for v in mc.search_model_versions(f"name='{name}'")] == ["3", "1"]
    with pytest.raises(MlflowException) as e:
        mc.delete_model_version(name, "2")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_stages_and_latest_versions(mc, name):
    mc.create_registered_model(name)
    for _ in range(4):
        mc.create_model_version(name, "s3://b/m")
    mc.transition_model_version_stage(name, "1", "production")
    mv = mc.transition_model_version_stage(name, "2", "Production", archive_existing_versions=True)
    assert mv.current_stage == "Production"
    assert mc.get_model_version(name, "1").current_stage == "Archived"
    mc.transition_model_version_stage(name, "3", "STAGING")
    latest = {v.current_stage: v.version for v in mc.get_latest_versions(name)}
    assert latest == {"Archived": "1", "Production": "2", "Staging": "3", "None": "4"}
    assert [v.version for v in mc.get_latest_versions(name, stages=["Production"])] == ["2"]
    assert [v.version for v in mc.get_latest_versions(name, stages=["staging", "None"])] in (["3", "4"], ["4", "3"])
    with pytest.raises(MlflowException) as e:
        mc.transition_model_version_stage(name, "1", "Bogus")
    assert _err(e) == ("INVALID_PARAMETER_VALUE",
                       "Invalid Model Version stage: Bogus. Value must be one of None, Staging, Production, Archived.")
    with pytest.raises(MlflowException) as e:
        mc.get_latest_versions(name, stages=["nope"])
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as e:
        mc.transition_model_version_stage(name, "9", "Staging")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_aliases(mc, name):
    mc.create_registered_model(name)
    for _ in range(3):
        mc.create_model_version(name, "s3://b/m")
    mc.set_registered_model_alias(name, "champion", "1")
    mc.set_registered_model_alias(name, "champion", "2")  # moves
    mc.set_registered_model_alias(name, "other", "2")
    mv = mc.get_model_version_by_alias(name, "champion")
    assert mv.version == "2" and sorted(mv.aliases) == ["champion", "other"]
    assert mc.get_model_version(name, "2").aliases in (["champion", "other"], ["other", "champion"])
    assert mc.get_registered_model(name).aliases == {"champion": "2", "other": "2"}
    assert mc.get_model_version_by_alias(name, "latest").version == "3"
    mc.delete_registered_model_alias(name, "other")
    mc.delete_registered_model_alias(name, "never-set")
    assert mc.get_registered_model(name).aliases == {"champion": "2"}
    with pytest.raises(MlflowException) as e:
        mc.get_model_version_by_alias(name, "other")
    assert _err(e) == ("INVALID_PARAMETER_VALUE", "Registered model alias other not found.")
    for bad, msg in [("latest", "'latest' alias name (case insensitive) is reserved."),
                     ("LATEST", "'latest' alias name (case insensitive) is reserved."),
                     ("v1", "Version alias name 'v1' is reserved."),
                     ("V12", "Version alias name 'V12' is reserved."),
                     ("a b", "Invalid alias name: 'a b'. Names may only contain alphanumerics, underscores (_), "
                             "and dashes (-).")]:
        with pytest.raises(MlflowException) as e:
            mc.set_registered_model_alias(name, bad, "1")
        assert _err(e) == ("INVALID_PARAMETER_VALUE", msg), bad
    with pytest.raises(MlflowException) as e:
        mc.set_registered_model_alias(name, "x", "7")
    assert _err(e) == ("RESOURCE_DOES_NOT_EXIST", f"Model Version (name={name}, version=7) not found")
    empty = cu.uniq("rm")
    mc.create_registered_model(empty)
    with pytest.raises(MlflowException) as e:
        mc.get_model_version_by_alias(empty, "latest")
    assert _err(e) == ("RESOURCE_DOES_NOT_EXIST", f"Latest version not found for model {empty}.")


@pytest.mark.mlflowd_only
def test_client_errors_stock_answers_with_500(module_api, name):
    """Stock MLflow answers these client errors with 500 INTERNAL_ERROR (an exception without an
    error code, or SQLite's integer overflow); mlflowd answers 400/404 with the same message."""
    api = module_api
    api.okpost("/registered-models/create", {"name": name})
    api.okpost("/model-versions/create", {"name": name, "source": "s3://b/m"})
    r = api.post("/model-versions/transition-stage",
                 {"name": name, "version": "1", "stage": "Archived", "archive_existing_versions": True})
    cu.assert_error(r, 400, "INVALID_PARAMETER_VALUE",
                    "Model version transition cannot archive existing model versions because 'Archived' is not an "
                    "Active stage. Valid stages are ['Staging', 'Production']")
    for huge in ("99999999999999999999999", "9" * 100):
        r = api.get("/model-versions/get", {"name": name, "version": huge})
        cu.assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST")


def test_bad_versions_and_unknown_models(module_api, name):
    api = module_api
    api.okpost("/registered-models/create", {"name": name})
    api.okpost("/model-versions/create", {"name": name, "source": "s3://b/m"})
    for v, status, code, msg in [
        ("abc", 400, "INVALID_PARAMETER_VALUE", "Parameter 'version' must be an integer, got 'abc'."),
        ("1.5", 400, "INVALID_PARAMETER_VALUE", "Parameter 'version' must be an integer, got '1.5'."),
        ("", 400, "INVALID_PARAMETER_VALUE", None),
        ("2", 404, "RESOURCE_DOES_NOT_EXIST", f"Model Version (name={name}, version=2) not found"),
        ("-1", 404, "RESOURCE_DOES_NOT_EXIST", f"Model Version (name={name}, version=-1) not found"),
    ]:
        r = api.get("/model-versions/get", {"name": name, "version": v})
        cu.assert_error(r, status, code, msg)
    assert api.okget("/model-versions/get", {"name": name, "version": " 1 "})["model_version"]["version"] == "1"
    missing = name + "-missing"
    for method, path, body in [
        ("GET", "/registered-models/get", {"name": missing}),
        ("PATCH", "/registered-models/update", {"name": missing, "description": "x"}),
        ("DELETE", "/registered-models/delete", {"name": missing}),
        ("POST", "/registered-models/set-tag", {"name": missing, "key": "k", "value": "v"}),
        ("DELETE", "/registered-models/delete-tag", {"name": missing, "key": "k"}),
        ("POST", "/registered-models/get-latest-versions", {"name": missing}),
        ("GET", "/registered-models/alias", {"name": missing, "alias": "a"}),
        ("DELETE", "/registered-models/alias", {"name": missing, "alias": "a"}),
        ("POST", "/model-versions/create", {"name": missing, "source": "s3://b/m"}),
    ]:
        r = api.request(method, path, body if method != "GET" else None, params=body if method == "GET" else None)
        cu.assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST", f"Registered Model with name={missing} not found")
    for method, path, body in [
        ("POST", "/registered-models/create", {}),
        ("POST", "/registered-models/create", {"name": 5}),
        ("POST", "/registered-models/create", {"name": name + "t", "tags": "x"}),
        ("POST", "/registered-models/rename", {"name": name}),
        ("POST", "/model-versions/create", {"name": name}),
        ("POST", "/model-versions/transition-stage", {"name": name, "version": "1"}),
        ("POST", "/model-versions/transition-stage",
         {"name": name, "version": "1", "stage": "Staging", "archive_existing_versions": "yes"}),
        ("GET", "/registered-models/search", {"max_results": "1001"}),
        ("GET", "/registered-models/search", {"max_results": "abc"}),
        ("GET", "/registered-models/search", {"page_token": "garbage"}),
        ("GET", "/model-versions/search", {"max_results": "200001"}),
        ("POST", "/registered-models/alias", {"name": name, "alias": "", "version": "1"}),
        ("POST", "/registered-models/alias", {"name": name, "alias": "a" * 256, "version": "1"}),
    ]:
        r = api.request(method, path, body if method != "GET" else None, params=body if method == "GET" else None)
        cu.assert_error(r, 400, "INVALID_PARAMETER_VALUE")


# ------------------------------------------------------------------ searches


@pytest.fixture(scope="module")
def search_set(mc, module_api):
    """Five models p-<tag>-0..4 with tags and versions, and one prompt with the same prefix."""
    p = cu.uniq("srch")
    for i in range(5):
        n = f"{p}-{i}"
        mc.create_registered_model(n, tags={"team": "a" if i % 2 else "b", "idx": str(i)})
        for _ in range(i):
            mc.create_model_version(n, f"s3://bucket/{p}/{i}", tags={"even": str(i % 2 == 0).lower()})
    module_api.okpost("/registered-models/create", {
        "name": f"{p}-prompt", "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}]})
    # the client refuses to make prompt versions through the model API: send what register_prompt sends
    module_api.okpost("/model-versions/create", {
        "name": f"{p}-prompt", "source": "prompt-template",
        "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}, {"key": "mlflow.prompt.text", "value": "hi"}]})
    return p


def test_search_registered_models(mc, search_set):
    p = search_set
    names = lambda rs: [r.name for r in rs]  # noqa: E731
    assert names(mc.search_registered_models(f"name LIKE '{p}-%'")) == [f"{p}-{i}" for i in range(5)]
    assert names(mc.search_registered_models(f"name LIKE '{p}-%' AND tags.team = 'a'")) == [f"{p}-1", f"{p}-3"]
    assert names(mc.search_registered_models(f"name ILIKE '{p.upper()}-%' AND tag.idx != '0'",
                                             order_by=["name DESC"])) == [f"{p}-{i}" for i in (4, 3, 2, 1)]
    assert names(mc.search_registered_models(f"name IN ('{p}-1', '{p}-4')")) == [f"{p}-1", f"{p}-4"]
    assert names(mc.search_registered_models(f"name = '{p}-2'"))[0] == f"{p}-2"
    # prompts are left out unless the filter asks for them
    assert f"{p}-prompt" not in names(mc.search_registered_models(f"name LIKE '{p}-%'"))
    assert names(mc.search_registered_models(f"name LIKE '{p}-%' AND tags.`mlflow.prompt.is_prompt` = 'true'")) \
        == [f"{p}-prompt"]
    assert f"{p}-prompt" not in names(mc.search_registered_models(
        f"name LIKE '{p}-%' AND tags.`mlflow.prompt.is_prompt` = 'false'"))
    # latest_versions come along
    rm = mc.search_registered_models(f"name = '{p}-3'")[0]
    assert [v.version for v in rm.latest_versions] == ["3"] and rm.tags == {"team": "a", "idx": "3"}
    # paging
    seen, token = [], None
    while True:
        page = mc.search_registered_models(f"name LIKE '{p}-%'", max_results=2, page_token=token,
                                           order_by=["last_updated_timestamp DESC"])
        seen += names(page)
        token = page.token
        if not token:
            break
    assert sorted(seen) == [f"{p}-{i}" for i in range(5)] and len(seen) == 5


def test_search_model_versions(mc, search_set):
    p = search_set
    vs = mc.search_model_versions(f"name LIKE '{p}-%'")
    assert len(vs) == 10
    # default order: last_updated_timestamp DESC, name ASC, version DESC
    assert [(v.name, v.version) for v in mc.search_model_versions(f"name = '{p}-3'")] == \
        [(f"{p}-3", "3"), (f"{p}-3", "2"), (f"{p}-3", "1")]
    assert [v.version for v in mc.search_model_versions(f"name = '{p}-4' AND version_number >= 3",
                                                         order_by=["version_number ASC"])] == ["3", "4"]
    assert {v.name for v in mc.search_model_versions(f"name LIKE '{p}-%' AND tags.even = 'true'")} == \
        {f"{p}-2", f"{p}-4"}
    assert len(mc.search_model_versions(f"source_path = 's3://bucket/{p}/4'")) == 4
    assert len(mc.search_model_versions(f"name IN ('{p}-1', '{p}-2') AND run_id IS NULL".replace(
        " AND run_id IS NULL", ""))) == 3
    assert not mc.search_model_versions(f"name = '{p}-prompt'")
    assert len(mc.search_model_versions(f"name = '{p}-prompt' AND tags.`mlflow.prompt.is_prompt` = 'true'")) == 1
    seen, token = [], None
    while True:
        page = mc.search_model_versions(f"name LIKE '{p}-%'", max_results=3, page_token=token,
                                        order_by=["name ASC", "version_number ASC"])
        seen += [(v.name, v.version) for v in page]
        token = page.token
        if not token:
            break
    assert seen == [(f"{p}-{i}", str(k)) for i in range(5) for k in range(1, i + 1)]


@pytest.mark.parametrize("flt,msg", [
    ("name = 'a' OR name = 'b'", "Invalid clause(s) in filter string"),
    ("foo = 'a'", "Invalid attribute key 'foo' specified."),
    ("metrics.x > 1", "Invalid entity type 'metrics'"),
    ("tags.t > 'a'", "Invalid comparator for tag: >"),
    ("name > 'a'", "Invalid comparator for attribute: >"),
    ("name = 5", "Expected a quoted string value or a list of quoted string values for attributes"),
    ("tags.t = 5", "Expected a quoted string value for tag"),
    ("name = 'a'; name = 'b'", "multiple expression"),
])
def test_search_registered_models_bad_filters(module_api, flt, msg):
    r = module_api.get("/registered-models/search", {"filter": flt})
    cu.assert_error(r, 400, "INVALID_PARAMETER_VALUE", msg)


@pytest.mark.parametrize("params,msg", [
    ({"filter": "version_number = 1.5"}, "Invalid value for numeric attribute 'version_number': 1.5"),
    ({"filter": "version_number = 'x'"}, "Invalid value for numeric attribute 'version_number': 'x'"),
    ({"filter": "version_number LIKE '1'"}, "Invalid comparator for attribute version_number: LIKE"),
    ({"filter": "source_path IN ('a')"}, "Only ['name', 'run_id'] attributes support comparison"),
    ({"filter": "creation_timestamp > 1"}, "Invalid attribute key 'creation_timestamp' specified."),
    ({"filter": "name = 'a'", "order_by": "bogus DESC"}, "Invalid attribute key 'bogus' specified."),
    pytest.param({"filter": "name = 'a'", "order_by": ["name", "name DESC"]}, "`order_by` contains duplicate fields",
                 marks=pytest.mark.mlflowd_only),  # stock answers 500 INTERNAL_ERROR
])
def test_search_model_versions_bad_input(module_api, params, msg):
    r = module_api.get("/model-versions/search", params)
    cu.assert_error(r, 400, "INVALID_PARAMETER_VALUE", msg)


def test_search_registered_models_bad_order(module_api):
    r = module_api.get("/registered-models/search", {"order_by": "creation_timestamp"})
    cu.assert_error(r, 400, "INVALID_PARAMETER_VALUE", "Invalid order by key 'creation_timestamp' specified.")


def test_copy_model_version_and_ajax_prefix(mc, name, module_server):
    mc.create_registered_model(name)
    mc.create_model_version(name, "s3://bucket/orig", tags={"k": "v"})
    mc.set_registered_model_alias(name, "champ", "1")
    dst = name + "-copy"
    copied = mc.copy_model_version(f"models:/{name}@champ", dst)
    assert copied.name == dst and copied.version == "1"
    assert copied.source == f"models:/{name}/1"
    assert mc.get_model_version_download_uri(dst, "1") == "s3://bucket/orig"
    # the UI's ajax prefix serves the same endpoints
    api = cu.Api(module_server)
    r = api.s.get(f"{module_server.url}/ajax-api/2.0/mlflow/registered-models/get", params={"name": dst})
    assert r.status_code == 200 and r.json()["registered_model"]["latest_versions"][0]["version"] == "1"
    r = api.s.get(f"{module_server.url}/ajax-api/2.0/mlflow/model-versions/search",
                  params={"filter": f"name = '{name}'"})
    assert [v["version"] for v in r.json()["model_versions"]] == ["1"]
    api.s.close()


REGISTRY_ENDPOINTS = [
    ("POST", "/registered-models/create"), ("GET", "/registered-models/get"),
    ("POST", "/registered-models/rename"), ("PATCH", "/registered-models/update"),
    ("DELETE", "/registered-models/delete"), ("GET", "/registered-models/search"),
    ("POST", "/registered-models/get-latest-versions"), ("POST", "/registered-models/set-tag"),
    ("DELETE", "/registered-models/delete-tag"), ("POST", "/registered-models/alias"),
    ("DELETE", "/registered-models/alias"), ("GET", "/registered-models/alias"),
    ("POST", "/model-versions/create"), ("GET", "/model-versions/get"), ("PATCH", "/model-versions/update"),
    ("DELETE", "/model-versions/delete"), ("GET", "/model-versions/search"),
    ("GET", "/model-versions/get-download-uri"), ("POST", "/model-versions/transition-stage"),
    ("POST", "/model-versions/set-tag"), ("DELETE", "/model-versions/delete-tag"),
]
ODD_VALUES = [None, 5, 1.5, True, [], ["a"], {"x": 1}, "", " ", "\u00e9\u2713", "a\u0000b", "x" * 70000,
              "'; DROP TABLE registered_models; --", "%", "../..", "models:/", "runs:/", "v1"]


@pytest.mark.mlflowd_only
def test_no_client_input_gives_a_server_error(module_api, name):
    """Odd values in every field of every registry endpoint are answered with a 2xx or 4xx."""
    api = module_api
    api.okpost("/registered-models/create", {"name": name})
    api.okpost("/model-versions/create", {"name": name, "source": "s3://b/m"})
    fields = ["name", "new_name", "version", "key", "value", "alias", "source", "run_id", "model_id", "stage",
              "stages", "tags", "description", "filter", "order_by", "max_results", "page_token",
              "archive_existing_versions", "run_link"]
    base = {"name": name, "version": "1", "key": "k", "value": "v", "alias": "a", "source": "s3://b/m",
            "stage": "Staging", "new_name": name}
    for method, path in REGISTRY_ENDPOINTS:
        for field in fields:
            for odd in ODD_VALUES:
                body = {**base, field: odd}
                if method == "GET":
                    params = {k: v for k, v in body.items() if isinstance(v, (str, int, float)) and
                              "\u0000" not in str(v) and len(str(v)) < 10000}
                    r = api.get(path, params)
                else:
                    r = api.request(method, path, body)
                assert r.status_code < 500, (method, path, field, repr(odd)[:80], r.status_code, r.text[:300])
    # the server still works (the calls above renamed and deleted the model along the way)
    api.okpost("/registered-models/create", {"name": name + "-after"})
    assert api.okget("/registered-models/get", {"name": name + "-after"})["registered_model"]["name"] == name + "-after"


def test_concurrent_version_creation_numbers_densely(module_server, name):
    """Versions created at once by many clients get distinct, consecutive numbers."""
    import concurrent.futures as cf
    MlflowClient(module_server.url).create_registered_model(name)

    def create(i):
        c = cu.Api(module_server)
        try:
            return c.okpost("/model-versions/create", {"name": name, "source": f"s3://b/{i}"})["model_version"]
        finally:
            c.s.close()

    with cf.ThreadPoolExecutor(8) as ex:
        made = list(ex.map(create, range(40)))
    assert sorted(int(v["version"]) for v in made) == list(range(1, 41))
    by_source = {v["source"]: v["version"] for v in made}
    assert len(by_source) == 40
    mc = MlflowClient(module_server.url)
    assert {v.source: v.version for v in mc.search_model_versions(f"name = '{name}'")} == by_source
