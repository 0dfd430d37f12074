"""Parse the 任务分工 attachment of a policy document into task items.

The attachment lists numbered items (``一、`` … ``九十九、``). Each item ends with a
parenthesised responsibility clause naming departments, for example
``（人力资源社会保障部牵头，农业农村部、全国妇联按照职责分工负责）``.

Everything here is a pure function of its input and uses the standard library only.
Nothing is guessed: a department that the registry cannot resolve, a clause that
matches none of the known forms, a missing clause and a numbering gap or repeat are
all reported as :class:`ParseProblem` values naming the item (``第N项``), and parsing
goes on so that every problem of every item is reported at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal, NamedTuple

ALL_DEPARTMENTS: Final = "all"
"""Value of ``joint`` when the clause names every department (``各部门…``)."""

Joint = list[str] | Literal["all"]

_DIGITS: Final = {char: value for value, char in enumerate("一二三四五六七八九", start=1)}
_ITEM_START: Final = re.compile(r"(?P<numeral>[一二三四五六七八九十]{1,3})、(?P<rest>.*)")
_PAGE_NUMBER: Final = re.compile(r"[-—–－\s]*\d+[-—–－\s]*")
_CLOSING_LINE: Final = re.compile(
    r"(?:主动|依申请|不予)公开|抄送.*|.{1,20}办公厅|\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*印发"
)
_CLAUSE_END: Final = re.compile(r"[)）]\s*[。；;.]?\s*$")
_CLAUSE_VERB: Final = re.compile(r"(?:负责|牵头|配合|参与)$")
_OPENING: Final = "(（"
_CLOSING: Final = ")）"

_SHARED_DUTY: Final = r"(?:按照?(?:职责)?)?分工负责"
_LEAD_CLAUSE: Final = re.compile(r"(?P<lead>.+?)牵头(?:负责)?(?:[，,；;]\s*(?P<rest>.+))?")
_NAMES: Final = r"(?P<names>.+?)(?<!按)(?<!按照)(?<!职责)(?<!分工)"  # no split-off 按照职责分工
_SUPPORT_CLAUSE: Final = re.compile(rf"{_NAMES}(?:{_SHARED_DUTY}|配合|参与)")
_GROUP_CLAUSE: Final = re.compile(rf"{_NAMES}(?:{_SHARED_DUTY}|负责)")
_NAME_SEPARATOR: Final = re.compile(r"[、，,]")
_EVERY_DEPARTMENT: Final = "各部门"


# --------------------------------------------------------------------------- numerals


def chinese_numeral_to_int(numeral: str) -> int:
    """Convert a Chinese numeral from 一 (1) to 九十九 (99) to an ``int``.

    Accepts the forms used to number items: ``一``…``九``, ``十``, ``十一``…``十九``,
    ``二十``…``九十九``. Raises :class:`ValueError` for anything else (``一十``,
    ``十十``, ``百``, an empty string …).
    """
    tens_part, ten, units_part = numeral.partition("十")
    if not ten:
        return _digit(tens_part, numeral)
    tens = 1 if tens_part == "" else _digit(tens_part, numeral, minimum=2)
    units = 0 if units_part == "" else _digit(units_part, numeral)
    return tens * 10 + units


def _digit(char: str, numeral: str, minimum: int = 1) -> int:
    """Return the value of the single digit ``char`` of ``numeral``, at least ``minimum``."""
    value = _DIGITS.get(char, 0)
    if value < minimum:
        raise ValueError(f"不是1到99之间的中文数字：「{numeral}」")
    return value


# ------------------------------------------------------------------------ departments


@dataclass(frozen=True)
class DepartmentRegistry:
    """Canonical department names and every exact spelling that resolves to one.

    ``names`` holds the canonical names in registry order; ``index`` maps each name,
    code, short name and alias to its canonical name.
    """

    names: tuple[str, ...]
    index: Mapping[str, str]

    @classmethod
    def from_entries(cls, entries: Iterable[Mapping[str, Any]]) -> DepartmentRegistry:
        """Build a registry from dicts with ``name`` and optional ``code``, ``short_name``
        and ``aliases`` (the ``departments`` list of ``tasks_seed.yaml``).

        Raises :class:`ValueError` if a name is listed twice or one spelling would
        resolve to two different departments.
        """
        names: list[str] = []
        index: dict[str, str] = {}
        for entry in entries:
            name = str(entry["name"]).strip()
            if name in names:
                raise ValueError(f"部门「{name}」重复登记")
            names.append(name)
            for key in _entry_keys(entry):
                _register(index, key, name)
        return cls(tuple(names), MappingProxyType(index))

    def resolve(self, text: str) -> str | None:
        """Return the canonical name for a name, code, short name or alias, else ``None``.

        Only surrounding whitespace is ignored; there is no fuzzy matching.
        """
        return self.index.get(text.strip())


def _entry_keys(entry: Mapping[str, Any]) -> list[str]:
    """Return every non-empty spelling of one registry entry, name first."""
    aliases = entry.get("aliases") or []
    if isinstance(aliases, str):
        aliases = [aliases]
    keys = [entry["name"], entry.get("code"), entry.get("short_name"), *aliases]
    return [str(key).strip() for key in keys if key is not None and str(key).strip()]


def _register(index: dict[str, str], key: str, name: str) -> None:
    """Map ``key`` to ``name``, refusing a key that already means another department."""
    known = index.setdefault(key, name)
    if known != name:
        raise ValueError(f"部门标识「{key}」同时指向「{known}」和「{name}」")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ParseProblem:
    """One problem found while parsing; ``str()`` gives the message shown to users."""

    number: int | None
    message: str
    # The spelling, when the problem is a department the registry does not know.
    unknown_department: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        """Render as ``第N项：message`` (or the bare message when no item applies)."""
        if self.number is None:
            return self.message
        return f"第{self.number}项：{self.message}"


class Responsibility(NamedTuple):
    """Departments named by one responsibility clause (unpacks as a 4-tuple)."""

    lead: list[str]
    support: list[str]
    joint: Joint
    problems: list[ParseProblem]


@dataclass
class ParsedItem:
    """One numbered item of the attachment."""

    number: int
    text: str
    clause: str
    lead: list[str] = field(default_factory=list)
    support: list[str] = field(default_factory=list)
    joint: Joint = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)


@dataclass
class ParseResult:
    """All items of an attachment and all their problems, in document order."""

    items: list[ParsedItem]
    problems: list[ParseProblem]

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems


# -------------------------------------------------------------------------- clauses


class _ClauseParts(NamedTuple):
    """Raw department lists of a clause, before resolution ("" when absent)."""

    lead: str
    support: str
    group: str


def parse_clause(
    clause: str, registry: DepartmentRegistry, number: int | None = None
) -> Responsibility:
    """Read the departments out of one responsibility clause (without its parentheses).

    Forms: ``X牵头``, ``X牵头，Y、Z按照职责分工负责`` (also 按职责分工负责, 按照分工负责,
    分工负责, 配合, 参与) and, without 牵头, ``X负责`` / ``X按照职责分工负责``: one
    department is the sole ``lead``, several are ``joint``; ``各部门按照职责分工负责``
    gives ``joint == "all"``. Names are separated by 、 ， or , and a trailing 等 is
    ignored. ``number`` is the item number used in problem messages.
    """
    text = clause.strip()
    parts = _clause_parts(text)
    raw = None if parts is None else _split_parts(parts)
    if raw is None:
        return Responsibility(
            [], [], [], [ParseProblem(number, f"无法解析的责任分工表述「{text}」")]
        )
    lead_raw, support_raw, group_raw = raw
    if group_raw == [_EVERY_DEPARTMENT]:
        return Responsibility([], [], ALL_DEPARTMENTS, [])
    if len(group_raw) == 1:
        lead_raw, group_raw = group_raw, []
    return _resolve_roles(lead_raw, support_raw, group_raw, registry, number)


def _clause_parts(clause: str) -> _ClauseParts | None:
    """Split a clause into its raw lead, support and group parts; ``None`` if unreadable."""
    lead_match = _LEAD_CLAUSE.fullmatch(clause)
    if lead_match is not None:
        rest = lead_match["rest"]
        if rest is None:
            return _ClauseParts(lead_match["lead"], "", "")
        support_match = _SUPPORT_CLAUSE.fullmatch(rest)
        if support_match is None:
            return None
        return _ClauseParts(lead_match["lead"], support_match["names"], "")
    group_match = _GROUP_CLAUSE.fullmatch(clause)
    if group_match is None:
        return None
    return _ClauseParts("", "", group_match["names"])


def _split_parts(parts: _ClauseParts) -> tuple[list[str], list[str], list[str]] | None:
    """Split each raw part into names; ``None`` if any part has an empty name."""
    lead, support, group = (_split_names(part) for part in parts)
    if lead is None or support is None or group is None:
        return None
    return lead, support, group


def _split_names(part: str) -> list[str] | None:
    """Split ``甲、乙，丙等`` into names; ``None`` if a name is empty."""
    if not part:
        return []
    names = [name.strip() for name in _NAME_SEPARATOR.split(part.strip().removesuffix("等"))]
    return None if "" in names else names


def _resolve_roles(
    lead_raw: list[str],
    support_raw: list[str],
    joint_raw: list[str],
    registry: DepartmentRegistry,
    number: int | None,
) -> Responsibility:
    """Resolve raw names role by role, reporting unknown and repeated departments."""
    roles: dict[str, str] = {}
    problems: list[ParseProblem] = []
    lead = _resolve_names(lead_raw, "lead", registry, roles, problems, number)
    support = _resolve_names(support_raw, "support", registry, roles, problems, number)
    joint = _resolve_names(joint_raw, "joint", registry, roles, problems, number)
    return Responsibility(lead, support, joint, problems)


def _resolve_names(
    raw_names: list[str],
    role: str,
    registry: DepartmentRegistry,
    roles: dict[str, str],
    problems: list[ParseProblem],
    number: int | None,
) -> list[str]:
    """Resolve names for one role; record each department's role and append problems."""
    resolved: list[str] = []
    for raw in raw_names:
        name = registry.resolve(raw)
        if name is None:
            problems.append(ParseProblem(number, f"无法识别的部门「{raw}」", raw))
        elif name in roles:
            problems.append(ParseProblem(number, _repeat_message(raw, roles[name], role)))
        else:
            roles[name] = role
            resolved.append(name)
    return resolved


def _repeat_message(raw: str, first_role: str, role: str) -> str:
    """Describe a department named a second time."""
    if first_role == role:
        return f"部门重复「{raw}」"
    return f"部门同时列为牵头和配合单位「{raw}」"


# ------------------------------------------------------------------------ attachment


def parse_attachment(text: str, registry: DepartmentRegistry) -> ParseResult:
    """Parse the 任务分工 attachment (or a whole document ending with it) into items.

    If the text contains an attachment heading (a line starting with 附件 followed by a
    title line ending in 任务分工), items are read after the last such heading;
    otherwise from the start. Lines of an item are joined with nothing between them;
    blank lines and lone page numbers are skipped; lines after the last item's clause
    (主动公开, …办公厅, …印发) are ignored.
    """
    blocks = _item_blocks(_content_lines(text))
    if not blocks:
        problem = ParseProblem(None, "未找到任何编号事项（如“一、”）")
        return ParseResult([], [problem])
    blocks[-1] = (blocks[-1][0], _trim_trailing_lines(blocks[-1][1]))
    numbering = _numbering_problems([number for number, _ in blocks])
    items = [
        _parse_item(number, "".join(lines), registry, problems)
        for (number, lines), problems in zip(blocks, numbering, strict=True)
    ]
    return ParseResult(items, [problem for item in items for problem in item.problems])


def _content_lines(text: str) -> list[str]:
    """Stripped lines after the last attachment heading, without blanks and page numbers."""
    lines = [line.strip() for line in text.splitlines()]
    start = _attachment_start(lines)
    return [line for line in lines[start:] if line and not _PAGE_NUMBER.fullmatch(line)]


def _attachment_start(lines: list[str]) -> int:
    """Index just after the title line of the last 附件 … 任务分工 heading, else 0."""
    start = 0
    for index, line in enumerate(lines):
        if line.startswith("附件"):
            title = _title_index(lines, index)
            start = start if title is None else title + 1
    return start


def _title_index(lines: list[str], heading: int) -> int | None:
    """Index of the 任务分工 title on a 附件 heading line or the next non-blank line."""
    if lines[heading].endswith("任务分工"):
        return heading
    following = next((i for i in range(heading + 1, len(lines)) if lines[i]), None)
    if following is not None and lines[following].endswith("任务分工"):
        return following
    return None


def _item_blocks(lines: list[str]) -> list[tuple[int, list[str]]]:
    """Group lines into ``(number, lines)`` blocks; lines before the first item are dropped."""
    blocks: list[tuple[int, list[str]]] = []
    for line in lines:
        start = _item_start(line)
        if start is not None:
            blocks.append((start[0], [start[1]]))
        elif blocks:
            blocks[-1][1].append(line)
    return blocks


def _item_start(line: str) -> tuple[int, str] | None:
    """``(number, rest of line)`` if ``line`` starts a numbered item, else ``None``."""
    match = _ITEM_START.fullmatch(line)
    if match is None:
        return None
    try:
        return chinese_numeral_to_int(match["numeral"]), match["rest"]
    except ValueError:
        return None


def _trim_trailing_lines(lines: list[str]) -> list[str]:
    """Drop document-closing furniture after the last item's clause (or closing lines)."""
    joined = ""
    for index, line in enumerate(lines):
        if index > 0 and _CLOSING_LINE.fullmatch(line):
            return lines[:index]
        joined += line
        if _has_clause(joined):
            return lines[: index + 1]
    return lines


def _has_clause(text: str) -> bool:
    """True if ``text`` ends with a parenthesised part that reads like a clause."""
    split = _split_clause(text)
    return split is not None and _CLAUSE_VERB.search(split[1]) is not None


def _split_clause(body: str) -> tuple[str, str] | None:
    """Split an item body into ``(text, clause)`` at its final parenthesised part."""
    end = _CLAUSE_END.search(body)
    if end is None:
        return None
    depth = 0
    for index in range(end.start(), -1, -1):
        if body[index] in _CLOSING:
            depth += 1
        elif body[index] in _OPENING:
            depth -= 1
            if depth == 0:
                return body[:index].rstrip(), body[index + 1 : end.start()].strip()
    return None


def _numbering_problems(numbers: list[int]) -> list[list[ParseProblem]]:
    """Per item, a problem if its number repeats or does not follow 1, 2, 3 …"""
    problems: list[list[ParseProblem]] = []
    seen: set[int] = set()
    expected = 1
    for number in numbers:
        if number in seen:
            problems.append([ParseProblem(number, "编号重复")])
        elif number != expected:
            problems.append([ParseProblem(number, f"编号不连续，应为第{expected}项")])
        else:
            problems.append([])
        seen.add(number)
        expected = max(expected, number + 1)
    return problems


def _parse_item(
    number: int, body: str, registry: DepartmentRegistry, problems: list[ParseProblem]
) -> ParsedItem:
    """Build one item from its joined body, adding its problems to ``problems``."""
    split = _split_clause(body)
    if split is None:
        problems.append(ParseProblem(number, "缺少括号内的责任分工"))
        return ParsedItem(number, body.strip(), "", problems=problems)
    text, clause = split
    if not text:
        problems.append(ParseProblem(number, "缺少事项内容"))
    lead, support, joint, clause_problems = parse_clause(clause, registry, number)
    return ParsedItem(number, text, clause, lead, support, joint, problems + clause_problems)
