"""``flask backup`` and ``flask restore``: one archive holds a whole instance.

The archive is a gzip'd tar, mode 0600 (it holds the secret key), with these members:

* ``database/tracker.sqlite3`` (SQLite's online backup API: a consistent copy while the app
  writes) or ``database/tracker.pgdump`` (``pg_dump --format=custom``: one snapshot);
* ``uploads/<name>``: every file of ``TRACKER_UPLOAD_DIR`` (the reports' evidence);
* ``keys/secret_key``: the key that signs sessions and CSRF tokens;
* ``keys/evidence_keys``: the keys that open the encrypted evidence files (absent from
  archives made before evidence was encrypted). SMTP credentials live in the environment
  file, which is backed up with the server's configuration, not here;
* ``manifest.json``, last: format, backend, time, and each member's size and SHA-256.

``restore`` reads the whole archive into a private staging directory and checks it first:
only regular files, only the names above, each listed once with a matching checksum, no
member the manifest does not list. Only then, and only into an empty instance (a database
without tables, an empty upload directory), does it write anything; the new instance's
own secret key file, if it has one, is replaced by the archived one.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.engine import URL, make_url

from tracker import clock
from tracker.config import SECRET_KEY_FILE
from tracker.errors import Invalid
from tracker.extensions import db
from tracker.reports import vault
from tracker.reports.evidence import PART_SUFFIX

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE_MEMBER = {"sqlite": "database/tracker.sqlite3", "postgresql": "database/tracker.pgdump"}
UPLOADS = "uploads"
SECRET_MEMBER = "keys/secret_key"  # noqa: S105 - a member name, not a secret
# The keys that open the encrypted evidence (tracker/reports/vault.py), one a line.
EVIDENCE_KEYS_MEMBER = "keys/evidence_keys"
BACKEND_LABEL = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
CHUNK = 1024 * 1024


class BackupError(Invalid):
    """A backup or restore refused, with the reason in Chinese; nothing was changed."""


@dataclass
class Manifest:
    """What an archive holds: each member's size and SHA-256."""

    backend: str
    created_at: str
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, name: str, size: int, sha256: str) -> None:
        self.files[name] = {"size": size, "sha256": sha256}

    def to_json(self) -> bytes:
        body = {"format": FORMAT, "backend": self.backend, "created_at": self.created_at,
                "files": self.files}  # fmt: skip
        return json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True).encode()

    @property
    def uploads(self) -> list[str]:
        return sorted(name for name in self.files if name.startswith(UPLOADS + "/"))


def backend() -> str:
    """``sqlite`` or ``postgresql``: the instance's database."""
    name = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()
    if name not in DATABASE_MEMBER:
        raise BackupError(f"不支持备份此类数据库：{name}。")
    return name


# -- backup ----------------------------------------------------------------------------------


def create_backup(output: Path) -> Manifest:
    """Write the instance's archive to ``output`` (new file, mode 0600); returns its manifest."""
    if output.exists():
        raise BackupError(f"文件 {output} 已存在，不会覆盖；请换一个文件名。")
    if not output.parent.is_dir():
        raise BackupError(f"目录 {output.parent} 不存在。")
    kind = backend()
    manifest = Manifest(kind, clock.utcnow().isoformat(timespec="seconds"))
    partial = output.with_name(f".{output.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            with _staging() as staging:
                _add_file(tar, manifest, DATABASE_MEMBER[kind], _dump_database(kind, staging))
            for path in _upload_files():  # evidence files are written once, never changed
                _add_file(tar, manifest, f"{UPLOADS}/{path.name}", path)
            secret = current_app.config["SECRET_KEY"].encode()
            manifest.add(SECRET_MEMBER, len(secret), hashlib.sha256(secret).hexdigest())
            _add_bytes(tar, SECRET_MEMBER, secret)
            keys = "".join(key.text() + "\n" for key in vault.keyring().keys).encode()
            manifest.add(EVIDENCE_KEYS_MEMBER, len(keys), hashlib.sha256(keys).hexdigest())
            _add_bytes(tar, EVIDENCE_KEYS_MEMBER, keys)
            _add_bytes(tar, MANIFEST, manifest.to_json())
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest


def _add_file(tar: tarfile.TarFile, manifest: Manifest, name: str, path: Path) -> None:
    """Stream a file into the archive (never whole in memory), listing its checksum."""
    digest, size = _sha256_of(path)
    manifest.add(name, size, digest)
    with path.open("rb") as handle:
        tar.addfile(_member_info(name, size), handle)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    tar.addfile(_member_info(name, len(data)), io.BytesIO(data))


def _member_info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(clock.utcnow().timestamp())
    return info


def _sha256_of(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


@contextmanager
def _staging() -> Iterator[Path]:
    """A private temporary directory (mode 0700) in the instance folder, removed afterwards.

    Not the system's temporary directory, which is often a small in-memory file system: the
    instance folder has room for what it holds.
    """
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=current_app.instance_path) as name:
        yield Path(name)


def _upload_files() -> list[Path]:
    directory = Path(current_app.config["TRACKER_UPLOAD_DIR"])
    if not directory.is_dir():
        return []
    # A temporary file is an upload whose row has not committed (tracker.reports.evidence).
    return sorted(
        path
        for path in directory.iterdir()
        if path.is_file() and not path.name.endswith(PART_SUFFIX)
    )


def _dump_database(kind: str, staging: Path) -> Path:
    target = staging / "database"
    if kind == "sqlite":
        _sqlite_backup(target)
    else:
        _run_pg("pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                f"--file={target}")  # fmt: skip
    return target


def _sqlite_backup(target: Path) -> None:
    """SQLite's online backup API: a consistent copy even while others write."""
    raw = db.engine.raw_connection()
    try:
        source = raw.driver_connection
        assert isinstance(source, sqlite3.Connection)
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
        finally:
            destination.close()
    finally:
        raw.close()


def _pg_url() -> URL:
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _run_pg(program: str, *args: str) -> None:
    """Run a PostgreSQL client program on the instance's database (password by environment)."""
    url = _pg_url()
    bindir = current_app.config["TRACKER_PG_BIN_DIR"]
    executable = str(Path(bindir) / program) if bindir else shutil.which(program)
    if not executable:
        raise BackupError(
            f"找不到 PostgreSQL 客户端程序 {program}；请安装或设置 TRACKER_PG_BIN_DIR。"
        )
    env = {**os.environ}
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    libpq = url.set(drivername="postgresql", password=None).render_as_string()
    result = subprocess.run(  # noqa: S603 - fixed program, arguments from the configuration
        [executable, *args, f"--dbname={libpq}"], env=env, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise BackupError(f"{program} 失败（退出码 {result.returncode}）：{result.stderr.strip()}")


# -- restore ---------------------------------------------------------------------------------


def restore_backup(archive: Path) -> Manifest:
    """Check ``archive`` in full, then restore it into this empty instance."""
    kind = backend()
    with _staging() as staging:
        manifest = read_archive(archive, staging)
        if manifest.backend != kind:
            raise BackupError(
                f"备份来自 {BACKEND_LABEL[manifest.backend]} 实例，本实例使用 "
                f"{BACKEND_LABEL[kind]}：只能恢复到同类数据库。未做任何修改。"
            )
        secret = (staging / SECRET_MEMBER).read_text(encoding="utf-8")
        keys = staging / EVIDENCE_KEYS_MEMBER  # absent from archives made before encryption
        evidence_keys = _evidence_keys(keys.read_text(encoding="ascii")) if keys.is_file() else None
        refuse_unless_empty()
        _restore_database(kind, staging / DATABASE_MEMBER[kind])
        _restore_uploads(staging, manifest)
        _restore_secret(secret)
        if evidence_keys is not None and not _keys_from_environment():
            vault.write_key_file(vault.key_file(), evidence_keys)
    return manifest


def read_archive(archive: Path, staging: Path) -> Manifest:
    """Extract every member into ``staging`` and check it against the manifest."""
    if not archive.is_file():
        raise BackupError(f"备份文件 {archive} 不存在。")
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            members = _extract_members(tar, staging)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(
            f"备份文件无法读取（不是完整的备份归档）：{exc}。未做任何修改。"
        ) from None
    if MANIFEST not in members:
        raise BackupError("备份文件中没有清单 manifest.json，已拒绝。未做任何修改。")
    del members[MANIFEST]
    manifest = _parse_manifest((staging / MANIFEST).read_bytes())
    _check_members(manifest, members)
    return manifest


def _extract_members(tar: tarfile.TarFile, staging: Path) -> dict[str, str]:
    """Write each member into ``staging`` as it streams by; returns name → SHA-256."""
    members: dict[str, str] = {}
    for info in tar:
        name = info.name
        if not info.isfile() or not _safe_name(name):
            raise BackupError(f"备份文件含有不允许的条目 {name!r}，已拒绝。未做任何修改。")
        if name in members:
            raise BackupError(f"备份文件中条目 {name} 重复出现，已拒绝。未做任何修改。")
        source = tar.extractfile(info)
        assert source is not None  # a regular file always has its data
        path = staging / name
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with path.open("wb") as target:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                target.write(chunk)
        members[name] = digest.hexdigest()
    return members


def _safe_name(name: str) -> bool:
    """One of the archive's own names: no absolute path, no ``..``, uploads flat."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or str(path) != name:
        return False
    if name in (MANIFEST, SECRET_MEMBER, EVIDENCE_KEYS_MEMBER, *DATABASE_MEMBER.values()):
        return True
    return len(path.parts) == 2 and path.parts[0] == UPLOADS and path.parts[1].isalnum()


def _parse_manifest(data: bytes) -> Manifest:
    try:
        body = json.loads(data)
        files = body["files"]
        manifest = Manifest(str(body["backend"]), str(body["created_at"]), dict(files))
        known = body["format"] == FORMAT and manifest.backend in DATABASE_MEMBER
    except (ValueError, KeyError, TypeError):
        raise BackupError("备份清单 manifest.json 无法解析，已拒绝。未做任何修改。") from None
    if not known:
        raise BackupError("备份清单的格式或数据库类型无法识别，已拒绝。未做任何修改。")
    return manifest


def _check_members(manifest: Manifest, members: dict[str, str]) -> None:
    listed, present = set(manifest.files), set(members)
    if present - listed:
        extra = "、".join(sorted(present - listed))
        raise BackupError(f"备份文件含有清单未列出的条目：{extra}，已拒绝。未做任何修改。")
    if listed - present:
        missing = "、".join(sorted(listed - present))
        raise BackupError(f"备份文件缺少清单列出的条目：{missing}，已拒绝。未做任何修改。")
    required = {DATABASE_MEMBER[manifest.backend], SECRET_MEMBER}
    if not required <= present:
        raise BackupError("备份文件缺少数据库或密钥，已拒绝。未做任何修改。")
    for name, actual in sorted(members.items()):
        expected = manifest.files[name]
        if not isinstance(expected, dict) or expected.get("sha256") != actual:
            raise BackupError(
                f"备份文件中 {name} 的校验和与清单不符（文件已损坏或被篡改），"
                "已拒绝。未做任何修改。"
            )


def refuse_unless_empty() -> None:
    """Refuse an instance that holds anything: a table, an uploaded file.

    Its secret key file, if any, is replaced: a key that signed nothing worth keeping (there
    are no users yet) is what a new instance needs only to start ``flask restore``.
    """
    problems = []
    tables = sa.inspect(db.engine).get_table_names()
    if tables:
        problems.append(f"数据库中已有 {len(tables)} 张数据表")
    uploads = _upload_files()
    if uploads:
        problems.append(f"上传目录中已有 {len(uploads)} 个文件")
    if problems:
        raise BackupError(
            "目标实例不是空的：" + "；".join(problems) + "。恢复只能在空实例中进行"
            "（新建的空数据库，不要先运行 flask db upgrade；空的上传目录），以免覆盖现有数据。"
            "未做任何修改。"
        )


def _restore_database(kind: str, dump: Path) -> None:
    db.session.remove()
    db.engine.dispose()
    if kind == "postgresql":
        _run_pg("pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                "--single-transaction", str(dump))  # fmt: skip
        return
    target = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).database
    if not target or target == ":memory:":
        raise BackupError("SQLite 数据库须为文件，才能恢复。未做任何修改。")
    path = Path(target)
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)  # an empty database file (checked above)
    partial = path.with_name(f".{path.name}.restoring")
    shutil.copyfile(dump, partial)
    os.replace(partial, path)


def _restore_uploads(staging: Path, manifest: Manifest) -> None:
    directory = Path(current_app.config["TRACKER_UPLOAD_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for name in manifest.uploads:
        shutil.copyfile(staging / name, directory / PurePosixPath(name).name)


def _keys_from_environment() -> bool:
    return bool((current_app.config.get("TRACKER_EVIDENCE_KEY") or "").strip())


def _evidence_keys(text: str) -> list[vault.Key]:
    """The archive's evidence keys, checked before anything is restored: where the
    environment names the keys, those must open what the archive's keys sealed."""
    try:
        keys = [vault.parse_key(line) for line in text.split()]
    except vault.VaultError as error:
        raise BackupError(f"备份中的证明材料加密密钥无效：{error} 未做任何修改。") from None
    if _keys_from_environment():
        configured = {key.id for key in vault.keyring().keys}
        if not {key.id for key in keys} <= configured:
            raise BackupError(
                "备份中的证明材料加密密钥不在 TRACKER_EVIDENCE_KEY 中：请把备份的密钥加入该变量，"
                "或取消该变量改用密钥文件。未做任何修改。"
            )
    return keys


def _restore_secret(secret: str) -> None:
    key_file = Path(current_app.instance_path) / SECRET_KEY_FILE
    key_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secret)
