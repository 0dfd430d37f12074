"""Turning an uploaded or named attachment file into text (pure: no Flask, no database).

Policy documents reach coordinators from two kinds of desks: UTF-8 (often with the byte-order
mark Windows Notepad writes) and the national GB18030 / GBK ("ANSI" on a Chinese Windows).
Both are accepted, UTF-8 first because it is strict: bytes that decode as UTF-8 are almost
never meant as GB18030. Anything else (UTF-16, Big5 read as garbage, binary files such as
.doc/.docx/.pdf) is refused with a message rather than guessed at.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

MAX_TEXT_CHARS: Final = 100_000
"""Longest attachment accepted, in characters (the seed document has about 7,500)."""

MAX_FILE_BYTES: Final = 512 * 1024
"""Largest attachment file accepted, in bytes."""

ENCODINGS: Final = ("utf-8-sig", "gb18030")
"""Tried in this order; ``utf-8-sig`` reads UTF-8 with or without a byte-order mark."""

# Characters of the Private Use Area come out when bytes in another encoding (Big5, Shift-JIS)
# are read as GB18030; no published document contains them.
_PRIVATE_USE: Final = re.compile("[\ue000-\uf8ff]")

# Control characters other than tab, line feed, carriage return and form feed mean the
# file is not plain text (a NUL byte above all: UTF-16 and every binary format have them).
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class TextFileError(ValueError):
    """The bytes cannot be read as an attachment; the message says why, in Chinese."""


def decode_text(data: bytes, *, name: str = "文件") -> str:
    """Decode an attachment's bytes as UTF-8 (BOM optional) or GB18030, else refuse.

    Raises :class:`TextFileError` for empty, over-long, undecodable or binary content.
    Line endings are normalised to ``\\n``.
    """
    if len(data) > MAX_FILE_BYTES:
        raise TextFileError(f"{name}超过 {MAX_FILE_BYTES // 1024} KB 的上限")
    text = _decode(data, name)
    if _CONTROL.search(text):
        raise TextFileError(f"{name}不是纯文本文件（含有控制字符），请另存为 .txt 文本后再导入")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    check_text(text, name=name)
    return text


def check_text(text: str, *, name: str = "文本") -> None:
    """Refuse empty or over-long text (pasted text goes through this check too)."""
    if not text.strip():
        raise TextFileError(f"{name}为空")
    if len(text) > MAX_TEXT_CHARS:
        raise TextFileError(f"{name}过长：{len(text)} 个字符，上限为 {MAX_TEXT_CHARS} 个字符")


def read_text_file(path: str | Path) -> str:
    """Read and decode a file named on the command line, raising :class:`TextFileError`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TextFileError(f"无法读取文件 {path}：{exc.strerror or exc}") from None
    return decode_text(data, name=f"文件 {path} ")


def _decode(data: bytes, name: str) -> str:
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "gb18030" and _PRIVATE_USE.search(text):
            break
        return text
    raise TextFileError(f"{name}编码无法识别：请使用 UTF-8 或 GB18030（GBK）编码的纯文本文件")
