"""The task division: policy documents, their items, departments and who answers for what."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db import UTCDateTime, utcnow
from tracker.extensions import Model


class Role(enum.StrEnum):
    """A department's part in one item."""

    LEAD = "lead"  # 牵头, or the one department that alone 负责
    SUPPORT = "support"  # named after 牵头: 配合 / 参与 / 按照职责分工负责
    JOINT = "joint"  # co-responsible with no lead

    @property
    def label(self) -> str:
        return {"lead": "牵头", "support": "配合", "joint": "共同负责"}[self.value]

    @property
    def short(self) -> str:
        return {"lead": "牵", "support": "配", "joint": "共"}[self.value]


ROLE_ORDER = {Role.LEAD: 0, Role.SUPPORT: 1, Role.JOINT: 2}

NATIONAL_JURISDICTION = "national"


class Jurisdiction(Model):
    """The level of government an assignment belongs to; only the national one for now."""

    __tablename__ = "jurisdiction"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64))


class Department(Model):
    """A central agency named in a task division, spelled exactly as the document spells it."""

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    short_name: Mapped[str] = mapped_column(sa.String(32))
    aliases: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    position: Mapped[int] = mapped_column(default=0)
    # An inactive department (已停用) gets no obligations when a period is opened and is offered
    # for no new account or assignment; its history stays where it is.
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # Set once an administrator created or changed the department on the web or with
    # ``flask department``: from then on the seed never renames, reorders or reactivates it.
    managed: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Whether its reports need its approver's sign-off (审核签发) before they reach the
    # coordinators: True or False as an administrator set it, None to follow
    # ``TRACKER_SIGNOFF_REQUIRED`` (on unless configured off); see tracker/reports/signoff.py.
    signoff_required: Mapped[bool | None] = mapped_column()
    # On a provincial (or lower) instance: the code of the central counterpart department
    # (the 民政厅's is ``mca``), set when the coordinator maps an adopted document's
    # departments (tracker/federation); None on the centre and for unmapped departments.
    central_code: Mapped[str | None] = mapped_column(sa.String(32))

    assignments: Mapped[list[Assignment]] = relationship(back_populates="department")

    @property
    def spellings(self) -> list[str]:
        """Every spelling that names this department in a document: name, short name, aliases."""
        found: list[str] = []
        for spelling in [self.name, self.short_name, *(self.aliases or [])]:
            if spelling and spelling not in found:
                found.append(spelling)
        return found

    def __repr__(self) -> str:
        return f"<Department {self.code} {self.name}>"


class PolicyDocument(Model):
    """A policy document whose attachment lists the task division."""

    __tablename__ = "policy_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(64), unique=True)
    title: Mapped[str] = mapped_column(sa.String(255))
    issuer: Mapped[str] = mapped_column(sa.String(255))
    issued: Mapped[date | None] = mapped_column(sa.Date)
    # Synthetic documents come from ``flask demo-data`` (benchmarks, demos), never from users.
    synthetic: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The first quarter (``2026Q4``) this document is reported on: opening an earlier period
    # creates none of its obligations. Imports set it (the import quarter unless chosen); None
    # only for the founding seed document and rows written directly (demo data), which are
    # tracked from the installation's first period.
    first_period: Mapped[str | None] = mapped_column(sa.String(6))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tasks: Mapped[list[Task]] = relationship(
        back_populates="document", order_by="Task.number", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<PolicyDocument {self.number}>"


class Task(Model):
    """One numbered item (第N项) of a document's task division."""

    __tablename__ = "task"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        sa.ForeignKey("policy_document.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    section: Mapped[str | None] = mapped_column(sa.String(32))
    text: Mapped[str] = mapped_column(sa.Text)
    clause: Mapped[str] = mapped_column(sa.Text)
    main_text_note: Mapped[str | None] = mapped_column(sa.Text)
    all_departments: Mapped[bool] = mapped_column(default=False)

    document: Mapped[PolicyDocument] = relationship(back_populates="tasks")
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="task", order_by="Assignment.position", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.UniqueConstraint("document_id", "number"),)

    @property
    def section_part(self) -> str | None:
        """The main-text part (二 / 三 / 四) the item implements."""
        if not self.section:
            return None
        return self.section.split("(", 1)[0]

    def departments_with(self, role: Role) -> list[Department]:
        return [a.department for a in self.assignments if a.role == role]

    @property
    def lead_department_ids(self) -> set[int]:
        """The departments that lead this item (牵头, or the one that alone 负责)."""
        return {a.department_id for a in self.assignments if a.role == Role.LEAD}

    @property
    def has_lead_and_support(self) -> bool:
        roles = {a.role for a in self.assignments}
        return Role.LEAD in roles and Role.SUPPORT in roles

    def __repr__(self) -> str:
        return f"<Task {self.document_id}#{self.number}>"


class Assignment(Model):
    """A department's obligation under one item, with its role and place in the clause."""

    __tablename__ = "assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("task.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"), index=True)
    jurisdiction_id: Mapped[int] = mapped_column(sa.ForeignKey("jurisdiction.id"))
    role: Mapped[Role] = mapped_column(
        sa.Enum(
            Role,
            name="role",
            native_enum=False,
            create_constraint=True,
            length=16,
            values_callable=lambda roles: [r.value for r in roles],
        )
    )
    position: Mapped[int] = mapped_column(default=0)

    task: Mapped[Task] = relationship(back_populates="assignments")
    department: Mapped[Department] = relationship(back_populates="assignments", lazy="joined")
    jurisdiction: Mapped[Jurisdiction] = relationship()

    __table_args__ = (sa.UniqueConstraint("task_id", "department_id", "jurisdiction_id"),)

    def __repr__(self) -> str:
        return f"<Assignment task={self.task_id} dept={self.department_id} {self.role}>"
