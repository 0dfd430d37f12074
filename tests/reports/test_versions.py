"""Version pages in words: states, ratings, figures and evidence as a reader says them."""

from __future__ import annotations

import html
import io
import re

import sqlalchemy as sa

from tracker.extensions import db
from tracker.reports import queries
from tracker.reports.models import Evidence, ReportState

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# What Python or the database would print where a reader expects words.
REPR = re.compile(
    r"\[\[|\['|\[\]|\{'|\bNone\b|\bTrue\b|\bFalse\b"
    r"|\b(not_started|in_progress|completed|ongoing|draft|submitted|returned|accepted"
    r"|save|submit|resubmit|accept|return)\b"
)


def _report(progress, status="in_progress", figures=(), **extra):
    data = {"status": status, "progress": progress, "problems": "", "practices": "",
            "suggestions": "", "next_steps": ""}  # fmt: skip
    for i, (name, value, unit) in enumerate(figures):
        data |= {f"figures-{i}-name": name, f"figures-{i}-value": value, f"figures-{i}-unit": unit}
    return data | extra


def _visible_text(page: str) -> str:
    """What a reader sees of the page's main content: tags dropped, entities decoded."""
    main = page.split("<main", 1)[-1].split("</main>", 1)[0] if "<main" in page else page
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", main, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def _upload(client, obligation, name):
    response = client.post(
        f"/obligations/{obligation.id}/evidence",
        data={"file": (io.BytesIO(PDF), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302


def _walk_every_transition(client, quarter, make_user, login):
    """Draft, edit, submit, return, edit again, resubmit, accept; figures and files changing."""
    liaison, coordinator = make_user("liaison", "mca"), make_user("coordinator", "mca")
    obligation = quarter.obligation(5, "mca")
    login(liaison)
    steps = [
        client.post(
            f"/obligations/{obligation.id}/edit",
            data=_report("开展摸底排查 3 次。", figures=[("法律援助件数", "1286", "件")]),
        ),
    ]
    _upload(client, obligation, "司法部_法律援助情况.pdf")
    steps.append(
        client.post(
            f"/obligations/{obligation.id}/edit",
            data=_report(
                "开展摸底排查 4 次。\r\n覆盖全部村。",
                figures=[("法律援助件数", "1300", "件"), ("覆盖村数", "52", "个")],
                version="1",
            ),
        )
    )
    steps.append(client.post(f"/obligations/{obligation.id}/submit"))
    login(coordinator)
    steps.append(
        client.post(
            f"/obligations/{obligation.id}/return",
            data={"reason": "请补充覆盖人数。", "confirmed_status": "in_progress"},
        )
    )
    login(liaison)
    first_file = db.session.scalar(sa.select(Evidence).where(Evidence.filename.like("司法部%")))
    steps.append(client.post(f"/evidence/{first_file.id}/delete", data={"confirm": "1"}))
    _upload(client, obligation, "覆盖人数统计.pdf")
    report = quarter.obligation(5, "mca").report
    steps.append(
        client.post(
            f"/obligations/{obligation.id}/edit",
            data=_report(
                "开展摸底排查 4 次。\r\n覆盖全部村，共 1.2 万人。",
                status="completed",
                figures=[("覆盖村数", "52", "个")],
                version=str(report.version),
            ),
        )
    )
    steps.append(client.post(f"/obligations/{obligation.id}/submit"))
    login(coordinator)
    steps.append(
        client.post(
            f"/obligations/{obligation.id}/accept",
            data={"confirmed_status": "ongoing", "comment": "材料翔实。"},
        )
    )
    assert [r.status_code for r in steps] == [302] * len(steps)
    report = quarter.obligation(5, "mca").report
    assert report.state == ReportState.ACCEPTED
    return obligation, queries.report_versions(report.id)


def test_every_version_page_of_a_full_walk_speaks_in_words(client, quarter, make_user, login):
    obligation, versions = _walk_every_transition(client, quarter, make_user, login)
    actions = [v.action for v in versions]
    assert {"save", "submit", "return", "resubmit", "accept"} <= set(actions)
    pages = {"obligation": client.get(f"/obligations/{obligation.id}").get_data(as_text=True)}
    for v in versions:
        response = client.get(f"/obligations/{obligation.id}/versions/{v.number}")
        assert response.status_code == 200
        pages[f"version {v.number}"] = response.get_data(as_text=True)
    for name, page in pages.items():
        text = _visible_text(page)
        found = REPR.findall(text) or re.findall(r"\[\[|\['|\[\]|\{'", text)
        assert not found, f"{name}: {found}"
    everything = "\n".join(_visible_text(page) for page in pages.values())
    for words in (
        "已报送待审核", "已退回", "已审核通过", "推进中", "已完成", "常态化推进", "重新报送",
        "退回理由", "请补充覆盖人数。", "审核意见", "法律援助件数", "司法部_法律援助情况.pdf",
        "覆盖人数统计.pdf", "新增", "删除", "修改",
    ):  # fmt: skip
        assert words in everything, words


def test_a_version_shows_figures_as_marked_rows_and_files_added_and_removed(
    client, quarter, make_user, login
):
    obligation, versions = _walk_every_transition(client, quarter, make_user, login)
    second = client.get(f"/obligations/{obligation.id}/versions/2").get_data(as_text=True)
    figures = _visible_text(second.split('data-field="figures"', 1)[1].split("</table>", 1)[0])
    assert re.search(r"修改\s+法律援助件数\s+1286\s+1300\s+件", figures), figures
    assert re.search(r"新增\s+覆盖村数\s+52\s+个", figures), figures
    assert "<ins>4</ins>" in second and "<del>3</del>" in second  # the text diff is kept
    resaved = next(v for v in versions if v.action == "save" and v.number > 4)
    page = client.get(f"/obligations/{obligation.id}/versions/{resaved.number}").get_data(
        as_text=True
    )
    files = _visible_text(page.split('data-field="evidence"', 1)[1].split("</tr>", 1)[0])
    assert re.search(r"删除：\s*司法部_法律援助情况\.pdf", files), files
    assert re.search(r"新增：\s*覆盖人数统计\.pdf", files), files
    rows = _visible_text(page.split('data-field="figures"', 1)[1].split("</table>", 1)[0])
    assert re.search(r"删除\s+法律援助件数\s+1300\s+件", rows), rows
    status = _visible_text(page.split('data-field="status">', 1)[1].split("</tr>", 1)[0])
    assert status.split() == ["自评状态", "推进中", "已完成"]


def test_the_history_list_names_actions_states_and_changed_fields(
    client, quarter, make_user, login
):
    obligation, versions = _walk_every_transition(client, quarter, make_user, login)
    page = client.get(f"/obligations/{obligation.id}").get_data(as_text=True)
    history = page.split('id="history"', 1)[1].split("</table>", 1)[0]
    rows = [_visible_text(row).split() for row in history.split("<tr>")[2:]]
    last = rows[0]  # newest first
    assert last[:4] == ["第", str(versions[-1].number), "版", "审核通过"]
    assert "已审核通过" in last and "核定状态、审核意见" in last
    first = rows[-1]
    assert first[3:5] == ["保存", "草稿"] and "自评状态、工作进展、关键数据" in first
