"""HTTP-level protections (MLflow 3.5+ security middleware) and mlflowd's own limits:
Content-Type check, Host allowlist, Origin check on state-changing requests, security
headers, body size limit, unknown endpoints."""

import json
import socket

import pytest
import requests

from compat_util import STOCK_MODE, assert_error, assert_invalid, uniq


def assert_forbidden(resp, text_hint):
    """403. mlflowd answers with MLflow's JSON error body; stock MLflow answers text/plain."""
    assert resp.status_code == 403, f"{resp.status_code}: {resp.text[:300]}"
    if STOCK_MODE:
        assert text_hint in resp.text
    else:
        assert_error(resp, 403, "PERMISSION_DENIED")


def assert_security_headers(resp):
    assert resp.headers.get("X-Content-Type-Options") == "nosniff", dict(resp.headers)
    assert resp.headers.get("X-Frame-Options") == "SAMEORIGIN", dict(resp.headers)


# ---- Content-Type -----------------------------------------------------------------------------


def test_post_without_content_type(api):
    name = uniq("noct")
    r = api.request("POST", "/experiments/create", data=json.dumps({"name": name}), headers={"Content-Type": None})
    assert "Content-Type" not in r.request.headers
    assert_invalid(r, "Bad Request. Content-Type header is missing.")
    assert api.get("/experiments/get-by-name", {"experiment_name": name}).status_code == 404


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                   "<script>alert(1)</script>"])
def test_post_with_wrong_content_type(api, ctype):
    name = uniq("badct")
    r = api.request("POST", "/experiments/create", data=json.dumps({"name": name}), headers={"Content-Type": ctype})
    j = assert_invalid(r, "Bad Request. Content-Type must be one of ['application/json'].")
    assert "<script>" not in j["message"]
    assert api.get("/experiments/get-by-name", {"experiment_name": name}).status_code == 404


@pytest.mark.parametrize("ctype", ["application/json; charset=utf-8", "application/json;charset=UTF-8"])
def test_json_content_type_with_parameters(api, ctype):
    r = api.request("POST", "/experiments/create", data=json.dumps({"name": uniq("ct")}), headers={"Content-Type": ctype})
    assert r.status_code == 200, r.text


def test_get_needs_no_content_type(api):
    r = api.get("/experiments/get", {"experiment_id": "0"})
    assert r.status_code == 200


# ---- Host header ------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "localhost.evil.example", "127.0.0.1.nip.io", "evil.example:5000"])
def test_foreign_host_rejected(api, host):
    r = api.request("GET", "/experiments/get", params={"experiment_id": "0"}, headers={"Host": host})
    assert_forbidden(r, "Invalid Host header")
    name = uniq("hostpost")
    r = api.request("POST", "/experiments/create", body={"name": name}, headers={"Host": host})
    assert_forbidden(r, "Invalid Host header")
    assert api.get("/experiments/get-by-name", {"experiment_name": name}).status_code == 404


def test_local_hosts_allowed(api, mlflowd):
    for host in ("localhost", f"localhost:{mlflowd.port}", f"127.0.0.1:{mlflowd.port}", "127.0.0.1",
                 f"[::1]:{mlflowd.port}"):
        r = api.request("GET", "/experiments/get", params={"experiment_id": "0"}, headers={"Host": host})
        assert r.status_code == 200, (host, r.status_code, r.text[:200])


def test_health_and_version_exempt_from_host_check(api):
    r = api.request("GET", "/health", headers={"Host": "evil.example"})
    assert r.status_code == 200 and r.text.strip() == "OK"
    r = api.request("GET", "/version", headers={"Host": "evil.example"})
    assert r.status_code == 200 and r.text.strip()


def test_missing_host_header_rejected(mlflowd):
    """HTTP/1.0 request without a Host header."""
    with socket.create_connection(("127.0.0.1", mlflowd.port), timeout=10) as s:
        s.sendall(b"GET /api/2.0/mlflow/experiments/get?experiment_id=0 HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    status_line = data.split(b"\r\n", 1)[0]
    assert b" 403 " in status_line + b" ", status_line


def test_allowed_hosts_flag(mlflowd_factory):
    srv = mlflowd_factory(extra_args=["--allowed-hosts", "myhost.example,*.corp.example"])
    for host, ok in (("myhost.example", True), ("a.corp.example", True), ("other.example", False)):
        r = requests.get(srv.url + "/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"},
                         headers={"Host": host}, timeout=30)
        assert (r.status_code == 200) == ok, (host, r.status_code)


# ---- Origin -----------------------------------------------------------------------------------


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://localhost.evil.example",
                                    "http://evil.example:5000"])
def test_cross_origin_post_blocked(api, origin):
    name = uniq("cors")
    r = api.request("POST", "/experiments/create", body={"name": name}, headers={"Origin": origin})
    assert_forbidden(r, "Cross-origin request blocked")
    assert api.get("/experiments/get-by-name", {"experiment_name": name}).status_code == 404
    r = api.request("POST", "/ajax-api/2.0/mlflow/experiments/create", body={"name": name}, headers={"Origin": origin})
    assert_forbidden(r, "Cross-origin request blocked")
    assert api.get("/experiments/get-by-name", {"experiment_name": name}).status_code == 404


def test_cross_origin_get_allowed_without_cors_header(api):
    r = api.request("GET", "/experiments/get", params={"experiment_id": "0"}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 200
    assert r.headers.get("Access-Control-Allow-Origin") in (None, "")


@pytest.mark.parametrize("origin", ["http://localhost:3000", "http://127.0.0.1:8080", "http://localhost"])
def test_local_origin_allowed(api, origin):
    r = api.request("POST", "/experiments/create", body={"name": uniq("lo")}, headers={"Origin": origin})
    assert r.status_code == 200, r.text
    assert r.headers.get("Access-Control-Allow-Origin") == origin


def test_preflight_from_foreign_origin_gets_no_allow_origin(api):
    r = api.request("OPTIONS", "/experiments/search",
                    headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert r.headers.get("Access-Control-Allow-Origin") in (None, "")
    assert r.status_code != 500


def test_cors_allowed_origins_flag(mlflowd_factory):
    srv = mlflowd_factory(extra_args=["--cors-allowed-origins", "https://ui.example"])
    url = srv.url + "/api/2.0/mlflow/experiments/create"
    r = requests.post(url, json={"name": uniq("c1")}, headers={"Origin": "https://ui.example"}, timeout=30)
    assert r.status_code == 200, r.text
    r = requests.post(url, json={"name": uniq("c2")}, headers={"Origin": "https://evil.example"}, timeout=30)
    assert r.status_code == 403


# ---- headers ----------------------------------------------------------------------------------


def test_security_headers_everywhere(api):
    assert_security_headers(api.get("/experiments/get", {"experiment_id": "0"}))
    assert_security_headers(api.get("/experiments/get", {"experiment_id": "987654"}))
    assert_security_headers(api.post("/experiments/create", {}))
    assert_security_headers(api.get("/health"))
    assert_security_headers(api.get("/version"))


def test_json_content_type_on_success_and_error(api):
    for r in (api.get("/experiments/get", {"experiment_id": "0"}), api.get("/experiments/get", {"experiment_id": "987654"})):
        assert r.headers["Content-Type"].startswith("application/json")


# ---- mlflowd's own limits and routing -----------------------------------------------------------


@pytest.mark.mlflowd_only  # stock MLflow has no body limit
def test_oversized_body_413(api):
    name = uniq("big")
    body = json.dumps({"name": name, "tags": [{"key": "k", "value": "x" * (16 * 1024 * 1024 + 10)}]})
    r = api.request("POST", "/experiments/create", data=body, headers={"Content-Type": "application/json"})
    assert_error(r, 413)
    assert_security_headers(r)
    assert api.get("/experiments/get-by-name", {"experiment_name": name}).status_code == 404
    # the server is still fine
    assert api.get("/health").text.strip() == "OK"


@pytest.mark.mlflowd_only
def test_oversized_content_length_rejected_before_body(mlflowd):
    """A huge declared Content-Length gets 413 without the server waiting for the body."""
    with socket.create_connection(("127.0.0.1", mlflowd.port), timeout=10) as s:
        s.sendall(b"POST /api/2.0/mlflow/experiments/create HTTP/1.1\r\nHost: localhost\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n{")
        data = s.recv(65536)
    assert b" 413 " in data.split(b"\r\n", 1)[0], data[:200]


def test_body_just_under_limit_is_parsed(api):
    rid = api.create_run(api.create_experiment())
    # ~8 MiB: a legitimate large request (param value is truncated to 6000)
    r = api.post("/runs/log-parameter", {"run_id": rid, "key": "big", "value": "v" * (8 * 1024 * 1024)})
    assert r.status_code == 200, r.text[:300]
    assert api.run_data(rid)[1]["big"] == "v" * 6000


@pytest.mark.mlflowd_only  # stock MLflow answers unknown paths with Flask's HTML 404
@pytest.mark.parametrize("method,path", [("GET", "/api/2.0/mlflow/nope"), ("POST", "/api/2.0/mlflow/nope"),
                                         ("GET", "/ajax-api/2.0/mlflow/runs/nope"), ("GET", "/api/9.0/mlflow/runs/get")])
def test_unknown_endpoint_json_404(api, method, path):
    r = api.request(method, path, body={} if method == "POST" else None)
    assert_error(r, 404, "ENDPOINT_NOT_FOUND")
    assert_security_headers(r)


def test_unknown_endpoint_maps_to_endpoint_not_found_in_client(mlflowd):
    """Whatever the body, the client must see ENDPOINT_NOT_FOUND for an unknown path."""
    from mlflow.exceptions import MlflowException, RestException
    from mlflow.utils.rest_utils import MlflowHostCreds, call_endpoint
    from mlflow.protos.service_pb2 import GetRun

    with pytest.raises((MlflowException, RestException)) as e:
        call_endpoint(MlflowHostCreds(mlflowd.url), "/api/2.0/mlflow/nope", "GET", None, GetRun.Response)
    assert e.value.error_code == "ENDPOINT_NOT_FOUND"


def test_wrong_method_not_2xx(api):
    r = api.request("GET", "/runs/search")
    assert r.status_code in (404, 405)
    r = api.request("GET", "/experiments/create")
    assert r.status_code in (404, 405)


def test_server_survives_garbage_request_line(mlflowd, api):
    with socket.create_connection(("127.0.0.1", mlflowd.port), timeout=10) as s:
        s.sendall(b"\x16\x03\x01\x02\x00garbage\r\n\r\n")
        try:
            s.recv(1024)
        except OSError:
            pass
    assert api.get("/health").text.strip() == "OK"
