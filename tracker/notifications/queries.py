"""Reading notifications (the bell) and the e-mail outbox."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from tracker.auth.models import User
from tracker.extensions import db
from tracker.notifications.models import (
    EMAIL_BY_DEFAULT,
    DigestEntry,
    MailMode,
    MailSetting,
    Notification,
    NotificationKind,
    NotificationPreference,
    OutboxMessage,
    OutboxStatus,
)


class ReadState:
    """The bell page's read filter (``state`` in the query string)."""

    UNREAD = "unread"
    READ = "read"


READ_STATES = {"": "全部", ReadState.UNREAD: "未读", ReadState.READ: "已读"}


def unread_count(user_id: int) -> int:
    """The number on the bell."""
    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    return count or 0


def notifications_for(
    user_id: int,
    *,
    unread_only: bool = False,
    kind: NotificationKind | None = None,
    state: str = "",
) -> sa.Select[Notification]:
    """A user's notifications, newest first; of one kind, and unread or read, if asked."""
    query = (
        sa.select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    if unread_only or state == ReadState.UNREAD:
        query = query.where(Notification.read_at.is_(None))
    elif state == ReadState.READ:
        query = query.where(Notification.read_at.is_not(None))
    if kind is not None:
        query = query.where(Notification.kind == kind)
    return query


def unread_by_kind(user_id: int) -> dict[NotificationKind, int]:
    """Unread notifications of each kind (every kind present), for the filter menu."""
    rows = db.session.execute(
        sa.select(Notification.kind, sa.func.count())
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .group_by(Notification.kind)
    )
    counts = dict.fromkeys(NotificationKind, 0)
    counts.update({kind: count for kind, count in rows})
    return counts


@dataclass(frozen=True)
class MailChoice:
    """Whether a kind goes out by e-mail for a user, and how (each time or in the digest)."""

    email: bool
    mode: MailMode


def email_choices(user_id: int) -> dict[NotificationKind, bool]:
    """Per kind: whether the user gets it by e-mail too (defaults filled in)."""
    chosen = db.session.execute(
        sa.select(NotificationPreference.kind, NotificationPreference.email).where(
            NotificationPreference.user_id == user_id
        )
    )
    choices = dict(EMAIL_BY_DEFAULT)
    choices.update({kind: email for kind, email in chosen})
    return choices


def mail_mode(user_id: int) -> MailMode:
    """Each time, or one digest a day (the default: each time)."""
    mode = db.session.scalar(sa.select(MailSetting.mode).where(MailSetting.user_id == user_id))
    return mode or MailMode.EACH


def mail_choice(user_id: int, kind: NotificationKind) -> MailChoice:
    """What to do with the e-mail of one notification of ``kind`` to the user."""
    email = db.session.scalar(
        sa.select(NotificationPreference.email).where(
            NotificationPreference.user_id == user_id, NotificationPreference.kind == kind
        )
    )
    wanted = EMAIL_BY_DEFAULT[kind] if email is None else email
    return MailChoice(wanted, mail_mode(user_id) if wanted else MailMode.EACH)


def mail_choices(user_ids: Sequence[int], kind: NotificationKind) -> dict[int, MailChoice]:
    """:func:`mail_choice` for many users at once, in two queries (the reminder pass)."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    chosen = dict(
        db.session.execute(
            sa.select(NotificationPreference.user_id, NotificationPreference.email).where(
                NotificationPreference.user_id.in_(ids), NotificationPreference.kind == kind
            )
        ).all()
    )
    modes = dict(
        db.session.execute(
            sa.select(MailSetting.user_id, MailSetting.mode).where(MailSetting.user_id.in_(ids))
        ).all()
    )
    choices = {}
    for user_id in ids:
        wanted = chosen.get(user_id, EMAIL_BY_DEFAULT[kind])
        choices[user_id] = MailChoice(
            wanted, modes.get(user_id, MailMode.EACH) if wanted else MailMode.EACH
        )
    return choices


def users_with_pending_digest(before: datetime) -> list[int]:
    """Active users with digest entries written before ``before`` and not yet sent (a
    deactivated account's entries wait, unsent, in case it is activated again)."""
    return list(
        db.session.scalars(
            sa.select(DigestEntry.user_id)
            .join(User, User.id == DigestEntry.user_id)
            .where(
                DigestEntry.digest_id.is_(None),
                DigestEntry.created_at < before,
                User.active.is_(True),
            )
            .group_by(DigestEntry.user_id)
            .order_by(DigestEntry.user_id)
        )
    )


def digest_notifications(digest_id: int) -> list[Notification]:
    """The notifications a digest carries, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Notification)
            .join(DigestEntry, DigestEntry.notification_id == Notification.id)
            .where(DigestEntry.digest_id == digest_id)
            .order_by(Notification.created_at, Notification.id)
        )
    )


def notification_of(notification_id: int, user_id: int) -> Notification | None:
    """One notification, only if it is the user's own (others' are as good as missing)."""
    return db.session.scalar(
        sa.select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user_id
        )
    )


def due_outbox_ids(now: datetime, limit: int = 100) -> list[int]:
    """Messages to attempt now: pending and due, or claimed by a sender whose claim lapsed."""
    return list(
        db.session.scalars(
            sa.select(OutboxMessage.id)
            .where(
                sa.or_(
                    sa.and_(
                        OutboxMessage.status == OutboxStatus.PENDING,
                        OutboxMessage.next_attempt_at <= now,
                    ),
                    sa.and_(
                        OutboxMessage.status == OutboxStatus.SENDING,
                        OutboxMessage.locked_until < now,
                    ),
                )
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
    )


def outbox_query(status: OutboxStatus | None = None) -> sa.Select[OutboxMessage]:
    """The admin's view of the outbox (optionally one state), newest first, for paging."""
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    return query


def outbox_counts() -> dict[OutboxStatus, int]:
    """How many messages are in each state (every state present, zero included)."""
    rows = db.session.execute(
        sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
    )
    counts = dict.fromkeys(OutboxStatus, 0)
    counts.update({status: count for status, count in rows})
    return counts


def _unsent() -> sa.ColumnElement[bool]:
    return OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING))


def oldest_unsent_at() -> datetime | None:
    """When the oldest message still waiting to go out (pending or sending) was written."""
    return db.session.scalar(sa.select(sa.func.min(OutboxMessage.created_at)).where(_unsent()))


def overdue_outbox_count(cutoff: datetime) -> int:
    """Messages that were due (or whose sender's claim lapsed) before ``cutoff`` and wait still.

    A sender that runs every minute leaves none; a stopped or wedged sender leaves them all.
    """
    pending_late = sa.and_(
        OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at < cutoff
    )
    claim_lapsed = sa.and_(
        OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.locked_until < cutoff
    )
    statement = sa.select(sa.func.count()).where(sa.or_(pending_late, claim_lapsed))
    return int(db.session.scalar(statement) or 0)


# -- what a notification lets one do, offered by the domain it is about -----------------------


@dataclass(frozen=True)
class NoteAction:
    """A button beside a notification (a POST to ``url``), or with ``url`` None a note that
    it was done (``已签收 …``)."""

    label: str
    url: str | None = None


ActionProvider = Callable[[Sequence[Notification], User], dict[int, NoteAction]]
_PROVIDERS: dict[NotificationKind, ActionProvider] = {}


def register_action(kind: NotificationKind, provider: ActionProvider) -> None:
    """Let a domain that notifies (follow-ups: 签收 an urge) offer its action on the bell page.

    The provider is given the page's notifications of ``kind`` and the reader, and answers per
    notification id, in a fixed number of queries. Notifications import no such domain.
    """
    _PROVIDERS[kind] = provider


def actions_for(notes: Sequence[Notification], user: User) -> dict[int, NoteAction]:
    """The actions of a page of notifications, by notification id."""
    actions: dict[int, NoteAction] = {}
    for kind, provider in _PROVIDERS.items():
        of_kind = [note for note in notes if note.kind == kind]
        if of_kind:
            actions.update(provider(of_kind, user))
    return actions
