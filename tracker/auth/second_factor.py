"""Second factor: TOTP codes (pyotp) with one-time recovery codes.

A user enrols by scanning a QR code drawn here (segno, inline SVG; no outside service) and
confirming it with a code. The secret is kept in ``second_factor`` (it is needed to verify
codes), the last accepted time step beside it so that no code counts twice, and only the
hashes of the recovery codes. Wrong codes are counted by the sign-in failure counters of
:mod:`tracker.auth.services`, so guessing codes is throttled exactly as guessing passwords.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import pyotp
import segno
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from tracker import clock
from tracker.audit.models import Outcome
from tracker.audit.services import record_event
from tracker.auth import services, sessions
from tracker.auth.models import RecoveryCode, SecondFactor, User
from tracker.errors import Invalid
from tracker.extensions import db

RECOVERY_CODES = 10
STEP_SECONDS = 30
WRONG_CODE = "动态口令或恢复码不正确。"


def required_roles() -> set[str]:
    value = current_app.config["TRACKER_TOTP_REQUIRED_ROLES"] or ""
    return {part.strip() for part in value.split(",") if part.strip()}


def is_required(user: User) -> bool:
    """Whether the user's role must sign in with a second factor."""
    return user.role.value in required_roles()


def factor_of(user: User) -> SecondFactor | None:
    return db.session.get(SecondFactor, user.id)


def is_enrolled(user: User) -> bool:
    return factor_of(user) is not None


def enrolled_user_ids() -> set[int]:
    return set(db.session.scalars(sa.select(SecondFactor.user_id)))


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    issuer = current_app.config["TRACKER_TOTP_ISSUER"]
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as an inline ``<svg>`` element (no XML declaration)."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=2, title="动态口令二维码")


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code ``code`` is, within the valid window, or None."""
    code = "".join(code.split())
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    window = current_app.config["TRACKER_TOTP_VALID_WINDOW"]
    here = int(now.timestamp()) // STEP_SECONDS
    for step in range(here - window, here + window + 1):
        if secrets.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [
        f"{secrets.randbelow(10**5):05d}-{secrets.randbelow(10**5):05d}"
        for _ in range(RECOVERY_CODES)
    ]
    method = current_app.config["TRACKER_PASSWORD_HASH_METHOD"]
    for code in codes:
        db.session.add(
            RecoveryCode(user_id=user.id, code_hash=generate_password_hash(code, method))
        )
    return codes


def enrol(user: User, secret: str, code: str) -> list[str]:
    """Enrol ``secret`` once ``code`` proves the app holds it; the recovery codes (shown once)."""
    if is_enrolled(user):
        raise Invalid("已启用第二因素；如需更换，请先停用。", field="code")
    step = _matching_step(secret, code, clock.utcnow())
    if step is None:
        raise Invalid("动态口令不正确：请输入身份验证器应用当前显示的 6 位数字。", field="code")
    db.session.add(SecondFactor(user_id=user.id, secret=secret, last_step=step))
    codes = _new_recovery_codes(user)
    record_event("second_factor.enrol", user, actor=user, object_type="user")
    db.session.flush()
    return codes


def verify(user: User, code: str, address: str | None = None) -> None:
    """Accept a current code (not used before) or an unused recovery code, or raise
    :class:`~tracker.auth.services.SignInRefused`. Counted like a password attempt."""
    factor = factor_of(user)
    if factor is None:
        raise Invalid("该账号未启用第二因素。", field="code")
    name = user.username
    where = (address or services.NO_ADDRESS)[:63]
    now = clock.utcnow()
    refusal = services._reserve_apart(name, where, now)
    if refusal is not None:
        raise services.SignInRefused(refusal, field="code")
    step = _matching_step(factor.secret, code, now)
    if step is not None and (factor.last_step is None or step > factor.last_step):
        factor.last_step = step
        services._forget_success(name, where)
        return
    if step is None and _use_recovery_code(user, code):
        services._forget_success(name, where)
        return
    _record_failure(user, address)
    message = services._failed_apart(name, where, user.id, now)
    # The counters speak of passwords; here it was the code that was wrong.
    raise services.SignInRefused(
        message.replace(services.WRONG_CREDENTIALS, WRONG_CODE), field="code"
    )


def _use_recovery_code(user: User, code: str) -> bool:
    typed = "".join(code.split())
    if len(typed) != 11:
        return False
    unused = db.session.scalars(
        sa.select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )
    for row in unused:
        if check_password_hash(row.code_hash, typed):
            row.used_at = clock.utcnow()
            record_event("second_factor.recovery_code_used", user, actor=user, object_type="user")
            return True
    return False


def _record_failure(user: User, address: str | None) -> None:
    """Audit a wrong code in a transaction of its own (the request's is rolled back)."""
    with Session(db.engine) as session, session.begin():
        record_event(
            "second_factor.failed",
            object_type="user",
            object_id=user.id,
            after={"address": address},
            outcome=Outcome.FAILURE,
            session=session,
        )


def remove(user: User, code: str, address: str | None = None) -> None:
    """The user removes their own second factor, proving it with a current code."""
    if is_required(user):
        raise Invalid("您的角色必须启用第二因素，不能停用。", field="code")
    verify(user, code, address)
    _delete(user)
    record_event("second_factor.remove", user, actor=user, object_type="user")


def regenerate_recovery_codes(user: User, code: str, address: str | None = None) -> list[str]:
    """Ten new recovery codes (shown once) in place of the old ones, proven by a current code
    (or an unused recovery code); a wrong one counts as a failed sign-in."""
    verify(user, code, address)
    codes = _new_recovery_codes(user)
    record_event("second_factor.recovery_codes", user, actor=user, object_type="user")
    db.session.flush()
    return codes


def must_enrol(user: User) -> bool:
    """Whether the user's role requires a second factor that the user has not enrolled yet."""
    return is_required(user) and not is_enrolled(user)


def reset(user: User, *, actor: User | None) -> None:
    """An administrator removes someone's second factor and ends their sessions."""
    if not is_enrolled(user):
        raise Invalid("该用户未启用第二因素。")
    _delete(user)
    sessions.end_sessions(user, "second_factor_reset", actor=actor)
    record_event("second_factor.reset", user, actor=actor, object_type="user")


def _delete(user: User) -> None:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(sa.delete(SecondFactor).where(SecondFactor.user_id == user.id))
    db.session.flush()


def unused_recovery_codes(user: User) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )
