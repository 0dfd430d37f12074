"""The contact directory: each department's liaisons and viewers with work phone and e-mail."""

from __future__ import annotations

import pytest

from tracker.auth.services import deactivate_user
from tracker.extensions import db


@pytest.fixture
def people(seeded, make_user):
    mps = make_user("liaison", "mps", display_name="公安联络员", phone="010-66261234",
                    email="mps@example.org")  # fmt: skip
    mps_viewer = make_user("viewer", "mps", display_name="公安领导")
    moj = make_user("liaison", "moj", display_name="司法联络员", phone="010-55551234")
    gone = make_user("liaison", "mps", display_name="已停用的人")
    deactivate_user(gone)
    coordinator = make_user("coordinator", "mca", display_name="协调员")
    db.session.commit()
    return {"mps": mps, "mps_viewer": mps_viewer, "moj": moj, "coordinator": coordinator}


def test_a_department_reads_its_own_directory_only(client, people, login):
    login(people["mps_viewer"])
    page = client.get("/departments/mps/contacts").get_data(as_text=True)
    assert "公安联络员" in page and "010-66261234" in page and "mps@example.org" in page
    assert "公安领导" in page
    assert "司法联络员" not in page and "已停用的人" not in page and "协调员" not in page
    assert client.get("/departments/moj/contacts").status_code == 403
    assert client.get("/contacts").status_code == 403
    assert 'id="department-contacts"' in client.get("/departments/mps").get_data(as_text=True)


def test_coordinators_read_every_department(client, people, login):
    login(people["coordinator"])
    page = client.get("/contacts").get_data(as_text=True)
    assert "公安联络员" in page and "司法联络员" in page and "010-55551234" in page
    assert page.index("公安联络员") < page.index("司法联络员")  # the departments' order
    assert "已停用的人" not in page
    assert client.get("/departments/moj/contacts").status_code == 200
    assert 'id="all-contacts"' in client.get("/departments").get_data(as_text=True)


@pytest.mark.parametrize("who", ["leader", "other"])
def test_leaders_and_other_departments_get_403(client, people, make_user, login, who):
    user = make_user("viewer") if who == "leader" else make_user("liaison", "moa")
    login(user)
    assert client.get("/departments/mps/contacts").status_code == 403
    assert client.get("/contacts").status_code == 403
    link = 'id="department-contacts"' in client.get("/departments/mps").get_data(as_text=True)
    assert not link


def test_unknown_department_is_404(client, people, login):
    login(people["coordinator"])
    assert client.get("/departments/nowhere/contacts").status_code == 404


def test_names_are_escaped(client, seeded, make_user, login):
    make_user("liaison", "mps", display_name="<script>x</script>")
    login(make_user("coordinator", "mca"))
    page = client.get("/departments/mps/contacts").get_data(as_text=True)
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page
