"""``flask --app tracker backup --output FILE`` and ``flask --app tracker restore FILE``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker.config import SECRET_KEY_FILE
from tracker.ops import backup


@click.command("backup")
@click.option(
    "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="备份文件（新文件，权限 0600），如 /var/backups/tracker/2026-12-02.tar.gz",
)  # fmt: skip
@with_appcontext
def backup_command(output: Path) -> None:
    """Write one archive: database, uploaded evidence, secret key, manifest of checksums."""
    try:
        manifest = backup.create_backup(output)
    except backup.BackupError as exc:
        raise click.ClickException(exc.message) from None
    size = output.stat().st_size
    click.echo(
        f"已写入备份 {output}（{size / 1048576:.1f} MB，权限 0600）："
        f"数据库（{backup.BACKEND_LABEL[manifest.backend]}）、佐证材料 {len(manifest.uploads)} 个、"
        f"密钥；清单列出 {len(manifest.files)} 个文件的 SHA-256 校验和。"
    )


@click.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(archive: Path) -> None:
    """Restore ARCHIVE into this empty instance, after checking every checksum."""
    key_file = Path(current_app.instance_path) / SECRET_KEY_FILE
    own_key = key_file.read_text(encoding="utf-8") if key_file.is_file() else None
    try:
        manifest = backup.restore_backup(archive)
    except backup.BackupError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(
        f"已从 {archive} 恢复（备份时间 {manifest.created_at} UTC）：数据库、"
        f"佐证材料 {len(manifest.uploads)} 个、密钥（实例目录 secret_key）。"
        "请运行 flask --app tracker db upgrade，使数据库结构升级到本版本。"
    )
    restored = key_file.read_text(encoding="utf-8")
    # The key this process started with came from the environment unless it was the file's.
    if current_app.config["SECRET_KEY"] not in (restored, own_key):
        click.echo(
            "注意：本进程使用的密钥（TRACKER_SECRET_KEY）与备份中的不同；"
            "如需保留原有登录会话，请改用恢复的 secret_key 文件或把该变量设为其内容。"
        )
