"""Differential test of the model registry: one scripted session of raw HTTP calls (registered
models, versions, tags, aliases, stages, searches, renames, deletes, and the bad inputs MLflow
refuses) runs against stock `mlflow server` and against mlflowd; the answers must agree on
status, error_code and JSON body after the normalisation of test_differential.py (ids and
server timestamps replaced, unordered lists sorted).

Every accepted difference is listed in ACCEPTABLE below, with its reason."""

from __future__ import annotations

import json

import pytest

import compat_util as cu
from test_differential import Normaliser, _differences, _extract, _fmt, _subst, _summarise

ACCEPTABLE = {
    "*": {
        "drop_keys": ({"sqlstate", "error_class"},
                      "error classification fields of stock MLflow's error bodies; the client reads only "
                      "error_code and message"),
    },
    "rm-rename-conflict": {
        "message_prefix": ("already exists.", "MLflow appends the SQLAlchemy IntegrityError text"),
    },
}


def S(label, method, path, body=None, save=None):
    return {"label": label, "method": method, "path": path, "body": body, "save": save or {}}


M = "{P}-m"
SCRIPT = [
    S("create-exp", "POST", "/experiments/create", {"name": "{P}-exp"}, save={"EX": "experiment_id"}),
    S("create-run", "POST", "/runs/create", {"experiment_id": "{EX}", "start_time": 1},
      save={"R1": "run.info.run_id", "AU": "run.info.artifact_uri"}),
    # ---- registered models
    S("rm-create", "POST", "/registered-models/create",
      {"name": M, "tags": [{"key": "t", "value": "1"}, {"key": "u", "value": "2"}], "description": "d"}),
    S("rm-create-dup", "POST", "/registered-models/create", {"name": M}),
    S("rm-create-plain", "POST", "/registered-models/create", {"name": "{P}-plain"}),
    S("rm-create-slash", "POST", "/registered-models/create", {"name": "a/b"}),
    S("rm-create-colon", "POST", "/registered-models/create", {"name": "a:b"}),
    S("rm-create-empty", "POST", "/registered-models/create", {"name": ""}),
    S("rm-create-blank", "POST", "/registered-models/create", {"name": "   "}),
    S("rm-create-no-name", "POST", "/registered-models/create", {}),
    S("rm-create-int-name", "POST", "/registered-models/create", {"name": 5}),
    S("rm-create-dotdot", "POST", "/registered-models/create", {"name": ".."}),
    S("rm-create-tag-key-251", "POST", "/registered-models/create",
      {"name": "{P}-k", "tags": [{"key": "k" * 251, "value": "v"}]}),
    S("rm-get", "GET", "/registered-models/get", {"name": M}),
    S("rm-get-missing", "GET", "/registered-models/get", {"name": "{P}-missing"}),
    S("rm-get-no-name", "GET", "/registered-models/get", {}),
    S("rm-update", "PATCH", "/registered-models/update", {"name": M, "description": "d2"}),
    S("rm-update-missing", "PATCH", "/registered-models/update", {"name": "{P}-missing", "description": "x"}),
    S("rm-set-tag", "POST", "/registered-models/set-tag", {"name": M, "key": "k", "value": "v"}),
    S("rm-set-tag-bad-key", "POST", "/registered-models/set-tag", {"name": M, "key": "a$b", "value": "v"}),
    S("rm-set-tag-missing", "POST", "/registered-models/set-tag", {"name": "{P}-missing", "key": "k", "value": "v"}),
    S("rm-del-tag", "DELETE", "/registered-models/delete-tag", {"name": M, "key": "u"}),
    S("rm-del-tag-unset", "DELETE", "/registered-models/delete-tag", {"name": M, "key": "never"}),
    # ---- model versions
    S("mv-create-1", "POST", "/model-versions/create", {"name": M, "source": "{AU}/model", "run_id": "{R1}"}),
    S("mv-create-2", "POST", "/model-versions/create",
      {"name": M, "source": "runs:/{R1}/model", "run_id": "{R1}", "description": "v2",
       "tags": [{"key": "a", "value": "1"}], "run_link": "http://x/y"}),
    S("mv-create-3", "POST", "/model-versions/create", {"name": M, "source": "s3://bucket/path/model"}),
    S("mv-create-runs-no-run-id", "POST", "/model-versions/create", {"name": M, "source": "runs:/{R1}/model"}),
    S("mv-create-other-run", "POST", "/model-versions/create",
      {"name": M, "source": "runs:/0123456789abcdef0123456789abcdef/model", "run_id": "{R1}"}),
    S("mv-create-artifacts-no-run", "POST", "/model-versions/create", {"name": M, "source": "{AU}/model"}),
    S("mv-create-relative", "POST", "/model-versions/create",
      {"name": M, "source": "{AU}/../../x", "run_id": "{R1}"}),
    S("mv-create-relative-quoted", "POST", "/model-versions/create",
      {"name": M, "source": "s3://bucket/a/%2E%2E/b", "run_id": "{R1}"}),
    S("mv-create-local", "POST", "/model-versions/create", {"name": M, "source": "/etc/passwd"}),
    S("mv-create-http", "POST", "/model-versions/create", {"name": M, "source": "http://evil.example/x"}),
    S("mv-create-prompt-source", "POST", "/model-versions/create",
      {"name": M, "source": "s3://b/x", "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}]}),
    S("mv-create-missing-model", "POST", "/model-versions/create", {"name": "{P}-missing", "source": "s3://b/x"}),
    S("mv-create-no-source", "POST", "/model-versions/create", {"name": M}),
    S("mv-create-from-version", "POST", "/model-versions/create", {"name": M, "source": "models:/" + M + "/1"}),
    S("mv-create-from-version-run-mismatch", "POST", "/model-versions/create",
      {"name": M, "source": "models:/" + M + "/1", "run_id": "0123456789abcdef0123456789abcdef"}),
    S("mv-get-1", "GET", "/model-versions/get", {"name": M, "version": "1"}),
    S("mv-get-2", "GET", "/model-versions/get", {"name": M, "version": "2"}),
    S("mv-get-4", "GET", "/model-versions/get", {"name": M, "version": "4"}),
    S("mv-get-bad-version", "GET", "/model-versions/get", {"name": M, "version": "x1"}),
    S("mv-get-missing-version", "GET", "/model-versions/get", {"name": M, "version": "77"}),
    S("mv-get-no-version", "GET", "/model-versions/get", {"name": M}),
    S("mv-update", "PATCH", "/model-versions/update", {"name": M, "version": "1", "description": "new"}),
    S("mv-update-no-description", "PATCH", "/model-versions/update", {"name": M, "version": "3"}),
    S("mv-set-tag", "POST", "/model-versions/set-tag", {"name": M, "version": "1", "key": "b", "value": "2"}),
    S("mv-set-tag-missing", "POST", "/model-versions/set-tag", {"name": M, "version": "99", "key": "b", "value": "2"}),
    S("mv-del-tag", "DELETE", "/model-versions/delete-tag", {"name": M, "version": "2", "key": "a"}),
    S("mv-download-uri", "GET", "/model-versions/get-download-uri", {"name": M, "version": "1"}),
    S("mv-download-uri-from-version", "GET", "/model-versions/get-download-uri", {"name": M, "version": "4"}),
    # ---- stages
    S("stage-prod", "POST", "/model-versions/transition-stage", {"name": M, "version": "1", "stage": "production"}),
    S("stage-archive", "POST", "/model-versions/transition-stage",
      {"name": M, "version": "2", "stage": "Production", "archive_existing_versions": True}),
    S("stage-staging", "POST", "/model-versions/transition-stage", {"name": M, "version": "3", "stage": "Staging"}),
    S("stage-bad", "POST", "/model-versions/transition-stage", {"name": M, "version": "3", "stage": "Bogus"}),
    S("stage-missing-version", "POST", "/model-versions/transition-stage",
      {"name": M, "version": "42", "stage": "Staging"}),
    S("latest-all", "POST", "/registered-models/get-latest-versions", {"name": M}),
    S("latest-prod", "GET", "/registered-models/get-latest-versions", {"name": M, "stages": "Production"}),
    S("latest-bad-stage", "POST", "/registered-models/get-latest-versions", {"name": M, "stages": ["nope"]}),
    # ---- aliases
    S("alias-set", "POST", "/registered-models/alias", {"name": M, "alias": "champ", "version": "2"}),
    S("alias-set-2", "POST", "/registered-models/alias", {"name": M, "alias": "second", "version": "2"}),
    S("alias-latest", "POST", "/registered-models/alias", {"name": M, "alias": "Latest", "version": "1"}),
    S("alias-v1", "POST", "/registered-models/alias", {"name": M, "alias": "v1", "version": "1"}),
    S("alias-v12", "POST", "/registered-models/alias", {"name": M, "alias": "V12", "version": "1"}),
    S("alias-bad-chars", "POST", "/registered-models/alias", {"name": M, "alias": "a.b", "version": "1"}),
    S("alias-missing-version", "POST", "/registered-models/alias", {"name": M, "alias": "x", "version": "50"}),
    S("alias-bad-version", "POST", "/registered-models/alias", {"name": M, "alias": "x", "version": "one"}),
    S("alias-get", "GET", "/registered-models/alias", {"name": M, "alias": "champ"}),
    S("alias-get-latest", "GET", "/registered-models/alias", {"name": M, "alias": "latest"}),
    S("alias-get-unknown", "GET", "/registered-models/alias", {"name": M, "alias": "nope"}),
    S("alias-delete", "DELETE", "/registered-models/alias", {"name": M, "alias": "second"}),
    S("rm-get-full", "GET", "/registered-models/get", {"name": M}),
    # ---- soft delete
    S("mv-delete-2", "DELETE", "/model-versions/delete", {"name": M, "version": "2"}),
    S("mv-delete-2-again", "DELETE", "/model-versions/delete", {"name": M, "version": "2"}),
    S("mv-get-deleted", "GET", "/model-versions/get", {"name": M, "version": "2"}),
    S("rm-get-after-mv-delete", "GET", "/registered-models/get", {"name": M}),
    S("mv-create-after-delete", "POST", "/model-versions/create", {"name": M, "source": "s3://bucket/path/m5"}),
    # ---- searches
    S("search-rm", "GET", "/registered-models/search", {"filter": "name LIKE '{P}%'"}),
    S("search-rm-tag", "GET", "/registered-models/search", {"filter": "name LIKE '{P}%' AND tags.t = '1'"}),
    S("search-rm-in", "GET", "/registered-models/search", {"filter": "name IN ('" + M + "', '{P}-plain')",
                                                           "order_by": ["name DESC"]}),
    S("search-rm-page1", "GET", "/registered-models/search", {"filter": "name LIKE '{P}%'", "max_results": 1},
      save={"PT": "next_page_token"}),
    S("search-rm-page2", "GET", "/registered-models/search",
      {"filter": "name LIKE '{P}%'", "max_results": 1, "page_token": "{PT}"}),
    S("search-rm-zero", "GET", "/registered-models/search", {"filter": "name LIKE '{P}%'", "max_results": 0}),
    S("search-mv-zero", "GET", "/model-versions/search", {"filter": "name LIKE '{P}%'", "max_results": 0}),
    S("search-rm-or", "GET", "/registered-models/search", {"filter": "name = 'a' OR name = 'b'"}),
    S("search-rm-bad-key", "GET", "/registered-models/search", {"filter": "foo = 'a'"}),
    S("search-rm-bad-entity", "GET", "/registered-models/search", {"filter": "metrics.x > 1"}),
    S("search-rm-bad-tag-op", "GET", "/registered-models/search", {"filter": "tags.t > 'a'"}),
    S("search-rm-bad-order", "GET", "/registered-models/search", {"order_by": ["creation_timestamp"]}),
    S("search-rm-too-many", "GET", "/registered-models/search", {"max_results": 1001}),
    S("search-mv", "GET", "/model-versions/search", {"filter": "name = '" + M + "'"}),
    S("search-mv-version", "GET", "/model-versions/search",
      {"filter": "name = '" + M + "' AND version_number > 2", "order_by": ["version_number ASC"]}),
    S("search-mv-run", "GET", "/model-versions/search", {"filter": "run_id = '{R1}'"}),
    S("search-mv-tag", "GET", "/model-versions/search", {"filter": "name = '" + M + "' AND tags.b = '2'"}),
    S("search-mv-bad-numeric", "GET", "/model-versions/search", {"filter": "version_number = 'x'"}),
    S("search-mv-float", "GET", "/model-versions/search", {"filter": "version_number = 1.5"}),
    S("search-mv-bad-order", "GET", "/model-versions/search", {"order_by": ["bogus"]}),
    S("search-mv-list-source", "GET", "/model-versions/search", {"filter": "source_path IN ('a')"}),
    # ---- prompts (registered models and versions with the mlflow.prompt.* tags)
    S("prompt-create", "POST", "/registered-models/create",
      {"name": "{P}-prompt", "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}], "description": "p"}),
    S("prompt-version", "POST", "/model-versions/create",
      {"name": "{P}-prompt", "source": "prompt-template",
       "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}, {"key": "mlflow.prompt.text", "value": "Hi {{x}}"},
                {"key": "_mlflow_prompt_type", "value": "text"}]}),
    S("prompt-version-bad-source", "POST", "/model-versions/create",
      {"name": "{P}-prompt", "source": "s3://x", "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}]}),
    S("prompt-dup", "POST", "/registered-models/create",
      {"name": "{P}-prompt", "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}]}),
    S("prompt-as-model", "POST", "/registered-models/create", {"name": "{P}-prompt"}),
    S("model-as-prompt", "POST", "/registered-models/create",
      {"name": "{P}-plain", "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}]}),
    S("prompt-text-too-long", "POST", "/model-versions/create",
      {"name": "{P}-prompt", "source": "prompt-template",
       "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}, {"key": "mlflow.prompt.text", "value": "t" * 100001}]}),
    S("prompt-as-source", "POST", "/model-versions/create", {"name": M, "source": "models:/{P}-prompt/1"}),
    S("search-prompts", "GET", "/registered-models/search",
      {"filter": "tags.`mlflow.prompt.is_prompt` = 'true' AND name LIKE '{P}%'"}),
    S("search-models-not-prompts", "GET", "/registered-models/search", {"filter": "name LIKE '{P}%'"}),
    S("search-prompt-versions", "GET", "/model-versions/search",
      {"filter": "name = '{P}-prompt' AND tag.`mlflow.prompt.is_prompt` = 'true'"}),
    S("search-prompt-versions-hidden", "GET", "/model-versions/search", {"filter": "name = '{P}-prompt'"}),
    S("prompt-alias", "POST", "/registered-models/alias", {"name": "{P}-prompt", "alias": "prod", "version": "1"}),
    S("prompt-get", "GET", "/registered-models/get", {"name": "{P}-prompt"}),
    S("latest-repeated-stages", "GET", "/registered-models/get-latest-versions",
      {"name": M, "stages": ["Production", "none"]}),
    # ---- rename and delete
    S("rm-rename", "POST", "/registered-models/rename", {"name": M, "new_name": "{P}-m2"}),
    S("rm-rename-conflict", "POST", "/registered-models/rename", {"name": "{P}-m2", "new_name": "{P}-plain"}),
    S("rm-rename-missing", "POST", "/registered-models/rename", {"name": "{P}-missing", "new_name": "{P}-z"}),
    S("rm-rename-bad", "POST", "/registered-models/rename", {"name": "{P}-m2", "new_name": "a/b"}),
    S("rm-get-renamed", "GET", "/registered-models/get", {"name": "{P}-m2"}),
    S("mv-get-renamed", "GET", "/model-versions/get", {"name": "{P}-m2", "version": "1"}),
    S("alias-get-renamed", "GET", "/registered-models/alias", {"name": "{P}-m2", "alias": "champ"}),
    S("rm-get-old-name", "GET", "/registered-models/get", {"name": M}),
    S("rm-delete", "DELETE", "/registered-models/delete", {"name": "{P}-m2"}),
    S("rm-get-deleted", "GET", "/registered-models/get", {"name": "{P}-m2"}),
    S("mv-get-model-deleted", "GET", "/model-versions/get", {"name": "{P}-m2", "version": "1"}),
    S("rm-delete-missing", "DELETE", "/registered-models/delete", {"name": "{P}-m2"}),
]

REGISTRY_TIME_KEYS = {"creation_timestamp", "last_updated_timestamp"}
UNORDERED = {"aliases", "latest_versions"}


def run_script(server: cu.Server, prefix: str):
    api = cu.Api(server)
    env = {"P": prefix}
    results = []
    for step in SCRIPT:
        body = _subst(step["body"], env)
        if step["method"] == "GET":
            r = api.get(step["path"], body)
        else:
            r = api.request(step["method"], step["path"], body)
        try:
            j = r.json()
        except ValueError:
            j = None
        for var, path in step["save"].items():
            val = _extract(j, path) if isinstance(j, dict) else None
            env[var] = val if val is not None else f"<no {path}>"
        results.append({"status": r.status_code, "json": j, "ctype": r.headers.get("Content-Type", "")})
    api.s.close()
    return results, env


def _prepare(obj, key=None):
    """Registry timestamps -> placeholders; lists MLflow leaves unordered -> sorted."""
    if isinstance(obj, dict):
        return {k: "<server-time>" if k in REGISTRY_TIME_KEYS and isinstance(v, int) else _prepare(v, k)
                for k, v in obj.items()}
    if isinstance(obj, list):
        items = [_prepare(x, key) for x in obj]
        if key in UNORDERED:
            items.sort(key=lambda x: json.dumps(x, sort_keys=True))
        return items
    return obj


def normalise(results, prefix):
    n = Normaliser(prefix)
    out = []
    for res in results:
        if isinstance(res["json"], (dict, list)):
            n.collect(res["json"])
            body = n.norm(_prepare(res["json"]))
        else:
            body = {"<non-json>": res["ctype"].split(";")[0]}
        out.append({"status": res["status"], "body": body})
    return out


def compare(stock, ours):
    diffs = []
    for step, a, b in zip(SCRIPT, stock, ours):
        label = step["label"]
        rules = dict(ACCEPTABLE["*"])
        rules.update(ACCEPTABLE.get(label, {}))
        if a["status"] != b["status"]:
            diffs.append((label, f"status: stock {a['status']}, mlflowd {b['status']}", a["body"], b["body"]))
            continue
        ba, bb = a["body"], b["body"]
        if a["status"] >= 400 and isinstance(ba, dict) and isinstance(bb, dict):
            drop = rules["drop_keys"][0]
            ba = {k: v for k, v in ba.items() if k not in drop}
            bb = {k: v for k, v in bb.items() if k not in drop}
            if "message_prefix" in rules:
                marker = rules["message_prefix"][0]
                ma, mb = ba.pop("message", ""), bb.pop("message", "")
                cut = ma.find(marker) + len(marker) if marker in ma else len(marker)
                if ma[:cut] != mb[:cut]:
                    diffs.append((label, "message", ma[:cut], mb[:cut]))
        if ba != bb:
            diffs.append((label, "body", ba, bb))
    return diffs


def test_script_labels_unique():
    labels = [s["label"] for s in SCRIPT]
    assert len(labels) == len(set(labels))
    assert set(ACCEPTABLE) - {"*"} <= set(labels)


def test_registry_differential(stock_server, mlflowd):
    stock_raw, stock_env = run_script(stock_server, cu.uniq("rdiffS"))
    ours_raw, ours_env = run_script(mlflowd, cu.uniq("rdiffM"))
    stock = normalise(stock_raw, stock_env["P"])
    ours = normalise(ours_raw, ours_env["P"])

    # the script did what it meant to do on stock MLflow
    by_label = {s["label"]: r for s, r in zip(SCRIPT, stock)}
    for ok in ("rm-create", "mv-create-1", "mv-create-2", "mv-create-from-version", "alias-get", "search-rm-page2",
               "rm-rename", "rm-delete"):
        assert by_label[ok]["status"] == 200, (ok, by_label[ok])
    assert by_label["rm-create-dup"]["status"] == 400

    diffs = compare(stock, ours)
    if diffs:
        lines = [f"{len(diffs)} of {len(SCRIPT)} steps differ between stock MLflow and mlflowd:"]
        for label, what, a, b in diffs:
            step = next(s for s in SCRIPT if s["label"] == label)
            lines.append(f"\n[{label}] {step['method']} {step['path']} {_fmt(step['body'], 300)}")
            if what == "body":
                for d in _summarise(_differences(a, b)):
                    lines.append(f"  {d}")
            else:
                lines.append(f"  {what}")
                lines.append(f"  stock:   {_fmt(a, 600)}")
                lines.append(f"  mlflowd: {_fmt(b, 600)}")
        pytest.fail("\n".join(lines), pytrace=False)
