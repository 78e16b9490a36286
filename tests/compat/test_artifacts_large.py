"""A 2 GiB artifact goes up and comes back down with flat server memory.

The body is generated on the fly (nothing of that size exists on the client side),
sent with chunked transfer encoding, and the server's VmRSS is sampled from
/proc/<pid>/status during both transfers. Growth must stay under 64 MB: the server
streams through one bounded buffer.
"""

from __future__ import annotations

import hashlib
import threading
import time

import pytest
import requests

pytestmark = pytest.mark.mlflowd_only

SIZE = 2 * 1024**3
BLOCK = 1024 * 1024
RSS_BUDGET = 64 * 1024 * 1024


def vmrss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop_flag = pid, 0, False

    def run(self):
        while not self.stop_flag:
            self.peak = max(self.peak, vmrss(self.pid))
            time.sleep(0.05)


def blocks():
    base = bytes(range(256)) * (BLOCK // 256)
    for i in range(SIZE // BLOCK):
        yield i.to_bytes(8, "little") + base[8:]


def test_two_gib_upload_and_download_flat_memory(mlflowd):
    pid = mlflowd.proc.pid
    url = mlflowd.url + "/api/2.0/mlflow-artifacts/artifacts/1/big/two-gib.bin"
    # Warm up the worker threads and allocator with a small transfer first.
    requests.put(mlflowd.url + "/api/2.0/mlflow-artifacts/artifacts/1/warm.bin", data=b"x" * BLOCK)
    requests.get(mlflowd.url + "/api/2.0/mlflow-artifacts/artifacts/1/warm.bin").content
    base_rss = vmrss(pid)

    want = hashlib.sha256()

    def body():
        for b in blocks():
            want.update(b)
            yield b

    s = Sampler(pid)
    s.start()
    t0 = time.monotonic()
    r = requests.put(url, data=body(), timeout=600)
    up_s = time.monotonic() - t0
    assert r.status_code == 200, r.text
    path = mlflowd.artifacts / "1" / "big" / "two-gib.bin"
    assert path.stat().st_size == SIZE

    got = hashlib.sha256()
    n = 0
    t0 = time.monotonic()
    with requests.get(url, stream=True, timeout=600) as resp:
        assert resp.status_code == 200
        assert int(resp.headers["Content-Length"]) == SIZE
        for chunk in resp.iter_content(chunk_size=BLOCK):
            got.update(chunk)
            n += len(chunk)
    down_s = time.monotonic() - t0
    s.stop_flag = True
    s.join()
    assert n == SIZE
    assert got.hexdigest() == want.hexdigest()
    growth = s.peak - base_rss
    print(f"\n2 GiB: upload {SIZE / up_s / 1e6:.0f} MB/s, download {SIZE / down_s / 1e6:.0f} MB/s, "
          f"server RSS base {base_rss / 1e6:.1f} MB, peak {s.peak / 1e6:.1f} MB, growth {growth / 1e6:.1f} MB")
    assert growth < RSS_BUDGET, f"server RSS grew by {growth / 1e6:.1f} MB during a 2 GiB transfer"
    path.unlink()
