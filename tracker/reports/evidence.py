"""Evidence files: type checked by content (not by name), size-limited, stored privately.

Files live under ``TRACKER_UPLOAD_DIR`` (the instance folder by default, never the static
folder) with random names, mode 0600, encrypted (AES-256-GCM, keys outside the database:
:mod:`tracker.reports.vault`); they are served, decrypted a chunk at a time, only through a
view that checks permissions.

An Office file (.docx, .xlsx) is a zip archive: it is refused when its directory says it would
expand too far (a zip bomb) or when it carries macros (``vbaProject.bin``, or a macro-enabled
content type); a legacy .doc/.xls is refused when its storage holds a VBA project.

A file is written in two steps so that a crash or a full disk never leaves a file the database
does not know, nor a row whose file is half written: :func:`store` writes the bytes to a
temporary name (``<name>.part``) and fsyncs them; the rename to the final name happens only
once the request's transaction has committed the row (:func:`_finish_after_commit`); a rollback
deletes the temporary file. ``flask evidence check`` (:func:`check_files`) finds what a killed
process may still have left: files no row refers to, and rows whose file is missing.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import time
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from tracker import privacy
from tracker.extensions import db
from tracker.reports import vault

MAX_FILES_PER_REPORT = 20
PART_SUFFIX = ".part"
# Zip limits for Office files: entries, total expanded size, and the compression ratio of any
# entry above the floor (text compresses about 10 times; a bomb thousands of times).
MAX_ZIP_ENTRIES = 1000
MAX_EXPANDED_BYTES = 100 * 1024 * 1024
MAX_ZIP_RATIO = 100
RATIO_FLOOR_BYTES = 1024 * 1024
MACRO_PARTS = ("vbaproject.bin", "vbadata.xml")
MACRO_CONTENT_TYPES = (b"vbaProject", b"macroEnabled", b"ms-office.activeX")
OLE2_VBA_PROJECT = "_VBA_PROJECT".encode("utf-16-le")  # the VBA storage's stream name

# kind → (label, content type)
KINDS = {
    "pdf": ("PDF", "application/pdf"),
    "docx": ("Word", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("Excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "doc": ("Word 97-2003", "application/msword"),
    "xls": ("Excel 97-2003", "application/vnd.ms-excel"),
    "png": ("PNG 图片", "image/png"),
    "jpeg": ("JPEG 图片", "image/jpeg"),
}
OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
EXTENSIONS = {
    "pdf": {".pdf"}, "docx": {".docx"}, "xlsx": {".xlsx"}, "doc": {".doc"}, "xls": {".xls"},
    "png": {".png"}, "jpeg": {".jpg", ".jpeg"},
}  # fmt: skip


class EvidenceError(ValueError):
    """The file is refused; the message says why."""


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    kind: str
    content_type: str
    data: bytes
    sha256: str


def max_bytes() -> int:
    return int(current_app.config["TRACKER_EVIDENCE_MAX_BYTES"])


def upload_dir() -> Path:
    path = Path(current_app.config["TRACKER_UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def clean_filename(name: str | None) -> str:
    """Keep a readable original name (Chinese included) without paths or control chars."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C"
    )
    name = name.strip().lstrip(".")
    return name[:200] or "附件"


def display_name(name: str, limit: int = 60) -> str:
    """A cleaned name as a message may show it: :func:`clean_filename`'s, at most ``limit``."""
    name = clean_filename(name)
    return name if len(name) <= limit else name[: limit - 1] + "…"


def sniff(data: bytes) -> str | None:
    """The file's kind judged from its bytes, or None when it is not an accepted type."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(OLE2_MAGIC):
        return "ole2"
    if data.startswith(b"PK\x03\x04"):
        return _office_kind(data)
    return None


def _office_kind(data: bytes) -> str | None:
    """``docx`` or ``xlsx`` for an Office archive of sane size and without macros.

    Only the archive's directory and ``[Content_Types].xml`` are read; a zip bomb or a
    macro-enabled file raises :class:`EvidenceError` before anything else is inflated.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            names = {entry.filename for entry in entries}
            _check_archive(entries)
            if "[Content_Types].xml" not in names:
                return None
            types = archive.read("[Content_Types].xml")
    except EvidenceError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, KeyError):
        return None
    lowered = {name.lower().rsplit("/", 1)[-1] for name in names}
    if any(part in lowered for part in MACRO_PARTS) or any(t in types for t in MACRO_CONTENT_TYPES):
        raise EvidenceError(
            "文件含有宏（VBA 代码），不能作为佐证材料：请另存为不含宏的文档后再上传。"
        )
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return None


def _check_archive(entries: list[zipfile.ZipInfo]) -> None:
    """Refuse a zip bomb from its directory alone (zipfile never inflates past a declared size)."""
    if len(entries) > MAX_ZIP_ENTRIES:
        raise EvidenceError(
            f"文件包含 {len(entries)} 个内部部件，超过上限 {MAX_ZIP_ENTRIES}，疑为压缩炸弹。"
        )
    expanded = sum(entry.file_size for entry in entries)
    if expanded > MAX_EXPANDED_BYTES:
        raise EvidenceError(
            f"文件解压后达 {expanded / 1048576:.0f} MB，"
            f"超过上限 {MAX_EXPANDED_BYTES // 1048576} MB，疑为压缩炸弹。"
        )
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > RATIO_FLOOR_BYTES and ratio > MAX_ZIP_RATIO:
            raise EvidenceError(f"文件内部的压缩比异常（{ratio:.0f} 倍），疑为压缩炸弹。")


def check_upload(filename: str | None, data: bytes) -> CheckedFile:
    """Validate an upload: size, then type by content, agreeing with the file's extension."""
    name = clean_filename(filename)
    if not data:
        raise EvidenceError("文件为空。")
    limit = max_bytes()
    if len(data) > limit:
        raise EvidenceError(f"文件过大：{len(data) / 1048576:.1f} MB，上限 {limit // 1048576} MB。")
    kind = sniff(data)
    suffix = Path(name).suffix.lower()
    if kind == "ole2":  # legacy Word and Excel share one container; trust the extension
        kind = {".doc": "doc", ".xls": "xls"}.get(suffix)
        if kind is not None and OLE2_VBA_PROJECT in data:
            raise EvidenceError(
                "文件含有宏（VBA 代码），不能作为佐证材料：请另存为不含宏的文档后再上传。"
            )
    if kind is None:
        raise EvidenceError("不支持的文件类型：仅接受 PDF、Word、Excel 和图片（PNG、JPEG）。")
    if suffix not in EXTENSIONS[kind]:
        raise EvidenceError(f"文件内容为 {KINDS[kind][0]}，与扩展名“{suffix or '无'}”不符。")
    check_personal_data(kind, data)
    return CheckedFile(name, kind, KINDS[kind][1], data, hashlib.sha256(data).hexdigest())


# The parts of an Office file whose text is read for personal data: a document's body,
# headers, footers, notes and comments; a workbook's shared strings and cells (a number typed
# as a number sits in a cell, not in the shared strings).
TEXT_PARTS = {
    "docx": re.compile(r"word/(document|header\d*|footer\d*|footnotes|endnotes|comments)\.xml"),
    "xlsx": re.compile(r"xl/(sharedStrings|worksheets/sheet\d+)\.xml"),
}
_XML_TAG = re.compile(rb"<[^>]*>")
# Where Word ends a paragraph, a table cell or a line; inside a paragraph a number may be split
# over several runs, which are joined without a space.
_WORD_BREAKS = re.compile(rb"</w:p>|</w:tc>|<w:br[^>]*>|<w:tab[^>]*>")


def office_texts(kind: str, data: bytes) -> Iterator[tuple[str, str]]:
    """(part name, readable text) of an accepted .docx or .xlsx (already checked against zip
    bombs by :func:`sniff`); nothing for other kinds, whose text is not cheap to read."""
    pattern = TEXT_PARTS.get(kind)
    if pattern is None:
        return
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if not pattern.fullmatch(name):
                continue
            xml = archive.read(name)
            if kind == "docx":
                xml = _WORD_BREAKS.sub(b"\n", xml)
                text = _XML_TAG.sub(b"", xml)
            else:  # every cell and string apart: adjacent cells never join into one number
                text = _XML_TAG.sub(b" ", xml)
            yield name, text.decode("utf-8", "replace")


def check_personal_data(kind: str, data: bytes) -> None:
    """Refuse a Word or Excel file whose text holds a resident ID or mobile number."""
    for part, text in office_texts(kind, data):
        finding = privacy.find_personal_data(text)
        if finding is not None:
            where = "工作表" if part.startswith("xl/") else "文档"
            raise EvidenceError(
                f"文件的{where}中含有疑似{finding.kind}（{finding.masked}），未保存。"
                "佐证材料不得含有个人身份信息，请删除后再上传。"
            )


def store(checked: CheckedFile) -> str:
    """Write the bytes, fsynced, under a random temporary name; returns the final name.

    The file gets its final name only when the session's transaction commits (and is deleted
    if it rolls back): see :func:`_finish_after_commit`.
    """
    stored_name = secrets.token_hex(16)
    final = upload_dir() / stored_name
    part = final.with_name(stored_name + PART_SUFFIX)
    descriptor = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as out:
            vault.seal(checked.data, out, vault.keyring().current)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        part.unlink(missing_ok=True)  # a full disk leaves no partial file behind
        raise
    _pending(db.session()).append((part, final))
    return stored_name


def _pending(session: Session) -> list[tuple[Path, Path]]:
    pending: list[tuple[Path, Path]] = session.info.setdefault("evidence_pending", [])
    return pending


@sa.event.listens_for(Session, "after_commit")
def _finish_after_commit(session: Session) -> None:
    """The rows are committed: give their files their final names (and sync the folder)."""
    pending = session.info.pop("evidence_pending", [])
    for part, final in pending:
        part.replace(final)
    if pending:
        _fsync_dir(pending[0][1].parent)


@sa.event.listens_for(Session, "after_rollback")
def _discard_after_rollback(session: Session) -> None:
    """The rows are gone: so are the files written for them."""
    for part, _ in session.info.pop("evidence_pending", []):
        part.unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def path_of(stored_name: str) -> Path:
    if not stored_name.isalnum():
        raise EvidenceError("invalid stored name")
    return upload_dir() / stored_name


def content_of(stored_name: str) -> Iterator[bytes]:
    """The stored file's content, decrypted a chunk at a time (:mod:`tracker.reports.vault`)."""
    return vault.open_chunks(path_of(stored_name))


def discard(stored_name: str) -> None:
    path_of(stored_name).unlink(missing_ok=True)


# -- the check of the upload folder against the rows -----------------------------------------


@dataclass
class CheckResult:
    """What ``flask evidence check`` found (file names relative to the upload folder)."""

    orphans: list[str] = field(default_factory=list)  # files no row refers to
    young: list[str] = field(default_factory=list)  # temporary files perhaps still in flight
    missing: list[str] = field(default_factory=list)  # rows whose file is not there
    completed: list[str] = field(default_factory=list)  # committed rows whose rename was lost
    removed: list[str] = field(default_factory=list)


def check_files(stored_names: Iterable[str], *, remove: bool, grace_seconds: int) -> CheckResult:
    """Compare the upload folder with the rows' ``stored_names``.

    A file no row refers to is an orphan (a process killed before its commit, or an old
    deletion); a temporary file younger than ``grace_seconds`` may belong to an upload still
    in flight and is left alone. A committed row whose file exists only under its temporary
    name (killed between commit and rename) gets its rename. With ``remove`` the orphans are
    deleted.
    """
    known = set(stored_names)
    folder = upload_dir()
    result = CheckResult()
    now = time.time()
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        name = path.name
        base = name.removesuffix(PART_SUFFIX)
        if name.endswith(PART_SUFFIX) and base in known and not (folder / base).exists():
            path.replace(folder / base)
            result.completed.append(base)
            continue
        if name in known:
            continue
        if name.endswith(PART_SUFFIX) and now - path.stat().st_mtime < grace_seconds:
            result.young.append(name)
            continue
        result.orphans.append(name)
        if remove:
            path.unlink(missing_ok=True)
            result.removed.append(name)
    result.missing = sorted(name for name in known if not (folder / name).is_file())
    return result
