"""Directory sign-on: LDAP or Active Directory decides who may sign in, and as what.

Configured by environment (``TRACKER_LDAP_*``, see the README); off while ``TRACKER_LDAP_URL``
is empty. A sign-in against the directory:

1. binds with the service account (or anonymously) and searches ``TRACKER_LDAP_USER_BASE`` with
   ``TRACKER_LDAP_USER_FILTER`` (``{username}`` escaped by RFC 4515): exactly one entry;
2. binds as that entry with the password typed (the password never reaches the database);
3. reads the groups the entry belongs to (groups under ``TRACKER_LDAP_GROUP_BASE`` naming the
   entry as ``member`` or ``uniqueMember``, and the entry's ``memberOf`` where the directory keeps
   it) and maps them through ``TRACKER_LDAP_GROUPS``, a JSON object from group DN to
   ``{"role": …}`` and/or ``{"department": code or name}``.

The account is then created or brought up to date (name, e-mail, phone, role, department), each
change audited. The directory grants the business roles only (coordinator, liaison, approver,
viewer): the three administrators (三员分立) stay local accounts, and so does every account made
locally, which signs in with its own password whatever the directory says (break-glass). A
directory account has no usable local password.
"""

from __future__ import annotations

import secrets
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ldap3
from flask import current_app
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars

from tracker.auth.models import DEPARTMENT_ROLES, User, UserRole
from tracker.catalogue.models import Department
from tracker.catalogue.queries import department_by_name_or_code
from tracker.config import DIRECTORY_ROLE_VALUES, parse_group_map
from tracker.errors import Invalid

# The roles a directory group may grant, strongest first (an entry in several groups).
DIRECTORY_ROLES = tuple(UserRole(value) for value in DIRECTORY_ROLE_VALUES)
NO_ROLE = "您的目录账号不属于本系统的任何角色组：请联系系统管理员在目录中为您分配角色。"
NO_DEPARTMENT = "您的目录账号是{role}，但不属于任何部门组：请联系系统管理员在目录中为您分配部门。"
UNAVAILABLE = "目录服务暂时无法连接，请稍后再试；紧急情况下请使用本地管理员账号。"


class DirectoryUnavailable(Invalid):
    """The directory did not answer (down, unreachable, misconfigured): nothing is decided."""

    status = 503
    code = "directory_unavailable"


class DirectoryRefused(Invalid):
    """The directory knows the person but grants them nothing here (no role, no department)."""

    status = 403
    code = "directory_refused"


@dataclass(frozen=True)
class Grant:
    """What one group gives: a role, a department, or both."""

    role: UserRole | None = None
    department: str | None = None


@dataclass(frozen=True)
class DirectoryPerson:
    """Who the directory says signed in, and what their groups grant."""

    dn: str
    username: str
    display_name: str
    email: str | None
    phone: str | None
    role: UserRole
    department: Department | None


def enabled() -> bool:
    return bool((current_app.config.get("TRACKER_LDAP_URL") or "").strip())


def parse_groups(text: str) -> dict[str, Grant]:
    """``TRACKER_LDAP_GROUPS`` (checked by :func:`tracker.config.parse_group_map`) as grants
    by group DN, compared case-insensitively."""
    return {
        _norm(dn): Grant(
            UserRole(value["role"]) if value.get("role") else None, value.get("department")
        )
        for dn, value in parse_group_map(text).items()
    }


def _norm(dn: str) -> str:
    return ",".join(part.strip() for part in dn.lower().split(","))


def _server() -> ldap3.Server:
    config = current_app.config
    url = config["TRACKER_LDAP_URL"].strip()
    tls = None
    if url.startswith("ldaps://") or config["TRACKER_LDAP_START_TLS"]:
        ca = config.get("TRACKER_LDAP_CA_FILE") or None
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=ca)
    # No schema read (get_info NONE): one round trip less per sign-in, and attributes such as
    # memberOf are asked for whether or not this directory's schema has them.
    return ldap3.Server(
        url, connect_timeout=config["TRACKER_LDAP_TIMEOUT_SECONDS"], tls=tls, get_info=ldap3.NONE
    )


def _connection(server: ldap3.Server, user: str | None, password: str | None) -> ldap3.Connection:
    config = current_app.config
    connection = ldap3.Connection(
        server, user=user, password=password, read_only=True, raise_exceptions=False,
        receive_timeout=config["TRACKER_LDAP_TIMEOUT_SECONDS"],
        check_names=False,
    )  # fmt: skip
    if config["TRACKER_LDAP_START_TLS"] and not server.ssl:
        connection.open()
        connection.start_tls()
    return connection


def authenticate(username: str, password: str) -> DirectoryPerson | None:
    """The person the directory knows by ``username`` and ``password``, with what their groups
    grant; None when the directory does not know them or the password is wrong.

    Raises :class:`DirectoryUnavailable` when the directory cannot be asked, and
    :class:`DirectoryRefused` when it knows them but grants nothing here.
    """
    if not password:
        return None  # an empty password would be an anonymous bind: never a sign-in
    config = current_app.config
    try:
        server = _server()
        service = _connection(
            server, config.get("TRACKER_LDAP_BIND_DN") or None,
            config.get("TRACKER_LDAP_BIND_PASSWORD") or None,
        )  # fmt: skip
        if not service.bind():
            raise DirectoryUnavailable(UNAVAILABLE)
        try:
            entry = _find(service, username)
            if entry is None:
                return None
            person = _bind_as(server, entry, password)
            if person is None:
                return None
            groups = _groups(service, entry)
        finally:
            service.unbind()
    except LDAPException:
        current_app.logger.exception("directory sign-in failed")
        raise DirectoryUnavailable(UNAVAILABLE) from None
    return _person(entry, username, groups)


def _find(service: ldap3.Connection, username: str) -> Any:
    config = current_app.config
    query = config["TRACKER_LDAP_USER_FILTER"].replace("{username}", escape_filter_chars(username))
    attributes = ["displayName", "cn", "mail", "telephoneNumber", "memberOf"]
    if not service.search(config["TRACKER_LDAP_USER_BASE"], query, attributes=attributes):
        if service.result.get("result") not in (0, 32):  # 32: no such object
            raise DirectoryUnavailable(UNAVAILABLE)
        return None
    entries = service.entries
    return entries[0] if len(entries) == 1 else None


def _bind_as(server: ldap3.Server, entry: Any, password: str) -> bool | None:
    person = _connection(server, entry.entry_dn, password)
    try:
        return True if person.bind() else None
    finally:
        person.unbind()


def _groups(service: ldap3.Connection, entry: Any) -> set[str]:
    found = {_norm(str(dn)) for dn in _values(entry, "memberOf")}
    base = current_app.config.get("TRACKER_LDAP_GROUP_BASE") or ""
    if base:
        dn = escape_filter_chars(entry.entry_dn)
        service.search(base, f"(|(member={dn})(uniqueMember={dn}))", attributes=[])
        found |= {_norm(group.entry_dn) for group in service.entries}
    return found


def _values(entry: Any, name: str) -> list[Any]:
    if name not in entry.entry_attributes:
        return []
    return list(entry[name].values)


def _first(entry: Any, *names: str) -> str | None:
    for name in names:
        values = _values(entry, name)
        if values and str(values[0]).strip():
            return str(values[0]).strip()
    return None


def _person(entry: Any, username: str, groups: set[str]) -> DirectoryPerson:
    grants = parse_groups(current_app.config.get("TRACKER_LDAP_GROUPS") or "")
    given = [grants[group] for group in groups if group in grants]
    roles = {grant.role for grant in given if grant.role is not None}
    role = next((candidate for candidate in DIRECTORY_ROLES if candidate in roles), None)
    if role is None:
        raise DirectoryRefused(NO_ROLE)
    department = None
    names = sorted({grant.department for grant in given if grant.department})
    for name in names:
        department = department_by_name_or_code(name)
        if department is not None:
            break
    if role in DEPARTMENT_ROLES and department is None:
        raise DirectoryRefused(NO_DEPARTMENT.format(role=role.label))
    return DirectoryPerson(
        dn=entry.entry_dn,
        username=username,
        display_name=(_first(entry, "displayName", "cn") or username)[:64],
        email=_first(entry, "mail"),
        phone=_first(entry, "telephoneNumber"),
        role=role,
        department=department,
    )


def unusable_password() -> str:
    """A password nobody knows: a directory account never signs in locally."""
    return secrets.token_urlsafe(48)


def changes(user: User, person: DirectoryPerson) -> Mapping[str, tuple[Any, Any]]:
    """What the directory says differently from the account: field → (before, after)."""
    wanted = {
        "display_name": person.display_name,
        "email": person.email,
        "role": person.role,
        "department_id": person.department.id if person.department else None,
        "directory_dn": person.dn,
    }
    return {
        name: (getattr(user, name), value)
        for name, value in wanted.items()
        if getattr(user, name) != value
    }
