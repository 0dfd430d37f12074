"""The accounts page is paged: every account once across its pages, a bad page number reads as
the first (the list's query count stays flat: tests/reports/test_paging.py)."""

import re

import sqlalchemy as sa

from tracker.extensions import db


def test_the_users_list_pages_through_every_account_once(client, login, make_user, seeded):
    from tracker.auth.models import User
    from tracker.auth.routes import USERS_PER_PAGE

    admin = make_user("admin")
    for _ in range(USERS_PER_PAGE + 7):
        make_user("viewer", "moa")
    login(admin)
    names, url, pages = [], "/admin/users", 0
    while url:
        html = client.get(url).get_data(as_text=True)
        names += re.findall(r'<tr data-username="([^"]+)"', html)
        following = re.search(r'<a href="([^"]+)">下一页</a>', html)
        url = following.group(1).replace("&amp;", "&") if following else None
        pages += 1
    everyone = set(db.session.scalars(sa.select(User.username)))
    assert pages == 2
    assert len(names) == len(set(names)) == len(everyone)
    assert set(names) == everyone
    assert client.get("/admin/users?page=x").status_code == 200
