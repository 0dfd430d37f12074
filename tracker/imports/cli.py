"""``flask --app tracker import-text FILE``: read a 任务分工 attachment, print ``tasks:`` YAML.

The command writes nothing to the database: it turns the text of a policy document (or of its
attachment alone) into the ``tasks:`` part of a seed file, for an editor to check and commit.
Departments come from the ``departments:`` list of a YAML file (the app's seed file unless
``--departments`` names another), so the command works before any database exists.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml
from flask.cli import with_appcontext

from tracker.catalogue.cli import default_seed_path
from tracker.imports.parser import DepartmentRegistry, ParsedItem, parse_attachment
from tracker.imports.textfile import TextFileError, read_text_file

A = TypeVar("A")
R = TypeVar("R")


class _ImportTextError(Exception):
    """Every problem found, to be printed one per line on stderr."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@click.command("import-text")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--departments",
    "departments_path",
    type=click.Path(dir_okay=False),
    help="含 departments: 列表的 YAML 文件（默认：系统的种子文件 tasks_seed.yaml）",
)
@with_appcontext
def import_text_command(file: str, departments_path: str | None) -> None:
    """Parse FILE (UTF-8, UTF-8 with BOM, or GB18030) and print its items as ``tasks:`` YAML."""
    problems: list[str] = []
    registry = _collect(problems, registry_from_yaml, Path(departments_path or default_seed_path()))
    text = _collect(problems, _read, file)
    items: list[ParsedItem] = []
    if registry is not None and text is not None:
        result = parse_attachment(text, registry)
        problems += [str(problem) for problem in result.problems]
        items = result.items
    if problems:
        for problem in problems:
            click.echo(f"错误：{problem}", err=True)
        raise click.ClickException(f"{file}：未输出任何任务（{len(problems)} 个问题）")
    click.echo(tasks_yaml(items), nl=False)


def registry_from_yaml(path: Path) -> DepartmentRegistry:
    """The registry of the ``departments:`` list of a YAML mapping (such as a seed file)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise _ImportTextError([f"无法读取部门文件 {path}：{exc.strerror or exc}"]) from None
    except UnicodeDecodeError:
        raise _ImportTextError([f"部门文件不是 UTF-8 编码：{path}"]) from None
    except yaml.YAMLError as exc:
        raise _ImportTextError([f"部门文件 {path} 不是有效的 YAML：{exc}"]) from None
    entries = data.get("departments") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise _ImportTextError([f"部门文件 {path} 缺少非空的 departments: 列表"])
    problems = [
        f"部门文件 {path} departments 第 {index} 个：应为含 name 的映射"
        for index, entry in enumerate(entries, start=1)
        if not isinstance(entry, dict) or not str(entry.get("name") or "").strip()
    ]
    if problems:
        raise _ImportTextError(problems)
    try:
        return DepartmentRegistry.from_entries(entries)
    except ValueError as exc:
        raise _ImportTextError([f"部门文件 {path}：{exc}"]) from None


class _SeedStyleDumper(yaml.SafeDumper):
    """Indents list items under their key (``  - number: 1``), as ``tasks_seed.yaml`` does."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def tasks_yaml(items: list[ParsedItem]) -> str:
    """The items in the ``tasks:`` shape of ``tasks_seed.yaml``: one block per item, flow lists."""
    tasks = [_task(item) for item in items]
    return yaml.dump(
        {"tasks": tasks},
        Dumper=_SeedStyleDumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=None,  # lists of names as [a, b]; mappings as blocks
        width=1_000_000,  # one line per text, as in the seed file
    )


def _task(item: ParsedItem) -> dict[str, Any]:
    return {
        "number": item.number,
        "text": item.text,
        "clause": item.clause,
        "lead": list(item.lead),
        "support": list(item.support),
        "joint": item.joint if isinstance(item.joint, str) else list(item.joint),
    }


def _collect(problems: list[str], step: Callable[[A], R], argument: A) -> R | None:
    """Run one step; on failure add its problems and return ``None`` so later steps still run."""
    try:
        return step(argument)
    except _ImportTextError as exc:
        problems.extend(exc.problems)
        return None


def _read(file: str) -> str:
    try:
        return read_text_file(file)
    except TextFileError as exc:
        raise _ImportTextError([str(exc)]) from None
