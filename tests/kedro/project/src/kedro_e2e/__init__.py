"""A small Kedro project that trains, logs and registers a model through kedro-mlflow."""

__version__ = "0.1.0"
