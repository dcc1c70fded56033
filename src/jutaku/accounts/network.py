"""Where a request comes from, and whether that terminal is registered (NET-01). Pure Python.

- CLI: the console is ``127.0.0.1``; a remote shell is the peer address sshd wrote into the login
  record of the command's own login session (:mod:`jutaku.accounts.cliterminal`, ADR 0018). Never an
  environment variable: ``$SSH_CONNECTION`` / ``$SSH_CLIENT`` are the user's to change or unset.
- Web: ``REMOTE_ADDR`` is the peer. Only when the peer is a configured trusted proxy is the
  ``X-Forwarded-For`` header believed, and then only its right-most address not itself a trusted
  proxy (the address the last trusted hop saw); spoofed left-most entries are ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Final

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

CONSOLE: Final = "127.0.0.1"
UNKNOWN: Final = "0.0.0.0"  # noqa: S104 - a value that matches no registered terminal, never bound


def parse_address(text: str) -> Address | None:
    """An IP address (IPv4-mapped IPv6 as IPv4, scope id dropped), or None."""
    try:
        address = ipaddress.ip_address(text.strip().split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def parse_network(text: str) -> Network:
    """An address or CIDR network, normalised (``10.1.2.3/24`` → ``10.1.2.0/24``); ValueError if invalid."""
    return ipaddress.ip_network(text.strip(), strict=False)


def web_client(remote_addr: str, forwarded_for: str | None, trusted_proxies: Iterable[str]) -> str:
    """The client address of a web request (see the module docstring)."""
    peer = parse_address(remote_addr or "")
    if peer is None:
        return UNKNOWN
    proxies = [parse_network(p) for p in trusted_proxies]
    if not _inside(peer, proxies) or not forwarded_for:
        return str(peer)
    hops = [h.strip() for h in forwarded_for.split(",")]
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            return UNKNOWN
        if not _inside(address, proxies):
            return str(address)
    return str(peer)


def allowed(address: str, networks: Iterable[str]) -> bool:
    """True when ``address`` lies in one of ``networks`` (invalid entries match nothing)."""
    parsed = parse_address(address)
    if parsed is None:
        return False
    nets = []
    for text in networks:
        try:
            nets.append(parse_network(text))
        except ValueError:
            continue
    return _inside(parsed, nets)


def _inside(address: Address, networks: Iterable[Network]) -> bool:
    return any(address.version == net.version and address in net for net in networks)
