"""The cascade's pages: members and their tokens, adopting by upload, mapping, 分解, 上报
and the matrix, each as the coordinator or administrator sees them."""

from __future__ import annotations

import io
import json

import sqlalchemy as sa

from tests.federation.conftest import department, post_rollup, rollup_body
from tracker.catalogue.models import Assignment
from tracker.extensions import db
from tracker.federation.models import AdoptedItem, Adoption, MemberInstance


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
