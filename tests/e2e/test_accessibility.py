"""axe-core finds no WCAG 2.1 A/AA violations on the public pages and the volunteer's pages, on
a 360 px phone and on a desktop.

axe-core is vendored (tests/e2e/vendor/axe.min.js, from npm, see package.json) so the tests
need no npm when they run; it is evaluated through the DevTools protocol, which the page's
Content Security Policy does not apply to.
"""

from pathlib import Path

import pytest

from bench.page_weight import public_pages, volunteer_pages

from .steps import PHONE, log_in

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
VIEWPORTS = {"phone": PHONE, "desktop": {"width": 1280, "height": 900}}

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary})),
  }));
}"""


def the_pages() -> list[tuple[str, str]]:
    return [*public_pages(), ("search", "/search/?q=is")]


def violations(page) -> list[dict]:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE)
    return page.evaluate(RUN_AXE, WCAG_21_AA)


def readable(found: dict[str, list[dict]]) -> str:
    lines = []
    for where, items in found.items():
        for v in items:
            lines.append(f"{where}: {v['id']} ({v['impact']}): {v['help']} <{v['url']}>")
            for node in v["nodes"][:8]:
                lines.append(f"    {node['target']}")
                lines.append("      " + node["summary"].replace("\n", "\n      "))
    return "\n".join(lines)


def check(page, shots, pages, viewport_name) -> dict[str, list[dict]]:
    found = {}
    for label, url in pages:
        response = page.goto(url)
        assert response.status == 200, f"{label} {url}: {response.status}"
        page.wait_for_load_state("load")
        items = violations(page)
        if items:
            found[f"{label} {url} ({viewport_name})"] = items
            shots(page, f"{label}-{viewport_name}".replace(" ", "-"))
    return found


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_public_pages_have_no_wcag_21_aa_violations(new_page, shots, viewport):
    page = new_page(viewport=VIEWPORTS[viewport])
    found = check(page, shots, the_pages(), viewport)
    assert not found, "axe-core found WCAG 2.1 AA violations:\n" + readable(found)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_volunteers_pages_have_no_wcag_21_aa_violations(new_page, shots, viewport):
    phone = viewport == "phone"
    page = new_page(viewport=VIEWPORTS[viewport], is_mobile=phone, has_touch=phone)
    log_in(page, "volunteer")
    found = check(page, shots, volunteer_pages(), viewport)
    assert not found, "axe-core found WCAG 2.1 AA violations:\n" + readable(found)
