"""Runs inside the environment of another MLflow release (.venvs/mlflow-<version>, made by
scripts/mlflow-venv) on behalf of a test in .venv: that release's own client writes or reads
a store and prints JSON on stdout.

    python release_client.py create URI              # a new store (the release's own layout)
    python release_client.py populate URI PREFIX     # store_data.populate; prints the experiment ids
    python release_client.py snapshot URI ID...      # store_data.snapshot
    python release_client.py write URI EXP_ID        # one more run, metric, param; prints the run id
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mlflow import MlflowClient  # noqa: E402

import store_data  # noqa: E402


def main(argv):
    cmd, uri, *rest = argv
    client = MlflowClient(tracking_uri=uri)
    if cmd == "create":
        client.search_experiments()
        out = None
    elif cmd == "populate":
        out = store_data.populate(client, rest[0])
    elif cmd == "snapshot":
        out = store_data.snapshot(client, rest)
    elif cmd == "write":
        rid = client.create_run(rest[0], run_name="by-release").info.run_id
        client.log_metric(rid, "m", 7.0, timestamp=11, step=2)
        client.log_param(rid, "p", "q")
        out = rid
    else:
        raise SystemExit(f"unknown command {cmd}")
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
