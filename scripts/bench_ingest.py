#!/usr/bin/env python3
"""Ingest benchmark: GET /healthz against durable PBX ingest, in one run, on SQLite and PostgreSQL.

For each store it starts the real server (`switchboard serve`, release build) on a fresh data directory or a fresh
PostgreSQL database, creates a tenant, one PBX connection of each protocol (ITooLabs and Switchboard's native
signed JSON), an active amoCRM integration on each (so every INCOMING event also enqueues a ringing job, as in
production; workers are off so the queue does not compete for the CPU), and then drives, one after another with
the same client (`wrk`, the same thread and connection counts and the same Lua request path):

  healthz   GET /healthz
  itoolabs  POST /pbx/itoolabs/<id>, form `cmd=event&type=INCOMING`, a new call id per request
  native    POST /pbx/events/<id>, one signed JSON `leg.ringing` event per request, a new call id per request
            (signatures are made beforehand, wrk's Lua cannot compute HMAC-SHA256)

and, for reference, the least a durable ingest can do on the same server and storage (`benchFloor` routes, served
only for this benchmark; the same native bodies, the same group commit as PBX ingest):

  floor-none    POST /bench/floor/none, the body read and answered, nothing stored
  floor-append  POST /bench/floor/append, the body stored as one row of a table without an index
  floor-keyed   POST /bench/floor/keyed, the body stored under a new random key that must be unique

It prints requests/s, the ratio to healthz of the same run, p50/p99/p99.9 and the count of non-2xx answers and
socket errors, and checks that every acknowledged event is in storage.

    scripts/bench_ingest.py                       # build the release binary, both stores, 10 s per phase
    scripts/bench_ingest.py --no-build --stores postgres --duration 5
    scripts/bench_ingest.py --no-build --phases healthz,native,floor-keyed
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import random
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

from sbdrive import api, free_port, wait_http

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LUA_COMMON = r"""
local counter = 0
local thread_id = 0
local prefix = ""
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  thread_id = tid
  math.randomseed(os.time() + thread_id * 7919)
  prefix = string.format("b%d-%d-%d", os.time(), thread_id, math.random(1, 1000000000))
  if os.getenv("BENCH_COLLIDE") == "1" then
    -- Every thread sends the same call ids at about the same time (two PBX nodes reporting one call).
    prefix = string.format("c%d", os.time())
  end
  if init_more then init_more(args) end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nRESULT {"requests": %d, "duration_us": %d, "non2xx": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"timeout": %d, "p50_us": %d, "p99_us": %d, "p999_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
"""

LUA_HEALTHZ = LUA_COMMON + r"""
function request()
  counter = counter + 1
  return wrk.format("GET", "/healthz")
end
"""

LUA_ITOOLABS = LUA_COMMON + r"""
local path = os.getenv("BENCH_PATH")
local token = os.getenv("BENCH_TOKEN")
local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}

function request()
  counter = counter + 1
  local body = "cmd=event&type=INCOMING&callid=" .. prefix .. "-" .. counter ..
    "&phone=79161234567&user=ivan&ext=101&diversion=74951234567&direction=in&crm_token=" .. token
  return wrk.format("POST", path, headers, body)
end
"""

LUA_NATIVE = LUA_COMMON + r"""
local path = os.getenv("BENCH_PATH")
local file = nil
local last = nil

function init_more(args)
  file = assert(io.open(os.getenv("BENCH_SIGNED") .. "." .. thread_id, "r"))
end

function request()
  local line = file:read("*l")
  if line == nil then
    -- Out of signed requests: repeat the last one (a duplicate); the script reports how many were sent.
    return last
  end
  local ts, sig, body = line:match("^(%d+)\t([^\t]+)\t(.*)$")
  last = wrk.format("POST", path, {["Content-Type"] = "application/json",
    ["X-Switchboard-Timestamp"] = ts, ["X-Switchboard-Signature"] = sig}, body)
  return last
end
"""


FLOORS = ("floor-none", "floor-append", "floor-keyed")
PHASES = ("healthz", "itoolabs", "native") + FLOORS


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


class Store:
    """A fresh storage and a server on it."""

    def __init__(self, args, kind):
        self.args, self.kind = args, kind
        self.tmp = tempfile.mkdtemp(prefix=f"sb-bench-{kind}-")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.database = None
        env = dict(os.environ)
        env.update({
            "SWITCHBOARD_PORT": str(self.port), "SWITCHBOARD_DATA_DIR": self.tmp, "SWITCHBOARD_DEV_MODE": "true",
            "SWITCHBOARD_LOG_LEVEL": args.log_level, "SWITCHBOARD_SQLITE_SYNCHRONOUS": args.sqlite_synchronous,
            "SWITCHBOARD_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
            # wrk's 64 connections come from one address.
            "SWITCHBOARD_MAX_CONNECTIONS_PER_ADDRESS": "0",
        })
        if any(phase.startswith("floor-") for phase in args.phases):
            env["SWITCHBOARD_BENCH_FLOOR"] = "true"
        for item in args.env:
            key, _, value = item.partition("=")
            env[key] = value
        if kind == "postgres":
            self.database = f"sbbench_{random.randrange(1 << 40)}"
            subprocess.run(["psql", args.postgres, "-qc", f"CREATE DATABASE {self.database}"], check=True)
            env["SWITCHBOARD_DATABASE_URL"] = urllib.parse.urlparse(args.postgres)._replace(path="/" + self.database).geturl()
        self.env = env
        self.proc = None

    def start(self):
        out = subprocess.run([self.args.binary, "tenant", "create", "--name", "Bench", "--email", "bench@example.com",
                              "--password", "bench-password-1"], env=self.env, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"tenant create failed: {out.stderr}")
        self.token = next(l.split(":", 1)[1].strip() for l in out.stdout.splitlines() if l.startswith("API token:"))
        self.log_path = os.path.join(self.tmp, "server.log")
        serve = self.args.wrap.split() + [self.args.binary, "serve"] + ([] if self.args.workers else ["--no-workers"])
        self.proc = subprocess.Popen(serve, env=self.env,
                                     stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT)
        wait_http(self.base + "/healthz", timeout=900 if self.args.wrap else 60)
        self.connections = {}
        for proto in ("itoolabs", "switchboard"):
            made = api(self.base, self.token, "POST", "/api/v1/pbx-connections", {"name": proto, "protocol": proto})
            cid = made["connection"]["id"]
            employee = api(self.base, self.token, "POST", f"/api/v1/pbx-connections/{cid}/employees",
                           {"login": "ivan", "extension": "101", "name": "Ivan"})
            integration = api(self.base, self.token, "POST", "/api/v1/integrations",
                              {"crm": "amocrm", "name": f"amoCRM {proto}", "pbxConnectionId": cid, "active": True,
                               "settings": {"defaultResponsibleUserId": 1}})
            api(self.base, self.token, "PUT", f"/api/v1/integrations/{integration['id']}/mappings",
                [{"crmUserId": "1", "crmUserName": "Ivan", "employeeId": employee["id"], "useForRouting": True}])
            self.connections[proto] = (cid, made["secret"])

    def sql(self, query):
        if self.kind == "postgres":
            url = self.env["SWITCHBOARD_DATABASE_URL"]
            return subprocess.run(["psql", url, "-Atc", query], capture_output=True, text=True, check=True).stdout.strip()
        return subprocess.run(["sqlite3", os.path.join(self.tmp, "switchboard.sqlite"), query],
                              capture_output=True, text=True, check=True).stdout.strip()

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.database:
            subprocess.run(["psql", self.args.postgres, "-qc", f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)"])
        if self.args.keep:
            print(f"  kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def sign_requests(path_prefix, secret, count, threads):
    """Writes `count` signed native `leg.ringing` events, split over one file per wrk thread."""
    ts = int(time.time())
    run = f"{ts}-{random.randrange(1 << 30)}"
    files = [open(f"{path_prefix}.{t}", "w") for t in range(threads)]
    occurred = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts - 1))
    key = secret.encode()
    for n in range(count):
        body = ('{"event_id":"e-%s-%d","type":"leg.ringing","call_id":"n-%s-%d","occurred_at":"%s",'
                '"direction":"inbound","client_number":"79161234567","line_number":"74951234567",'
                '"employee":{"login":"ivan","extension":"101"}}') % (run, n, run, n, occurred)
        sig = hmac.new(key, f"{ts}.{body}".encode(), hashlib.sha256).hexdigest()
        files[n % threads].write(f"{ts}\tsha256={sig}\t{body}\n")
    for f in files:
        f.close()


def cpu_seconds(pids):
    """utime + stime of the processes, in seconds."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pids():
    out = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def run_wrk(args, store, name, lua, env):
    script = os.path.join(store.tmp, f"{name}.lua")
    with open(script, "w") as f:
        f.write(lua)
    full_env = dict(os.environ, **env)
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "10s",
           "-s", script, store.base]
    pg = postgres_pids() if store.kind == "postgres" else []
    server0, pg0 = cpu_seconds([store.proc.pid]), cpu_seconds(pg)
    out = subprocess.run(cmd, env=full_env, capture_output=True, text=True)
    server_cpu, pg_cpu = cpu_seconds([store.proc.pid]) - server0, cpu_seconds(pg) - pg0
    line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk gave no result:\n{out.stdout}\n{out.stderr}")
    result = json.loads(line[len("RESULT "):])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = result["non2xx"] + result["connect"] + result["read"] + result["write"] + result["timeout"]
    # CPU time per request: the server's, and PostgreSQL's (all its processes, other users' too).
    result["server_us"] = server_cpu * 1e6 / max(1, result["requests"])
    result["pg_us"] = pg_cpu * 1e6 / max(1, result["requests"]) if pg else None
    return result


def ms(us):
    return f"{us / 1000:.2f}"


def bench_store(args, kind):
    store = Store(args, kind)
    rows = []
    try:
        store.start()
        print(f"\n== {kind} (load average before: {load_average()}; server log: {store.log_path})", flush=True)
        results = {}
        for phase in args.phases:
            if phase == "healthz":
                r = run_wrk(args, store, phase, LUA_HEALTHZ, {})
            elif phase == "itoolabs":
                cid, secret = store.connections["itoolabs"]
                r = run_wrk(args, store, phase, LUA_ITOOLABS,
                            {"BENCH_PATH": f"/pbx/itoolabs/{cid}", "BENCH_TOKEN": urllib.parse.quote(secret),
                             "BENCH_COLLIDE": "1" if args.collide else "0"})
            elif phase in FLOORS:
                cid, secret = store.connections["switchboard"]
                prefix = os.path.join(store.tmp, "signed")
                sign_requests(prefix, secret, args.signed, args.threads)
                r = run_wrk(args, store, phase, LUA_NATIVE,
                            {"BENCH_PATH": "/bench/floor/" + phase.split("-", 1)[1], "BENCH_SIGNED": prefix})
            elif phase == "native":
                cid, secret = store.connections["switchboard"]
                prefix = os.path.join(store.tmp, "signed")
                sign_requests(prefix, secret, args.signed, args.threads)
                r = run_wrk(args, store, phase, LUA_NATIVE, {"BENCH_PATH": f"/pbx/events/{cid}", "BENCH_SIGNED": prefix})
                if r["requests"] > args.signed:
                    print(f"  warning: native sent {r['requests']} requests but only {args.signed} were signed; "
                          "raise --signed", flush=True)
            results[phase] = r
            time.sleep(args.pause)
        healthz = results.get("healthz")
        for phase, r in results.items():
            ratio = f"{r['rps'] / healthz['rps']:.2f}" if healthz else "-"
            stored = ""
            if phase in ("floor-append", "floor-keyed"):
                n = int(store.sql(f"SELECT COUNT(*) FROM bench_floor_{phase.split('-', 1)[1]}"))
                acked = r["requests"] - r["non2xx"]
                stored = f"{n}" + (f" (LOST {acked - n})" if n < acked else "")
            if phase in ("itoolabs", "native"):
                cid = store.connections["itoolabs" if phase == "itoolabs" else "switchboard"][0]
                n = int(store.sql(f"SELECT COUNT(*) FROM call_events WHERE pbx_connection_id = '{cid}'"))
                acked = r["requests"] - r["non2xx"]
                # wrk stops counting at the deadline; answers still in flight then are stored but not counted.
                # With --collide both threads send each call id, so about half the events are duplicates.
                lost = not args.collide and n < acked
                stored = f"{n}" + (f" (LOST {acked - n})" if lost else "")
            cpu = f"{r['server_us']:.0f}" + (f"+{r['pg_us']:.0f}" if r["pg_us"] is not None else "")
            rows.append((kind, phase, f"{r['rps']:.0f}", ratio, ms(r["p50_us"]), ms(r["p99_us"]), ms(r["p999_us"]),
                         str(r["errors"]), stored, cpu))
        print(f"  load average after: {load_average()}", flush=True)
        errors = subprocess.run(["grep", "-c", "-E", "error|Unrecognised|overloaded", store.log_path],
                                capture_output=True, text=True).stdout.strip()
        if errors and errors != "0":
            print(f"  server log lines with error/overloaded: {errors}", flush=True)
    finally:
        store.stop()
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", default=os.path.join(ROOT, ".build/release/switchboard"))
    p.add_argument("--no-build", action="store_true", help="use the binary as it is")
    p.add_argument("--stores", default="sqlite,postgres")
    p.add_argument("--phases", default=",".join(PHASES))
    p.add_argument("--postgres", default=os.environ.get("SWITCHBOARD_BENCH_POSTGRES_URL", "postgres://sb:sb@127.0.0.1:5432/sb"),
                   help="a PostgreSQL server where this role may create databases")
    p.add_argument("--duration", type=int, default=10, help="seconds per phase")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--pause", type=float, default=1.0, help="seconds between phases")
    p.add_argument("--signed", type=int, default=0, help="native requests to sign beforehand (default: 25k per second)")
    p.add_argument("--sqlite-synchronous", default="FULL")
    p.add_argument("--log-level", default="info")
    p.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server (repeatable)")
    p.add_argument("--workers", action="store_true", help="run the delivery workers too (the jobs then fail: no CRM)")
    p.add_argument("--collide", action="store_true",
                   help="ITooLabs: every wrk thread sends the same call ids (concurrent events of one call)")
    p.add_argument("--wrap", default="", help="a command the server runs under, e.g. "
                   "'valgrind --tool=callgrind --callgrind-out-file=/tmp/sb.callgrind' (then use a short, light run)")
    p.add_argument("--keep", action="store_true", help="keep the data directories and logs")
    args = p.parse_args()
    args.phases = args.phases.split(",")
    unknown = [phase for phase in args.phases if phase not in PHASES]
    if unknown:
        raise SystemExit(f"unknown phase {', '.join(unknown)}; phases: {', '.join(PHASES)}")
    args.signed = args.signed or 25_000 * args.duration
    if not shutil.which("wrk"):
        raise SystemExit("wrk is required (apt-get install wrk)")
    if not args.no_build:
        print("building the release binary (swift build -c release --product switchboard)…", flush=True)
        subprocess.run(["swift", "build", "-c", "release", "--product", "switchboard"], cwd=ROOT, check=True)
    print(f"{os.cpu_count()} CPUs; wrk -t{args.threads} -c{args.connections} -d{args.duration}s per phase; "
          f"SQLite synchronous={args.sqlite_synchronous}; load average {load_average()}", flush=True)
    rows = []
    for kind in args.stores.split(","):
        rows += bench_store(args, kind)
    header = ("store", "phase", "req/s", "ratio", "p50 ms", "p99 ms", "p99.9 ms", "errors", "stored", "cpu µs/req")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    print()
    for r in [header] + rows:
        print("  ".join(str(v).rjust(w) for v, w in zip(r, widths)))


if __name__ == "__main__":
    main()
