"""Many homes' language understanding in one process (issue #21): memory and first-utterance time
per home with the cluster's `conversation` part on, one shared Kiwi analyser vs one per home.

Run: `.venv/bin/python bench/bench_many_homes_nlu.py [--homes 200] [--old-homes 12]`.

Each figure comes from a fresh child process, all in the same run, taken in turn:
- one home (the anchor): what the first home costs, the shared analyser included;
- `--homes` homes on this tree: one analyser shared by every home;
- `--old-homes` homes on the tree at `--old-ref` (the last commit with one Kiwi per home, an
  `lru_cache` of 8 keyed by the home's names), extracted with `git archive`.
Every home is shared/eval/home.yaml with its air purifier given a made-up nickname of its own
("쌩쌩이", "뽀송둥이", …), so no two homes have the same names. A child opens each home's hub
(SQLite file, virtual devices) as a cluster process does, then the `conversation` part
(`oneteam.cluster.host._conversation`: the dialog and its analyser, warmed up), then sends each
home's first sentence, "<nickname> 켜 줘", through `Hub.converse` and checks that it turned that
home's purifier on. RSS is read from /proc before and after the conversation parts.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, SHARED, machine, percentile

OLD_REF = "01f417b~1"
"""The last commit whose tokens.py built one Kiwi per set of home names (tokens.py `_kiwi`): the
parent of the one that made the analyser shared."""
FIRST = ["쌩", "뽀", "보", "말", "꿀", "짱", "콩", "똘", "몽", "빵"]
SECOND = ["쌩", "송", "들", "랑", "실", "총", "글", "돌", "롱", "찌"]
ENDINGS = ["이", "둥이"]


def nicknames(count: int) -> list[str]:
    """`count` distinct made-up names (200 at most)."""
    names = [a + b + end for end in ENDINGS for a in FIRST for b in SECOND]
    if count > len(names):
        raise SystemExit(f"at most {len(names)} homes")
    return names[:count]


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def child(count: int, folder: Path) -> dict[str, Any]:
    """Open `count` homes, then their conversation parts, then one sentence each."""
    from kiwipiepy import Kiwi

    import oneteam
    from oneteam.cluster.host import _conversation
    from oneteam.hub import Hub, parse_home
    from oneteam.hub.sqlite_store import SqliteStorage
    from oneteam.integrations.virtual import VirtualAdapter

    base = (SHARED / "eval" / "home.yaml").read_text(encoding="utf-8")
    names = nicknames(count)
    hubs: list[Hub] = []
    async with AsyncExitStack() as stack:
        rss_start = rss_mib()
        for i, nickname in enumerate(names):
            text = base.replace("names: [공기청정기, 퓨리케어,", f"names: [공기청정기, 퓨리케어, {nickname},")
            home = parse_home(text, f"home {i}")
            hub = Hub(home, SqliteStorage(folder / f"home{i}.db"))
            await hub.add_adapter(VirtualAdapter(home))
            await stack.enter_async_context(hub)
            hubs.append(hub)
        rss_hubs = rss_mib()
        opened: list[float] = []
        for hub in hubs:
            start = time.perf_counter()
            await _conversation(hub)
            opened.append(time.perf_counter() - start)
        rss_parts = rss_mib()
        first: list[float] = []
        wrong = 0
        for hub, nickname in zip(hubs, names, strict=True):
            start = time.perf_counter()
            reply = await hub.converse(f"{nickname} 켜 줘")
            first.append(time.perf_counter() - start)
            wrong += reply.done != [{"device": "purifier", "command": "turn_on"}]
        rss_end = rss_mib()
        gc.collect()
        analysers = sum(isinstance(o, Kiwi) for o in gc.get_objects())
    return {
        "homes": count,
        "rss_start": rss_start,
        "rss_hubs": rss_hubs,
        "rss_parts": rss_parts,
        "rss_end": rss_end,
        "opened": opened,
        "first": first,
        "wrong": wrong,
        "analysers": analysers,
        "package": str(Path(oneteam.__file__).parent),
    }


def run_child(count: int, tree: Path | None) -> dict[str, Any]:
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)  # searched before the editable install of this tree
    with tempfile.TemporaryDirectory() as folder:
        env["ONETEAM_CACHE_DIR"] = folder  # each child starts with no Kiwi noun cache
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(count), "--folder", folder],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    if done.returncode != 0:
        raise SystemExit(f"child ({count} homes, tree {tree or 'this'}) failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def old_tree(ref: str, folder: Path) -> Path:
    """The `oneteam` package as it was at `ref`."""
    archive = folder / "old.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(REPO), "archive", ref, "oneteam"], stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder / "tree", filter="data")
    return folder / "tree"


def report(label: str, got: dict[str, Any], anchor: dict[str, Any] | None) -> None:
    homes = got["homes"]
    parts = got["rss_parts"] - got["rss_hubs"]
    line = f"{label:34} {homes:4} homes  conversation parts {parts:7.0f} MiB"
    if anchor is not None and homes > 1:
        extra = (parts - (anchor["rss_parts"] - anchor["rss_hubs"])) / (homes - 1)
        line += (
            f" = one home's {anchor['rss_parts'] - anchor['rss_hubs']:.0f} + {extra:.2f} MiB per further home"
        )
    print(line)
    pad = " " * 34
    print(
        f"{pad} RSS: {got['rss_start']:.0f} MiB at start, {got['rss_hubs']:.0f} with the hubs open, "
        f"{got['rss_parts']:.0f} with their conversation parts, {got['rss_end']:.0f} after a sentence each; "
        f"Kiwi analysers alive: {got['analysers']}"
    )
    opened, first = [t * 1000 for t in got["opened"]], [t * 1000 for t in got["first"]]
    if homes > 1:
        print(
            f"{pad} open conversation part: first home {opened[0]:.0f} ms, others "
            f"p50 {percentile(opened[1:], 50):.1f} ms p99 {percentile(opened[1:], 99):.1f} ms"
        )
    else:
        print(f"{pad} open conversation part: {opened[0]:.0f} ms")
    print(
        f"{pad} first sentence per home: p50 {percentile(first, 50):.1f} ms  "
        f"p99 {percentile(first, 99):.1f} ms  max {max(first):.1f} ms; "
        f"{homes - got['wrong']}/{homes} turned their own purifier on"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", type=int, default=200)
    parser.add_argument("--old-homes", type=int, default=12, help="homes on the per-home tree (0: skip)")
    parser.add_argument("--old-ref", default=OLD_REF)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(asyncio.run(child(args.child, args.folder))))
        return
    print(f"machine: {machine()}, load average {os.getloadavg()[0]:.1f} at start")
    one = run_child(1, None)
    report("one home (anchor), shared analyser", one, None)
    many = run_child(args.homes, None)
    report("shared analyser (this tree)", many, one)
    if args.old_homes:
        with tempfile.TemporaryDirectory() as folder:
            tree = old_tree(args.old_ref, Path(folder))
            old = run_child(args.old_homes, tree)
            if not old["package"].startswith(folder):
                raise SystemExit(f"the old tree was not the one imported: {old['package']}")
        report(f"one Kiwi per home ({args.old_ref})", old, one)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
