"""The web UI's static files as served by mlflowd: every embedded file at its path
(index.html at /, the pinned npm libraries under /static-files/vendor/), with a
Content-Security-Policy forbidding inline script, ETag revalidation (304), caching
headers, gzip where the client accepts it, and the right Content-Type."""
import gzip
import re

import pytest
import requests

pytestmark = pytest.mark.mlflowd_only

VENDOR = ["uPlot.iife.min.js", "uPlot.min.css", "marked.esm.js", "purify.min.js", "js-yaml.esm.min.mjs"]


def get(srv, path, **headers):
    # requests adds "Accept-Encoding: gzip, deflate" unless told otherwise
    headers.setdefault("Accept-Encoding", "identity")
    return requests.get(srv.url + path, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def srv(module_server):
    return module_server


def csp_directives(resp):
    csp = resp.headers["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (x.strip() for x in csp.split(";")) if d}


def test_index_at_root_with_csp(srv):
    r = get(srv, "/")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.content == get(srv, "/index.html").content
    d = csp_directives(r)
    assert d["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert d["object-src"] == ["'none'"]
    assert d["default-src"] == ["'self'"]
    assert d["frame-ancestors"] == ["'self'"]  # follows X-Frame-Options: SAMEORIGIN
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "no-cache"
    # the page itself carries no inline script, which the policy would block
    scripts = re.findall(rb"<script[^>]*>", r.content)
    assert scripts and all(b" src=" in tag for tag in scripts), scripts


@pytest.mark.parametrize("xfo,ancestors", [("DENY", ["'none'"]), ("NONE", None)])
def test_frame_ancestors_follow_x_frame_options(mlflowd_factory, xfo, ancestors):
    s = mlflowd_factory(extra_args=["--x-frame-options", xfo])
    r = get(s, "/")
    assert csp_directives(r).get("frame-ancestors") == ancestors
    assert r.headers.get("X-Frame-Options") == (None if xfo == "NONE" else xfo)


@pytest.mark.parametrize("name", VENDOR)
def test_vendor_files_served(srv, name):
    r = get(srv, "/static-files/vendor/" + name)
    assert r.status_code == 200
    ct = "text/css; charset=utf-8" if name.endswith(".css") else "text/javascript; charset=utf-8"
    assert r.headers["Content-Type"] == ct
    assert int(r.headers["Content-Length"]) == len(r.content) > 1000
    if name.endswith(".mjs") or name.endswith(".esm.js"):
        assert b"export" in r.content  # an ES module
    if name.endswith(".iife.min.js"):
        assert r.content.startswith(b"/*! https://github.com/leeoniya/uPlot")


def test_favicon(srv):
    r = get(srv, "/favicon.ico")
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/x-icon"
    assert "Content-Encoding" not in get(srv, "/favicon.ico", **{"Accept-Encoding": "gzip"}).headers


def test_wrapper_modules_and_content_types(srv):
    for path in ["/js/lib/uplot.js", "/js/lib/markdown.js", "/js/lib/yaml.js"]:
        r = get(srv, path)
        assert r.status_code == 200 and r.headers["Content-Type"] == "text/javascript; charset=utf-8"
        assert b"/static-files/vendor/" in r.content


def test_etag_and_304(srv):
    r = get(srv, "/static-files/vendor/uPlot.iife.min.js")
    etag = r.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{20}"', etag)
    assert get(srv, "/index.html").headers["ETag"] != etag
    for inm in [etag, f'"zzz", {etag}', f"W/{etag}", "*"]:
        r304 = get(srv, "/static-files/vendor/uPlot.iife.min.js", **{"If-None-Match": inm})
        assert r304.status_code == 304, inm
        assert r304.content == b""
        assert r304.headers["ETag"] == etag
        assert r304.headers["Cache-Control"] == "no-cache"
    assert get(srv, "/static-files/vendor/uPlot.iife.min.js", **{"If-None-Match": '"other"'}).status_code == 200
    # the tag of the uncompressed file does not match its compressed form
    rz = get(srv, "/static-files/vendor/uPlot.iife.min.js", **{"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert rz.status_code == 200 and rz.headers["ETag"] != etag
    rz2 = get(srv, "/static-files/vendor/uPlot.iife.min.js",
              **{"Accept-Encoding": "gzip", "If-None-Match": rz.headers["ETag"]})
    assert rz2.status_code == 304


def test_gzip_when_accepted(srv):
    plain = get(srv, "/static-files/vendor/marked.esm.js")
    assert "Content-Encoding" not in plain.headers
    assert plain.headers["Vary"] == "Accept-Encoding"
    raw = requests.get(srv.url + "/static-files/vendor/marked.esm.js", headers={"Accept-Encoding": "gzip"},
                       stream=True, timeout=30)
    assert raw.headers["Content-Encoding"] == "gzip"
    body = raw.raw.read(decode_content=False)
    assert int(raw.headers["Content-Length"]) == len(body) < len(plain.content) / 2
    assert gzip.decompress(body) == plain.content
    # q=0 refuses gzip; a wildcard accepts it; case does not matter
    assert "Content-Encoding" not in get(srv, "/", **{"Accept-Encoding": "gzip;q=0, br"}).headers
    assert "Content-Encoding" not in get(srv, "/", **{"Accept-Encoding": "br, *;q=0"}).headers
    assert get(srv, "/", **{"Accept-Encoding": "br, *"}).headers["Content-Encoding"] == "gzip"
    assert get(srv, "/", **{"Accept-Encoding": "deflate, GZIP; q=0.5"}).headers["Content-Encoding"] == "gzip"


def test_head(srv):
    g = get(srv, "/static-files/vendor/purify.min.js")
    h = requests.head(srv.url + "/static-files/vendor/purify.min.js", headers={"Accept-Encoding": "identity"},
                      timeout=30)
    assert h.status_code == 200 and h.content == b""
    assert h.headers["Content-Length"] == g.headers["Content-Length"]
    assert h.headers["ETag"] == g.headers["ETag"]
    # the connection is still usable after a HEAD (no stray body bytes)
    with requests.Session() as s:
        s.head(srv.url + "/", timeout=30)
        assert s.get(srv.url + "/health", timeout=30).text == "OK"


def test_unknown_paths(srv):
    for path in ["/nope.js", "/static-files/vendor/", "/static-files/vendor/../../etc/passwd",
                 "/static-files/vendor/%2e%2e/index.html", "/js/lib/"]:
        r = get(srv, path)
        assert r.status_code == 404, path
        assert r.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    r = requests.post(srv.url + "/index.html", timeout=30)
    assert r.status_code == 404
