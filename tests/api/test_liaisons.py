"""A and B liaisons through the API: read on the department list by those entitled to the
department's contacts, named by the system administrator, refused in words otherwise."""

from __future__ import annotations

import sqlalchemy as sa

from tracker.audit.models import AuditEvent
from tracker.extensions import db


def _department(body, code):
    return next(d for d in body["items"] if d["code"] == code)


def test_the_department_list_names_the_a_and_b_liaisons_for_those_who_may_see_them(
    api, quarter, make_user
):
    admin = make_user("admin")
    main = make_user("liaison", "mps", display_name="张主办", phone="010-66261234")
    alternate = make_user("liaison", "mps", display_name="李备份")
    other = make_user("liaison", "mohrss")
    answer = api(admin).post(
        "/departments/mps/liaisons", json={"main_id": main.id, "alternate_id": alternate.id}
    )
    assert answer.status_code == 200, answer.get_json()
    slots = answer.get_json()["liaisons"]
    assert slots["main"] == {"id": main.id, "display_name": "张主办", "phone": "010-66261234"}
    assert slots["alternate"]["display_name"] == "李备份"
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "department.liaisons")
    ).one()
    assert event.after == {"main": main.username, "alternate": alternate.username}
    # Their own department and coordinators see the names; another department does not.
    own = _department(api(main).get("/departments").get_json(), "mps")
    assert own["liaisons"]["main"]["id"] == main.id and own["signoff_required"] is False
    coordinator = api(make_user("coordinator", "mca")).get("/departments").get_json()
    assert _department(coordinator, "mps")["liaisons"]["alternate"]["id"] == alternate.id
    assert _department(api(other).get("/departments").get_json(), "mps")["liaisons"] is None


def test_only_the_system_administrator_names_them_and_bad_choices_are_refused(
    api, quarter, make_user
):
    admin = api(make_user("admin"))
    main = make_user("liaison", "mps")
    elsewhere = make_user("liaison", "mohrss")
    url = "/departments/mps/liaisons"
    assert api(main).post(url, json={"main_id": main.id}).status_code == 403
    assert (
        api(make_user("coordinator", "mca")).post(url, json={"main_id": main.id}).status_code == 403
    )
    refused = admin.post(url, json={"main_id": elsewhere.id})
    assert refused.status_code == 400 and "main_id" in refused.get_json()["fields"]
    same = admin.post(url, json={"main_id": main.id, "alternate_id": main.id})
    assert same.status_code == 400 and "alternate_id" in same.get_json()["fields"]
    assert admin.post("/departments/none/liaisons", json={}).status_code == 404
    assert admin.post(url, json={"main_id": "x"}).status_code == 400
    assert not db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "department.liaisons")
    ).all()
