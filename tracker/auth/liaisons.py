"""A and B liaisons (A/B角) and the handover when a liaison leaves.

Each department names a main liaison (A角) and an alternate (B角) among its active liaisons.
Reminders and urges already reach every active liaison of a department, so both hear of
everything; the names say who answers first and who stands in. When an administrator
deactivates a liaison who holds a slot or open work, the work is handed to another liaison of
the department: the slot passes to the successor, and what higher layers register here (the
reports domain: the liaison's open drafts and returned reports) is handed over and audited.

A department with no active liaison at all shows on the coordinators' and administrators'
to-do (:func:`departments_without_liaison`).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from tracker.audit.services import record_event
from tracker.auth.models import User, UserRole
from tracker.catalogue.models import Department
from tracker.errors import Invalid
from tracker.extensions import db

MAIN, ALTERNATE = "main", "alternate"
SLOT_LABELS = {MAIN: "A角（主要联络员）", ALTERNATE: "B角（备用联络员）"}
SHORT_LABELS = {MAIN: "A角", ALTERNATE: "B角"}


class LiaisonError(Invalid):
    """A slot given to someone who cannot hold it, or a handover that cannot be made."""


# What higher layers hold for a liaison (lines describing it, for the confirmation page) and
# how they hand it to a successor (returns how many things moved). Registered at import by
# the reports domain, as the API registers its tokens with the account services.
HOLDINGS: list[Callable[[User], list[str]]] = []
HANDOVERS: list[Callable[[User, User, User | None], int]] = []


def on_holdings(describe: Callable[[User], list[str]], hand_over: Callable[..., int]) -> None:
    """Register what a domain holds for a liaison and how it is handed over (once)."""
    if describe not in HOLDINGS:
        HOLDINGS.append(describe)
    if hand_over not in HANDOVERS:
        HANDOVERS.append(hand_over)


def holdings_of(user: User) -> list[str]:
    """What ``user`` holds that must be handed over: the slot and every registered holding."""
    lines = []
    if user.liaison_slot:
        lines.append(f"本部门{SLOT_LABELS[user.liaison_slot]}")
    for describe in HOLDINGS:
        lines += describe(user)
    return lines


def active_liaisons(department_id: int, *, besides: User | None = None) -> list[User]:
    query = sa.select(User).where(
        User.active.is_(True), User.role == UserRole.LIAISON, User.department_id == department_id
    )
    if besides is not None:
        query = query.where(User.id != besides.id)
    return list(db.session.scalars(query.order_by(User.id)))


def slot_holders(department_id: int) -> dict[str, User]:
    """``{"main": user, "alternate": user}`` for the slots filled (active holders only)."""
    rows = db.session.scalars(
        sa.select(User).where(
            User.department_id == department_id,
            User.liaison_slot.is_not(None),
            User.active.is_(True),
        )
    )
    return {user.liaison_slot: user for user in rows if user.liaison_slot}


def _checked(department: Department, user_id: int | None, slot: str) -> User | None:
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    if (
        user is None
        or not user.active
        or user.role != UserRole.LIAISON
        or user.department_id != department.id
    ):
        raise LiaisonError(f"{SLOT_LABELS[slot]}须是本部门启用中的联络员。", field=slot)
    return user


def assign_slots(
    department: Department, *, main_id: int | None, alternate_id: int | None, actor: User | None
) -> bool:
    """Name the department's A and B liaisons (None leaves a slot empty); whether anything
    changed. Both must be active liaisons of the department, and not the same person."""
    main = _checked(department, main_id, MAIN)
    alternate = _checked(department, alternate_id, ALTERNATE)
    if main is not None and alternate is not None and main.id == alternate.id:
        raise LiaisonError("A角和B角不能是同一人。", field=ALTERNATE)
    current = slot_holders(department.id)
    before = {slot: user.username for slot, user in current.items()}
    wanted = {MAIN: main, ALTERNATE: alternate}
    after = {slot: user.username for slot, user in wanted.items() if user is not None}
    if before == after:
        return False
    holders = db.session.scalars(
        sa.select(User).where(User.department_id == department.id, User.liaison_slot.is_not(None))
    )
    for holder in holders:
        holder.liaison_slot = None
    db.session.flush()  # the unique index: clear before giving slots again
    for slot, chosen in wanted.items():
        if chosen is not None:
            chosen.liaison_slot = slot
    db.session.flush()
    record_event(
        "department.liaisons", department, actor=actor, before=before, after=after
    )  # fmt: skip
    return True


def hand_over(user: User, successor: User | None, *, actor: User | None) -> int:
    """Hand ``user``'s slot and registered holdings to ``successor`` (another active liaison of
    the same department); how many holdings moved. Without a successor the slot is freed and
    the holdings stay with the department (any of its liaisons may take them up)."""
    if successor is not None and (
        successor.id == user.id
        or not successor.active
        or successor.role != UserRole.LIAISON
        or successor.department_id != user.department_id
    ):
        raise LiaisonError("只能交接给本部门另一位启用中的联络员。", field="successor")
    slot = user.liaison_slot
    moved = 0
    if successor is not None:
        for hook in HANDOVERS:
            moved += hook(user, successor, actor)
    if slot:
        user.liaison_slot = None
        db.session.flush()
        # The successor takes the slot; a B liaison taking over from the A liaison becomes A
        # (and B is left to be named again); an A liaison stays A.
        if successor is not None and (
            successor.liaison_slot is None or (successor.liaison_slot == ALTERNATE and slot == MAIN)
        ):
            successor.liaison_slot = slot
            db.session.flush()
    if slot or moved:
        record_event(
            "liaison.handover", user, actor=actor, object_type="user",
            before={"slot": slot, "holder": user.username},
            after={"successor": successor.username if successor else None, "moved": moved,
                   "slot_to": successor.username if successor and slot else None},
        )  # fmt: skip
    return moved


def release_slot(user: User) -> None:
    """A deactivated or re-roled user holds no slot."""
    if user.liaison_slot is not None:
        user.liaison_slot = None
        db.session.flush()


def departments_without_liaison() -> list[Department]:
    """Active departments with no active liaison: nobody receives their reminders."""
    staffed = (
        sa.select(User.id)
        .where(
            User.department_id == Department.id,
            User.active.is_(True),
            User.role == UserRole.LIAISON,
        )
        .exists()
    )
    return list(
        db.session.scalars(
            sa.select(Department)
            .where(Department.active.is_(True), ~staffed)
            .order_by(Department.position, Department.id)
        )
    )
