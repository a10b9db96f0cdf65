#!/usr/bin/env python3
"""Start-up figures of a release `toolhost` (issue 15's start-up targets), whole processes:

  1. `toolhost call cw-rmm-list-companies` with a cached artifact and the shared token: wall time,
     median of N runs (target: <= 20 ms);
  2. `toolhost mcp` (stdio): from spawn to the answer of its first `tools/list`, with a warm
     catalog, median of N runs (target: within 30 ms of start).

Usage: cargo build --release -p toolhost && python3 crates/host/benches/startup.py [N]
Talks only to 127.0.0.1 (the simulator the binary embeds). Prints JSON and writes
target/bench/startup.json.
"""
import json, os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.join(ROOT, "target", "release", "toolhost")
CLIENT_ID = "0e32sim-demo-client"
SECRET = "sim-demo-secret-not-a-real-key"
N = int(sys.argv[1]) if len(sys.argv) > 1 else 15


def run(home, *args, env=None):
    e = dict(os.environ, TOOLHOST_HOME=home, NO_COLOR="1", **(env or {}))
    return subprocess.run([BIN, *args], env=e, capture_output=True, text=True, timeout=120)


def main():
    if not os.path.exists(BIN):
        sys.exit(f"build it first: cargo build --release -p toolhost ({BIN} is missing)")
    home = tempfile.mkdtemp(prefix="toolhost-startup-")
    sim = subprocess.Popen([BIN, "simulate", "--port", "0", "--json"], stdout=subprocess.PIPE,
                           text=True, env=dict(os.environ, TOOLHOST_HOME=home))
    try:
        text = ""
        while True:
            text += sim.stdout.readline()
            try:
                url = json.loads(text)["url"]
                break
            except json.JSONDecodeError:
                continue
        out = run(home, "connect", "--client-id", CLIENT_ID, "--upstream", url,
                  env={"TOOLHOST_CLIENT_SECRET": SECRET})
        assert out.returncode == 0, out.stderr
        # Warm: the compiled artifact, the token and the catalog are cached by the first call.
        for _ in range(2):
            out = run(home, "call", "cw-rmm-list-companies")
            assert out.returncode == 0, out.stderr

        calls = []
        for _ in range(N):
            start = time.perf_counter()
            out = run(home, "call", "cw-rmm-list-companies")
            calls.append((time.perf_counter() - start) * 1000)
            assert out.returncode == 0, out.stderr

        first_list = []
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "startup-bench", "version": "1"}}}
        initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        tools = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
        for _ in range(N):
            start = time.perf_counter()
            p = subprocess.Popen([BIN, "mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True,
                                 env=dict(os.environ, TOOLHOST_HOME=home))
            p.stdin.write("\n".join(json.dumps(m) for m in (init, initialized, tools)) + "\n")
            p.stdin.flush()
            while True:
                reply = p.stdout.readline()
                if not reply:
                    raise SystemExit("toolhost mcp ended before answering tools/list")
                if json.loads(reply).get("id") == 2:
                    break
            first_list.append((time.perf_counter() - start) * 1000)
            assert "list-devices" in reply, reply[:200]
            p.stdin.close()
            p.wait(timeout=30)

        def figures(xs):
            xs = sorted(xs)
            return {"median_ms": round(statistics.median(xs), 2), "min_ms": round(xs[0], 2),
                    "max_ms": round(xs[-1], 2), "runs": len(xs)}

        result = {"call_process": figures(calls), "mcp_first_tools_list": figures(first_list)}
        os.makedirs(os.path.join(ROOT, "target", "bench"), exist_ok=True)
        with open(os.path.join(ROOT, "target", "bench", "startup.json"), "w") as f:
            json.dump(result, f, indent=2)
        print(json.dumps(result, indent=2))
    finally:
        sim.terminate()
        sim.wait(timeout=10)


main()
