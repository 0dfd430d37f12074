"""A centre with member provinces whose 2024Q3 roll-ups arrived at known times, received
through the real service (tracker.federation.services.receive_rollup)."""

from __future__ import annotations

from tests.conftest import beijing
from tests.federation.conftest import rollup_body
from tracker import clock
from tracker.extensions import db
from tracker.federation import services, wire

# 2024Q3 is due Thu 2024-10-10 (the lead departments' due date).
PROVINCES = {
    "130000": "河北省",
    "140000": "山西省",
    "210000": "辽宁省",
    "220000": "吉林省",
    "650000": "新疆生产建设兵团",
}


def register(codes=PROVINCES) -> dict:
    members = {}
    for code in codes:
        members[code], _ = services.add_member(code, PROVINCES[code], "provincial", actor=None)
    db.session.commit()
    return members


def receive(member, revision: int, when: str, value: str = "120", **extra):
    """``member``'s 2024Q3 roll-up ``revision``, received at ``when`` (Beijing time)."""
    body = rollup_body(
        revision, value=value, code=member.code,
        instance={"code": member.code, "name": member.name, "level": "provincial"}, **extra,
    )  # fmt: skip
    data = wire.canonical(body)
    with clock.frozen(beijing(when)):
        parsed = wire.Rollup.model_validate_json(data)
        row, duplicate = services.receive_rollup(member, data, parsed)
    assert not duplicate
    db.session.commit()
    return row


def cascade() -> dict:
    """河北 on time (revision 1 on 10-09, a correction on 10-15); 兵团 at 00:30 Beijing time
    on 10-11, one working day late (still 10-10 in UTC); 山西 on Mon 10-14, three working
    days late (Fri 10-11 and the make-up working Saturday 10-12 between); 辽宁 nothing; 吉林
    revoked with nothing (not listed)."""
    members = register()
    receive(members["130000"], 1, "2024-10-09 10:00", "100")
    receive(members["130000"], 2, "2024-10-15 09:00", "150")
    receive(members["140000"], 1, "2024-10-14 09:00", "50")
    receive(members["650000"], 1, "2024-10-11 00:30", "100")
    services.revoke_member(members["220000"], actor=None)
    db.session.commit()
    return members
