"""Artifact leftovers: temporary upload files a crash left behind, and experiments whose
artifact location was given relative or with dot segments.

- An upload streams into a hidden temporary file beside its target and is renamed into
  place when complete; a kill midway leaves the temporary file. mlflowd removes every such
  file under its artifacts destination when it starts (never following symlinks).
- MLflow stores an artifact location given as "x/../y", "./x", ".." or "/a/./b/../c" as
  given (relative ones joined to the server's working directory); the OS resolves the dots
  when the folder is used. mlflowd stores the same text and resolves it the same way when it
  reads artifacts, where it used to answer 400 "Invalid path" to every artifact call of the
  experiment's runs."""

from __future__ import annotations

import os

import pytest

import compat_util as cu

TEMP = ".artifact.uploading."


@pytest.mark.mlflowd_only
def test_unfinished_uploads_removed_at_start(tmp_path):
    art = tmp_path / "art"
    outside = tmp_path / "outside"
    (art / "1" / "r" / "artifacts" / "deep" / "er").mkdir(parents=True)
    outside.mkdir()
    leftovers = [art / f"{TEMP}0123456789abcdef", art / "1" / "r" / "artifacts" / f"{TEMP}aa",
                 art / "1" / "r" / "artifacts" / "deep" / "er" / f"{TEMP}bb"]
    kept = [art / "1" / "r" / "artifacts" / "model.pkl", art / "1" / "r" / "artifacts" / "deep" / "x.artifact.uploading.",
            outside / f"{TEMP}cc"]
    for f in leftovers + kept:
        f.write_bytes(b"partial")
    os.symlink(outside, art / "1" / "link")  # a symlink is never followed
    (art / "1" / f"{TEMP}dir").mkdir()  # only files are leftovers
    srv = cu.start_mlflowd(tmp_path / "srv", artifacts=art)
    try:
        assert [f for f in leftovers if f.exists()] == []
        assert [f for f in kept if not f.exists()] == []
        assert (art / "1" / f"{TEMP}dir").is_dir()
        assert "removed 3 unfinished uploads" in srv.log_path.read_text()
    finally:
        assert srv.stop() == 0, srv.log_tail()


@pytest.mark.parametrize("loc", ["x/../y", "..", "./x", "abs/./p/../q", "file:REL/f/../q"])
def test_dotted_artifact_location_serves_artifacts(mlflowd, api, loc):
    """Runs of an experiment created with such a location: their artifacts are listed and
    read through the server (stock does the same)."""
    tag = cu.uniq("d")
    if loc.startswith("abs"):
        loc = f"{mlflowd.db_path.parent}/{tag}/{loc}"
    elif loc.startswith("file:REL"):
        loc = f"file://{mlflowd.db_path.parent}/{tag}{loc[len('file:REL'):]}"
    else:
        loc = loc.replace("x", f"x{tag}").replace("y", f"y{tag}")
    eid = api.create_experiment(artifact_location=loc)
    stored = api.okget("/experiments/get", {"experiment_id": eid})["experiment"]["artifact_location"]
    rid = api.create_run(eid)
    uri = api.get_run(rid)["info"]["artifact_uri"]
    assert uri.startswith(stored)
    folder = uri[len("file://"):] if uri.startswith("file://") else uri
    os.makedirs(folder, exist_ok=True)  # as the client does: the dot segments' folders too
    with open(os.path.join(folder, "f.txt"), "w") as f:
        f.write("hello")
    listing = api.okget("/artifacts/list", {"run_id": rid})
    assert [x["path"] for x in listing.get("files", [])] == ["f.txt"], listing
    r = api.get("/get-artifact", {"run_uuid": rid, "path": "f.txt"})
    assert r.status_code == 200 and r.content == b"hello", r.text[:300]
