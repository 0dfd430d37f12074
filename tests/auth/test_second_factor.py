"""Second factor (TOTP): enrolment, real codes computed with pyotp, no code used twice,
one-time recovery codes, wrong codes throttled like wrong passwords, required roles."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from tracker import clock
from tracker.audit.models import AuditEvent
from tracker.auth import second_factor, services
from tracker.auth.models import RecoveryCode, SecondFactor
from tracker.config import Settings
from tracker.errors import Invalid
from tracker.extensions import db


def _code(secret: str, delta_seconds: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.utcnow() + timedelta(seconds=delta_seconds))


def _enrolled(user):
    secret = second_factor.new_secret()
    codes = second_factor.enrol(user, secret, _code(secret))
    db.session.commit()
    return secret, codes


def _actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_default_required_roles_are_the_administrators_and_coordinators():
    roles = Settings().totp_required_roles.split(",")
    assert roles == ["admin", "security_admin", "auditor", "coordinator"]
    assert Settings().totp_issuer == "任务分工督办"
    assert Settings().totp_valid_window == 1


def test_required_roles_follow_the_setting(app, seeded, make_user, monkeypatch):
    coordinator, liaison = make_user("coordinator"), make_user("liaison", "mohrss")
    assert not second_factor.is_required(coordinator)
    monkeypatch.setitem(app.config, "TRACKER_TOTP_REQUIRED_ROLES", Settings().totp_required_roles)
    assert second_factor.is_required(coordinator)
    assert second_factor.is_required(make_user("admin"))
    assert not second_factor.is_required(liaison)
    monkeypatch.setitem(app.config, "TRACKER_TOTP_REQUIRED_ROLES", "liaison, unknown_role")
    assert second_factor.is_required(liaison)
    assert not second_factor.is_required(coordinator)


def test_enrol_needs_a_current_code_and_stores_only_hashes(make_user, at):
    at("2026-12-05 10:00")
    user = make_user("coordinator")
    secret = second_factor.new_secret()
    with pytest.raises(Invalid):
        second_factor.enrol(user, secret, _code(secret, -300))
    assert not second_factor.is_enrolled(user)
    codes = second_factor.enrol(user, secret, _code(secret))
    db.session.commit()
    assert len(codes) == 10 and len(set(codes)) == 10
    hashes = list(db.session.scalars(sa.select(RecoveryCode.code_hash)))
    assert len(hashes) == 10 and not set(codes) & set(hashes)
    assert db.session.get(SecondFactor, user.id).secret == secret
    assert "second_factor.enrol" in _actions()


def test_qr_code_is_inline_svg_of_the_provisioning_uri(make_user):
    user = make_user("coordinator")
    secret = second_factor.new_secret()
    uri = second_factor.provisioning_uri(user, secret)
    assert uri.startswith("otpauth://totp/") and secret in uri
    assert "issuer=" in uri
    svg = second_factor.qr_svg(uri)
    assert svg.startswith("<svg") and "<?xml" not in svg and "<path" in svg


def test_a_code_counts_once_and_inside_the_window_only(make_user, at):
    at("2026-12-05 10:00")
    user = make_user("coordinator")
    secret, _ = _enrolled(user)
    at("2026-12-05 10:01")
    code = _code(secret)
    second_factor.verify(user, code)
    db.session.commit()
    with pytest.raises(services.SignInRefused):
        second_factor.verify(user, code)  # the same code again
    db.session.rollback()
    with pytest.raises(services.SignInRefused):
        second_factor.verify(user, _code(secret, -30))  # an older step than the last used
    db.session.rollback()
    with pytest.raises(services.SignInRefused):
        second_factor.verify(user, _code(secret, 120))  # outside the window
    db.session.rollback()
    second_factor.verify(user, _code(secret, 30))  # the next step, inside the window
    db.session.commit()
    assert _actions().count("second_factor.failed") == 3


def test_recovery_codes_are_one_time(make_user, at):
    at("2026-12-05 10:00")
    user = make_user("coordinator")
    _, codes = _enrolled(user)
    second_factor.verify(user, codes[0])
    db.session.commit()
    assert second_factor.unused_recovery_codes(user) == 9
    with pytest.raises(services.SignInRefused):
        second_factor.verify(user, codes[0])
    db.session.rollback()
    assert second_factor.unused_recovery_codes(user) == 9
    assert "second_factor.recovery_code_used" in _actions()


def test_wrong_codes_lock_like_wrong_passwords(app, make_user, at):
    at("2026-12-05 10:00")
    user = make_user("coordinator")
    secret, _ = _enrolled(user)
    for _ in range(app.config["TRACKER_LOGIN_MAX_FAILURES"]):
        with pytest.raises(services.SignInRefused):
            second_factor.verify(
                user, "000000" if _code(secret) != "000000" else "111111", "10.0.0.9"
            )
        db.session.rollback()
    with pytest.raises(services.SignInRefused) as refused:
        second_factor.verify(user, _code(secret), "10.0.0.9")  # right code, but locked
    assert refused.value.message != second_factor.WRONG_CODE
    db.session.rollback()
    assert db.session.get(SecondFactor, user.id).last_step is not None


def test_remove_needs_a_code_and_is_refused_when_required(app, seeded, make_user, at, monkeypatch):
    at("2026-12-05 10:00")
    user = make_user("liaison", "mohrss")
    secret, _ = _enrolled(user)
    monkeypatch.setitem(app.config, "TRACKER_TOTP_REQUIRED_ROLES", "liaison")
    with pytest.raises(Invalid):
        second_factor.remove(user, _code(secret, 30))
    monkeypatch.setitem(app.config, "TRACKER_TOTP_REQUIRED_ROLES", "")
    second_factor.remove(user, _code(secret, 30))
    db.session.commit()
    assert not second_factor.is_enrolled(user)
    assert db.session.scalar(sa.select(sa.func.count(RecoveryCode.id))) == 0
    assert "second_factor.remove" in _actions()


def test_reset_by_an_administrator_removes_it_and_is_audited(make_user, at):
    at("2026-12-05 10:00")
    admin, user = make_user("admin"), make_user("coordinator")
    _enrolled(user)
    second_factor.reset(user, actor=admin)
    db.session.commit()
    assert not second_factor.is_enrolled(user)
    assert "second_factor.reset" in _actions()
    with pytest.raises(Invalid):
        second_factor.reset(user, actor=admin)


def test_only_the_security_administrator_may_reset_a_second_factor(make_user):
    from tracker.auth.permissions import can_reset_second_factor

    assert can_reset_second_factor(make_user("security_admin"))
    assert not can_reset_second_factor(make_user("admin"))
    assert not can_reset_second_factor(make_user("coordinator"))
