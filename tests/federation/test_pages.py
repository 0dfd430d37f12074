"""The cascade's pages: members and their tokens, adopting by upload, mapping, 分解, 上报
and the matrix, each as the coordinator or administrator sees them."""

from __future__ import annotations

import io
import json

import sqlalchemy as sa

from tests.federation.conftest import department, post_rollup, rollup_body
from tracker.catalogue.models import Assignment
from tracker.delivery.models import Indicator
from tracker.extensions import db
from tracker.federation import services
from tracker.federation.models import AdoptedItem, Adoption, MemberInstance, ReceivedRollup


def test_an_admin_registers_a_member_and_sees_its_token_once(client, seeded, make_user, login):
    login(make_user("admin"))
    response = client.post("/federation/members", data={"code": "130000", "name": "河北省",
                                                        "level": "provincial"})  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "只显示这一次" in page
    assert response.headers["Cache-Control"] == "no-store"
    member = db.session.scalar(sa.select(MemberInstance))
    assert f"fed_{member.prefix}_" in page
    again = client.get("/federation/members").get_data(as_text=True)
    assert f"fed_{member.prefix}_…" in again and "只显示这一次" not in again
    refused = client.post("/federation/members", data={"code": "13000", "name": "河北省",
                                                       "level": "provincial"})  # fmt: skip
    assert refused.status_code == 422 and "6 位数字" in refused.get_data(as_text=True)
    duplicate = client.post("/federation/members", data={"code": "130000", "name": "又一个",
                                                         "level": "provincial"})  # fmt: skip
    assert duplicate.status_code == 422 and "已登记" in duplicate.get_data(as_text=True)
    assert 'value="又一个"' in duplicate.get_data(as_text=True)
    client.post(f"/federation/members/{member.id}/revoke")
    db.session.refresh(member)
    assert member.revoked_at is not None


def test_a_provincial_coordinator_adopts_by_upload_and_maps(
    client, centre, provincial, make_user, login
):
    from tests.conftest import _empty_tables
    from tracker.catalogue.models import Department

    _empty_tables()
    for n, (code, name) in enumerate((("hb-mca", "河北省民政厅"), ("hb-acwf", "河北省妇联"))):
        db.session.add(Department(code=code, name=name, short_name=name, position=n))
    db.session.commit()
    login(make_user("coordinator", "hb-mca"))
    bad = client.post("/federation/adopt", data={"file": (io.BytesIO(b"{}"), "x.json")},
                      content_type="multipart/form-data")  # fmt: skip
    assert bad.status_code == 422 and "不是有效的文件导出" in bad.get_data(as_text=True)
    empty = client.post("/federation/adopt", data={})
    assert empty.status_code == 422 and "请选择导出文件" in empty.get_data(as_text=True)
    data = json.dumps(centre, ensure_ascii=False).encode()
    response = client.post("/federation/adopt", data={"file": (io.BytesIO(data), "86号.json")},
                           content_type="multipart/form-data")  # fmt: skip
    adoption = db.session.scalar(sa.select(Adoption))
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/federation/adoptions/{adoption.id}"
    )
    page = client.get(f"/federation/adoptions/{adoption.id}").get_data(as_text=True)
    assert 'name="map-mca"' in page and "未对应" in page
    client.post(f"/federation/adoptions/{adoption.id}/mapping",
                data={"map-mca": str(department("hb-mca").id),
                      "map-acwf": str(department("hb-acwf").id)})  # fmt: skip
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) > 0
    # 上报 before anything was filed: the reason beside the field, the period kept
    refused = client.post(f"/federation/adoptions/{adoption.id}/report", data={"period": "2024Q3"})
    text = refused.get_data(as_text=True)
    assert (
        refused.status_code == 422 and "尚无本文件的报送任务" in text and 'value="2024Q3"' in text
    )
    # 分解: a supporting department that is also the lead is refused beside the field
    link = db.session.scalar(sa.select(AdoptedItem).where(AdoptedItem.central_item_number == 23))
    lead = str(department("hb-mca").id)
    form = {"text": "各市建立台账", "lead": lead, "supporting": [lead]}
    wrong = client.post(f"/federation/items/{link.id}/break-down", data=form)
    assert wrong.status_code == 422 and "不能同时是配合部门" in wrong.get_data(as_text=True)
    done = client.post(f"/federation/items/{link.id}/break-down",
                       data={"text": "各市建立台账", "lead": lead})  # fmt: skip
    assert done.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AdoptedItem)) == 24


def test_the_matrix_shows_who_filed_and_the_totals(client, member, make_user, login):
    _, token = member
    assert post_rollup(client, token, rollup_body(value="120")).status_code == 201
    login(make_user("coordinator", "mca"))
    page = client.get(
        "/federation/provinces", query_string={"document": "民发〔2019〕86号", "period": "2024Q3"}
    ).get_data(as_text=True)
    assert 'data-member="130000"' in page and "已报 第1版" in page
    assert '<td class="total">120</td>' in page and "河北省 120（100.0%）" in page
    other = client.get("/federation/provinces", query_string={"period": "2024Q2"})
    assert "未报" in other.get_data(as_text=True)
    assert client.get("/federation/provinces", query_string={"period": "bad"}).status_code == 404
    login(make_user("liaison", "mca"))
    assert client.get("/federation/provinces").status_code == 403


def test_a_registered_member_leaves_an_empty_form_and_its_level_in_words(
    client, seeded, make_user, login
):
    login(make_user("admin"))
    fields = {"code": "130000", "name": "河北省", "level": "provincial"}
    page = client.post("/federation/members", data=fields).get_data(as_text=True)
    assert "只显示这一次" in page
    assert 'value="130000"' not in page and 'value="河北省"' not in page  # the next one is new
    listed = client.get("/federation/members").get_data(as_text=True)
    assert "<td>省级</td>" in listed and "provincial</td>" not in listed


def _matrix_page(client) -> str:
    return client.get(
        "/federation/provinces", query_string={"document": "民发〔2019〕86号", "period": "2024Q3"}
    ).get_data(as_text=True)


def test_the_matrix_lights_are_coloured_and_an_item_nobody_reported_is_no_dot(
    client, member, make_user, login
):
    _, token = member
    services.add_member("140000", "山西省", "provincial", actor=None)
    db.session.commit()
    body = rollup_body()
    body["items"].insert(0, {"item_number": 1, "narrative": "", "milestones": [],
                             "indicators": [], "units_reporting": 0})  # fmt: skip
    assert post_rollup(client, token, body).status_code == 201
    login(make_user("coordinator", "mca"))
    page = _matrix_page(client)
    hebei = page.split('data-member="130000"')[1].split("</tr>")[0]
    shanxi = page.split('data-member="140000"')[1].split("</tr>")[0]
    assert 'class="state-green" data-light="green"' in hebei
    assert 'class="state-red" data-light="red">未报' in shanxi
    item_1 = hebei.split('data-item="1"')[1].split("</td>")[0]
    assert "●" not in item_1 and "—" in item_1 and "本季度无单位报送" in item_1
    item_23 = hebei.split('data-item="23"')[1].split("</td>")[0]
    assert "state-green" in item_23 and "● 1项指标" in item_23
    assert 'id="legend"' in page


def test_a_rollup_page_names_indicators_and_milestones_and_the_change_in_words(
    client, member, make_user, login
):
    _, token = member
    first = rollup_body(1, value="120")
    first["items"].insert(0, {"item_number": 1, "narrative": "", "milestones": [],
                              "indicators": [], "units_reporting": 0})  # fmt: skip
    assert post_rollup(client, token, first).status_code == 201
    second = rollup_body(2, value="125")
    second["items"][0]["milestones"][0]["status"] = "partly"
    assert post_rollup(client, token, second).status_code == 201
    key = second["items"][0]["indicators"][0]["key"]
    indicator = db.session.scalar(sa.select(Indicator).where(Indicator.key == key))
    name = f"{indicator.name}（{indicator.unit}）"
    login(make_user("coordinator", "mca"))
    rows = {r.revision: r for r in db.session.scalars(sa.select(ReceivedRollup))}
    page = client.get(f"/federation/rollups/{rows[1].id}").get_data(as_text=True)
    assert f"{name}：120" in page and "完成县级摸底排查：已完成" in page
    assert 'id="silent-items"' in page and "第1项。" in page and "第1项 <span" not in page
    assert "各地上报情况</a>" in page  # the way back to the matrix
    changed = client.get(f"/federation/rollups/{rows[2].id}").get_data(as_text=True)
    assert f"第23项 {name} · 指标 {key}：120 → 125" in changed
    assert "第23项 完成县级摸底排查 · 节点 m-ledger：已完成 → 部分完成" in changed
    assert "done" not in changed.split('id="changes"')[1].split("</section>")[0]


def test_the_cascade_page_with_nothing_yet_says_what_to_do(
    client, seeded, provincial, make_user, login
):
    login(make_user("coordinator", "mca"))
    page = client.get("/federation").get_data(as_text=True)
    assert '<dl class="meta">' in page  # laid out like the other fact lists
    assert 'id="no-adoptions"' in page and "上传上级导出的文件" in page
    assert '<li class="empty">' not in page
