"""``flask --app tracker token …``: issue, list and revoke API tokens."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup

from tracker.api import queries
from tracker.api.services import TokenError, create_token, revoke_token
from tracker.auth.queries import user_by_username
from tracker.db import to_local
from tracker.extensions import db

token_cli = AppGroup("token", help="管理 API 令牌 / manage API tokens.")


def _when(value: datetime | None) -> str:
    local = to_local(value)
    return local.strftime("%Y-%m-%d %H:%M") if local else "-"


@token_cli.command("create")
@click.argument("username")
@click.option("--name", default="命令行签发", show_default=True, help="令牌名称，便于识别用途")
def create_command(username: str, name: str) -> None:
    """Issue a token for USERNAME and print it once; only its hash is kept."""
    user = user_by_username(username)
    if user is None:
        raise click.ClickException(f"没有这个用户：{username}")
    try:
        token, raw = create_token(user, name=name, actor=None)
        db.session.commit()
    except TokenError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(f"已为 {user.username}（{user.role.label}）签发令牌 #{token.id}「{token.name}」")
    click.echo(f"令牌 / token (shown once): {raw}")
    click.echo("请妥善保存：系统只保存其摘要，无法再次显示。")


@token_cli.command("list")
@click.argument("username", required=False)
def list_command(username: str | None) -> None:
    """List tokens (all, or one user's): number, user, name, prefix, state, last use."""
    for token in queries.all_tokens(username):
        state = "有效" if token.active else f"已撤销 {_when(token.revoked_at)}"
        click.echo(
            f"{token.id}\t{token.user.username}\t{token.name}\t{token.hint}\t{state}\t"
            f"创建 {_when(token.created_at)}\t最近使用 {_when(token.last_used_at)}"
        )


@token_cli.command("revoke")
@click.argument("token_key")
def revoke_command(token_key: str) -> None:
    """Revoke a token by its number or prefix (as shown by ``token list``)."""
    token = queries.token_by_id_or_prefix(token_key)
    if token is None:
        raise click.ClickException(f"没有这个令牌：{token_key}")
    revoke_token(token, actor=None)
    db.session.commit()
    click.echo(f"已撤销令牌 #{token.id}（{token.user.username}「{token.name}」）")
