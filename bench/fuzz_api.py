"""API fuzzing: schemathesis against the live OpenAPI spec of a real hub, with a token.

Starts `oneteam serve` (the demo home's virtual appliances, every optional part the hub starts by
default) on a free port, runs schemathesis' examples, coverage and fuzzing phases against its
/openapi.json until the time budget is spent, and prints how many requests were sent and how many
answers were 5xx. The bar is zero 5xx and no traceback in the hub's log; the spec conformance
checks (status codes, response schemas) are reported beside it.

Run: `.venv/bin/python bench/fuzz_api.py` (or `make fuzz`); `--max-time 1800 --min-requests 20000`
is the long run: it stops as soon as 20,000 answers are in (`--keep-going` spends the whole time),
CI runs a bounded one. Exit 1 on any 5xx, a traceback, or fewer requests than asked. The operations
that took most of the hub's time are printed, to see where a run's time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import free_port, wait_http

HOOKS = Path(__file__).resolve().parent / "fuzz_hooks.py"
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"


def main() -> int:
    args = _arguments()

    work = Path(tempfile.mkdtemp(prefix="oneteam-fuzz-"))
    data_dir = work / "hub"
    env = {**os.environ, "ONETEAM_VOICE": "0", "ONETEAM_LANG": "en"}
    token, token_id = _make_token(data_dir, env)
    env["ONETEAM_FUZZ_TOKEN_ID"] = str(token_id)  # fuzz_hooks.py keeps it from being revoked
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
            base = _schemathesis(url, token, args)
            spec = httpx.get(f"{url}/openapi.json", timeout=60).json()
            shards = _shards(spec, args.processes)
            started = time.monotonic()
            runs = _run_until(base, shards, env, work, args.min_requests if args.stop_at_min else 0)
            elapsed = time.monotonic() - started
            # A run whose token died part-way only tested 401 answers after that: it fails.
            token_alive = _token_works(url, token)
        finally:
            hub.terminate()
            hub.wait(timeout=30)
    counts: Counter[int] = Counter()
    operations: dict[str, dict[str, Any]] = {}
    for counts_path, _ in runs:
        data = json.loads(counts_path.read_text()) if counts_path.exists() else {}
        counts.update({int(k): v for k, v in data.get("status", {}).items()})
        operations.update(data.get("operations", {}))
    output = "\n".join(stdout for _, stdout in runs)
    sent = sum(counts.values())
    server_errors = sum(v for k, v in counts.items() if k >= 500)
    tracebacks = log_path.read_text(errors="replace").count("Traceback")
    failures, errors = _findings(output)
    rate = sent / max(elapsed, 1e-9)
    print(
        f"requests sent: {sent} in {elapsed:.0f} s ({rate:.0f} req/s, "
        f"{len(shards)} schemathesis processes × {args.workers} workers, {len(operations)} operations)"
    )
    print(f"5xx answers: {server_errors}; tracebacks in the hub log: {tracebacks}")
    if not token_alive:
        print("the fuzzer's token stopped working during the run (its answers were mostly 401)")
    print("by status: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    slowest = sorted(operations.items(), key=lambda item: -float(item[1]["seconds"]))[:5]
    print(
        "most hub time: " + ", ".join(f"{op} {info['seconds']:.0f} s/{info['calls']}" for op, info in slowest)
    )
    undocumented = _undocumented(spec, operations)
    print(f"statuses answered that the spec does not declare: {', '.join(undocumented) or 'none'}")
    for name, number in sorted(failures.items()):
        print(f"schemathesis: {name}: {number}")
    print(f"schemathesis errors (a phase of an operation that did not run): {errors}")
    if (
        server_errors
        or tracebacks
        or sent < args.min_requests
        or not counts
        or not token_alive
        or undocumented
        or errors
    ):
        print(output[-6000:], file=sys.stderr)
        print(f"hub log: {log_path}", file=sys.stderr)
        return 1
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-time", type=int, default=200, help="seconds of fuzzing")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker threads per schemathesis process (more than one hits CPython 3.11's 'AST "
        "constructor recursion depth mismatch' in the coverage phase, which skips operations)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=max(2, min(4, os.cpu_count() or 1)),
        help="schemathesis processes, each fuzzing its share of the paths (case generation is "
        "CPU-bound and one process keeps to one core)",
    )
    parser.add_argument("--min-requests", type=int, default=0, help="fail below this many requests")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--keep-going",
        dest="stop_at_min",
        action="store_false",
        help="fuzz for the whole --max-time even after --min-requests were sent",
    )
    return parser.parse_args()


def _schemathesis(url: str, token: str, args: argparse.Namespace) -> list[str]:
    """The schemathesis command line every shard shares."""
    return [
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
        # Examples found are not kept between runs: no disk write per case.
        "--generation-database",
        "none",
        *(["--seed", str(args.seed)] if args.seed is not None else []),
    ]


def _findings(output: str) -> tuple[Counter[str], int]:
    """Schemathesis' failed checks by name, and its own errors (a phase of an operation that could
    not run: they weaken the run, so they fail it)."""
    failures: Counter[str] = Counter()
    for name, number in re.findall(r"^\s*❌ (ST\d+ [^:]+): (\d+)$", output, flags=re.MULTILINE):
        failures[name] += int(number)
    errors = sum(int(n) for n in re.findall(r"^\s*🚫 [^:]+: (\d+)$", output, flags=re.MULTILINE))
    return failures, errors


def _make_token(data_dir: Path, env: dict[str, str]) -> tuple[str, int]:
    """A hub token made by the real CLI: the token and its id."""
    created = subprocess.run(
        [sys.executable, "-m", "oneteam", "token", "create", "--json", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    made = json.loads(created.stdout)
    return str(made["token"]), int(made["id"])


def _token_works(url: str, token: str) -> bool:
    """Whether the fuzzer's token still works (a run whose token died only tested 401 after it)."""
    answer = httpx.get(f"{url}/api/token", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    return answer.status_code == 200


def _undocumented(spec: dict[str, Any], operations: dict[str, dict[str, Any]]) -> list[str]:
    """`METHOD /path STATUS` for every status the hub answered that the operation does not declare."""
    found = []
    for operation, info in sorted(operations.items()):
        method, path = operation.split(" ", 1)
        declared = set(spec["paths"].get(path, {}).get(method.lower(), {}).get("responses", {}))
        found += [f"{operation} {status}" for status in sorted(info["status"]) if status not in declared]
    return found


def _shards(spec: dict[str, Any], processes: int) -> list[list[str]]:
    """Schemathesis' filter options that split the spec's paths over `processes` runs (round
    robin over the sorted paths), so generating cases, the fuzzer's own cost, uses several cores."""
    paths = sorted(spec["paths"])
    processes = max(1, min(processes, len(paths)))
    if processes == 1:
        return [[]]
    groups = [paths[i::processes] for i in range(processes)]
    return [["--include-path-regex", "^(" + "|".join(re.escape(p) for p in group) + ")$"] for group in groups]


def _run_until(
    base: list[str], shards: list[list[str]], env: dict[str, str], work: Path, enough: int
) -> list[tuple[Path, str]]:
    """Run one schemathesis per shard; once the hooks report `enough` answers in all (0: never),
    each is interrupted as Ctrl-C would, so it reports and writes its final counts. --max-time
    stays the ceiling. Returns each run's counts file and output."""
    runs: list[tuple[Path, Path, subprocess.Popen[str]]] = []
    for number, shard in enumerate(shards):
        counts_path, out_path = work / f"counts-{number}.json", work / f"schemathesis-{number}.out"
        with out_path.open("w") as out:
            process = subprocess.Popen(
                [*base, *shard],
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                env={**env, "SCHEMATHESIS_HOOKS": str(HOOKS), "ONETEAM_FUZZ_COUNTS": str(counts_path)},
                cwd=work,  # schemathesis keeps a cache folder where it runs: not in the repository
            )
        runs.append((counts_path, out_path, process))
    while any(process.poll() is None for _, _, process in runs):
        time.sleep(1)
        if enough and sum(_sent(counts_path) for counts_path, _, _ in runs) >= enough:
            for _, _, process in runs:
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)
            for _, _, process in runs:
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
            break
    for _, _, process in runs:
        process.wait()
    return [(counts_path, out_path.read_text(errors="replace")) for counts_path, out_path, _ in runs]


def _sent(counts_path: Path) -> int:
    try:
        return sum(json.loads(counts_path.read_text()).get("status", {}).values())
    except (OSError, ValueError):
        return 0


if __name__ == "__main__":
    sys.exit(main())
