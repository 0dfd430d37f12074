"""A and B liaisons (A/B角), the handover when a liaison is deactivated, and departments
left without a liaison on the to-do."""

from __future__ import annotations

import sqlalchemy as sa

from tests.dashboard.conftest import draft
from tracker.audit.models import AuditEvent
from tracker.auth import liaisons
from tracker.auth.models import User
from tracker.catalogue.models import Department
from tracker.extensions import db
from tracker.followups import services as followups


def _department(code: str) -> Department:
    return db.session.scalar(sa.select(Department).where(Department.code == code))


def _events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def test_an_admin_names_the_a_and_b_liaisons_audited(client, seeded, make_user, login):
    a, b = make_user("liaison", "mohrss"), make_user("liaison", "mohrss")
    login(make_user("admin"))
    page = client.get("/departments/mohrss/liaisons").get_data(as_text=True)
    assert a.display_name in page and b.display_name in page
    response = client.post(
        "/departments/mohrss/liaisons", data={"main": str(a.id), "alternate": str(b.id)}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert (a.liaison_slot, b.liaison_slot) == ("main", "alternate")
    [event] = _events("department.liaisons")
    assert event.before == {} and event.after == {"main": a.username, "alternate": b.username}
    shown = client.get("/departments/mohrss").get_data(as_text=True)
    assert "A角（主要联络员）：" + a.display_name in shown
    assert "B角（备用联络员）：" + b.display_name in shown
    users = client.get("/admin/users").get_data(as_text=True)
    assert 'data-slot="main"' in users and 'data-slot="alternate"' in users

    # Swapping them is one change (the unique index never sees two holders of a slot).
    swap = {"main": str(b.id), "alternate": str(a.id)}
    assert client.post("/departments/mohrss/liaisons", data=swap).status_code == 303
    db.session.expire_all()
    assert (a.liaison_slot, b.liaison_slot) == ("alternate", "main")
    assert client.post("/departments/mohrss/liaisons", data=swap).status_code == 303
    assert len(_events("department.liaisons")) == 2  # saving the same again records nothing


def test_wrong_choices_are_refused_keeping_what_was_chosen(client, seeded, make_user, login):
    a = make_user("liaison", "mohrss")
    elsewhere = make_user("liaison", "mps")
    viewer = make_user("viewer", "mohrss")
    login(make_user("admin"))
    same = client.post("/departments/mohrss/liaisons", data={"main": a.id, "alternate": a.id})
    assert same.status_code == 422
    page = same.get_data(as_text=True)
    assert "A角和B角不能是同一人" in page
    assert f'<option selected value="{a.id}">' in page or f'value="{a.id}" selected' in page
    for wrong in (elsewhere.id, viewer.id, 999999, "abc"):
        response = client.post("/departments/mohrss/liaisons", data={"main": wrong})
        assert response.status_code == 422, wrong
    # The service refuses another department's liaison even when asked directly.
    try:
        liaisons.assign_slots(
            _department("mohrss"), main_id=elsewhere.id, alternate_id=None, actor=None
        )
    except liaisons.LiaisonError as error:
        assert "本部门启用中的联络员" in error.message
    else:
        raise AssertionError("another department's liaison was accepted")
    db.session.rollback()
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).where(User.liaison_slot.is_not(None))) == 0
    assert _events("department.liaisons") == []


def test_only_the_system_administrator_names_them(client, seeded, make_user, login):
    a = make_user("liaison", "mohrss")
    for role, department in (("liaison", "mohrss"), ("coordinator", "mca"), ("viewer", None)):
        login(make_user(role, department))
        assert client.get("/departments/mohrss/liaisons").status_code == 403
        response = client.post("/departments/mohrss/liaisons", data={"main": a.id})
        assert response.status_code == 403
    db.session.expire_all()
    assert a.liaison_slot is None


def test_urges_reach_both_the_a_and_the_b_liaison(quarter, make_user):
    a, b = make_user("liaison", "mohrss"), make_user("liaison", "mohrss")
    liaisons.assign_slots(_department("mohrss"), main_id=a.id, alternate_id=b.id, actor=None)
    coordinator = make_user("coordinator", "mca")
    db.session.commit()
    obligation = quarter.obligation(3, "mohrss")
    followups.urge_obligation(obligation, actor=coordinator, message="请尽快报送。")
    db.session.commit()
    from tracker.notifications.models import Notification

    told = set(
        db.session.scalars(
            sa.select(Notification.user_id).where(Notification.obligation_id == obligation.id)
        )
    )
    assert {a.id, b.id} <= told


def test_deactivating_a_liaison_with_open_drafts_asks_for_a_successor(
    client, quarter, make_user, login
):
    leaving, staying = make_user("liaison", "mohrss"), make_user("liaison", "mohrss")
    liaisons.assign_slots(_department("mohrss"), main_id=leaving.id, alternate_id=None, actor=None)
    draft(quarter.obligation(3, "mohrss"), leaving)
    db.session.commit()
    login(make_user("admin"))

    first = client.post(f"/admin/users/{leaving.id}/deactivate")
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and 'name="successor"' in page
    assert "A角（主要联络员）" in page and "第3项" in page
    assert staying.display_name in page

    # Confirming without choosing changes nothing and says why.
    missing = client.post(f"/admin/users/{leaving.id}/deactivate", data={"confirm": "1"})
    assert missing.status_code == 200 and "请选择接手的联络员" in missing.get_data(as_text=True)
    wrong = client.post(
        f"/admin/users/{leaving.id}/deactivate",
        data={"confirm": "1", "successor": str(leaving.id)},
    )
    assert "请选择接手的联络员" in wrong.get_data(as_text=True)
    db.session.expire_all()
    assert leaving.active and leaving.liaison_slot == "main"

    done = client.post(
        f"/admin/users/{leaving.id}/deactivate",
        data={"confirm": "1", "successor": str(staying.id)},
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert not leaving.active and leaving.liaison_slot is None
    assert staying.liaison_slot == "main"
    [handover] = _events("liaison.handover")
    assert handover.after["successor"] == staying.username and handover.after["moved"] == 1
    [report_event] = _events("report.handover")
    assert report_event.after == {"holder": staying.username}
    flashed = client.get("/admin/users").get_data(as_text=True)
    assert "已交接给" in flashed


def test_the_last_liaison_leaves_and_the_department_shows_on_the_to_do(
    client, quarter, make_user, login
):
    only = make_user("liaison", "mohrss")
    draft(quarter.obligation(3, "mohrss"), only)
    db.session.commit()
    coordinator = make_user("coordinator", "mca")
    admin = make_user("admin")
    login(admin)
    # Every other seeded department has no liaison in this test either; 人社部 is staffed.
    before = liaisons.departments_without_liaison()
    assert _department("mohrss") not in before
    page = client.post(f"/admin/users/{only.id}/deactivate").get_data(as_text=True)
    assert 'name="successor"' not in page and "没有其他启用中的联络员" in page
    client.post(f"/admin/users/{only.id}/deactivate", data={"confirm": "1"})
    db.session.expire_all()
    assert not only.active
    assert _department("mohrss") in liaisons.departments_without_liaison()

    login(coordinator)
    todo = client.get("/dashboard").get_data(as_text=True)
    assert "无在岗联络员的部门" in todo and "人力资源社会保障部" in todo
    login(admin)
    assert "无在岗联络员的部门" in client.get("/admin").get_data(as_text=True)
    shown = client.get("/departments/mohrss").get_data(as_text=True)
    assert 'id="no-active-liaison"' in shown


def test_a_liaison_moved_to_another_department_gives_up_the_slot(seeded, make_user):
    from tracker.auth import services

    a = make_user("liaison", "mohrss")
    liaisons.assign_slots(_department("mohrss"), main_id=a.id, alternate_id=None, actor=None)
    db.session.commit()
    services.edit_user(a, department=_department("mps"))
    db.session.commit()
    assert a.liaison_slot is None
    b = make_user("liaison", "mohrss")
    # The freed slot can be given again without a clash.
    liaisons.assign_slots(_department("mohrss"), main_id=b.id, alternate_id=None, actor=None)
    db.session.commit()
    assert b.liaison_slot == "main"
