"""bench_soak.py: W13 of the benchmark, a soak under many clients, run by bench.py for each server.

Many keep-alive clients (the scale's w13_clients: 64 at small and full, 8 at tiny), spread over a
few client processes of several threads each so that the client side is not one Python
interpreter's GIL, share one server for the scale's w13_s seconds. Each client has a run of its own
in one experiment and sends request after request (closed loop, no pause), each of a kind drawn
from a fixed mix:

  log-metric   POST runs/log-metric, one new point of key `lm`
  log-batch    POST runs/log-batch, 100 new points of key `lb`
  set-tag      POST runs/set-tag, one of 20 tag keys, a new value each time
  search       POST runs/search: the 8 runs of the client's group, `tags.group = 'gN' and
               metrics.lm >= 0`, ordered by metrics.lm
  get-history  GET metrics/get-history of the client's own `lm` series, first 1,000 points

Reported: requests and errors by kind (HTTP status, timeout, connection reset, other), p50/p99 per
kind, requests completed per client (min, median, max, Jain's fairness index), and the RSS of the
server's process tree sampled every second. Gates: after the soak every acknowledged write is read
back through the API (get-history pages of `lm` and `lb`, runs/get for the tags) and must be there;
a client starved below STARVED_FRACTION of the median is a gate failure for mlflowd when stock
served every client, a note otherwise.

Run as a program (`bench_soak.py CLIENT_JSON`) it is one client process: it creates its clients'
runs, prints "ready", waits for "go SECONDS" on stdin, runs the mix and prints one JSON line.
"""

import http.client
import json
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

API = "/api/2.0/mlflow"
KINDS = ("log-metric", "log-batch", "set-tag", "search", "get-history")
MIX = (35, 15, 15, 20, 15)  # relative weights of KINDS
BATCH_POINTS = 100
TAG_KEYS = 20
GROUPS = 8  # a search returns the runs of one group: clients / GROUPS runs
HISTORY_MAX = 1000
TIMEOUT_S = 30.0  # per request; longer counts as a timeout
STARVED_FRACTION = 0.25  # a client completing fewer requests than this share of the median is starved
RSS_EVERY_S = 1.0
SPARK = "▁▂▃▄▅▆▇█"


# ---------------------------------------------------------------------------
# the client process
# ---------------------------------------------------------------------------


def lm_value(cid, step):
    return cid + step * 0.5  # exact in binary, so a read-back value compares equal


def lb_value(step):
    return step * 0.25


class Conn:
    """One keep-alive connection; send() classifies every outcome, reconnecting after an error."""

    def __init__(self, port):
        self.port = port
        self.c = None

    def send(self, method, path, body=None):
        """(outcome, ms, raw body): outcome is the HTTP status, or timeout, reset (connection reset or closed
        before the answer) or other: <exception> (e.g. refused)."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        t = time.perf_counter()
        try:
            if self.c is None:
                self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT_S)
            self.c.request(method, API + path, body=data, headers=headers)
            r = self.c.getresponse()
            raw = r.read()
            if (r.getheader("connection") or "").lower() == "close":
                self.close()
            return r.status, (time.perf_counter() - t) * 1e3, raw
        except (socket.timeout, TimeoutError):
            out = "timeout"
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, http.client.RemoteDisconnected):
            out = "reset"
        except (OSError, http.client.HTTPException) as e:
            out = "other: " + type(e).__name__
        self.close()
        return out, (time.perf_counter() - t) * 1e3, b""

    def close(self):
        if self.c is not None:
            self.c.close()
        self.c = None


def client_loop(port, cid, exp_id, run_id, conn, stop_at, out):
    rng = random.Random(1000 + cid)
    lat = {k: [] for k in KINDS}
    outcomes = {k: {} for k in KINDS}
    lm_acked, lb_acked = [], []
    tag_last, tag_unsure = {}, {}  # key -> last acknowledged n; n sent since without a 200
    n = {k: 0 for k in KINDS}
    search = {"experiment_ids": [exp_id], "filter": f"tags.group = 'g{cid % GROUPS}' and metrics.lm >= 0",
              "max_results": 50, "order_by": ["metrics.lm DESC"]}
    history = (f"/metrics/get-history?run_id={run_id}&metric_key=lm&max_results={HISTORY_MAX}")
    while time.monotonic() < stop_at:
        kind = rng.choices(KINDS, MIX)[0]
        i = n[kind]
        n[kind] += 1
        ts = int(time.time() * 1000)
        if kind == "log-metric":
            st, ms, _ = conn.send("POST", "/runs/log-metric", {"run_id": run_id, "key": "lm",
                                                                "value": lm_value(cid, i), "timestamp": ts,
                                                                "step": i})
            if st == 200:
                lm_acked.append(i)
        elif kind == "log-batch":
            st, ms, _ = conn.send("POST", "/runs/log-batch", {"run_id": run_id, "metrics": [
                {"key": "lb", "value": lb_value(s), "timestamp": ts, "step": s}
                for s in range(i * BATCH_POINTS, (i + 1) * BATCH_POINTS)]})
            if st == 200:
                lb_acked.append(i)
        elif kind == "set-tag":
            key = f"t{i % TAG_KEYS}"
            st, ms, _ = conn.send("POST", "/runs/set-tag", {"run_id": run_id, "key": key, "value": f"v{i}"})
            if st == 200:
                tag_last[key] = i
                tag_unsure[key] = []
            else:
                tag_unsure.setdefault(key, []).append(i)
        elif kind == "search":
            st, ms, _ = conn.send("POST", "/runs/search", search)
        else:
            st, ms, _ = conn.send("GET", history)
        key = str(st)
        outcomes[kind][key] = outcomes[kind].get(key, 0) + 1
        if st == 200:
            lat[kind].append(round(ms, 3))
    out.update({"id": cid, "run_id": run_id, "ok": sum(len(v) for v in lat.values()), "outcomes": outcomes,
                "lat": lat, "lm_acked": lm_acked, "lb_acked": lb_acked, "tag_last": tag_last,
                "tag_unsure": tag_unsure})


def client_main(arg):
    a = json.loads(arg)
    port, exp_id = a["port"], a["exp_id"]
    conns, runs, errors = {}, {}, []

    def setup(cid):
        conn = Conn(port)
        st, _, raw = conn.send("POST", "/runs/create", {
            "experiment_id": exp_id, "run_name": f"w13-client-{cid}", "start_time": int(time.time() * 1000),
            "tags": [{"key": "group", "value": f"g{cid % GROUPS}"}, {"key": "client", "value": str(cid)}]})
        if st != 200:
            errors.append(f"runs/create for client {cid}: {st} {raw[:200]!r}")
            return
        conns[cid] = conn
        runs[cid] = json.loads(raw)["run"]["info"]["run_id"]

    ts = [threading.Thread(target=setup, args=(cid,)) for cid in a["clients"]]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        print(json.dumps({"error": errors[0]}), flush=True)
        return 1
    print("ready", flush=True)
    line = sys.stdin.readline().split()
    if len(line) != 2 or line[0] != "go":
        return 1
    stop_at = time.monotonic() + float(line[1])
    for c in conns.values():
        c.close()  # a server may have closed it while the other processes set up: start on a new connection
    outs = {cid: {} for cid in a["clients"]}
    ts = [threading.Thread(target=client_loop, args=(port, cid, exp_id, runs[cid], conns[cid], stop_at, outs[cid]))
          for cid in a["clients"]]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for c in conns.values():
        c.close()
    print(json.dumps({"clients": list(outs.values())}), flush=True)
    return 0


# ---------------------------------------------------------------------------
# the harness side
# ---------------------------------------------------------------------------


def pct(xs, p):
    """Nearest-rank percentile of a sorted list (None if empty)."""
    if not xs:
        return None
    return xs[min(len(xs) - 1, max(0, int(round(p / 100 * len(xs) + 0.4999)) - 1))]


def history(B, cl, run_id, key):
    """Every point of a series through get-history pages: {step: value}."""
    pts, token = {}, None
    while True:
        params = {"run_id": run_id, "metric_key": key, "max_results": 25000}
        if token:
            params["page_token"] = token
        js = B.ok(cl.get("/metrics/get-history", params), f"get-history {key}")
        for m in js.get("metrics", []):
            pts[int(m["step"])] = float(m["value"])
        token = js.get("next_page_token")
        if not token:
            return pts


def read_back(B, port, clients):
    """Every acknowledged write of every client read back through the API: (checked, missing list)."""
    cl = B.Client(port, timeout=300)
    checked, missing = 0, []
    try:
        for c in clients:
            cid, rid = c["id"], c["run_id"]
            lm = history(B, cl, rid, "lm")
            for s in c["lm_acked"]:
                checked += 1
                if lm.get(s) != lm_value(cid, s):
                    missing.append(f"client {cid} log-metric step {s}: {lm.get(s, 'absent')}")
            lb = history(B, cl, rid, "lb")
            for i in c["lb_acked"]:
                checked += 1
                bad = [s for s in range(i * BATCH_POINTS, (i + 1) * BATCH_POINTS) if lb.get(s) != lb_value(s)]
                if bad:
                    missing.append(f"client {cid} log-batch {i}: {len(bad)} of {BATCH_POINTS} points absent "
                                   f"or wrong, first step {bad[0]}")
            tags = {t["key"]: t["value"] for t in B.ok(cl.get("/runs/get", {"run_id": rid}), "runs/get")
                    ["run"]["data"].get("tags", [])}
            for key, i in c["tag_last"].items():
                checked += 1
                allowed = {f"v{i}"} | {f"v{j}" for j in c["tag_unsure"].get(key, [])}
                if tags.get(key) not in allowed:
                    missing.append(f"client {cid} set-tag {key}: {tags.get(key)!r}, acknowledged v{i}")
    finally:
        cl.close()
    return checked, missing


def soak(h, B, srv, log):
    sc = h.sc
    kind = srv.kind
    n, dur = sc["w13_clients"], sc["w13_s"]
    nproc = max(1, min(sc["w13_procs"], n))
    cl = B.Client(srv.port)
    exp_id = B.ok(cl.post("/experiments/create", {"name": "bench-w13"}), "experiments/create")["experiment_id"]
    cl.close()
    procs = []
    try:
        for p in range(nproc):
            arg = json.dumps({"port": srv.port, "exp_id": exp_id, "clients": list(range(p, n, nproc))})
            cmd = [sys.executable, str(Path(__file__).resolve()), arg]
            if h.args.pin:
                cmd = ["taskset", "-c", "0"] + cmd
            errf = open(h.work / f"{kind}-w13-client{p}.log", "w")
            procs.append(subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errf,
                                          text=True))
            errf.close()
        for p in procs:
            line = p.stdout.readline().strip()
            if line != "ready":
                raise RuntimeError(f"a W13 client process did not start: {line[:300]}")
        samples = []
        done = threading.Event()
        t0 = time.monotonic()

        def sampler():
            while True:
                samples.append((time.monotonic() - t0, srv.rss_kb() / 1024))
                if done.wait(RSS_EVERY_S):
                    break

        b0, j0 = B.sys_cpu()
        ch0, cpu0 = B.children_cpu_s(), srv.cpu_s()
        th = threading.Thread(target=sampler, daemon=True)
        th.start()
        for p in procs:
            p.stdin.write(f"go {dur}\n")
            p.stdin.flush()
        clients = []
        for p in procs:
            out, _ = p.communicate(timeout=dur + 2 * TIMEOUT_S + 120)
            js = json.loads(out.strip().splitlines()[-1])
            clients += js["clients"]
        wall = time.monotonic() - t0
        done.set()
        th.join()
        samples.append((time.monotonic() - t0, srv.rss_kb() / 1024))
        b1, j1 = B.sys_cpu()
        cpu = srv.cpu_s() - cpu0
        client_cpu = B.children_cpu_s() - ch0  # the client processes, waited for above
        other = max(0.0, (b1 - b0) / B.CLK_TCK - client_cpu - cpu)
        other_pct = 100.0 * other / max(1e-9, (j1 - j0) / B.CLK_TCK)
        h.noise.append(other_pct)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    clients.sort(key=lambda c: c["id"])
    kinds = {}
    for k in KINDS:
        lat = sorted(x for c in clients for x in c["lat"][k])
        outc = {}
        for c in clients:
            for o, v in c["outcomes"][k].items():
                outc[o] = outc.get(o, 0) + v
        total = sum(outc.values())
        errs = {o: v for o, v in outc.items() if o != "200"}
        kinds[k] = {"requests": total, "ok": outc.get("200", 0), "errors": errs,
                    "p50": pct(lat, 50), "p99": pct(lat, 99)}
    per = [c["ok"] for c in clients]
    mid = statistics.median(per)
    sq = sum(x * x for x in per)
    starved = [c["id"] for c in clients if c["ok"] < STARVED_FRACTION * mid or c["ok"] == 0]
    requests = sum(v["requests"] for v in kinds.values())
    ok_n = sum(v["ok"] for v in kinds.values())
    rss = [mb for _, mb in samples]
    slope = None
    if len(samples) >= 3:
        xs = [t for t, _ in samples]
        mx, my = statistics.fmean(xs), statistics.fmean(rss)
        den = sum((x - mx) ** 2 for x in xs)
        slope = sum((x - mx) * (y - my) for x, y in samples) / den * 3600 if den else None
    checked, missing = read_back(B, srv.port, clients)
    # negative control: writes never sent, claimed as acknowledged, must be reported missing
    never = dict(clients[0], lm_acked=[10**9], lb_acked=[10**7], tag_last={"never-set": 0}, tag_unsure={})
    n_never = len(read_back(B, srv.port, [never])[1])
    if n_never != 3:
        h.gate(kind, "w13_lost", f"the read-back check found {n_never} of 3 writes that were never made missing")
    w = {"seconds": wall, "clients": n, "procs": nproc, "requests": requests, "ok": ok_n,
         "rps": ok_n / wall, "kinds": kinds, "per_client": per, "client_min": min(per), "client_median": mid,
         "client_max": max(per), "jain": (sum(per) ** 2 / (len(per) * sq)) if sq else None,
         "starved": starved, "acked_checked": checked, "lost": len(missing), "lost_examples": missing[:5],
         "points_acked": sum(len(c["lm_acked"]) + BATCH_POINTS * len(c["lb_acked"]) for c in clients),
         "rss_series": [[round(t, 1), round(mb, 1)] for t, mb in samples], "rss_start_mb": rss[0],
         "rss_peak_mb": max(rss), "rss_end_mb": rss[-1], "rss_slope_mb_per_h": slope, "server_cpu_s": cpu,
         "client_cpu_s": client_cpu, "other_cpu_pct": other_pct}
    r = h.res[kind]
    r["w13"] = w
    r["w13_rps"] = w["rps"]
    r["w13_err_pct"] = 100.0 * (requests - ok_n) / max(1, requests)
    r["w13_jain"] = w["jain"]
    r["w13_min_share"] = min(per) / mid if mid else 0.0
    r["w13_lost"] = len(missing)
    r["w13_rss_peak_mb"] = w["rss_peak_mb"]
    r["w13_rss_end_mb"] = w["rss_end_mb"]
    for k in KINDS:
        r[f"w13_{k}_p50"] = kinds[k]["p50"]
        r[f"w13_{k}_p99"] = kinds[k]["p99"]
    if missing:
        h.gate(kind, "w13_lost", f"{len(missing)} of {checked} acknowledged writes not read back after the soak; "
                                 f"first: {missing[0]}")
    log(f"[{kind}] W13 soak {wall:.0f} s, {n} clients in {nproc} processes: {ok_n:,} of {requests:,} requests "
        f"answered 200 ({w['rps']:,.0f}/s); per client min/median/max {min(per)}/{mid:g}/{max(per)}, "
        f"Jain {w['jain'] or 0:.3f}, {len(starved)} starved; {checked:,} acknowledged writes read back, "
        f"{len(missing)} missing; RSS {rss[0]:.1f} -> peak {max(rss):.1f} -> {rss[-1]:.1f} MiB")
    for k in KINDS:
        v = kinds[k]
        log(f"[{kind}]   {k}: {v['requests']:,} requests, errors {v['errors'] or 0}, "
            f"p50 {v['p50'] or 0:.2f} ms, p99 {v['p99'] or 0:.2f} ms")


def judge_fairness(h, kind):
    """Starved clients: a gate for mlflowd when stock served every client, else a note."""
    w = h.res[kind].get("w13")
    if not w or not w["starved"]:
        return
    what = (f"W13: {len(w['starved'])} of {w['clients']} clients completed fewer than "
            f"{STARVED_FRACTION:.0%} of the median {w['client_median']:g} requests (least {w['client_min']})")
    stock = h.res["stock"].get("w13")
    if kind == "mlflowd" and stock and not stock["starved"]:
        h.gate(kind, "w13_fair", what + "; stock served every client")
    else:
        h.notes["mlflowd"].append(f"{kind} {what}" + ("" if kind == "stock" else
                                                     "; stock starved clients too" if stock else
                                                     "; stock has no W13 result"))


def run(h, srv, log):
    """W13 for srv's kind on the harness h (bench.Harness). srv is the empty-db server of W0/W1/W3; at
    scales with fresh groups (and after W1/W3, or when it is stopped) the soak gets a fresh server
    and database. Returns the server left running, which the caller stops."""
    B = sys.modules[type(h).__module__]  # bench.py's helpers, whether it runs as a script or a module
    kind = srv.kind
    try:
        if srv.proc is None or (h.sc["fresh_groups"] and {"W1", "W3"} & set(h.args.workloads)):
            srv.stop()
            srv = h.new_server(kind, "w13")
            h.start(srv, "startup_empty_ms")
        h.calibrate(f"{kind}: soak under many clients (W13)")
        soak(h, B, srv, log)
        judge_fairness(h, kind)
    except Exception as e:
        h.gate(kind, "w13", f"soak aborted: {e}")
    return srv


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------


def report_rows(row, sc):
    c, s = sc["w13_clients"], sc["w13_s"]
    g = ("w13", "w13_lost")
    row(f"W13 soak, {c} keep-alive clients for {s} s, mixed writes and reads: requests/s answered 200",
        "w13_rps", "", "hi", gate_ids=g, short=f"W13 soak, {c} clients")
    for k in KINDS:
        row(f"W13 soak: {k} p99", f"w13_{k}_p99", " ms", "lo", gate_ids=g, plot=False)
    row("W13 soak: errors (% of requests)", "w13_err_pct", "%", "lo", gate_ids=g, plot=False)
    row("W13 soak: acknowledged writes missing when read back", "w13_lost", "", "lo", 1, gate_ids=g, plot=False)
    row("W13 soak: fairness, Jain's index over requests completed per client (1 = equal)", "w13_jain", "", "hi",
        gate_ids=g + ("w13_fair",), plot=False)
    row("W13 soak: requests completed by the least-served client ÷ median", "w13_min_share", "", "hi",
        STARVED_FRACTION, gate_ids=g + ("w13_fair",), plot=False)
    row("W13 soak: peak RSS, whole tree", "w13_rss_peak_mb", " MiB", "lo", gate_ids=g, plot=False)
    row("W13 soak: RSS at end, whole tree", "w13_rss_end_mb", " MiB", "lo", gate_ids=g, plot=False)


def sparkline(vals, width=40):
    if not vals:
        return ""
    if len(vals) > width:  # the peak of each of `width` slices
        vals = [max(vals[i * len(vals) // width:(i + 1) * len(vals) // width]) for i in range(width)]
    lo, hi = min(vals), max(vals)
    return "".join(SPARK[0 if hi == lo else min(len(SPARK) - 1, int((v - lo) / (hi - lo) * len(SPARK)))]
                   for v in vals)


def report_section(h):
    """Lines of the report's W13 section (empty when W13 did not run)."""
    B = sys.modules[type(h).__module__]
    kinds = [k for k in ("stock", "mlflowd") if h.res.get(k, {}).get("w13")]
    if not kinds:
        return []
    ws = {k: h.res[k]["w13"] for k in kinds}
    w0 = ws[kinds[0]]
    L = ["### W13 soak under many clients", ""]
    L.append(f"{w0['clients']} keep-alive clients ({w0['procs']} client processes of Python threads) each logging to "
             f"a run of their own, request after request, for {h.sc['w13_s']} s; each request's kind drawn from "
             + ", ".join(f"{k} {m}%" for k, m in zip(KINDS, MIX))
             + f" (log-batch: {BATCH_POINTS} points; search: the {GROUPS}-group filter `tags.group = 'gN' and "
             f"metrics.lm >= 0` ordered by `metrics.lm`; get-history: the client's own series, first "
             f"{HISTORY_MAX:,} points). A request unanswered within {TIMEOUT_S:.0f} s counts as a timeout; a "
             "connection reset or closed before the answer, as a reset. Afterwards every "
             "acknowledged write is read back through the API (a gate; three writes never made, claimed as "
             "acknowledged, must then be reported missing, so the check itself is checked); a client completing fewer than "
             f"{STARVED_FRACTION:.0%} of the median number of requests counts as starved (a gate for mlflowd "
             "when stock served every client). RSS is summed over the server's whole process tree (pages shared between stock's "
             "processes count once per process; W0 gives PSS too), sampled every second.")
    L.append("")
    L.append("| | " + " | ".join(kinds) + " |")
    L.append("|---|" + "---|" * len(kinds))

    def line(label, f):
        L.append(f"| {label} | " + " | ".join(f(ws[k]) for k in kinds) + " |")

    line("duration", lambda w: B.fmt(w["seconds"], " s"))
    line("requests (answered 200)", lambda w: f"{w['requests']:,} ({w['ok']:,})")
    line("answered 200 per second", lambda w: B.fmt(w["rps"]))
    for kd in KINDS:
        line(f"{kd}: requests; errors", lambda w, kd=kd: f"{w['kinds'][kd]['requests']:,}; " + (
            ", ".join(f"{o} ×{v}" for o, v in sorted(w["kinds"][kd]["errors"].items())) or "none"))
        line(f"{kd}: p50 / p99", lambda w, kd=kd: f"{B.fmt(w['kinds'][kd]['p50'], ' ms')} / "
                                                  f"{B.fmt(w['kinds'][kd]['p99'], ' ms')}")
    line("requests completed per client: min / median / max",
         lambda w: f"{w['client_min']:,} / {B.fmt(w['client_median'])} / {w['client_max']:,}")
    line("Jain's fairness index (1 = every client served equally)", lambda w: B.fmt(w["jain"]))
    line(f"starved clients (< {STARVED_FRACTION:.0%} of the median)", lambda w: str(len(w["starved"])))
    line("acknowledged writes read back (points acknowledged)",
         lambda w: f"{w['acked_checked']:,} ({w['points_acked']:,}), {w['lost']} missing")
    line("RSS start / peak / end", lambda w: f"{B.fmt(w['rss_start_mb'])} / {B.fmt(w['rss_peak_mb'])} / "
                                             f"{B.fmt(w['rss_end_mb'], ' MiB')}")
    line("RSS slope (least squares; shown from 60 s of soak on)",
         lambda w: B.fmt(w["rss_slope_mb_per_h"], " MiB/h") if w["seconds"] >= 60 else "— (shorter soak)")
    line("RSS over the soak (one mark per second or slice, lowest to highest)",
         lambda w: f"`{sparkline([mb for _, mb in w['rss_series']])}`")
    line("CPU: server; client processes; other processes (% of the machine)",
         lambda w: f"{B.fmt(w['server_cpu_s'], ' s')}; {B.fmt(w.get('client_cpu_s'), ' s')}; "
                   f"{B.fmt(w.get('other_cpu_pct'), '%')}")
    L.append("")
    # RSS at a few moments of the soak
    marks = 6
    L.append("RSS of the server's process tree during the soak (MiB):")
    L.append("")
    L.append("| seconds | " + " | ".join(kinds) + " |")
    L.append("|---|" + "---|" * len(kinds))
    dur = max(w["rss_series"][-1][0] for w in ws.values())
    for i in range(marks + 1):
        t = dur * i / marks
        cells = []
        for k in kinds:
            ser = ws[k]["rss_series"]
            cells.append(B.fmt(min(ser, key=lambda s: abs(s[0] - t))[1]))
        L.append(f"| {t:.0f} | " + " | ".join(cells) + " |")
    L.append("")
    for k in kinds:
        for ex in ws[k]["lost_examples"]:
            L.append(f"- {k}: missing after the soak: {ex}")
    if any(ws[k]["lost_examples"] for k in kinds):
        L.append("")
    return L


def deviations(h):
    """The report's line on W13 among the deviations from the design notes (none when it did not run)."""
    if not any(h.res.get(k, {}).get("w13") for k in ("stock", "mlflowd")):
        return []
    return [f"- Added: W13, a soak under many clients (not in the design notes; {h.sc['w13_s']} s at this "
            f"scale). It runs after W0, W1 and W3, "
            + ("on a server of its own with a fresh database." if h.sc["fresh_groups"]
               else "on their server and database at this scale.")]


if __name__ == "__main__":
    sys.exit(client_main(sys.argv[1]))
