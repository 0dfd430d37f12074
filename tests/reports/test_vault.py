"""Evidence encrypted at rest: sealed in chunks, opened in a stream, keys outside the database,
tampering detected, old plain files sealed, keys rotated."""

from __future__ import annotations

import base64
import io
import stat
import tracemalloc

import pytest
import sqlalchemy as sa

from tests.reports.test_evidence_files import draft, uploads  # noqa: F401 - fixtures
from tracker.extensions import db
from tracker.reports import evidence, services, vault
from tracker.reports.models import Evidence

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def own_key_file(app, tmp_path, monkeypatch):
    """A key file of this test's own, made on first use."""
    monkeypatch.setitem(app.config, "TRACKER_EVIDENCE_KEY_FILE", str(tmp_path / "keys"))


def sealed(data: bytes, key: vault.Key) -> bytes:
    out = io.BytesIO()
    vault.seal(data, out, key)
    return out.getvalue()


@pytest.mark.parametrize(
    "size", [0, 1, vault.CHUNK - 1, vault.CHUNK, vault.CHUNK + 1, 3 * vault.CHUNK]
)
def test_every_size_round_trips(app, tmp_path, size):
    key = vault.new_key()
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    path = tmp_path / "f"
    path.write_bytes(sealed(data, key))
    ring = vault.Keyring((key,), "test")
    assert b"".join(vault.open_chunks(path, ring)) == data
    assert path.read_bytes()[:8] == vault.MAGIC
    if len(data) >= 64:  # a byte or two may turn up in any ciphertext; 64 in a row never do
        assert data[:64] not in path.read_bytes()[8:]


def test_altered_truncated_or_reordered_files_fail(app, tmp_path):
    key = vault.new_key()
    ring = vault.Keyring((key,), "test")
    data = b"x" * (2 * vault.CHUNK + 10)
    whole = sealed(data, key)
    block = vault.CHUNK + vault.TAG
    first, second = vault.HEADER_BYTES, vault.HEADER_BYTES + block
    cases = {
        "a flipped bit": whole[:100] + bytes([whole[100] ^ 1]) + whole[101:],
        "the last chunk cut off": whole[: second + block],
        "two chunks swapped": whole[:first] + whole[second : second + block]
        + whole[first:second] + whole[second + block :],
        "another file's chunk": whole[:first] + sealed(data, key)[first:second] + whole[second:],
    }  # fmt: skip
    for name, content in cases.items():
        path = tmp_path / "f"
        path.write_bytes(content)
        with pytest.raises(vault.VaultError):
            b"".join(vault.open_chunks(path, ring))
        assert name
    other = vault.Keyring((vault.new_key(),), "test")
    (tmp_path / "f").write_bytes(whole)
    with pytest.raises(vault.VaultError, match="不在密钥环中"):
        b"".join(vault.open_chunks(tmp_path / "f", other))


def test_a_ten_megabyte_file_is_opened_in_constant_memory(app, tmp_path):
    key = vault.new_key()
    ring = vault.Keyring((key,), "test")
    path = tmp_path / "big"
    with path.open("wb") as out:
        vault.seal_chunks(iter([b"z" * 1_000_000] * 10), out, key)
    tracemalloc.start()
    try:
        total = sum(len(piece) for piece in vault.open_chunks(path, ring))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == 10_000_000
    assert peak < 1_000_000, peak  # a few chunks of 64 KiB, not 10 MB


def test_the_key_file_is_made_once_private_and_outside_the_database(app):
    with app.app_context():
        path = vault.key_file()
        assert not path.exists()
        ring = vault.keyring()
        assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
        assert vault.keyring().current == ring.current  # read back, not made again
        assert path.parent != evidence.upload_dir()  # not beside the files it opens


def test_keys_from_the_environment_and_bad_keys(app, monkeypatch):
    new, old = vault.new_key(), vault.new_key()
    monkeypatch.setitem(app.config, "TRACKER_EVIDENCE_KEY", f"{new.text()},{old.text()}")
    with app.app_context():
        ring = vault.keyring()
        assert ring.from_environment and ring.current == new and ring.find(old.id) == old
        assert not vault.key_file().exists()
        short = base64.b64encode(b"x" * 16).decode()
        for bad, message in (("not base64!", "base64"), (short, "32 字节")):
            monkeypatch.setitem(app.config, "TRACKER_EVIDENCE_KEY", bad)
            with pytest.raises(vault.VaultError, match=message):
                vault.keyring()


def test_download_decrypts_and_a_missing_key_is_a_clear_page(client, draft, login, app):  # noqa: F811
    report, liaison = draft["report"], draft["liaison"]
    item = services.add_evidence(report, "材料.pdf", PDF, actor=liaison)
    db.session.commit()
    login(liaison)
    response = client.get(f"/evidence/{item.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Length"] == str(len(PDF))
    assert "filename*=UTF-8''%E6%9D%90%E6%96%99.pdf" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        vault.key_file().rename(vault.key_file().with_name("moved"))
    response = client.get(f"/evidence/{item.id}")
    assert response.status_code == 500 and "加密密钥不可用" in response.get_data(as_text=True)
    assert b"Traceback" not in response.data


def test_plain_files_are_sealed_and_keys_rotated_by_the_commands(runner, draft, app):  # noqa: F811
    report, liaison = draft["report"], draft["liaison"]
    item = services.add_evidence(report, "a.pdf", PDF, actor=liaison)
    db.session.commit()
    with app.app_context():
        path = vault.key_file()
        stored = evidence.path_of(item.stored_name)
    legacy = stored.with_name("legacy0000")
    legacy.write_bytes(PDF)  # written before encryption
    db.session.add(Evidence(report_id=report.id, filename="old.pdf", stored_name="legacy0000",
                            kind="pdf", content_type="application/pdf", size=len(PDF),
                            sha256=item.sha256, uploaded_by_id=liaison.id))  # fmt: skip
    db.session.commit()
    before = path.read_text()
    result = runner.invoke(args=["evidence", "encrypt"])
    assert result.exit_code == 0, result.output
    assert "加密 1 个" in result.output and legacy.read_bytes()[:8] == vault.MAGIC
    result = runner.invoke(args=["evidence", "rotate-key"])
    assert result.exit_code == 0, result.output
    after = path.read_text().split()
    assert len(after) == 1 and after[0] != before.split()[0]  # the old key is retired
    with app.app_context():
        for name in (item.stored_name, "legacy0000"):
            file = stored.with_name(name)
            assert file.read_bytes()[8:16] == vault.parse_key(after[0]).id
            assert vault.read_all(file) == PDF
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence)) == 2
