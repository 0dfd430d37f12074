"""Every page of every role, on a phone (390 × 844): none wider than the screen, and none with a
serious or critical axe-core violation.

One crawl per role serves both checks: from the landing page it follows every same-origin link
(never logout, downloads or anything that is not HTML), at most ``PER_ENDPOINT`` pages of each
endpoint and ``MAX_PAGES`` in all. Then the crawl must have reached every GET endpoint of
``app.url_map`` that answers this role with an HTML page: each endpoint the crawl missed is
requested with the parameter values the crawl and the test data know, and one that answers 200
with HTML fails the test (a page nobody links to, or one the bound cut off). A page added later
is so covered without touching this file.

axe-core comes from the npm registry (tests/browser/axe, installed by ``npm ci``) and is
injected into each page from the suite's own files, never from a CDN.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from tests.browser.conftest import ARTIFACTS
from tests.conftest import PASSWORD, db_backend
from tracker.extensions import db
from tracker.followups import services as followups
from tracker.reports import services
from tracker.reports.models import ProgressStatus
from tracker.reports.services import ReportInput

pytestmark = pytest.mark.browser

AXE_DIR = Path(__file__).resolve().parent / "axe"
AXE_SCRIPT = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
AXE_INSTALL = "npm ci --prefix tests/browser/axe"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}
MAX_PAGES = 120
PER_ENDPOINT = 2
EXTRA_PAGES = 30  # pages :meth:`Crawl.complete` may add to reach an endpoint the cap missed

# GET endpoints that are not pages, so neither crawled nor required (everything else is):
EXCLUDED = {
    "static",  # stylesheets, scripts, images
    "health",  # liveness probe (plain text)
    "ops.ready",  # readiness probe (JSON)
    "ops.metrics",  # Prometheus text format
    "exports.quarterly",  # Excel download
    "exports.template",  # Excel download
    "exports.department_sheet",  # Excel download
    "exports.department_sheet_docx",  # Word download
    "exports.notice",  # Word download
    "audit_export.workbook",  # Excel download
    "reports.download",  # evidence files
    "counties.template",  # Excel download
    "counties.totals_export",  # Excel download
    "auth.login",  # the signed-out page: checked once before signing in
    "help.sign_in",  # public, linked from the signed-out login page only
}
EXCLUDED_PREFIXES = ("api.",)  # the JSON API and its OpenAPI document

# Pages the screenshots keep (phone and desktop), by role and endpoint.
SCREENSHOTS = {
    ("liaison-lead", "reports.mine"),
    ("liaison-lead", "reports.edit"),
    ("coordinator", "reports.review"),
    ("coordinator", "dashboard.scorecard"),
    ("coordinator", "catalogue.task"),
    ("coordinator", "followups.extensions"),
    ("viewer", "dashboard.index"),
    ("viewer", "dashboard.department"),
}

# The widest element that sticks out past the screen (outside any box that scrolls on its own).
WIDEST_JS = """() => {
  const vw = window.innerWidth, doc = document.documentElement;
  if (doc.scrollWidth <= vw) return null;
  const clipped = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible') return true;
    }
    return false;
  };
  let worst = null, right = vw;
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > right + 0.5 && !clipped(el)) { worst = el; right = r.right; }
  }
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    [...el.classList].map((c) => '.' + c).join('');
  return {scrollWidth: doc.scrollWidth, innerWidth: vw,
          element: worst ? name(worst) + ' (right edge ' + Math.round(right) + ' px)' : '?'};
}"""

# Links, and the forms that navigate by GET (filters, search) as submitted untouched.
LINKS_JS = """() => [
  ...[...document.querySelectorAll('a[href]')].map((a) => a.href),
  ...[...document.querySelectorAll('form')]
    .filter((f) => (f.getAttribute('method') || 'get').toLowerCase() === 'get')
    .map((f) => {
      const url = new URL(f.action);
      url.search = new URLSearchParams(new FormData(f)).toString();
      return url.href;
    }),
]"""

# A period is shown as "2026年第三季度"; the key (2026Q3) only in URLs, files and form values.
PERIOD_KEY = re.compile(r"(?<![0-9A-Za-z])[0-9]{4}Q[1-4](?![0-9A-Za-z])")

# The page's text, less the hints under fields (a hint may name the key, the value it asks
# for) and the audit trail's stored records, shown exactly as they were recorded.
SHOWN_TEXT_JS = """() => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll('.hint, .raw-record').forEach((el) => el.remove());
  return copy.textContent;
}"""

FIRST_FOCUSABLE_JS = """() => {
  const el = document.querySelector(
    'a[href], button, input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex="-1"])');
  if (!el) return 'none';
  return el.classList.contains('skip-link') ? 'skip-link' : el.outerHTML.slice(0, 80);
}"""

AXE_JS = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                  targets: v.nodes.slice(0, 5).map((n) => n.target.join(' '))}));
}"""


def _axe_available() -> bool:
    if AXE_SCRIPT.exists():
        return True
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(
            f"axe-core is not installed; CI must run the accessibility check ({AXE_INSTALL})"
        )
    return False


@pytest.fixture
def people(quarter, make_user):
    """One user of each role and a quarter with something in every state worth showing."""
    users = {
        "coordinator": make_user("coordinator", "mca"),
        "liaison-lead": make_user("liaison", "mca"),  # leads item 23
        "liaison-support": make_user("liaison", "acwf"),  # supports item 23
        "viewer": make_user("viewer", "mca"),
        "admin": make_user("admin"),
        "security_admin": make_user("security_admin"),
        "auditor": make_user("auditor"),
    }
    lead, support = users["liaison-lead"], users["liaison-support"]
    for number, figures in ((5, [("培训人次", 1200, "人次")]), (2, [])):
        report = services.save_draft(
            quarter.obligation(number, "mca"),
            ReportInput(status=ProgressStatus.IN_PROGRESS, progress=f"第{number}项已开展工作。",
                        figures=figures),
            actor=lead, expected_version=None,
        )  # fmt: skip
        services.submit_report(report, actor=lead)
    services.return_report(
        quarter.obligation(2, "mca").report, actor=users["coordinator"], reason="请补充数据。"
    )
    services.save_draft(
        quarter.obligation(23, "acwf"),
        ReportInput(status=ProgressStatus.IN_PROGRESS, progress="配合开展摸底排查。"),
        actor=support, expected_version=None,
    )  # fmt: skip
    services.save_draft(
        quarter.obligation(23, "mca"),
        ReportInput(status=ProgressStatus.IN_PROGRESS, progress="正在汇总。"),
        actor=lead, expected_version=None,
    )  # fmt: skip
    obligation = quarter.obligation(8, "mca")
    followups.request_extension(
        obligation, actor=lead, requested_due_date=obligation.due_date.replace(day=17),
        reason="数据尚未汇总完毕。",
    )  # fmt: skip
    followups.urge_obligation(quarter.obligation(22, "mca"), actor=users["coordinator"])
    db.session.commit()
    return users


class Crawl:
    """Pages visited by one role, and what was wrong with them."""

    def __init__(self, app, page, base: str, role: str, axe: bool):
        self.app, self.page, self.base, self.role, self.axe = app, page, base, role, axe
        self.adapter = app.url_map.bind("localhost")
        self.visited: dict[str, str] = {}  # url → endpoint
        self.per_endpoint: dict[str, int] = {}
        self.values: dict[str, set] = {}  # URL parameter → values seen in links
        self.queue: list[str] = []
        self.skipped: list[str] = []  # links not followed because of PER_ENDPOINT
        self.wide: list[str] = []
        self.violations: list[str] = []
        self.labels: list[str] = []  # period keys shown as text, a missing skip link
        self.errors: list[str] = []  # links that lead to an error page
        self.screens = ARTIFACTS / db_backend(app) / "pages"
        self.shot: set[str] = set()

    def endpoint_of(self, url: str) -> tuple[str, dict] | None:
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != self.base:
            return None
        try:
            endpoint, args = self.adapter.match(parts.path, method="GET")
        except RequestRedirect as redirect:
            return self.endpoint_of(redirect.new_url.replace("http://localhost", self.base))
        except (NotFound, MethodNotAllowed):
            return None
        return endpoint, args

    def wanted(self, endpoint: str) -> bool:
        return endpoint not in EXCLUDED and not endpoint.startswith(EXCLUDED_PREFIXES)

    def run(self, start: str) -> None:
        """Breadth first from ``start``, at most ``PER_ENDPOINT`` pages of one endpoint; the
        links left over by that cap are kept in ``skipped`` for :meth:`complete`."""
        self.queue.append(start)
        self.run_queue_only()

    def visit(self, url: str, endpoint: str, args: dict) -> None:
        self.per_endpoint[endpoint] = self.per_endpoint.get(endpoint, 0) + 1
        self.visited[url] = endpoint
        for name, value in args.items():
            self.values.setdefault(name, set()).add(value)
        response = self.page.goto(url)
        assert response is not None, url
        if response.status >= 400:  # a link that leads to an error page is a bug of its own
            self.errors.append(f"{self.role} {url} ({endpoint}) answers {response.status}")
        if "text/html" not in response.headers.get("content-type", ""):
            return
        expect(self.page.locator("footer.footer")).to_be_visible()
        landed = self.endpoint_of(self.page.url)
        if landed is not None:
            self.visited.setdefault(self.page.url, landed[0])
        self.check(url, endpoint)
        links = self.page.evaluate(LINKS_JS)
        self.queue.extend(link for link in links if link.split("#", 1)[0] not in self.visited)

    def complete(self, known: dict[str, list]) -> list[str]:
        """Reach the pages the cap kept the crawl from: while an endpoint of this role is
        missing, visit the skipped link that shares the most parameter values with it (the
        obligation whose page links the missing version, say), then go on breadth first.
        Returns the pages still missing."""
        missing = self.missing(known)
        extra = 0
        while missing and extra < EXTRA_PAGES:
            reached = set(self.visited.values())
            missing = {e: a for e, a in missing.items() if e not in reached}
            candidates = [u for u in dict.fromkeys(self.skipped) if u not in self.visited]
            if not missing or not candidates:
                break

            wanted = [set(args.items()) for _, args in missing.values()]
            url = max(
                candidates, key=lambda u: self.shared(u, wanted)
            )  # the first of the best: breadth first
            match = self.endpoint_of(url)
            assert match is not None
            self.visit(url, *match)
            extra += 1
            self.run_queue_only()
        reached = set(self.visited.values())
        return [
            f"{self.role}: {path} ({endpoint}) answers with a page but no link of the crawl led "
            "there (or the crawl's bound cut it off)"
            for endpoint, (path, _) in missing.items()
            if endpoint not in reached
        ]

    def shared(self, url: str, wanted: list[set]) -> int:
        """The most parameter values ``url`` shares with one of ``wanted``."""
        args = set((self.endpoint_of(url) or ("", {}))[1].items())
        return max(len(args & other) for other in wanted)

    def run_queue_only(self) -> None:
        while self.queue and len(self.visited) < MAX_PAGES:
            url = self.queue.pop(0).split("#", 1)[0]
            match = self.endpoint_of(url)
            if url in self.visited or match is None or not self.wanted(match[0]):
                continue
            if self.per_endpoint.get(match[0], 0) >= PER_ENDPOINT:
                self.skipped.append(url)
                continue
            self.visit(url, *match)

    def check(self, url: str, endpoint: str) -> None:
        parts = urlsplit(url)
        where = f"{self.role} {parts.path}{'?' if parts.query else ''}{parts.query} ({endpoint})"
        wide = self.page.evaluate(WIDEST_JS)
        if wide is not None:
            self.wide.append(
                f"{where}: document {wide['scrollWidth']} px wide on a {wide['innerWidth']} px "
                f"screen, widest: {wide['element']}"
            )
        text = self.page.evaluate(SHOWN_TEXT_JS)
        keys = sorted(set(PERIOD_KEY.findall(text)))
        if keys:
            self.labels.append(f"{where}: shows the period key {', '.join(keys)}, not its label")
        first = self.page.evaluate(FIRST_FOCUSABLE_JS)
        if first != "skip-link":
            self.labels.append(
                f"{where}: the first focusable element is {first}, not the skip link"
            )
        if self.axe:
            self.page.add_script_tag(path=str(AXE_SCRIPT))
            for v in self.page.evaluate(AXE_JS):
                self.violations.append(
                    f"{where}: {v['impact']} {v['id']} ({v['help']}) at {'; '.join(v['targets'])}"
                )
        if (self.role, endpoint) in SCREENSHOTS and endpoint not in self.shot:
            self.shot.add(endpoint)
            self.screens.mkdir(parents=True, exist_ok=True)
            name = f"{self.role}-{endpoint.replace('.', '-')}"
            self.page.screenshot(path=str(self.screens / f"{name}-390.png"), full_page=True)
            self.page.set_viewport_size(DESKTOP)
            self.page.screenshot(path=str(self.screens / f"{name}-1400.png"), full_page=True)
            self.page.set_viewport_size(PHONE)

    def missing(self, known: dict[str, list]) -> dict[str, tuple[str, dict]]:
        """GET endpoints of the URL map, not excluded, that the crawl did not reach but that
        answer this role 200 with HTML for some known parameter values: endpoint → (path,
        arguments)."""
        reached = set(self.visited.values())
        found = {}
        for rule in self.app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()) or not self.wanted(rule.endpoint):
                continue
            if rule.endpoint in reached or rule.endpoint in found:
                continue
            names = sorted(rule.arguments)
            choices = [sorted(self.values.get(n, set()) | set(known.get(n, [])), key=str)
                       for n in names]  # fmt: skip
            for combo in itertools.islice(itertools.product(*choices), 6):
                args = dict(zip(names, combo, strict=True))
                path = rule.build(args, append_unknown=False)[1]
                response = self.page.request.get(self.base + path, max_redirects=0)
                kind = response.headers.get("content-type", "")
                if response.status == 200 and "text/html" in kind:
                    found[rule.endpoint] = (path, args)
                    break
        return found


ROLES = ["coordinator", "liaison-lead", "liaison-support", "viewer", "admin", "security_admin",
         "auditor"]  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_every_page_fits_a_phone_and_passes_axe(role, app, browser, live_server, people, quarter):
    axe = _axe_available()
    context = browser.new_context(locale="zh-CN", viewport=PHONE, bypass_csp=True)
    page = context.new_page()
    crawl = Crawl(app, page, live_server, role, axe)
    try:
        page.goto(f"{live_server}/login")
        expect(page.locator("input[name=username]")).to_be_visible()
        if role == ROLES[0]:
            crawl.check(f"{live_server}/login", "auth.login")
        page.fill("input[name=username]", people[role].username)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation(wait_until="load"):
            page.click("button[type=submit]")
        expect(page.locator("nav.mainnav")).to_be_attached()
        page.keyboard.press("Tab")
        expect(page.locator("a.skip-link")).to_be_focused()
        expect(page.locator("a.skip-link")).to_be_in_viewport()
        page.keyboard.press("Enter")
        expect(page.locator("main#main")).to_be_focused()
        crawl.run(page.url.split("#", 1)[0])
        user = people[role]
        obligation = quarter.obligation(5, "mca")
        known = {
            "task_id": [obligation.task_id],
            "obligation_id": [obligation.id],
            "number": [1],
            "code": ["mca", "acwf"],
            "period": [quarter.period.key],
            "user_id": [user.id],
        }
        missed = crawl.complete(known)
    finally:
        context.close()
    problems = crawl.errors + crawl.wide + crawl.violations + crawl.labels + missed
    report = json.dumps(sorted(set(crawl.visited.values())), ensure_ascii=False)
    assert not problems, f"{len(problems)} problems (pages reached: {report}):\n" + "\n".join(
        problems
    )
    assert len(crawl.visited) > 5, crawl.visited
    if not axe:
        pytest.skip(f"axe-core not installed; the width check passed ({AXE_INSTALL})")


def test_phone_menu_folds_without_javascript(app, browser, live_server, people):
    """On a phone the menu folds behind 菜单 and opens with no script at all; on a desktop the
    toggle is hidden and the menu shows as before."""
    context = browser.new_context(locale="zh-CN", viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.fill("input[name=username]", people["coordinator"].username)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation(wait_until="load"):
            page.click("button[type=submit]")
        nav = page.locator("nav.mainnav")
        expect(page.locator("label.nav-toggle-label")).to_be_visible()
        expect(nav).to_be_hidden()
        page.click("label.nav-toggle-label")
        expect(nav).to_be_visible()
        expect(nav.get_by_role("link", name="审核")).to_be_visible()
        expect(page.locator("#bell")).to_be_visible()
        page.screenshot(path=str(_screens(app) / "phone-menu-open-390.png"))
        page.click("label.nav-toggle-label")
        expect(nav).to_be_hidden()
        page.set_viewport_size(DESKTOP)
        expect(page.locator("label.nav-toggle-label")).to_be_hidden()
        expect(nav).to_be_visible()
        expect(page.locator("#bell")).to_be_visible()
    finally:
        context.close()


def _screens(app) -> Path:
    folder = ARTIFACTS / db_backend(app) / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
