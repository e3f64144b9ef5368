"""Checks any browser test can run on a Playwright page: axe-core, sideways overflow, the Nu Html Checker.

    from tests.browser import assert_accessible
    page.goto(...); assert_accessible(page)

axe-core and vnu-jar come from npm (`npm ci` at the repo root, see package.json); Java runs vnu. When they
are missing the checks skip locally and fail in CI (CI=true), like the `browser` fixture.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
BLOCKING_IMPACTS = ("serious", "critical")


def require_tool(present: bool, what: str, how: str) -> None:
    """Skip the test when a checking tool is missing, but fail in CI, where .ci/run installs it."""
    if present:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing: .ci/run must install it ({how})")
    pytest.skip(f"{what} is not installed ({how})")


def require_axe() -> None:
    require_tool(AXE_JS.exists(), "axe-core", "npm ci")


def require_vnu() -> None:
    require_tool(VNU_JAR.exists(), "vnu-jar", "npm ci")
    require_tool(shutil.which("java") is not None, "java", "apt-get install -y default-jre-headless")


# --- axe-core -------------------------------------------------------------------------------------

_AXE_SOURCE: list[str] = []


def _inject_axe(page: Any) -> None:
    # Evaluated through the DevTools protocol, which the page's Content-Security-Policy does not govern;
    # a <script> tag (page.add_script_tag) would be refused by `script-src 'self'`.
    if page.evaluate("typeof window.axe === 'undefined'"):
        if not _AXE_SOURCE:
            _AXE_SOURCE.append(AXE_JS.read_text(encoding="utf-8"))
        page.evaluate(_AXE_SOURCE[0] + "\n;undefined")


def axe_violations(page: Any, impacts: tuple[str, ...] = BLOCKING_IMPACTS) -> list[dict[str, Any]]:
    """The axe-core violations of the page as it is now, of the given impacts."""
    require_axe()
    _inject_axe(page)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v.get("impact") in impacts]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            lines.append(f"      at {' '.join(node['target'])}: {node['html'][:160]}")
        if len(v["nodes"]) > 5:
            lines.append(f"      … and {len(v['nodes']) - 5} more")
    return "\n".join(lines)


def assert_accessible(page: Any) -> None:
    """Fail on any serious or critical axe-core violation of the page as it is now."""
    violations = axe_violations(page)
    assert not violations, f"axe-core on {page.url}:\n{describe_violations(violations)}"


# --- sideways overflow ----------------------------------------------------------------------------

# What sticks out furthest to the right, not counting what sits inside a box that scrolls or clips it (a table
# in a scroll region is fine). Text and replaced elements (images, inputs) are what actually push the page
# wider; the boxes around them are reported only when none of those sticks out.
_WIDEST_JS = """
() => {
  const vw = document.documentElement.clientWidth;
  const clipped = (node) => {
    for (let p = node.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible') return true;
    }
    return false;
  };
  const name = (el) => '<' + el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.classList.length ? '.' + [...el.classList].join('.') : '') + '>';
  const short = (text) => (text || '').trim().replace(/\\s+/g, ' ').slice(0, 60);
  let found = null, right = vw;
  const range = document.createRange();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    range.selectNodeContents(node);
    const r = range.getBoundingClientRect();
    if (r.width && r.right > right && !clipped(node)) {
      found = `text "${short(node.textContent)}" in ${name(node.parentElement)}`; right = r.right;
    }
  }
  const replaced = 'img, svg, input, select, textarea, video, iframe, canvas';
  for (const el of document.body.querySelectorAll(replaced)) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > right && !clipped(el)) { found = name(el); right = r.right; }
  }
  if (!found) {
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width && r.right >= right && r.right > vw && !clipped(el)) {
        found = `${name(el)} "${short(el.innerText)}"`; right = r.right;
      }
    }
  }
  return found && `${found} reaching ${Math.round(right)}px`;
}
"""


def overflow_problem(page: Any) -> str | None:
    """None when the page fits the viewport's width, else what sticks out."""
    scroll_width, viewport = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    if scroll_width <= viewport:
        return None
    widest = page.evaluate(_WIDEST_JS) or "no single element found"
    return f"page is {scroll_width}px wide in a {viewport}px viewport; widest: {widest}"


def assert_fits_width(page: Any) -> None:
    problem = overflow_problem(page)
    assert problem is None, f"{page.url}: {problem}"


# --- the Nu Html Checker --------------------------------------------------------------------------


def vnu_errors(files: list[Path]) -> dict[Path, list[str]]:
    """Run the Nu Html Checker once over `files`; the errors of each file that has any."""
    require_vnu()
    if not files:
        return {}
    completed = subprocess.run(  # noqa: S603 (a fixed program on files this test wrote)
        ["java", "-jar", str(VNU_JAR), "--format", "json", "--errors-only", *map(str, files)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    # vnu writes its report to stderr and exits 1 when it found errors.
    try:
        report = json.loads(completed.stderr or completed.stdout)
    except json.JSONDecodeError:
        failure = f"vnu did not run (exit {completed.returncode}): {completed.stderr[:500]}"
        raise AssertionError(failure) from None
    by_name = {f.resolve().as_uri(): f for f in files}
    by_name.update({f"file:{f.resolve()}": f for f in files})
    errors: dict[Path, list[str]] = {}
    for message in report.get("messages", []):
        if message.get("type") not in ("error", "non-document-error"):
            continue
        path = by_name.get(message.get("url", ""), Path(message.get("url", "?")))
        errors.setdefault(path, []).append(
            f"line {message.get('lastLine', '?')}: {message.get('message')} "
            f"[{(message.get('extract') or '').strip()[:120]}]"
        )
    return errors
