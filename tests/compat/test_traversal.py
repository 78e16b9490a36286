"""Path-traversal corpus (security.md 1.8 A) against every artifact entry point.

Every input is sent in the URL path and in the query string, with GET, PUT and DELETE
(and POST for the multipart routes). Each must be refused with a 400 JSON error, and
nothing outside the artifact root may be read, written or deleted: a folder next to
the root holds sentinel files whose names, sizes and contents are compared before and
after, every response body is checked for the sentinel's secret, and a symlink planted
inside the root (pointing outside) must never be followed.
"""

from __future__ import annotations

import hashlib
import os
import socket
import urllib.parse
from pathlib import Path

import pytest

import compat_util as cu

pytestmark = pytest.mark.mlflowd_only

SECRET = b"TOP-SECRET-SENTINEL-6f1c"

# Raw path strings (before any encoding we add). "{out}" is replaced by the name of
# the sentinel folder that sits next to the artifact root.
CORPUS = [
    "../{out}/secret.txt",
    "../../{out}/secret.txt",
    "../../../../../../etc/passwd",
    "..",
    ".",
    "a/../../b",
    "a/./b",
    "a//b",
    "/etc/passwd",
    "%2e%2e%2f{out}%2fsecret.txt",
    "..%2f..%2fetc%2fpasswd",
    "%2e%2e%2f%2e%2e%2fetc",
    "%2e%2e/",
    "%252e%252e%252f{out}%252fsecret.txt",
    "%25252e%25252e%25252f",
    "..\\{out}\\secret.txt",
    "\\..\\filename",
    "a\\b",
    "C:\\x",
    "C:x",
    "file:///etc/passwd",
    "file:/etc/passwd",
    "file://localhost/etc/passwd",
    "a#/../../etc",
    "a%23/../../etc",
    "a;/../../{out}/secret.txt",
    "a?x=../../etc",
    "a%00.txt",
    "a%00/../../etc",
    "a%01b",
    "a%1fb",
    "a%7fb",
    "%c0%ae%c0%ae%2f{out}",
    "%ed%a0%80",
    "%ff%fe",
    "1/link/secret.txt",  # through the planted symlink
    "1/link",
    "1/link/new.txt",
    "a" * 4096,
    "a/" * 10000,
]


def _encode_for_path(p: str) -> str:
    # Characters that would change the meaning of a request line are escaped once;
    # existing %-escapes are kept, so the server decodes exactly what the corpus says.
    return "".join(c if (c.isascii() and c not in " ?#\x7f" and ord(c) >= 0x21) else
                   urllib.parse.quote(c, safe="") for c in p)


def _encode_for_query(p: str) -> str:
    # Query values are form-encoded by clients: escape '%' too, so the server sees the
    # corpus string itself after its one decoding; the server then decodes repeatedly.
    return urllib.parse.quote(p, safe="/")


def raw_request(port: int, method: str, target: str, body: bytes = b"", timeout: float = 30):
    """Send one HTTP/1.1 request exactly as given; return (status, headers, body)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        head = (f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Length: {len(body)}\r\nContent-Type: application/octet-stream\r\n"
                "Connection: close\r\n\r\n").encode("latin-1")
        s.sendall(head + body)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, BrokenPipeError):
        return None, {}, b""
    finally:
        s.close()
    if not data:
        return None, {}, b""
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, rest


def snapshot(d: Path) -> dict:
    out = {}
    for root, dirs, files in os.walk(d, followlinks=False):
        for n in dirs + files:
            p = Path(root) / n
            st = os.lstat(p)
            digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() and not p.is_symlink() else None
            out[str(p.relative_to(d))] = (st.st_mode, st.st_size, digest)
    return out


@pytest.fixture
def planted(mlflowd, tmp_path):
    """Sentinels outside the root, a symlink to them inside it, a run and a logged model."""
    root = Path(mlflowd.artifacts)
    outside = root.parent / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    (outside / "sub").mkdir()
    (outside / "sub" / "keep.txt").write_bytes(SECRET)
    api = cu.Api(mlflowd)
    exp = api.create_experiment()
    run = api.create_run(exp)
    model = api.okpost("/logged-models", {"experiment_id": exp, "name": "m"})["model"]["info"]["model_id"]
    # A link named "1/link" below the service root, the run's root and the model's root.
    for d in (root, root / exp / run / "artifacts", root / exp / "models" / model / "artifacts"):
        (d / "1").mkdir(parents=True, exist_ok=True)
        if not (d / "1" / "link").is_symlink():
            os.symlink(outside, d / "1" / "link")
    yield {"root": root, "outside": outside, "run": run, "model": model, "exp": exp}
    api.s.close()


def _expect_refused(status, headers, body, what):
    assert status is not None, f"{what}: connection dropped without an answer"
    assert SECRET not in body, f"{what}: served the sentinel!"
    if status == 400:
        assert headers.get("content-type", "").startswith("application/json"), (what, headers, body[:200])
        assert b"error_code" in body, (what, body[:200])
    else:
        # Only requests larger than the header limit may be refused by civetweb itself.
        assert status in (413, 414, 431), f"{what}: expected 400, got {status}: {body[:300]!r}"


def test_traversal_corpus_every_entry_point(mlflowd, planted):
    port = mlflowd.port
    out = planted["outside"].name
    before = snapshot(planted["outside"])
    root_before = {p for p in snapshot(planted["root"])}
    run, model = planted["run"], planted["model"]
    n = 0
    for item in CORPUS:
        raw = item.replace("{out}", out)
        p_path = _encode_for_path(raw)
        p_query = _encode_for_query(raw)
        targets = []
        for pfx in ("/api/2.0", "/ajax-api/2.0"):
            base = f"{pfx}/mlflow-artifacts"
            for m in ("GET", "PUT", "DELETE"):
                targets.append((m, f"{base}/artifacts/{p_path}"))
            if not raw.startswith("1/link"):
                # The multipart and presigned routes never touch files: a path that is only
                # bad because of what is on disk gets their usual 501 there.
                targets.append(("POST", f"{base}/mpu/create/{p_path}"))
                targets.append(("GET", f"{base}/presigned/{p_path}"))
            if raw not in ("", "."):
                targets.append(("GET", f"{base}/artifacts?path={p_query}"))
            targets.append(("GET", f"{pfx}/mlflow/artifacts/list?run_id={run}&path={p_query}"))
            targets.append(("GET", f"{pfx}/mlflow/logged-models/{model}/artifacts/directories"
                                   f"?artifact_directory_path={p_query}"))
        targets.append(("GET", f"/ajax-api/2.0/mlflow/logged-models/{model}/artifacts/files"
                               f"?artifact_file_path={p_query}"))
        targets.append(("GET", f"/get-artifact?run_id={run}&path={p_query}"))
        for method, target in targets:
            body = SECRET if method == "PUT" else b""
            st, hd, bd = raw_request(port, method, target, body)
            _expect_refused(st, hd, bd, f"{method} {target[:160]}")
            n += 1
    assert n > 400
    assert snapshot(planted["outside"]) == before, "a file outside the artifact root changed"
    assert os.path.islink(planted["root"] / "1" / "link"), "the planted symlink was removed or replaced"
    assert os.path.islink(planted["root"] / planted["exp"] / run / "artifacts" / "1" / "link")
    # Nothing new was written inside the root either (every input was refused).
    assert {p for p in snapshot(planted["root"])} == root_before
    mlflowd.check_alive()


def test_one_mebibyte_path_is_refused(mlflowd, planted):
    st, hd, bd = raw_request(mlflowd.port, "GET", "/api/2.0/mlflow-artifacts/artifacts?path=" + "a/" * 524288)
    assert st is None or st in (400, 413, 414, 431)
    mlflowd.check_alive()


def test_literal_lookalike_names_stay_inside(mlflowd, planted):
    """Fullwidth dots/slash are a literal name, never normalised into '../'."""
    name = "\uff3f\uff0e\uff0e\uff0f"
    target = "/api/2.0/mlflow-artifacts/artifacts/1/" + urllib.parse.quote(name + "x.txt")
    st, hd, bd = raw_request(mlflowd.port, "PUT", target, b"ok")
    assert st == 200, bd
    assert (planted["root"] / "1" / (name + "x.txt")).read_bytes() == b"ok"
    st, hd, bd = raw_request(mlflowd.port, "GET", target)
    assert st == 200 and bd == b"ok"


def test_symlinked_file_inside_root_is_not_served(mlflowd, planted):
    os.symlink(planted["outside"] / "secret.txt", planted["root"] / "1" / "file-link.txt")
    st, hd, bd = raw_request(mlflowd.port, "GET", "/api/2.0/mlflow-artifacts/artifacts/1/file-link.txt")
    _expect_refused(st, hd, bd, "symlinked file")
    # Listing does not show links.
    st, hd, bd = raw_request(mlflowd.port, "GET", "/api/2.0/mlflow-artifacts/artifacts?path=1")
    assert st == 200 and b"link" not in bd, bd
    # Writing or deleting at the link's name is refused; the target is untouched.
    st, hd, bd = raw_request(mlflowd.port, "PUT", "/api/2.0/mlflow-artifacts/artifacts/1/file-link.txt", b"new")
    _expect_refused(st, hd, bd, "PUT over a symlink")
    st, hd, bd = raw_request(mlflowd.port, "DELETE", "/api/2.0/mlflow-artifacts/artifacts/1/file-link.txt")
    _expect_refused(st, hd, bd, "DELETE a symlink")
    assert (planted["outside"] / "secret.txt").read_bytes() == SECRET
    assert os.path.islink(planted["root"] / "1" / "file-link.txt")
    # Deleting a folder that holds a link removes the link, never what it points to.
    (planted["root"] / "2").mkdir()
    os.symlink(planted["outside"], planted["root"] / "2" / "dir-link")
    st, hd, bd = raw_request(mlflowd.port, "DELETE", "/api/2.0/mlflow-artifacts/artifacts/2")
    assert st == 200, bd
    assert not (planted["root"] / "2").exists()
    assert (planted["outside"] / "sub" / "keep.txt").read_bytes() == SECRET
