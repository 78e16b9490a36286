"""Fixtures for the mlflowd compatibility suite.

- ``mlflowd``: a fresh mlflowd (new database, new artifact folder, free port) per test.
- ``client``: MlflowClient on that server, with the fluent API pointed at it too.
- ``api``: raw HTTP helper (compat_util.Api) on that server.
- ``stock_server``: one stock ``mlflow server`` for the whole session (differential tests).

Set MLFLOWD_BIN to test another binary. Set MLFLOWD_COMPAT_TARGET=stock to run every test
against stock ``mlflow server`` instead (checks the assertions themselves; tests marked
``mlflowd_only`` are skipped there).
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

import compat_util as cu

# The client reads these when it makes its first request: set them before any test runs.
os.environ.update(cu.CLIENT_ENV)
for _k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"):
    os.environ.pop(_k, None)

import mlflow  # noqa: E402
import mlflow.tracking.fluent as _fluent  # noqa: E402
from mlflow import MlflowClient  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "mlflowd_only: needs the mlflowd binary itself (skipped with MLFLOWD_COMPAT_TARGET=stock)"
    )


def pytest_collection_modifyitems(config, items):
    if cu.STOCK_MODE:
        skip = pytest.mark.skip(reason="needs the mlflowd binary (MLFLOWD_COMPAT_TARGET=stock)")
        for item in items:
            if "mlflowd_only" in item.keywords:
                item.add_marker(skip)


# --------------------------------------------------------------------------------------
# stock mlflow server (session)
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def stock_server(tmp_path_factory):
    d = tmp_path_factory.mktemp("stock")
    srv = cu.start_stock(d, d / "stock.db", d / "stock-art", timeout=120)
    yield srv
    cu.stop_stock(srv)


# --------------------------------------------------------------------------------------
# mlflowd (function)
# --------------------------------------------------------------------------------------


@pytest.fixture
def mlflowd_factory(tmp_path, request):
    """Start servers on demand: factory(db_path=None, artifacts=None, extra_args=None)."""
    started: list[cu.Server] = []

    def factory(db_path=None, artifacts=None, extra_args=None, workdir=None):
        wd = Path(workdir) if workdir else tmp_path / f"srv{len(started)}"
        if cu.STOCK_MODE:
            srv = cu.start_stock(wd, db_path and Path(db_path), artifacts and Path(artifacts), extra_args)
        else:
            if not os.access(cu.MLFLOWD_BIN, os.X_OK):
                pytest.fail(f"mlflowd binary not found or not executable: {cu.MLFLOWD_BIN} (set MLFLOWD_BIN)")
            srv = cu.start_mlflowd(wd, db_path and Path(db_path), artifacts and Path(artifacts), extra_args)
        started.append(srv)
        return srv

    yield factory
    errors = []
    for srv in started:
        if cu.STOCK_MODE:
            cu.stop_stock(srv)
            continue
        if srv.proc.poll() is not None and not srv.extra.get("stopped"):
            errors.append(f"{srv.kind} on port {srv.port} died during the test "
                          f"(status {srv.proc.returncode}); log tail:\n{srv.log_tail()}")
            continue
        if srv.proc.poll() is None:
            # SIGTERM now, collect the exit status at the end of the session: waiting here
            # would add the server's shutdown time to every test.
            srv.proc.send_signal(signal.SIGTERM)
            srv.extra["stopped"] = True
            _PENDING_STOPS.append((request.node.nodeid, srv))
    if errors:
        pytest.fail("\n\n".join(errors), pytrace=False)


_PENDING_STOPS: list = []


@pytest.fixture(scope="session", autouse=True)
def _reap_servers():
    """Every mlflowd stopped by a fixture must exit with status 0 after SIGTERM."""
    yield
    bad = []
    for nodeid, srv in _PENDING_STOPS:
        try:
            rc = srv.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            srv.proc.kill()
            srv.proc.wait()
            bad.append(f"{nodeid}: mlflowd did not exit within 15 s of SIGTERM")
            continue
        if rc != 0:
            bad.append(f"{nodeid}: mlflowd exited with status {rc} after SIGTERM; log tail:\n{srv.log_tail(15)}")
    _PENDING_STOPS.clear()
    if bad:
        pytest.fail("\n".join(bad), pytrace=False)


@pytest.fixture
def mlflowd(request, tmp_path, mlflowd_factory):
    """A fresh server for this test (.url, .db_path, .artifacts, .proc, .stop())."""
    if cu.STOCK_MODE:
        # One shared stock server: tests create their own experiments and never rely on
        # an empty database beyond the Default experiment.
        shared = request.getfixturevalue("stock_server")
        srv = cu.Server(shared.url, shared.port, shared.db_path, shared.artifacts, shared.proc,
                        shared.log_path, shared.kind, owned=False)
        yield srv
        return
    srv = mlflowd_factory(workdir=tmp_path / "mlflowd")
    yield srv
    if not srv.extra.get("stopped"):
        srv.check_alive()


@pytest.fixture(scope="module")
def module_server(request, tmp_path_factory):
    """One server shared by the tests of a module (for read-mostly suites such as search,
    whose data set is built once)."""
    if cu.STOCK_MODE:
        yield request.getfixturevalue("stock_server")
        return
    if not os.access(cu.MLFLOWD_BIN, os.X_OK):
        pytest.fail(f"mlflowd binary not found or not executable: {cu.MLFLOWD_BIN} (set MLFLOWD_BIN)")
    srv = cu.start_mlflowd(tmp_path_factory.mktemp("modsrv"))
    yield srv
    if srv.proc.poll() is not None:
        pytest.fail(f"mlflowd died during {request.module.__name__} (status {srv.proc.returncode}); "
                    f"log tail:\n{srv.log_tail()}", pytrace=False)
    srv.proc.send_signal(signal.SIGTERM)
    srv.extra["stopped"] = True
    _PENDING_STOPS.append((request.module.__name__, srv))


@pytest.fixture(scope="module")
def module_api(module_server):
    a = cu.Api(module_server)
    yield a
    a.s.close()


@pytest.fixture
def api(mlflowd):
    a = cu.Api(mlflowd)
    yield a
    a.s.close()


def _reset_fluent_state(contact_server: bool) -> None:
    if contact_server:
        while mlflow.active_run() is not None:
            try:
                mlflow.end_run()
            except Exception:
                break
    _fluent._active_run_stack.set([])
    _fluent._last_active_run_id.set(None)
    _fluent._active_experiment_id = None
    for k in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID", "MLFLOW_TRACKING_URI",
              "MLFLOW_REGISTRY_URI"):
        os.environ.pop(k, None)
    mlflow.set_tracking_uri(None)
    # a registry URI a test set would send every later client's registry calls to its server
    mlflow.set_registry_uri(None)


@pytest.fixture
def client(mlflowd):
    mlflow.set_tracking_uri(mlflowd.url)
    c = MlflowClient(mlflowd.url)
    yield c
    # While the server is still up: end whatever run the test left active.
    _reset_fluent_state(contact_server=True)


@pytest.fixture(autouse=True)
def _isolate_fluent_state():
    _reset_fluent_state(contact_server=False)
    yield
    _reset_fluent_state(contact_server=False)


@pytest.fixture
def require_binary():
    if not os.access(cu.MLFLOWD_BIN, os.X_OK):
        pytest.fail(f"mlflowd binary not found or not executable: {cu.MLFLOWD_BIN}")
    return cu.MLFLOWD_BIN


@pytest.fixture(scope="session")
def fresh_db_template(tmp_path_factory):
    """A database just created by mlflowd (started once, stopped), to copy from."""
    d = tmp_path_factory.mktemp("tmpl")
    srv = cu.start_mlflowd(d) if not cu.STOCK_MODE else None
    if srv is None:
        pytest.skip("needs mlflowd")
    rc = srv.stop()
    assert rc == 0, srv.log_tail()
    return srv.db_path

