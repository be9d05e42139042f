#!/usr/bin/env python3
"""onewindowd's HTTP front as a real process: sign-in with the auth file's
tokens, a submission, a refusal by role, /metrics, /healthz, /readyz and a
clean stop on SIGTERM.

  onewindowd_http_test.py ONEWINDOWD WORKFLOWS_DIR
"""
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request


_given = set()


def free_port():
    """A port below the ephemeral range (which outgoing connections of
    tests running in parallel also draw from) that binds now."""
    import random
    low = 32768
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    hi = max(low - 1, 10001)
    lo = max(10000, hi - 12000)
    for _ in range(200):
        port = random.randint(lo, hi)
        if port in _given:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url, token=None, body=None):
    req = urllib.request.Request(url, data=body)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


def main():
    onewindowd, workflows = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="ow-http-")
    auth = os.path.join(tmp, "auth.yaml")
    sha = lambda t: hashlib.sha256(t.encode()).hexdigest()
    with open(auth, "w") as f:
        f.write("principals:\n"
                f"  - {{name: clerk, role: counter, token_sha256: {sha('tc')}}}\n"
                f"  - {{name: sup, role: supervisor, token_sha256: {sha('ts')}}}\n")
    grpc_port, http_port = free_port(), free_port()
    log = open(os.path.join(tmp, "onewindowd.log"), "w")
    p = subprocess.Popen([onewindowd, "--data-dir", os.path.join(tmp, "data"),
                          "--listen", f"127.0.0.1:{grpc_port}",
                          "--http-listen", f"127.0.0.1:{http_port}",
                          "--auth-file", auth, "--workflows", workflows],
                         stdout=log, stderr=log)
    base = f"http://127.0.0.1:{http_port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                if call(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            check(time.time() < deadline and p.poll() is None,
                  "onewindowd serves /healthz")
            time.sleep(0.1)
        check(call(base + "/readyz")[0] == 200, "/readyz is 200")
        status, body = call(base + "/api/v1/whoami")
        check(status == 401 and json.loads(body)["code"] == "UNAUTHENTICATED",
              "no token: 401 " + body)
        status, body = call(base + "/api/v1/whoami", "tc")
        check(status == 200 and json.loads(body)["role"] == "counter", body)
        with open(os.path.join(workflows,
                               "birth-registration.input.json")) as f:
            req = {"service": "birth-registration", "input_json": f.read()}
        status, body = call(base + "/api/v1/cases", "tc",
                            json.dumps(req).encode())
        check(status == 200, "submit: " + body)
        case_id = json.loads(body)["case_id"]
        status, body = call(base + "/api/v1/board", "tc")
        check(status == 403 and json.loads(body)["code"] ==
              "PERMISSION_DENIED", "counter on the board: " + body)
        status, body = call(base + "/api/v1/cases/" + case_id, "ts")
        check(status == 200 and json.loads(body)["case"]["id"] == case_id,
              "supervisor reads the case: " + body)
        status, body = call(base + "/metrics")
        check(status == 200, "/metrics")
        samples = [l for l in body.splitlines() if l and not l.startswith("#")]
        for line in samples:
            float(line.rsplit(" ", 1)[1])  # every sample ends in a number
        check(any(l.startswith("onewindow_cases_submitted_total{") and
                  'service="birth-registration"' in l and l.endswith(" 1")
                  for l in samples), "submitted counter in /metrics")
        p.send_signal(signal.SIGTERM)
        check(p.wait(timeout=15) == 0, "SIGTERM: exit 0")
    finally:
        if p.poll() is None:
            p.kill()
    print("ok")


if __name__ == "__main__":
    main()
