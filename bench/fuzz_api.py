"""API fuzzing: schemathesis against the live OpenAPI spec of a real hub, with a token.

Starts `oneteam serve` (the demo home's virtual appliances, every optional part the hub starts by
default) on a free port, runs schemathesis' examples, coverage and fuzzing phases against its
/openapi.json until the time budget is spent, and prints how many requests were sent and how many
answers were 5xx. The bar is zero 5xx and no traceback in the hub's log; the spec conformance
checks (status codes, response schemas) are reported beside it.

Run: `.venv/bin/python bench/fuzz_api.py` (or `make fuzz`); `--max-time 200 --min-requests 20000`
is the long run, CI runs a bounded one. Exit 1 on any 5xx, a traceback, or fewer requests than asked.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import free_port, wait_http

HOOKS = Path(__file__).resolve().parent / "fuzz_hooks.py"
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-time", type=int, default=200, help="seconds of fuzzing")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--min-requests", type=int, default=0, help="fail below this many requests")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="oneteam-fuzz-"))
    data_dir = work / "hub"
    env = {**os.environ, "ONETEAM_VOICE": "0", "ONETEAM_LANG": "en"}
    created = subprocess.run(
        [sys.executable, "-m", "oneteam", "token", "create", "--json", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    token = json.loads(created.stdout)["token"]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = work / "hub.log"
    with log_path.open("wb") as log:
        hub = subprocess.Popen(
            [sys.executable, "-m", "oneteam", "serve", "--port", str(port), "--data-dir", str(data_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            wait_http(f"{url}/healthz", timeout_s=60)
            counts_path = work / "counts.json"
            command = [
                str(Path(sys.executable).parent / "schemathesis"),
                "run",
                f"{url}/openapi.json",
                "--header",
                f"Authorization: Bearer {token}",
                "--checks",
                CHECKS,
                "--phases",
                "examples,coverage,fuzzing",
                "--workers",
                str(args.workers),
                "--max-time",
                str(args.max_time),
                "--request-timeout",
                "30",
                "--suppress-health-check",
                "all",
                "--continue-on-failure",
                "--no-color",
                *(["--seed", str(args.seed)] if args.seed is not None else []),
            ]
            started = time.monotonic()
            run = subprocess.run(
                command,
                capture_output=True,
                text=True,
                env={**env, "SCHEMATHESIS_HOOKS": str(HOOKS), "ONETEAM_FUZZ_COUNTS": str(counts_path)},
                cwd=work,  # schemathesis keeps a cache folder where it runs: not in the repository
                check=False,
            )
            elapsed = time.monotonic() - started
        finally:
            hub.terminate()
            hub.wait(timeout=30)
    counts = (
        {int(k): v for k, v in json.loads(counts_path.read_text()).items()} if counts_path.exists() else {}
    )
    sent = sum(counts.values())
    server_errors = sum(v for k, v in counts.items() if k >= 500)
    tracebacks = log_path.read_text(errors="replace").count("Traceback")
    failures = re.findall(r"^\s*❌ (ST\d+ [^:]+): (\d+)$", run.stdout, flags=re.MULTILINE)
    rate = sent / max(elapsed, 1e-9)
    print(f"requests sent: {sent} in {elapsed:.0f} s ({rate:.0f} req/s, {args.workers} workers)")
    print(f"5xx answers: {server_errors}; tracebacks in the hub log: {tracebacks}")
    print("by status: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    for name, number in failures:
        print(f"schemathesis: {name}: {number}")
    if server_errors or tracebacks or sent < args.min_requests or not counts:
        print(run.stdout[-6000:], file=sys.stderr)
        print(f"hub log: {log_path}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
