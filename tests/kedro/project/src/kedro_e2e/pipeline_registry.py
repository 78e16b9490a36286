"""The project's pipelines.

- training: prepare -> train -> evaluate, wrapped by kedro-mlflow's pipeline_ml_factory
  with the inference pipeline (predict); at its end kedro-mlflow logs the inference
  pipeline as a pyfunc model and registers it as kedro_e2e_iris.
- predict_registered: loads models:/kedro_e2e_iris/latest and predicts the features.
- failing: one node that raises, so its run must end FAILED.
"""

from __future__ import annotations

from kedro.pipeline import Pipeline, node, pipeline
from kedro_mlflow.pipeline import pipeline_ml_factory

from kedro_e2e import nodes

REGISTERED_MODEL_NAME = "kedro_e2e_iris"


def register_pipelines() -> dict[str, Pipeline]:
    training = pipeline(
        [
            node(nodes.prepare, "params:seed", ["features", "labels"], name="prepare"),
            node(nodes.train, ["features", "labels", "params:model_options"], "classifier", name="train"),
            node(
                nodes.evaluate,
                ["classifier", "features", "labels"],
                ["accuracy", "log_loss", "report", "local_predictions"],
                name="evaluate",
            ),
        ]
    )
    inference = pipeline([node(nodes.predict, ["classifier", "features"], "predictions", name="predict")])
    training_ml = pipeline_ml_factory(
        training=training,
        inference=inference,
        input_name="features",
        log_model_kwargs={
            "name": "model",
            "registered_model_name": REGISTERED_MODEL_NAME,
            # given, so MLflow does not infer them in a subprocess (slow)
            "pip_requirements": ["kedro", "kedro-mlflow", "kedro-datasets", "scikit-learn", "pandas"],
        },
    )
    predict_registered = pipeline(
        [node(nodes.predict_with, ["registered_model", "features"], "registry_predictions", name="predict_with")]
    )
    failing = pipeline([node(nodes.fail, "params:seed", "never_written", name="fail")])
    return {
        "__default__": training_ml,
        "training": training_ml,
        "predict_registered": predict_registered,
        "failing": failing,
    }
