"""Evidence files: type checked by content (not by name), size-limited, stored privately.

Files live under ``TRACKER_UPLOAD_DIR`` (the instance folder by default, never the static
folder) with random names; they are served only through a view that checks permissions.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

MAX_FILES_PER_REPORT = 20

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
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return None


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
    if kind is None:
        raise EvidenceError("不支持的文件类型：仅接受 PDF、Word、Excel 和图片（PNG、JPEG）。")
    if suffix not in EXTENSIONS[kind]:
        raise EvidenceError(f"文件内容为 {KINDS[kind][0]}，与扩展名“{suffix or '无'}”不符。")
    return CheckedFile(name, kind, KINDS[kind][1], data, hashlib.sha256(data).hexdigest())


def store(checked: CheckedFile) -> str:
    """Write the bytes under a random name; returns that name."""
    stored_name = secrets.token_hex(16)
    (upload_dir() / stored_name).write_bytes(checked.data)
    return stored_name


def path_of(stored_name: str) -> Path:
    if not stored_name.isalnum():
        raise EvidenceError("invalid stored name")
    return upload_dir() / stored_name


def discard(stored_name: str) -> None:
    path_of(stored_name).unlink(missing_ok=True)
