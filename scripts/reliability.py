#!/usr/bin/env python3
"""Switchboard's reliability drill, from outside: a real `switchboard serve` process, the amoCRM sandbox, and
ITooLabs events posted as a PBX would post them.

Scenarios (each on SQLite, and on PostgreSQL with --postgres):
  kill      kill -9 the server again and again while calls stream in and while their jobs run; restart it at once.
            Checks: every acknowledged event is stored; every call's records exist exactly once in amoCRM.
  term      SIGTERM under load. Checks: no request on a kept-alive connection is cut without an answer,
            every acknowledged event is stored, the jobs in hand are handed back and later finish.
  outage    amoCRM answers 503 for a while, then 429 storms. Checks: every record delivered exactly once, the
            order contact/deal -> call log -> task held per call, and outside the storms amoCRM never counted
            more than its limit (the sandbox's own 429 count).

Usage:
  python3 scripts/reliability.py [--binary .build/debug/switchboard] [--postgres postgres://sb:sb@127.0.0.1:5432/sb]
                                 [--calls 200] [--scenarios kill,term,outage]
Prints one line per scenario and store; exits non-zero if any check fails.
"""
import argparse
import base64
import http.client
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from sbdrive import api, free_port, wait_http

EMPLOYEES = [("anna", "101", 8001), ("boris", "102", 8002), ("vera", "103", 8003)]


class Store:
    """Reads Switchboard's storage directly, to check what was acknowledged against what was kept."""

    def __init__(self, data_dir, postgres):
        self.data_dir, self.postgres = data_dir, postgres

    def rows(self, sql):
        if self.postgres:
            out = subprocess.run(["psql", self.postgres, "-qtAF", "\t", "-c", sql], capture_output=True, text=True, check=True)
            return [line.split("\t") for line in out.stdout.splitlines() if line]
        con = sqlite3.connect(os.path.join(self.data_dir, "switchboard.sqlite"))
        try:
            return [list(map(str, r)) for r in con.execute(sql).fetchall()]
        finally:
            con.close()


class Server:
    def __init__(self, binary, port, env, log_path):
        self.binary, self.port, self.env, self.log_path = binary, port, env, log_path
        self.proc = None

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "serve"], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        wait_http(f"http://127.0.0.1:{self.port}/healthz")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def term(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=120)


class Drill:
    def __init__(self, args, store_name, postgres_url):
        self.args = args
        self.store_name = store_name
        self.tmp = tempfile.mkdtemp(prefix="sb-reliability-")
        self.port, self.sandbox_port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.sandbox = f"http://127.0.0.1:{self.sandbox_port}"
        self.postgres = None
        if postgres_url:
            name = "sbrel_" + str(random.randrange(1 << 40))
            subprocess.run(["psql", postgres_url, "-qc", f"CREATE DATABASE {name}"], check=True)
            u = urllib.parse.urlparse(postgres_url)
            self.postgres = u._replace(path="/" + name).geturl()
        env = dict(os.environ)
        env.update({
            "SWITCHBOARD_PORT": str(self.port), "SWITCHBOARD_DATA_DIR": self.tmp, "SWITCHBOARD_DEV_MODE": "true",
            "SWITCHBOARD_LOG_LEVEL": "warning", "SWITCHBOARD_SQLITE_SYNCHRONOUS": "FULL",
            "SWITCHBOARD_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
            # A drill should not wait half a minute between probes of a CRM that is back.
            "SWITCHBOARD_RETRY_BASE_MS": "200", "SWITCHBOARD_RETRY_CAP_MS": "2000", "SWITCHBOARD_JOB_LEASE_SECONDS": "4",
        })
        if self.postgres:
            env["SWITCHBOARD_DATABASE_URL"] = self.postgres
        self.env = env
        self.server = Server(args.binary, self.port, env, os.path.join(self.tmp, "server.log"))
        self.store = Store(self.tmp, self.postgres)
        self.acked = []  # (callid, type, user)
        self.refused = 0
        self.cut = 0          # requests on a kept-alive connection that got no answer
        self.down = 0         # connections refused (server down or restarting)
        self.statuses = {}    # non-2xx answers by status
        self.lock = threading.Lock()

    # -- set-up --------------------------------------------------------------------------------------------------
    def setup(self):
        sandbox_log = open(os.path.join(self.tmp, "sandbox.log"), "wb")
        # The sandbox prints its token once; line-buffer its output so the line arrives now, not at exit.
        self.sandbox_proc = subprocess.Popen(["stdbuf", "-oL", self.args.binary, "sandbox", "amocrm", "--port", str(self.sandbox_port)],
                                             stdout=subprocess.PIPE, stderr=sandbox_log, text=True)
        amo_token = None
        for line in self.sandbox_proc.stdout:
            if "long-lived token:" in line:
                amo_token = line.split("long-lived token:")[1].split(",")[0].strip()
                break
        threading.Thread(target=lambda: [None for _ in self.sandbox_proc.stdout], daemon=True).start()
        wait_http(self.sandbox + "/sandbox/state")
        out = subprocess.run([self.args.binary, "tenant", "create", "--name", "Drill", "--email", "drill@example.com",
                              "--password", "drill-password-1"], env=self.env, capture_output=True, text=True, check=True)
        self.token = next(l.split(":", 1)[1].strip() for l in out.stdout.splitlines() if l.startswith("API token:"))
        self.server.start()
        setup = api(self.base, self.token, "POST", "/api/v1/pbx-connections", {"name": "PBX", "protocol": "itoolabs"})
        self.connection = setup["connection"]["id"]
        self.crm_token = setup["secret"]
        cred = api(self.base, self.token, "POST", "/api/v1/credentials",
                   {"crm": "amocrm", "name": "sandbox", "baseURL": self.sandbox, "authKind": "token", "token": amo_token})
        rule = lambda action, **kw: dict({"enabled": True, "action": action}, **kw)
        settings = {
            "defaultResponsibleUserId": 8003,
            "incoming": {"answeredUnknown": rule("contactAndDeal", pipelineId=7001, statusId=70011),
                         "missedUnknown": rule("unsorted", pipelineId=7001),
                         "answeredKnown": rule("deal", pipelineId=7001, statusId=70011),
                         "missedKnown": rule("deal", pipelineId=7001, statusId=70011),
                         "tags": True, "taskForAnswerer": True},
        }
        integ = api(self.base, self.token, "POST", "/api/v1/integrations",
                    {"crm": "amocrm", "name": "amoCRM", "credentialId": cred["id"], "pbxConnectionId": self.connection,
                     "active": True, "settings": settings})
        mappings = []
        for login, ext, user in EMPLOYEES:
            e = api(self.base, self.token, "POST", f"/api/v1/pbx-connections/{self.connection}/employees",
                    {"login": login, "extension": ext, "name": login})
            mappings.append({"crmUserId": str(user), "crmUserName": login, "employeeId": e["id"], "useForRouting": True})
        api(self.base, self.token, "PUT", f"/api/v1/integrations/{integ['id']}/mappings", mappings)

    def close(self):
        try:
            self.server.term()
        except Exception:
            pass
        self.sandbox_proc.kill()
        if self.postgres:
            subprocess.run(["psql", self.args.postgres, "-qc",
                            f"DROP DATABASE IF EXISTS {urllib.parse.urlparse(self.postgres).path[1:]} WITH (FORCE)"])

    # -- load ----------------------------------------------------------------------------------------------------
    def call_steps(self, n):
        callid = f"drill-{self.store_name}-{n}-{random.randrange(1 << 30)}"
        phone = f"7916{n:07d}"
        login, ext, _ = EMPLOYEES[n % len(EMPLOYEES)]
        base = {"callid": callid, "phone": phone, "user": login, "ext": ext, "diversion": "74951234567", "direction": "in"}
        start = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 60))
        return [dict(base, cmd="event", type=t) for t in ("INCOMING", "ACCEPTED", "COMPLETED")] + [
            dict(base, cmd="history", type="in", status="Success", duration="42", start=start,
                 link=f"https://pbx.example/rec/{callid}.mp3")]

    def post(self, conn_holder, fields):
        """Posts one event on a kept-alive connection; returns the status, or None if there was no answer. A request
        cut on a connection the server had kept alive (an answer it never sent) is counted apart from a refused
        connection (the server is down or restarting)."""
        body = urllib.parse.urlencode(dict(fields, crm_token=self.crm_token))
        conn = conn_holder.get("c")
        reused = conn is not None
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            conn_holder["c"] = conn
        try:
            conn.request("POST", f"/pbx/itoolabs/{self.connection}", body,
                         {"Content-Type": "application/x-www-form-urlencoded"})
            r = conn.getresponse()
            r.read()
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn_holder["c"] = None
            if not 200 <= r.status < 300:
                with self.lock:
                    self.statuses[r.status] = self.statuses.get(r.status, 0) + 1
            return r.status
        except ConnectionRefusedError:
            with self.lock:
                self.down += 1
        except (ConnectionError, http.client.HTTPException, socket.timeout, OSError):
            with self.lock:
                if reused:
                    self.cut += 1
                else:
                    self.down += 1
        conn.close()
        conn_holder["c"] = None
        return None

    def stream_calls(self, first, count, workers=16, pause=0.0):
        """Plays `count` calls from `workers` PBX connections; an event the server did not acknowledge is sent
        again (a PBX retries), and only acknowledged ones are counted."""
        def play(n):
            holder = {}
            for fields in self.call_steps(n):
                for _ in range(200):
                    status = self.post(holder, fields)
                    if status is not None and 200 <= status < 300:
                        with self.lock:
                            self.acked.append((fields["callid"], fields.get("type"), fields["cmd"]))
                        break
                    with self.lock:
                        self.refused += 1
                    time.sleep(0.1)
                if pause:
                    time.sleep(pause)
            if holder.get("c"):
                holder["c"].close()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(play, range(first, first + count)))

    # -- checks --------------------------------------------------------------------------------------------------
    def wait_drained(self, timeout=600):
        deadline = time.time() + timeout
        while time.time() < deadline:
            rows = self.store.rows("SELECT state, COUNT(*) FROM jobs GROUP BY state")
            counts = {r[0]: int(r[1]) for r in rows}
            if counts.get("queued", 0) == 0 and counts.get("running", 0) == 0:
                return counts
            time.sleep(0.5)
        raise RuntimeError(f"jobs did not drain: {counts}")

    def lost_events(self):
        stored = {}
        for callid, n in self.store.rows("""
                SELECT a.external_id, COUNT(e.id) FROM call_aliases a JOIN call_events e ON e.call_id = a.call_id
                GROUP BY a.external_id"""):
            stored[callid] = int(n)
        acked = {}
        for callid, _, _ in set(self.acked):
            acked[callid] = acked.get(callid, 0) + 1
        return sum(max(0, n - stored.get(c, 0)) for c, n in acked.items()), len(acked)

    def duplicates(self):
        state = json.load(urllib.request.urlopen(self.sandbox + "/sandbox/state"))
        def dups(items, key):
            seen = {}
            for i in items:
                k = key(i)
                seen[k] = seen.get(k, 0) + 1
            return sum(n - 1 for n in seen.values() if n > 1)
        made = [c for c in state["contacts"] if c.get("created_by_api")]
        calls = {c for c, _, _ in self.acked}
        report = {
            "contacts": dups(made, lambda c: tuple(sorted(c["phones"]))),
            "leads": dups(state["leads"], lambda l: tuple(sorted(l["contact_ids"]))),
            "call logs": dups(state["calls"], lambda c: c["uniq"]),
            "tasks": dups(state["tasks"], lambda t: (t.get("entity_type"), t.get("entity_id"))),
        }
        missing = {"contacts": len(calls) - len(made), "call logs": len(calls) - len({c["uniq"] for c in state["calls"]}),
                   "tasks": len(calls) - len({(t.get("entity_type"), t.get("entity_id")) for t in state["tasks"]})}
        return report, missing, state

    # -- scenarios -----------------------------------------------------------------------------------------------
    def kill_scenario(self):
        calls = self.args.calls
        stop = threading.Event()
        kills = [0]

        def killer():
            while not stop.is_set():
                time.sleep(random.uniform(1.0, 2.5))
                if stop.is_set():
                    break
                self.server.kill9()
                kills[0] += 1
                self.server.start()
        t = threading.Thread(target=killer)
        t.start()
        self.stream_calls(0, calls)
        # Keep killing while the jobs run (mid-job, after amoCRM answered and before the answer is remembered).
        time.sleep(6)
        stop.set()
        t.join()
        counts = self.wait_drained()
        lost, total = self.lost_events()
        dups, missing, _ = self.duplicates()
        ok = lost == 0 and sum(dups.values()) == 0 and all(v == 0 for v in missing.values()) and counts.get("dead", 0) == 0
        return ok, (f"kill -9 x{kills[0]}: {total} calls, {len(self.acked)} events acknowledged, lost {lost}, "
                    f"unanswered while killed {self.cut + self.down} (resent), non-2xx {self.statuses}, "
                    f"duplicates {dups}, missing {missing}, jobs {counts}")

    def term_scenario(self):
        calls = self.args.calls
        result = {}

        def terminate():
            time.sleep(2.0)
            t0 = time.time()
            result["rc"] = self.server.term()
            result["seconds"] = time.time() - t0
            self.server.start()
        t = threading.Thread(target=terminate)
        t.start()
        self.stream_calls(0, calls)
        t.join()
        counts = self.wait_drained()
        lost, total = self.lost_events()
        dups, missing, _ = self.duplicates()
        ok = (lost == 0 and sum(dups.values()) == 0 and counts.get("dead", 0) == 0 and result.get("rc") == 0
              and self.cut == 0 and not self.statuses)
        return ok, (f"SIGTERM under load: exit {result.get('rc')} after {result.get('seconds', 0):.1f}s, {total} calls, "
                    f"{len(self.acked)} acknowledged, lost {lost}, cut on kept-alive connections {self.cut}, "
                    f"refused while down {self.down} (resent), non-2xx {self.statuses}, duplicates {dups}, jobs {counts}")

    def outage_scenario(self):
        calls = self.args.calls
        def outage(status, seconds):
            req = urllib.request.Request(self.sandbox + "/sandbox/outage", method="POST",
                                         data=json.dumps({"status": status, "seconds": seconds}).encode())
            urllib.request.urlopen(req).read()
        outage(503, 8)
        self.stream_calls(0, calls // 2)
        time.sleep(8)
        for _ in range(3):
            outage(429, 1.5)
            time.sleep(3)
        self.stream_calls(calls // 2, calls - calls // 2)
        counts = self.wait_drained()
        lost, total = self.lost_events()
        dups, missing, state = self.duplicates()
        ok = lost == 0 and sum(dups.values()) == 0 and all(v == 0 for v in missing.values()) and counts.get("dead", 0) == 0
        return ok, (f"outage 8s + three 429 storms: {total} calls, lost {lost}, duplicates {dups}, missing {missing}, "
                    f"sandbox 429s outside storms {state['rejected429']}, jobs {counts}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", default=".build/debug/switchboard")
    p.add_argument("--postgres")
    p.add_argument("--calls", type=int, default=150)
    p.add_argument("--scenarios", default="kill,term,outage")
    args = p.parse_args()
    stores = [("sqlite", None)] + ([("postgres", args.postgres)] if args.postgres else [])
    failed = False
    for scenario in args.scenarios.split(","):
        for store_name, url in stores:
            drill = Drill(args, store_name, url)
            try:
                drill.setup()
                ok, line = getattr(drill, scenario + "_scenario")()
            except Exception as e:  # a drill that cannot run is a failure too
                ok, line = False, f"{scenario} could not run: {e!r} (logs in {drill.tmp})"
            finally:
                drill.close()
            failed |= not ok
            print(f"[{'ok' if ok else 'FAIL'}] {store_name:8} {line}", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
