"""Prompts as MLflow 3 stores them (registered models and versions tagged mlflow.prompt.*),
through the real client: mlflow.genai.register_prompt, load_prompt (by version, alias and
latest), search_prompts; prompts stay out of model searches, and models and prompts cannot
share a name."""

from __future__ import annotations

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

import compat_util as cu


@pytest.fixture(autouse=True)
def _point_client(module_server):
    mlflow.set_tracking_uri(module_server.url)
    mlflow.set_registry_uri(module_server.url)
    yield


def test_register_load_search_prompts(module_server):
    name = cu.uniq("prompt")
    p1 = mlflow.genai.register_prompt(name=name, template="Hello {{name}}!", commit_message="first",
                                      tags={"lang": "en"})
    assert p1.version == 1 and p1.template == "Hello {{name}}!"
    p2 = mlflow.genai.register_prompt(name=name, template=[{"role": "user", "content": "Hi {{name}}"}],
                                      commit_message="chat")
    assert p2.version == 2

    loaded = mlflow.genai.load_prompt(f"prompts:/{name}/1")
    assert loaded.template == "Hello {{name}}!" and loaded.format(name="Ann") == "Hello Ann!"
    assert loaded.commit_message == "first"
    chat = mlflow.genai.load_prompt(f"prompts:/{name}/2")
    assert chat.format(name="Bo") == [{"role": "user", "content": "Hi Bo"}]

    mlflow.genai.set_prompt_alias(name, alias="prod", version=1)
    assert mlflow.genai.load_prompt(f"prompts:/{name}@prod").version == 1
    assert mlflow.genai.load_prompt(f"prompts:/{name}@latest").version == 2

    found = mlflow.genai.search_prompts(f"name = '{name}'")
    assert [p.name for p in found] == [name]
    assert name in [p.name for p in mlflow.genai.search_prompts(f"name LIKE '{name[:8]}%'", max_results=1000)]

    # prompts are not models
    client = MlflowClient(module_server.url)
    assert name not in [m.name for m in client.search_registered_models(f"name = '{name}'")]
    assert not client.search_model_versions(f"name = '{name}'")
    with pytest.raises(MlflowException) as e:
        client.create_registered_model(name)
    assert e.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert "already taken by a prompt" in e.value.message


def test_prompt_name_taken_by_model(module_server):
    name = cu.uniq("model-not-prompt")
    MlflowClient(module_server.url).create_registered_model(name)
    with pytest.raises(MlflowException) as e:
        mlflow.genai.register_prompt(name=name, template="x {{y}}")
    assert "exists with the same name" in e.value.message  # the client's own check
    # the server's answer when asked directly
    api = cu.Api(module_server)
    r = api.post("/registered-models/create",
                 {"name": name, "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}]})
    cu.assert_error(r, 400, "RESOURCE_ALREADY_EXISTS",
                    f"Tried to create a prompt with name '{name}', but the name is already taken by a registered "
                    "model. MLflow does not allow creating a model and a prompt with the same name.")
    api.s.close()


def test_load_prompt_in_a_run_links_it(module_server):
    name = cu.uniq("linked")
    mlflow.genai.register_prompt(name=name, template="Q: {{q}}")
    mlflow.set_experiment(cu.uniq("prompt-exp"))
    with mlflow.start_run() as run:
        p = mlflow.genai.load_prompt(f"prompts:/{name}/1")
        assert p.format(q="why") == "Q: why"
    tags = MlflowClient(module_server.url).get_run(run.info.run_id).data.tags
    assert name in tags.get("mlflow.linkedPrompts", ""), tags
    prompts = mlflow.genai.search_prompts(f"name = '{name}'")
    assert [x.name for x in prompts] == [name]
