"""Browser timings for big workflows (issue 14): the editor opening a 300-step workflow, a
keystroke in it, and the monitor drawing 300-step and 64-wide graphs. Printed, not asserted.

Starts a real `accord serve` (fresh data directory, offline model) and drives Debian's
Chromium. A keystroke is timed from the key's event to the frame after React has handled it.

    .venv/bin/python bench/ui.py            # 300 steps, 64 wide, 20 keystrokes
    .venv/bin/python bench/ui.py --steps 600 --keys 40 --json
"""

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e import workloads as w  # noqa: E402
from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, running_server  # noqa: E402

# Records, for each input event, the time from the key press to the frame after it was handled.
KEY_PROBE = """() => {
  window.__keys = [];
  document.addEventListener("input", (event) => {
    const pressed = event.timeStamp;
    const done = () => window.__keys.push(performance.now() - pressed);
    requestAnimationFrame(() => setTimeout(done, 0));
  }, true);
}"""


def ms_until(page: Page, url: str, selector: str) -> float:
    """Milliseconds from the navigation's start until `selector` is visible."""
    page.goto(url)
    page.locator(selector).first.wait_for()
    return float(page.evaluate("performance.now()"))


def keystrokes(page: Page, count: int) -> list[float]:
    page.evaluate(KEY_PROBE)
    name = page.locator('[data-testid="step-editor-0"] input').first
    name.click()
    page.keyboard.press("End")
    for i in range(count):
        page.keyboard.type("abcdefghij"[i % 10])
        page.wait_for_timeout(60)
    page.wait_for_function(f"window.__keys.length >= {count}")
    return [float(x) for x in page.evaluate("window.__keys")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--keys", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as data,
        running_server(Path(data)) as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            base_url=server.base_url, viewport={"width": 1440, "height": 900}
        )
        page = context.new_page()
        page.goto(server.login_link)
        page.get_by_role("navigation", name="Main").wait_for()
        agents = w.team(page.request)
        long = w.create(
            page.request,
            w.workflow(f"{args.steps} stages", agents, w.pipeline_steps(args.steps), "pipeline"),
        )
        wide = w.create(
            page.request, w.workflow(f"{args.width} wide", agents, w.fan_out_steps(args.width))
        )
        # One warm-up load, so the first measurement does not pay for loading the bundle.
        ms_until(page, "/workflows", "h1")
        results = {
            "editor_open_ms": ms_until(
                page, f"/workflows/{long['id']}/edit", '[data-testid="step-editor-0"]'
            ),
        }
        keys = keystrokes(page, args.keys)
        results["keystroke_median_ms"] = statistics.median(keys)
        results["keystroke_p90_ms"] = statistics.quantiles(keys, n=10)[-1]
        results["keystroke_max_ms"] = max(keys)
        results["monitor_graph_ms"] = ms_until(
            page, f"/workflows/{long['id']}", '[data-testid^="step-node-"]'
        )
        results["wide_graph_ms"] = ms_until(
            page, f"/workflows/{wide['id']}", '[data-testid^="step-group-"]'
        )
        page.locator('[data-testid^="step-group-"]').first.click()
        page.locator('[data-testid^="step-group-"]').first.wait_for(state="detached")
        results["wide_expand_ms"] = float(
            page.evaluate("performance.now()")
        )  # since load; see wide_graph_ms
        browser.close()
    results["wide_expand_ms"] -= results["wide_graph_ms"]
    if args.json:
        print(json.dumps({k: round(v, 1) for k, v in results.items()}))
        return
    print(f"editor, {args.steps} steps: open {results['editor_open_ms']:.0f} ms")
    print(
        f"editor keystroke ({args.keys} keys): median {results['keystroke_median_ms']:.1f} ms,"
        f" p90 {results['keystroke_p90_ms']:.1f} ms, max {results['keystroke_max_ms']:.1f} ms"
    )
    print(f"monitor graph, {args.steps} steps: {results['monitor_graph_ms']:.0f} ms to first node")
    print(
        f"monitor graph, {args.width} wide: {results['wide_graph_ms']:.0f} ms to the folded layer"
    )
    print(f"  expanding the folded layer: {results['wide_expand_ms']:.0f} ms (incl. the click)")


if __name__ == "__main__":
    main()
