"""Other MLflow releases for the tests: their environments under .venvs/ (built by
scripts/mlflow-venv on first use and reused after), and their client run in a subprocess
(release_client.py)."""

from __future__ import annotations

import functools
import json
import re
import sqlite3
import subprocess
from pathlib import Path

import compat_util as cu

HERE = Path(__file__).resolve().parent

# The newest release mlflowd knows, and its alembic head (storage/schema.sql).
NEWEST = "3.18.0"
NEWEST_HEAD = "f4a9b2c7d1e6"
# The pinned release of .venv and its head (still served as it is).
PINNED = "3.17.2"
PINNED_HEAD = "dc11669786a5"


@functools.lru_cache(maxsize=None)
def venv(version: str, full: bool = False) -> Path:
    """The environment of an MLflow release (its folder); built the first time."""
    if version == PINNED:
        return cu.VENV_BIN.parent
    cmd = [str(cu.REPO / "scripts" / "mlflow-venv"), version, *(["--full"] if full else [])]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=cu.REPO, timeout=1800)
    if p.returncode != 0:
        raise AssertionError(f"scripts/mlflow-venv {version} failed:\n{p.stderr[-3000:]}")
    return cu.REPO / p.stdout.strip().splitlines()[-1]


def client(version: str, *args, full: bool = False, timeout: float = 600, script: str = "release_client.py",
           cwd=None):
    """Run release_client.py (or script) with that release's Python; returns its JSON answer."""
    py = venv(version, full) / "bin" / "python"
    p = subprocess.run([str(py), str(HERE / script), *map(str, args)], capture_output=True,
                       text=True, timeout=timeout, env=cu.server_env(), cwd=cwd)
    if p.returncode != 0:
        raise AssertionError(f"MLflow {version} client {args[0]} failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def mlflow_cli(version: str, *args, full: bool = False, timeout: float = 600, check: bool = True):
    """The release's `mlflow` command."""
    exe = venv(version, full) / "bin" / "mlflow"
    p = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                       env=cu.server_env())
    if check and p.returncode != 0:
        raise AssertionError(f"mlflow {version} {' '.join(map(str, args))} failed:\n{p.stderr[-3000:]}")
    return p


def _norm_sql(sql: str) -> str:
    """CREATE text without quotes, case, "IF NOT EXISTS" or layout differences; a table's
    constraints sorted (alembic writes them in an order that varies between releases)."""
    s = re.sub(r"\s+", " ", sql).replace('"', "").replace("`", "")
    s = re.sub(r"\s*([(),])\s*", r"\1", s).replace("IF NOT EXISTS ", "")
    s = s.lower().strip()
    if not s.startswith("create table"):
        return s
    head, body = s[: s.index("(")], s[s.index("(") + 1: s.rindex(")")]
    items, depth, cur, quote = [], 0, "", False
    for ch in body:
        if ch == "'" and not quote:
            quote = True
        elif ch == "'" and quote:
            quote = False
        elif not quote and ch in "()":
            depth += 1 if ch == "(" else -1
        elif not quote and ch == "," and depth == 0:
            items.append(cur)
            cur = ""
            continue
        cur += ch
    items.append(cur)
    words = ("constraint ", "primary key", "foreign key", "check(", "check ", "unique(")
    cols = [i for i in items if not i.startswith(words)]
    cons = sorted(i for i in items if i.startswith(words))
    return f"{head}({','.join(cols + cons)})"


def normalized_schema(db) -> set:
    """sqlite_master normalized: (type, name, table, CREATE text) of MLflow's objects
    (mlflowd's own mlflowd_* indexes left out)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {(t, n, tb, _norm_sql(s)) for t, n, tb, s in con.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL "
            "AND name NOT LIKE 'mlflowd_%'")}
    finally:
        con.close()


def schema_diff(a, b) -> str:
    sa, sb = normalized_schema(a), normalized_schema(b)
    lines = [f"only in {a}: {x}" for x in sorted(sa - sb)] + [f"only in {b}: {x}" for x in sorted(sb - sa)]
    return "\n".join(lines)


def all_rows(db, skip=()) -> dict:
    """Every table's rows, columns by name, sorted (NaN-safe through repr); MLflow's tables
    only (mlflowd's own mlflowd_* summaries left out, as in normalized_schema)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        out = {}
        for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
                            "AND name NOT LIKE 'mlflowd_%'"):
            if t in skip:
                continue
            cols = sorted(r[1] for r in con.execute(f'PRAGMA table_info("{t}")'))
            sel = ", ".join(f'"{c}"' for c in cols)
            out[t] = sorted(repr(r) for r in con.execute(f'SELECT {sel} FROM "{t}"'))
        return out
    finally:
        con.close()


def head_of(db) -> str:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        con.close()
