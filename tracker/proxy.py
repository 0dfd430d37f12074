"""Trusting a reverse proxy's ``X-Forwarded-*`` headers, but only from the proxies listed.

Behind nginx the app sees the proxy's address, and the scheme, host and client address the
user actually used arrive in ``X-Forwarded-For``, ``-Proto``, ``-Host``, ``-Port`` and
``-Prefix``. Anyone can send those headers, so they are believed only when the connection
comes from an address in ``TRACKER_TRUSTED_PROXIES`` (addresses or networks, comma separated);
then werkzeug's :class:`~werkzeug.middleware.proxy_fix.ProxyFix` applies them for one hop.
From any other address, and when the list is empty (the default), they are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import TYPE_CHECKING, Any

from werkzeug.middleware.proxy_fix import ProxyFix

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

Network = IPv4Network | IPv6Network


def parse_networks(text: str) -> tuple[Network, ...]:
    """``127.0.0.1, 10.0.0.0/8`` → networks; raises ``ValueError`` naming a bad entry."""
    networks = []
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        try:
            networks.append(ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"不是有效的 IP 地址或网段：{part}") from None
    return tuple(networks)


class TrustedProxyFix:
    """WSGI middleware: :class:`ProxyFix` for requests from a trusted proxy, else nothing."""

    def __init__(self, app: WSGIApplication, trusted: Iterable[Network]):
        self.app = app
        self.trusted = tuple(trusted)
        self.fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)

    def is_trusted(self, remote_addr: str | None) -> bool:
        """True when the connection comes from one of the trusted proxies."""
        if not remote_addr:
            return False
        try:
            address = ip_address(remote_addr)
        except ValueError:
            return False
        return any(address in network for network in self.trusted)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        if self.is_trusted(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)
