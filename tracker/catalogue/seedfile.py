"""Reading and validating ``tasks_seed.yaml`` (pure: no Flask, no database).

The whole file is checked before anything is written, and every problem is reported with
the item number and the field, so that one run tells the editor everything to fix.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tracker.periods import Period

ROLE_KEYS = ("lead", "support", "joint")
ALL = "all"


class SeedFileError(ValueError):
    """The seed file cannot be loaded; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class SeedDepartment:
    code: str
    name: str
    short_name: str
    aliases: list[str]
    position: int


@dataclass
class SeedTask:
    number: int
    section: str | None
    text: str
    clause: str
    main_text_note: str | None
    # (department code, role) in the clause's order
    assignments: list[tuple[str, str]] = field(default_factory=list)
    all_departments: bool = False


@dataclass
class SeedDocument:
    number: str
    title: str
    issuer: str
    issued: dt.date | None
    # The document's first reporting period (``2026Q4``); None: the quarter it is created in
    # (the founding document of an empty catalogue: the installation's first period).
    first_period: str | None = None


@dataclass
class SeedCatalogue:
    document: SeedDocument
    departments: list[SeedDepartment]
    tasks: list[SeedTask]


def read_seed_file(path: str | Path) -> SeedCatalogue:
    """Parse and validate a seed file, raising :class:`SeedFileError` with every problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedFileError([f"无法读取文件 {path}：{exc.strerror or exc}"]) from None
    except UnicodeDecodeError:
        raise SeedFileError([f"文件不是 UTF-8 编码：{path}"]) from None
    return parse_seed_text(text)


def parse_seed_text(text: str) -> SeedCatalogue:
    """Parse YAML text into a validated :class:`SeedCatalogue`."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"（第 {mark.line + 1} 行第 {mark.column + 1} 列）" if mark else ""
        raise SeedFileError([f"YAML 格式错误{where}：{getattr(exc, 'problem', exc)}"]) from None
    return validate_seed_data(data)


def validate_seed_data(data: Any) -> SeedCatalogue:
    """Check the structure and every reference; raise with all problems found."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise SeedFileError(["文件顶层应为包含 document、departments、tasks 的映射"])
    document = _document(data.get("document"), problems)
    departments = _departments(data.get("departments"), problems)
    lookup = _lookup(departments)
    tasks = _tasks(data.get("tasks"), lookup, departments, problems)
    if problems:
        raise SeedFileError(problems)
    return SeedCatalogue(document=document, departments=departments, tasks=tasks)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str | int | float):
        return str(value).strip()
    return None


def _document(raw: Any, problems: list[str]) -> SeedDocument:
    if not isinstance(raw, dict):
        problems.append("document：缺少文件信息（number、title、issuer、issued）")
        return SeedDocument("", "", "", None)
    values = {key: _text(raw.get(key)) for key in ("number", "title", "issuer")}
    for key, value in values.items():
        if not value:
            problems.append(f"document.{key}：不能为空")
    issued = raw.get("issued")
    if isinstance(issued, str):
        try:
            issued = dt.date.fromisoformat(issued)
        except ValueError:
            problems.append(f"document.issued：日期格式应为 YYYY-MM-DD，实际为「{issued}」")
            issued = None
    elif issued is not None and not isinstance(issued, dt.date):
        problems.append("document.issued：日期格式应为 YYYY-MM-DD")
        issued = None
    return SeedDocument(
        values["number"] or "",
        values["title"] or "",
        values["issuer"] or "",
        issued,
        _first_period(raw.get("first_period"), problems),
    )


def _first_period(raw: Any, problems: list[str]) -> str | None:
    """``document.first_period``: absent, or a canonical quarter key such as ``2026Q4``."""
    if raw is None:
        return None
    try:
        return Period.parse(raw).key
    except ValueError:
        problems.append(f"document.first_period：应为形如 2026Q4 的季度，实际为「{raw}」")
        return None


def _departments(raw: Any, problems: list[str]) -> list[SeedDepartment]:
    if not isinstance(raw, list) or not raw:
        problems.append("departments：应为非空列表")
        return []
    result: list[SeedDepartment] = []
    seen: dict[str, str] = {}
    for index, entry in enumerate(raw, start=1):
        where = f"departments 第 {index} 个"
        if not isinstance(entry, dict):
            problems.append(f"{where}：应为映射（code、name、aliases）")
            continue
        code, name = _text(entry.get("code")), _text(entry.get("name"))
        if not code:
            problems.append(f"{where}：code 不能为空")
        if not name:
            problems.append(f"{where}：name 不能为空")
        aliases = entry.get("aliases") or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            problems.append(f"{where}（{name}）：aliases 应为字符串列表")
            aliases = []
        if not code or not name:
            continue
        short_name = _text(entry.get("short_name")) or name
        for key in (code, name, *aliases):
            owner = seen.get(key)
            if owner is not None and owner != code:
                problems.append(f"{where}（{name}）：名称或别名「{key}」与部门 {owner} 重复")
            seen[key] = code
        result.append(SeedDepartment(code, name, short_name, [a.strip() for a in aliases], index))
    return result


def _lookup(departments: list[SeedDepartment]) -> dict[str, str]:
    """Map every code, name and alias to the department's code."""
    lookup: dict[str, str] = {}
    for dept in departments:
        for key in (dept.code, dept.name, *dept.aliases):
            lookup.setdefault(key, dept.code)
    return lookup


def _tasks(
    raw: Any, lookup: dict[str, str], departments: list[SeedDepartment], problems: list[str]
) -> list[SeedTask]:
    if not isinstance(raw, list) or not raw:
        problems.append("tasks：应为非空列表")
        return []
    tasks: list[SeedTask] = []
    numbers: set[int] = set()
    for index, entry in enumerate(raw, start=1):
        task = _task(entry, index, lookup, departments, problems)
        if task is None:
            continue
        if task.number in numbers:
            problems.append(f"第{task.number}项 number：项目编号重复")
        numbers.add(task.number)
        tasks.append(task)
    return tasks


def _task(
    entry: Any,
    index: int,
    lookup: dict[str, str],
    departments: list[SeedDepartment],
    problems: list[str],
) -> SeedTask | None:
    if not isinstance(entry, dict):
        problems.append(f"tasks 第 {index} 条：应为映射")
        return None
    number = entry.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        problems.append(f"tasks 第 {index} 条 number：应为正整数，实际为「{number}」")
        return None
    where = f"第{number}项"
    text, clause = _text(entry.get("text")), _text(entry.get("clause"))
    if not text:
        problems.append(f"{where} text：任务内容不能为空")
    if not clause:
        problems.append(f"{where} clause：责任分工表述不能为空")
    section = _text(entry.get("section"))
    note = _text(entry.get("main_text_note"))
    assignments, all_departments = _assignments(entry, where, lookup, departments, problems)
    return SeedTask(number, section, text or "", clause or "", note, assignments, all_departments)


def _assignments(
    entry: dict[str, Any],
    where: str,
    lookup: dict[str, str],
    departments: list[SeedDepartment],
    problems: list[str],
) -> tuple[list[tuple[str, str]], bool]:
    roles: dict[str, list[str]] = {}
    all_departments = False
    for key in ROLE_KEYS:
        value = entry.get(key, [])
        if value is None:
            value = []
        if key == "joint" and value == ALL:
            all_departments = True
            value = [d.code for d in departments]
        if not isinstance(value, list):
            problems.append(f"{where} {key}：应为部门列表" + ("或 all" if key == "joint" else ""))
            value = []
        codes: list[str] = []
        for ref in value:
            code = lookup.get(str(ref).strip()) if isinstance(ref, str | int) else None
            if code is None:
                problems.append(f"{where} {key}：未知部门「{ref}」")
            elif code in codes:
                problems.append(f"{where} {key}：部门「{ref}」重复")
            else:
                codes.append(code)
        roles[key] = codes
    names = {d.code: d.name for d in departments}
    _check_roles(roles, where, names, problems)
    ordered = [(code, role) for role in ROLE_KEYS for code in roles[role]]
    return ordered, all_departments


ROLE_LABELS = {"lead": "牵头（lead）", "support": "配合（support）", "joint": "共同负责（joint）"}


def _check_roles(
    roles: dict[str, list[str]], where: str, names: dict[str, str], problems: list[str]
) -> None:
    seen: dict[str, str] = {}
    for role in ROLE_KEYS:
        for code in roles[role]:
            if code in seen:
                problems.append(
                    f"{where} {role}：{names.get(code, code)}同时列为"
                    f"{ROLE_LABELS[seen[code]]}和{ROLE_LABELS[role]}"
                )
            seen.setdefault(code, role)
    if not seen:
        problems.append(f"{where} lead/support/joint：至少需要一个责任部门")
    if roles["support"] and not roles["lead"]:
        problems.append(f"{where} support：有配合部门时必须有牵头部门（lead）")
    if roles["joint"] and roles["lead"]:
        problems.append(f"{where} joint：有牵头部门时其余部门应列为 support，而非 joint")
