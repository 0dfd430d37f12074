"""Search at the service level, on both backends: what is found, by whom, and that the index
follows every write (save, submit, return, resubmit, figures)."""

from __future__ import annotations

import pytest

from tests.search.conftest import draft, found, found_tasks
from tracker.extensions import db
from tracker.reports import services
from tracker.search.queries import SearchQuery, like_pattern, search_reports

# Each pair: a word of two characters (the LIKE path) and one of four (the trigram index).
WORDS = [pytest.param("鑫淼", id="two-characters"), pytest.param("鑫淼垚森", id="four-characters")]


def test_items_are_found_by_two_and_four_characters(seeded):
    assert found_tasks("留守关爱") == []  # a phrase absent from the text finds nothing
    two, four = found_tasks("留守"), found_tasks("关爱服务")
    assert 1 in two and 1 in four and 14 not in four
    assert len(two) > 10  # more than one page
    clause_only = found_tasks("扶贫办")  # 国务院扶贫办 is named only in clauses
    assert clause_only and all(n != 1 for n in clause_only)


def test_every_term_must_occur(seeded):
    both = set(found_tasks("留守 妇联"))
    assert both and both <= set(found_tasks("留守")) & set(found_tasks("妇联"))
    assert found_tasks("留守 鑫淼垚森") == []


def test_item_filters(seeded):
    assert found_tasks("留守", item=1) == [1]
    from tracker.catalogue.queries import department_by_code

    sport = department_by_code("sport")
    with_sport = found_tasks("留守", department_id=sport.id)
    assert with_sport and set(with_sport) < set(found_tasks("留守"))


@pytest.mark.parametrize("word", WORDS)
def test_a_department_never_finds_another_departments_unsubmitted_text(people, quarter, word):
    moj_obligation = quarter.obligation(11, "moj")
    report = draft(moj_obligation, people["moj"], f"草稿里写了{word}的情况。")
    # The drafting department, its viewer and all-seeing users find it.
    for who in ("moj", "moj_head", "coordinator", "leader", "admin"):
        assert found(people[who], word) == [report.id], who
    # The lead (公安部) does not while it is a draft; another supporting department never.
    assert found(people["lead"], word) == []
    assert found(people["moa"], word) == []

    services.submit_report(report, actor=people["moj"])
    db.session.commit()
    assert found(people["lead"], word) == [report.id]
    assert found(people["moa"], word) == []

    services.return_report(report, actor=people["coordinator"], reason=f"请补充{word}数据。")
    db.session.commit()
    assert found(people["lead"], word) == []  # returned: back with its department
    assert found(people["moj"], word) == [report.id]


@pytest.mark.parametrize("word", WORDS)
def test_the_lead_never_finds_a_return_reason(people, quarter, word):
    report = draft(quarter.obligation(11, "moj"), people["moj"], "本季度工作进展。")
    services.submit_report(report, actor=people["moj"])
    services.return_report(report, actor=people["coordinator"], reason=f"缺少{word}。")
    db.session.commit()
    draft(quarter.obligation(11, "moj"), people["moj"], "本季度工作进展，已补充。")
    services.submit_report(report, actor=people["moj"])
    db.session.commit()
    assert report.return_reason and word in report.return_reason  # kept after resubmission
    assert found(people["moj"], word) == [report.id]
    assert found(people["coordinator"], word) == [report.id]
    assert found(people["lead"], word) == []
    assert found(people["lead"], "已补充") == [report.id]


@pytest.mark.parametrize("word", WORDS)
def test_the_index_follows_each_edit(people, quarter, word):
    obligation = quarter.obligation(11, "moj")
    report = draft(obligation, people["moj"], f"先写{word}。")
    liaison = people["moj"]
    assert found(liaison, word) == [report.id]
    draft(obligation, liaison, "改写之后没有那个词。", problems=f"困难：{word}不足。")
    assert found(liaison, word) == [report.id]
    draft(obligation, liaison, "改写之后没有那个词。")
    assert found(liaison, word) == []
    draft(obligation, liaison, "只有数据。", figures=[(f"{word}人次", "12", "人次")])
    assert found(liaison, word) == [report.id]
    draft(obligation, liaison, "只有数据。", figures=[("培训人次", "12", "人次")])
    assert found(liaison, word) == []


def test_review_comments_are_found(people, quarter):
    report = draft(quarter.obligation(11, "moj"), people["moj"], "进展。")
    services.submit_report(report, actor=people["moj"])
    db.session.commit()
    report.review_comment = "审核意见写明甲乙丙丁"
    db.session.commit()
    assert found(people["coordinator"], "甲乙丙丁") == [report.id]
    assert found(people["coordinator"], "丙丁") == [report.id]
    assert found(people["lead"], "丙丁") == [report.id]  # the lead reads the review comment


def test_report_filters(people, quarter):
    mine = draft(quarter.obligation(11, "moj"), people["moj"], "鑫淼垚森一。")
    other = draft(quarter.obligation(10, "moj"), people["moj"], "鑫淼垚森二。")
    coordinator = people["coordinator"]
    assert found(coordinator, "鑫淼垚森") == [other.id, mine.id]  # newest first
    assert found(coordinator, "鑫淼垚森", item=11) == [mine.id]
    assert found(coordinator, "鑫淼垚森", period="2024Q3") == [other.id, mine.id]
    assert found(coordinator, "鑫淼垚森", period="2024Q2") == []
    moa = quarter.obligation(11, "moa").department_id
    assert found(coordinator, "鑫淼", department_id=moa) == []
    document = quarter.obligation(11, "moj").task.document_id
    assert found(coordinator, "鑫淼", document_id=document) == [other.id, mine.id]
    assert found(coordinator, "鑫淼", document_id=document + 999) == []


@pytest.mark.parametrize("query", ["10%", "1_0", "5\\%"])
def test_wildcards_are_literal(people, quarter, query):
    report = draft(quarter.obligation(11, "moj"), people["moj"], "完成率 100，覆盖率 1x0。")
    assert found(people["moj"], query) == []
    draft(quarter.obligation(11, "moj"), people["moj"], f"完成率 {query} 以上。")
    assert found(people["moj"], query) == [report.id]


def test_like_pattern_escapes():
    assert like_pattern("a%b_c\\") == "%a\\%b\\_c\\\\%"


def test_counts_are_capped_and_pages_clamped(people, quarter, monkeypatch):
    from tracker.search import queries

    for number in (10, 11, 12, 22):
        draft(quarter.obligation(number, "moj"), people["moj"], "鑫淼进展。")
    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    monkeypatch.setattr(queries, "REPORTS_PER_PAGE", 2)
    page = search_reports(SearchQuery(terms=("鑫淼",)), people["moj"], page=99)
    assert (page.total, page.capped, page.page, page.pages) == (3, True, 2, 2)
    assert len(page.items) == 2


def test_two_character_searches_read_a_bounded_window_unless_filtered(people, quarter, monkeypatch):
    """No index answers two characters: without a period, document or item filter only the
    newest SHORT_WINDOW reports are read, and the page says so; three characters use the
    index and see everything."""
    from tracker.search import queries

    reports = [draft(quarter.obligation(n, "moj"), people["moj"], "鑫淼垚") for n in (10, 11, 12)]
    oldest, *newer = sorted(r.id for r in reports)
    monkeypatch.setattr(queries, "SHORT_WINDOW", 2)
    coordinator = people["coordinator"]
    page = search_reports(SearchQuery(terms=("鑫淼",)), coordinator)
    assert sorted(r.id for r in page.items) == newer and page.windowed
    page = search_reports(SearchQuery(terms=("鑫淼",), period="2024Q3"), coordinator)
    assert len(page.items) == 3 and not page.windowed
    page = search_reports(SearchQuery(terms=("鑫淼垚",)), coordinator)
    assert len(page.items) == 3 and not page.windowed
    assert oldest not in [r.id for r in search_reports(SearchQuery(terms=("鑫淼",)),
                                                       people["moj"]).items]  # fmt: skip
