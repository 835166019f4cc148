"""Accessibility and small-screen checks of a page in the browser (issue 14, items 11 and 12).

:class:`PageAudit` runs axe-core (through ``axe-playwright-python``) on the page the browser
shows, measures the document's width at 375 px, and takes a screenshot at both widths into
``test-artifacts/screenshots/``. Findings are collected, so one run reports every page at once.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"

#: Impacts that fail a page, and the moderate rules the walk through the demo found.
FAILING_IMPACTS = frozenset({"serious", "critical"})
FAILING_RULES = frozenset({"region", "heading-order", "page-has-heading-one",
                           "empty-table-header"})
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 800}

_AXE = Axe()


@dataclass
class PageAudit:
    """Findings over many pages: ``check(page, name)`` after each navigation."""

    label: str
    violations: list[dict[str, Any]] = field(default_factory=list)
    too_wide: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)

    def check(self, page: Any, name: str) -> None:
        page.wait_for_load_state()
        self.pages.append(f"{name} {page.url}")
        results = _AXE.run(page).response
        for violation in results.get("violations", []):
            self.violations.append({
                "page": name,
                "url": page.url,
                "id": violation["id"],
                "impact": violation.get("impact"),
                "nodes": [" ".join(n["target"]) if isinstance(n["target"], list)
                          else str(n["target"]) for n in violation["nodes"]][:5],
            })
        headings = page.locator("h1").count()
        if headings != 1:  # one <h1> on every page (issue 14, item 8)
            self.violations.append({"page": name, "url": page.url, "id": "one-h1",
                                    "impact": "serious", "nodes": [f"{headings} h1"]})
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{self.label}-{name}-desktop.png"),
                        full_page=True)
        page.set_viewport_size(PHONE)
        try:
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                wide = page.evaluate(_WIDEST_SCRIPT)
                self.too_wide.append(f"{name} ({page.url}): {width}px; {wide}")
            page.screenshot(path=str(SCREENSHOTS / f"{self.label}-{name}-375.png"),
                            full_page=True)
        finally:
            page.set_viewport_size(DESKTOP)

    def failing(self) -> list[dict[str, Any]]:
        return [v for v in self.violations
                if v["impact"] in FAILING_IMPACTS or v["id"] in FAILING_RULES]

    def by_impact(self) -> dict[str, int]:
        return dict(Counter(str(v["impact"]) for v in self.violations))

    def write_report(self) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"axe-{self.label}.json"
        path.write_text(json.dumps({
            "pages": self.pages, "by_impact": self.by_impact(),
            "violations": self.violations, "too_wide": self.too_wide,
        }, indent=2, ensure_ascii=False))
        return path

    def assert_clean(self) -> None:
        report = self.write_report()
        failing = self.failing()
        lines = [f"{v['page']}: {v['id']} ({v['impact']}) at {', '.join(v['nodes'])}"
                 for v in failing]
        assert not failing, f"axe-core violations (full report: {report}):\n" + "\n".join(lines)
        assert not self.too_wide, "wider than a 375 px screen:\n" + "\n".join(self.too_wide)


#: The elements that stick out on the right, to say what made a page too wide.
_WIDEST_SCRIPT = """
() => {
  const limit = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.table-scroll, .orcid-table-scroll') && !el.matches('.table-scroll, .orcid-table-scroll')) continue;
    const r = el.getBoundingClientRect();
    if (r.right > limit + 1 && out.length < 5) {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
               (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') +
               ' ' + Math.round(r.right));
    }
  }
  return out.join(', ');
}
"""
