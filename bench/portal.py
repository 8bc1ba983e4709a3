"""The portal's weight and speed: its JavaScript and CSS gzipped (fonts excluded), and
the time from navigation to the Models grid being visible in Chromium on the local stack.

    .venv/bin/python bench/portal.py [--runs 5] [--no-build] [--no-stack]

Sizes are of the built assets in hub_service/static/portal/ (built here first unless
--no-build), against the 300 KB target. Times are the median of ``--runs`` navigations
of a signed-in user, each in a fresh browser context (a cold cache) and again in the
same context (a warm one), measured from the navigation's start
(``performance.now()`` once the first model card is visible). The baseline, measured in
the same run and the same way, is the hub's own home page (/hub/home, rendered by the
hub's server, until its first button is visible): the ratio says what the portal costs
over a page the hub itself serves.
"""

from __future__ import annotations

import argparse
import gzip
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "hub_service" / "static" / "portal"
sys.path.insert(0, str(ROOT / "tests"))

SIZE_TARGET_KB = 300
TIME_TARGET_S = 1.0
PASSWORD = "bench-password"


def sizes() -> dict[str, tuple[int, int]]:
    """Raw and gzipped bytes of each script and stylesheet (not the fonts)."""
    out = {}
    for path in sorted(STATIC.glob("*")):
        if path.suffix in (".js", ".css"):
            raw = path.read_bytes()
            out[path.name] = (len(raw), len(gzip.compress(raw, compresslevel=9)))
    return out


def sign_in(browser, hub_url: str, user: str):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{hub_url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")
    page.wait_for_url(f"{hub_url}/hub/**")
    return context, page


def visible_after(page, url: str, selector: str) -> float:
    """Seconds from the start of navigating to ``url`` until ``selector`` is visible."""
    page.goto(url, wait_until="commit")
    page.locator(selector).first.wait_for(state="visible", timeout=60_000)
    return page.evaluate("performance.now()") / 1000


def timings(hub_url: str, runs: int) -> dict[str, list[float]]:
    from browser import chromium

    found: dict[str, list[float]] = {"hub home": [], "portal, cold": [], "portal, warm": []}
    with chromium() as browser:
        for _ in range(runs):
            context, page = sign_in(browser, hub_url, "bench")
            found["hub home"].append(visible_after(page, f"{hub_url}/hub/home", "#start"))
            # the first visit of the portal in this context: OAuth round trip, no cache
            found["portal, cold"].append(
                visible_after(page, f"{hub_url}/services/maas/", "article.model")
            )
            found["portal, warm"].append(
                visible_after(page, f"{hub_url}/services/maas/", "article.model")
            )
            context.close()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-build", action="store_true", help="measure the assets as built")
    parser.add_argument("--no-stack", action="store_true", help="sizes only (no local stack)")
    args = parser.parse_args()

    if not args.no_build:
        subprocess.run(["node", "build.mjs"], cwd=ROOT / "portal", check=True)
    measured = sizes()
    if not measured:
        print(f"no built assets in {STATIC}: run without --no-build", file=sys.stderr)
        return 1
    print("asset                 raw KB   gzip KB")
    for name, (raw, gz) in measured.items():
        print(f"{name:20} {raw / 1024:8.1f} {gz / 1024:9.1f}")
    total = sum(gz for _, gz in measured.values()) / 1024
    print(
        f"total gzipped: {total:.1f} KB = {total / SIZE_TARGET_KB:.2f} x the "
        f"{SIZE_TARGET_KB} KB target"
    )
    if args.no_stack:
        return 0

    from localstack import launch

    state = Path(tempfile.mkdtemp(prefix="maas-bench-portal-"))
    print(f"starting the local stack (log: {state / 'stack.log'}) ...", flush=True)
    stack = launch(state, state / "stack.log", PASSWORD)
    try:
        found = timings(stack["hub_url"], args.runs)
    finally:
        stack["proc"].send_signal(signal.SIGINT)
        stack["proc"].wait(timeout=90)
    base = statistics.median(found["hub home"])
    print(f"\nseconds from navigation to visible, median of {args.runs}:")
    for name, values in found.items():
        median = statistics.median(values)
        print(
            f"{name:14} {median:6.3f} s  (min {min(values):.3f}, max {max(values):.3f})"
            f"  {median / base:5.2f} x hub home  {median / TIME_TARGET_S:5.2f} x the 1 s target"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
