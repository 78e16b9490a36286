"""Node functions: iris data, a logistic regression, its evaluation and prediction."""

from __future__ import annotations

import pandas as pd
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.metrics import log_loss as sk_log_loss


def prepare(seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """Iris (shipped with scikit-learn, no download), rows shuffled by seed."""
    data = load_iris(as_frame=True)
    frame = data.frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    features = frame[data.feature_names]
    features.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    return features, frame["target"]


def train(features: pd.DataFrame, labels: pd.Series, model_options: dict) -> LogisticRegression:
    model = LogisticRegression(C=model_options["C"], max_iter=model_options["max_iter"])
    return model.fit(features, labels)


def predict(classifier: LogisticRegression, features: pd.DataFrame) -> pd.DataFrame:
    """The inference pipeline's only node: what the logged model answers."""
    return pd.DataFrame({"prediction": classifier.predict(features)})


def evaluate(
    classifier: LogisticRegression, features: pd.DataFrame, labels: pd.Series
) -> tuple[float, float, dict, pd.DataFrame]:
    """Metrics, a JSON report (logged as an artifact) and the local predictions the
    registered model must reproduce."""
    local = predict(classifier, features)
    accuracy = float(accuracy_score(labels, local["prediction"]))
    loss = float(sk_log_loss(labels, classifier.predict_proba(features)))
    report = {"rows": len(features), "accuracy": accuracy, "log_loss": loss}
    return accuracy, loss, report, local


def predict_with(model, features: pd.DataFrame) -> pd.DataFrame:
    """Predictions of a model loaded through MLflow (a pyfunc model)."""
    return pd.DataFrame(model.predict(features))


def fail(seed: int) -> int:
    raise RuntimeError(f"deliberate failure of the failing pipeline (seed {seed})")
