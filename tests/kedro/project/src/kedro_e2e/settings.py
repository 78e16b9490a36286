"""Kedro settings of the end-to-end test project (Kedro's defaults otherwise)."""

CONFIG_LOADER_ARGS = {"base_env": "base", "default_run_env": "local"}
