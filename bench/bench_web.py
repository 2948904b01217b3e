"""The home page in headless Chromium: click-to-card latency and page weight.

Click-to-card: `performance.now()` in the page from a switch's click to the card's state text
changing (REST command, hub dispatch, answer, DOM update). Anchors measured in the same run and the
same page: the raw REST round trip (`fetch` of the same command, no DOM), and the push path (a command
sent by another client, until the WebSocket event has changed the card). Page weight: the bytes the
browser received for the page's own files on a cold load (gzip), beside their uncompressed size.

Run: `.venv/bin/python bench/bench_web.py` (needs chromium + chromium-driver from the system).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import machine, percentile, start_hub_process

from tests.web.browser import browser_paths, quit_chromium, sign_in, start_chromium

ROUNDS = 200
WARMUP = 20

# Click a device's switch and resolve with the ms until its state headline changes.
CLICK_JS = """
const [id, done] = arguments;
const headline = document.querySelector(`[data-testid="state-${id}"] .state-main`);
const before = headline.textContent;
const observer = new MutationObserver(() => {
  if (headline.textContent !== before) { observer.disconnect(); done(performance.now() - start); }
});
observer.observe(headline, { childList: true, characterData: true, subtree: true });
setTimeout(() => { observer.disconnect(); done(-1); }, 5000);
const start = performance.now();
document.querySelector(`[data-testid="toggle-${id}"]`).click();
"""

# The same kind of command as a bare fetch from the page: the REST round trip with no DOM work.
FETCH_JS = """
const [id, command, done] = arguments;
const start = performance.now();
fetch(`/api/devices/${id}/commands`, {
  method: "POST",
  headers: {
    Authorization: `Bearer ${sessionStorage.getItem("oneteam.token")}`,
    "Content-Type": "application/json",
  },
  body: JSON.stringify({ command }),
}).then((r) => r.json()).then(() => done(performance.now() - start), () => done(-1));
"""

# Another client commands a device (a fetch whose answer the page ignores); ms until the card changed
# through the WebSocket event alone.
PUSH_JS = """
const [id, done] = arguments;
const headline = document.querySelector(`[data-testid="state-${id}"] .state-main`);
const before = headline.textContent;
const toggle = document.querySelector(`[data-testid="toggle-${id}"]`);
const command = toggle.getAttribute("aria-checked") === "true" ? "turn_off" : "turn_on";
const observer = new MutationObserver(() => {
  if (headline.textContent !== before) { observer.disconnect(); done(performance.now() - start); }
});
observer.observe(headline, { childList: true, characterData: true, subtree: true });
setTimeout(() => { observer.disconnect(); done(-1); }, 5000);
const start = performance.now();
fetch(`/api/devices/${id}/commands`, {
  method: "POST",
  headers: {
    Authorization: `Bearer ${sessionStorage.getItem("oneteam.token")}`,
    "Content-Type": "application/json",
  },
  body: JSON.stringify({ command }),
});
"""

WEIGHT_JS = """
return performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource"))
  .filter((e) => !new URL(e.name).pathname.startsWith("/api/"))
  .map((e) => ({
    name: new URL(e.name).pathname,
    transfer: e.transferSize,
    encoded: e.encodedBodySize,
    decoded: e.decodedBodySize,
  }));
"""


def _line(label: str, values_ms: list[float]) -> str:
    p50, p99 = percentile(values_ms, 50), percentile(values_ms, 99)
    return f"  {label:<44} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   (n={len(values_ms)})"


def main() -> None:
    if browser_paths() is None:
        print("bench_web: chromium and chromium-driver are not installed; nothing measured")
        return
    process, url, token = start_hub_process()
    browser = start_chromium()
    try:
        sign_in(browser, url, token)
        weights = browser.execute_script(WEIGHT_JS)
        browser.set_script_timeout(30)
        click: list[float] = []
        rest: list[float] = []
        push: list[float] = []
        for round_no in range(WARMUP + ROUNDS):
            clicked = float(browser.execute_async_script(CLICK_JS, "light_living"))
            fetched = float(
                browser.execute_async_script(FETCH_JS, "light_bedroom", ("turn_on", "turn_off")[round_no % 2])
            )
            pushed = float(browser.execute_async_script(PUSH_JS, "light_kitchen"))
            if min(clicked, fetched, pushed) < 0:
                raise RuntimeError("a card did not change within 5 s")
            if round_no >= WARMUP:
                click.append(clicked)
                rest.append(fetched)
                push.append(pushed)
    finally:
        quit_chromium(browser)
        process.terminate()
        process.wait(10)

    print(f"bench_web — {machine()}, headless Chromium {_chromium_version()}, hub on localhost")
    print("Click-to-card latency (in-page performance.now(), localhost):")
    print(_line("switch click -> card shows new state", click))
    print(_line("anchor: REST round trip (fetch, no DOM)", rest))
    print(_line("push: other client's command -> card (WS)", push))
    # The same file can be listed twice (the logo is both favicon and image); count it once.
    files = list({w["name"]: w for w in weights if w["decoded"] > 0}.values())
    encoded = sum(w["encoded"] for w in files)
    decoded = sum(w["decoded"] for w in files)
    transfer = sum(w["transfer"] for w in files)
    print(f"Page weight, cold load, {len(files)} files (API data excluded):")
    print(f"  compressed bodies {encoded / 1024:.1f} KB, with headers {transfer / 1024:.1f} KB,", end=" ")
    print(f"uncompressed {decoded / 1024:.1f} KB")
    for w in sorted(files, key=lambda w: -w["encoded"]):
        print(f"    {w['name']:<28} {w['encoded']:>7} B gzip  {w['decoded']:>7} B")


def _chromium_version() -> str:
    paths = browser_paths()
    if paths is None:
        return "?"
    result = subprocess.run([paths[0], "--version"], capture_output=True, text=True, check=False)
    return result.stdout.strip().split(" ")[1] if result.stdout else "?"


if __name__ == "__main__":
    main()
