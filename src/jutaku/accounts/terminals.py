"""The registry of allowed terminals (NET-01): addresses or networks, each with a name.

Every pathway asks :func:`is_allowed` for its source address (CLI: :func:`jutaku.accounts.cliterminal.identify`
from the kernel and the login records, ADR 0018; web: :func:`jutaku.accounts.network.web_client`) and
refuses, with an audit record, when it is not.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from jutaku.accounts import network
from jutaku.accounts.actor import Actor, anonymous
from jutaku.accounts.errors import AccountsError, require
from jutaku.accounts.models import Terminal
from jutaku.accounts.permissions import Permission
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import record
from jutaku.domain import free_text

CONSOLE_TERMINALS = (("console-ipv4", "127.0.0.1/32"), ("console-ipv6", "::1/128"))
REFUSED = "この端末からは利用できません（登録された端末ではありません）。"
#: Why a command has no terminal at all (:mod:`jutaku.accounts.cliterminal`), in words for the user.
_WHY: dict[str, str] = {
    "no_login_records": "ログインの記録（utmp）を確認できません。",
    "no_login_session": "ログインセッションの外からは使えません（tmux・screen・cron などは不可。SSH で直接ログインするか、"
                        "サーバのコンソールから実行してください）。",
    "local_pseudo_terminal": "サーバ上の端末エミュレータからは使えません（SSH またはコンソールから実行してください）。",
    "from_this_machine": "このサーバ自身を経由した接続（トンネル・中継）からは使えません。",
}


class TerminalError(AccountsError):
    """A terminal change was refused (message in Japanese)."""


def is_allowed(address: str) -> bool:
    return network.allowed(address, Terminal.objects.filter(active=True).values_list("network", flat=True))


def refuse(address: str, *, username: str | None, what: str, why: str | None = None) -> None:
    """Audit a refused terminal (ACCESS_DENIED, outcome ``terminal``) in its own transaction. ``why``: how
    the CLI's terminal was identified (``ssh``, ``console``, or why none was)."""
    actor = Actor(username, address) if username else anonymous(address)
    detail = {"what": what[:200], **({"why": why} if why else {})}
    with transaction.atomic():
        record(AuditEvent.ACCESS_DENIED, actor=actor, outcome="terminal", detail=detail)


def why_text(why: str) -> str:
    """A sentence for the user when the CLI has no terminal at all, else ""."""
    return f"\n{_WHY[why]}" if why in _WHY else ""


def add(name: str, address_or_network: str, *, actor: Actor) -> Terminal:
    _require(actor)
    free_text.check(name, "端末名", TerminalError)
    try:
        net = str(network.parse_network(address_or_network))
    except ValueError:
        shown = "" if free_text.contains_my_number(address_or_network) else f": {address_or_network!r}"
        raise TerminalError(f"IPアドレスまたはネットワーク（CIDR）として読めません{shown}") from None
    if not name or len(name) > 64 or not name.isprintable():
        raise TerminalError("端末名は1〜64文字にしてください")
    with transaction.atomic():
        terminal, created = Terminal.objects.get_or_create(
            name=name, defaults={"network": net, "created_at": timezone.now(), "created_by": actor.username})
        before = None if created else f"{terminal.network} active={terminal.active}"
        terminal.network, terminal.active = net, True
        terminal.save()
        record(AuditEvent.TERMINAL_ADD, actor=actor, objects=[f"terminal:{terminal.pk}"],
               detail={"name": name, "network": net, "before": before})
    return terminal


def remove(name: str, *, actor: Actor) -> Terminal:
    """Deactivate a terminal (kept for the record)."""
    _require(actor)
    with transaction.atomic():
        free_text.check(name, "端末名", TerminalError)
        terminal = Terminal.objects.select_for_update().filter(name=name).first()
        if terminal is None:
            raise TerminalError(f"端末 {name} は登録されていません")
        terminal.active = False
        terminal.save(update_fields=["active"])
        record(AuditEvent.TERMINAL_REMOVE, actor=actor, objects=[f"terminal:{terminal.pk}"],
               detail={"name": name, "network": terminal.network})
    return terminal


def list_terminals(*, actor: Actor) -> list[Terminal]:
    """Every registered terminal, active ones first (removed ones stay listed: they are the record)."""
    _require(actor)
    return list(Terminal.objects.order_by("-active", "name"))


def register_console(*, actor: Actor) -> list[str]:
    """`jutaku init`: the local console (127.0.0.1, ::1) is a terminal. Idempotent."""
    done = []
    for name, net in CONSOLE_TERMINALS:
        if not Terminal.objects.filter(name=name).exists():
            with transaction.atomic():
                terminal = Terminal.objects.create(name=name, network=net, created_at=timezone.now(),
                                                   created_by=actor.username)
                record(AuditEvent.TERMINAL_ADD, actor=actor, objects=[f"terminal:{terminal.pk}"],
                       detail={"name": name, "network": net, "before": None})
            done.append(f"terminal {name} {net}")
    return done


def _require(actor: Actor) -> None:
    require(actor, Permission.TERMINALS_MANAGE)
