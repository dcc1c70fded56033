"""Which terminal a `jutaku` command comes from, decided from facts the user cannot set (NET-01, ADR 0018).

Pure Python: :func:`identify` takes the facts :mod:`jutaku.accounts.osfacts` read from the kernel and from
root-written login records, never from the environment (``$SSH_CONNECTION`` is the user's to change). The
rule, failing closed:

1. The login record that counts is the one of the **innermost login session the process belongs to**: a
   ``USER_PROCESS`` record of utmp whose process is the command itself or one of its ancestors (parents
   cannot be forged: a process can lose ancestors, never gain one) and was started before the record was
   written (a recycled pid does not inherit an old record).
2. A record with a remote address (sshd writes the TCP peer into ``ut_addr_v6``) is that address — unless
   the address is the loopback or one of this machine's own addresses: a tunnel or a relay through this
   server (``ssh -L``, socat) would otherwise turn any remote user into the console.
3. A record without an address on a Linux virtual console line (``tty1``–``tty63``, ``console``) is the
   console, :data:`jutaku.accounts.network.CONSOLE`: a person at the server's keyboard.
4. Anything else has no terminal (:data:`jutaku.accounts.network.UNKNOWN`, which matches no registered
   terminal): no login session among the ancestors (tmux or screen servers, cron, ``setsid`` daemons,
   ``systemd-run``), a pseudo-terminal registered without an address (xterm, utempter), or login records
   that anyone but root could have written.

The result also carries the session binding (AUTH-07, item 12): the real uid, the audit login uid and the
login session (line, process, time) a CLI session is bound to at sign-in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from jutaku.accounts.network import CONSOLE, UNKNOWN, parse_address

#: Linux virtual consoles (major 4, minors 1–63) and the system console: a keyboard at the server.
CONSOLE_LINE: Final = re.compile(r"(tty([1-9]|[1-5][0-9]|6[0-3])|console)")
#: A record may be written a little after its process started, never before (/proc start times are
#: whole seconds of the boot time plus clock ticks; utmp has microseconds).
START_SLACK_SECONDS: Final = 2.0

# Why a process has the terminal it has (audit detail, the user's message).
CONSOLE_LOGIN: Final = "console"
REMOTE_LOGIN: Final = "ssh"
NO_RECORDS: Final = "no_login_records"  # no utmp, or one that others than root may write
NO_LOGIN_SESSION: Final = "no_login_session"
LOCAL_PSEUDO_TERMINAL: Final = "local_pseudo_terminal"
FROM_THIS_MACHINE: Final = "from_this_machine"

#: Reasons that mean "not inside any remote login": a service started by the system, or (in a demo home
#: only) a developer's own desktop terminal.
OUTSIDE_LOGIN: Final = frozenset({NO_RECORDS, NO_LOGIN_SESSION, LOCAL_PSEUDO_TERMINAL})


@dataclass(frozen=True)
class Process:
    """One process of the command's lineage: its pid and when it started (seconds since the epoch)."""

    pid: int
    started: float


@dataclass(frozen=True)
class LoginRecord:
    """A ``USER_PROCESS`` record of utmp: the terminal line, the process that wrote it, the peer address
    (None when the record has none) and when it was written (seconds since the epoch)."""

    line: str
    pid: int
    address: str | None
    at: float


@dataclass(frozen=True)
class OsFacts:
    """What the operating system says about the running command.

    ``lineage`` is the process itself first, then its parent, up to init. ``records`` is None when the
    login records cannot be trusted (missing, or writable by someone other than root). ``own_addresses``
    are those record addresses that belong to this machine.
    """

    uid: int
    loginuid: int | None
    lineage: tuple[Process, ...]
    records: tuple[LoginRecord, ...] | None
    own_addresses: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Binding:
    """What a CLI session is bound to besides the address: the OS user and their login session."""

    uid: int
    loginuid: int | None
    login: str  # "<line>:<pid>:<time>" of the login record, "" outside any login session

    def describe(self) -> dict[str, str]:
        """For the audit trail (no secret in it)."""
        return {"uid": str(self.uid), "loginuid": "-" if self.loginuid is None else str(self.loginuid),
                "login": self.login or "-"}


@dataclass(frozen=True)
class CliTerminal:
    """The command's terminal: an address for the terminal registry, why, and the session binding."""

    address: str
    why: str
    binding: Binding

    @property
    def outside_login(self) -> bool:
        return self.why in OUTSIDE_LOGIN


def identify(facts: OsFacts) -> CliTerminal:
    """The terminal of the command the facts describe (see the module docstring)."""
    if facts.records is None:
        return _unknown(facts, NO_RECORDS)
    record = login_record(facts)
    if record is None:
        return _unknown(facts, NO_LOGIN_SESSION)
    login = f"{record.line}:{record.pid}:{record.at:.6f}"
    binding = Binding(facts.uid, facts.loginuid, login)
    if record.address is None:
        if CONSOLE_LINE.fullmatch(record.line):
            return CliTerminal(CONSOLE, CONSOLE_LOGIN, binding)
        return CliTerminal(UNKNOWN, LOCAL_PSEUDO_TERMINAL, binding)
    address = parse_address(record.address)
    if address is None or address.is_loopback or address.is_unspecified or str(address) in facts.own_addresses:
        return CliTerminal(UNKNOWN, FROM_THIS_MACHINE, binding)
    return CliTerminal(str(address), REMOTE_LOGIN, binding)


def login_record(facts: OsFacts) -> LoginRecord | None:
    """The record of the innermost login session among the process and its ancestors, if any."""
    for process in facts.lineage:
        found = [r for r in facts.records or () if r.pid == process.pid
                 and process.started <= r.at + START_SLACK_SECONDS]
        if found:
            return max(found, key=lambda r: r.at)
    return None


def _unknown(facts: OsFacts, why: str) -> CliTerminal:
    return CliTerminal(UNKNOWN, why, Binding(facts.uid, facts.loginuid, ""))
