"""Evidence encrypted at rest: AES-256-GCM in chunks, with keys kept outside the database.

A stored file is a header and a sequence of sealed chunks (the STREAM construction):

    magic (8 bytes) · key id (8) · nonce prefix (8) · chunk₀ · chunk₁ · …

Each chunk seals at most 64 KiB of the file with AES-GCM under the nonce ``prefix · i`` (a
32-bit counter) and the associated data ``header · final flag``, so that a chunk cannot be
moved, dropped, swapped into another file or cut off at the end without the tag failing. The
key id (the first 8 bytes of the key's SHA-256) says which key sealed the file, so files under
an old key stay readable while a rotation runs. Reading decrypts one chunk at a time: a 10 MB
download holds 64 KiB of it in memory, not 10 MB.

Keys: ``TRACKER_EVIDENCE_KEY`` (base64 of 32 random bytes; several separated by commas, the
first sealing new files, all of them opening old ones), or else the key file
(``TRACKER_EVIDENCE_KEY_FILE``, by default ``evidence_keys`` in the instance folder: one key a
line, the first current), created with mode 600 on first use. Never in the database: a copy
of the database and the upload folder without the key reveals no evidence. Losing the key
loses the evidence: docs/operations.md says how to back it up.

A file written before encryption (no magic) is read as it is until ``flask evidence encrypt``
or a key rotation seals it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

MAGIC = b"TRKEV1\n\x00"
KEY_ID_BYTES, PREFIX_BYTES = 8, 8
HEADER_BYTES = len(MAGIC) + KEY_ID_BYTES + PREFIX_BYTES
CHUNK = 64 * 1024
TAG = 16
KEY_BYTES = 32
KEY_FILE = "evidence_keys"
MAX_CHUNKS = 2**32


class VaultError(RuntimeError):
    """A key that cannot be read, or a file that fails its authentication."""


@dataclass(frozen=True)
class Key:
    """One AES-256 key and its id (the first bytes of its SHA-256)."""

    secret: bytes

    @property
    def id(self) -> bytes:
        return hashlib.sha256(self.secret).digest()[:KEY_ID_BYTES]

    def text(self) -> str:
        return base64.b64encode(self.secret).decode("ascii")


def parse_key(text: str) -> Key:
    """A key written as base64 (of 32 bytes)."""
    try:
        secret = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise VaultError("证据加密密钥不是有效的 base64 文本。") from None
    if len(secret) != KEY_BYTES:
        raise VaultError(
            f"证据加密密钥须为 {KEY_BYTES} 字节（base64 编码），现为 {len(secret)} 字节。"
        )
    return Key(secret)


def new_key() -> Key:
    return Key(secrets.token_bytes(KEY_BYTES))


@dataclass(frozen=True)
class Keyring:
    """The keys in use: the first seals, every one opens."""

    keys: tuple[Key, ...]
    source: str  # "environment" or the key file's path

    @property
    def current(self) -> Key:
        return self.keys[0]

    def find(self, key_id: bytes) -> Key:
        for key in self.keys:
            if key.id == key_id:
                return key
        raise VaultError("文件由一把不在密钥环中的密钥加密：请恢复该密钥后再读取。")

    @property
    def from_environment(self) -> bool:
        return self.source == "environment"


def key_file() -> Path:
    configured = current_app.config.get("TRACKER_EVIDENCE_KEY_FILE")
    return Path(configured) if configured else Path(current_app.instance_path) / KEY_FILE


def keyring(*, create: bool = True) -> Keyring:
    """The configured keys; without any, a key file is created (mode 600) when ``create``."""
    configured = (current_app.config.get("TRACKER_EVIDENCE_KEY") or "").strip()
    if configured:
        keys = tuple(parse_key(part) for part in configured.split(",") if part.strip())
        return Keyring(keys, "environment")
    path = key_file()
    if not path.exists() and create:
        _create_key_file(path, [new_key()])
    try:
        lines = path.read_text(encoding="ascii").split()
    except FileNotFoundError:
        raise VaultError(f"没有证据加密密钥（{path}）。") from None
    if not lines:
        raise VaultError(f"证据加密密钥文件 {path} 是空的。")
    return Keyring(tuple(parse_key(line) for line in lines), str(path))


def _create_key_file(path: Path, keys: list[Key]) -> None:
    """Write a new key file; when two processes race, the first one's keys stand."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "w", encoding="ascii") as out:
        out.write("".join(key.text() + "\n" for key in keys))
        out.flush()
        os.fsync(out.fileno())


def write_key_file(path: Path, keys: list[Key]) -> None:
    """Replace the key file atomically (a temporary file, fsynced, renamed)."""
    part = path.with_name(path.name + ".new")
    part.unlink(missing_ok=True)
    _create_key_file(part, keys)
    part.replace(path)


# -- sealing and opening ---------------------------------------------------------------------


def _aad(header: bytes, final: bool) -> bytes:
    return header + (b"\x01" if final else b"\x00")


def _nonce(prefix: bytes, index: int) -> bytes:
    if index >= MAX_CHUNKS:
        raise VaultError("文件过大，无法加密。")
    return prefix + index.to_bytes(4, "big")


def seal(data: bytes, out: BinaryIO, key: Key) -> None:
    """Write ``data`` to ``out`` encrypted under ``key``."""
    seal_chunks(iter([data]) if data else iter(()), out, key)


def seal_chunks(chunks: Iterator[bytes], out: BinaryIO, key: Key) -> None:
    """Write the concatenated ``chunks`` encrypted, re-cut into 64 KiB pieces."""
    prefix = secrets.token_bytes(PREFIX_BYTES)
    header = MAGIC + key.id + prefix
    out.write(header)
    cipher = AESGCM(key.secret)
    index, buffered = 0, bytearray()
    for piece in chunks:
        buffered += piece
        start = 0
        while len(buffered) - start > CHUNK:  # one piece kept back: the last is marked final
            block = bytes(buffered[start : start + CHUNK])
            out.write(cipher.encrypt(_nonce(prefix, index), block, _aad(header, False)))
            index, start = index + 1, start + CHUNK
        del buffered[:start]
    out.write(cipher.encrypt(_nonce(prefix, index), bytes(buffered), _aad(header, True)))


def is_sealed(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC


def open_chunks(path: Path, ring: Keyring | None = None) -> Iterator[bytes]:
    """The file's content, decrypted one chunk at a time (a plain file as it is).

    Raises :class:`VaultError` when a chunk fails its tag (altered, truncated, reordered).
    """
    handle = path.open("rb")
    try:
        header = handle.read(HEADER_BYTES)
        if not header.startswith(MAGIC):
            yield from _plain(handle, header)
            return
        if len(header) < HEADER_BYTES:
            raise VaultError("文件已损坏：缺少加密文件头。")
        ring = ring or keyring(create=False)
        key = ring.find(header[len(MAGIC) : len(MAGIC) + KEY_ID_BYTES])
        prefix = header[len(MAGIC) + KEY_ID_BYTES :]
        cipher = AESGCM(key.secret)
        index, block = 0, handle.read(CHUNK + TAG)
        while True:
            following = handle.read(CHUNK + TAG) if len(block) == CHUNK + TAG else b""
            final = not following
            try:
                yield cipher.decrypt(_nonce(prefix, index), block, _aad(header, final))
            except InvalidTag:
                raise VaultError("文件校验失败：内容被篡改、截断或密钥不符。") from None
            if final:
                return
            index, block = index + 1, following
    finally:
        handle.close()


def _plain(handle: BinaryIO, start: bytes) -> Iterator[bytes]:
    if start:
        yield start
    while piece := handle.read(CHUNK):
        yield piece


def read_all(path: Path) -> bytes:
    """The whole decrypted content (tests, small files)."""
    return b"".join(open_chunks(path))


def reseal(path: Path, ring: Keyring, key: Key) -> bool:
    """Encrypt the file under ``key`` in place (atomically); False if it already is."""
    with path.open("rb") as handle:
        header = handle.read(HEADER_BYTES)
    if header.startswith(MAGIC) and header[len(MAGIC) : len(MAGIC) + KEY_ID_BYTES] == key.id:
        return False
    part = path.with_name(path.name + ".reseal")
    descriptor = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as out:
            seal_chunks(open_chunks(path, ring), out, key)
            out.flush()
            os.fsync(out.fileno())
        part.replace(path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return True
