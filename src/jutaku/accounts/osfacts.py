"""The operating system's facts about the running `jutaku` command, for :mod:`.cliterminal` (ADR 0018).

Everything here comes from the kernel or from files only root writes; nothing from the environment:

- the real uid (``getuid``) and the audit login uid (``/proc/self/loginuid``: set once at login by
  ``pam_loginuid``, kept through ``sudo`` and ``su``, not changeable by the user);
- the lineage: the process and its ancestors, each with its start time (``/proc/<pid>/stat``);
- the ``USER_PROCESS`` records of utmp (:data:`UTMP`), written by ``sshd`` and ``login`` as root, with the
  peer's address in ``ut_addr_v6``. They are believed only if the file belongs to root and the user cannot
  write it (not world-writable, not group-writable by a group of the user), else there are none;
- whether a record's address belongs to this machine (it binds).

In-process tests replace the provider with :func:`use`. In test mode only, ``JUTAKU_TEST_UTMP`` (read by
:mod:`jutaku.config`) names another utmp file; the same ownership rule applies, so only root can write one
that is believed (the functional tests run as root and write a record for their own process).
"""

from __future__ import annotations

import os
import platform
import socket
import struct
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final

from jutaku.accounts.cliterminal import LoginRecord, OsFacts, Process
from jutaku.accounts.network import parse_address

UTMP: Final = Path("/var/run/utmp")  # glibc's _PATH_UTMP
PROC: Final = Path("/proc")
#: glibc's ``struct utmp`` on x86-64 Linux (384 bytes; 32-bit ``ut_session`` and ``ut_tv``). Other
#: architectures lay it out differently: there the records are not read, and every remote shell is refused.
RECORD: Final = struct.Struct("=hhi32s4s32s256shhiii16s20s")
MACHINES: Final = frozenset({"x86_64", "amd64"})
USER_PROCESS: Final = 7
UNSET_LOGINUID: Final = 0xFFFFFFFF
MAX_LINEAGE: Final = 512

Provider = Callable[[], OsFacts]
_override: Provider | None = None


def use(provider: Provider | None) -> None:
    """Replace the facts (in-process tests); None restores the operating system's."""
    global _override
    _override = provider


def current(utmp: Path | None = None) -> OsFacts:
    """The facts of this process (or of the provider set with :func:`use`)."""
    if _override is not None:
        return _override()
    records = login_records(utmp or UTMP)
    addresses = {r.address for r in records or () if r.address is not None}
    return OsFacts(uid=os.getuid(), loginuid=loginuid(), lineage=lineage(), records=records,
                   own_addresses=own_addresses(addresses))


def loginuid(proc: Path = PROC) -> int | None:
    try:
        value = int((proc / "self" / "loginuid").read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    return None if value == UNSET_LOGINUID else value


def lineage(proc: Path = PROC, pid: int | None = None) -> tuple[Process, ...]:
    """This process (or ``pid``) and its ancestors up to init, each with its start time."""
    boot, ticks = _boot_time(proc), os.sysconf("SC_CLK_TCK")
    out: list[Process] = []
    current_pid = os.getpid() if pid is None else pid
    while current_pid > 0 and len(out) < MAX_LINEAGE:
        stat = _stat(proc, current_pid)
        if stat is None:
            break
        parent, started = stat
        out.append(Process(current_pid, boot + started / ticks))
        if current_pid == 1:
            break
        current_pid = parent
    return tuple(out)


def _stat(proc: Path, pid: int) -> tuple[int, int] | None:
    """(parent pid, start time in clock ticks since boot) from /proc/<pid>/stat."""
    try:
        text = (proc / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()  # the command name may hold spaces and parentheses
    try:
        return int(fields[1]), int(fields[19])
    except (IndexError, ValueError):
        return None


def _boot_time(proc: Path) -> float:
    try:
        for line in (proc / "stat").read_text(encoding="ascii").splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0.0


def login_records(path: Path) -> tuple[LoginRecord, ...] | None:
    """The USER_PROCESS records of a utmp file, or None when it is missing or not root's alone."""
    if platform.machine().lower() not in MACHINES:
        return None
    try:
        with path.open("rb") as fh:
            if not trusted(os.fstat(fh.fileno())):
                return None
            data = fh.read()
    except OSError:
        return None
    return tuple(parse(data))


def trusted(st: os.stat_result) -> bool:
    """Root's file, which this user cannot write (root may: it may write anything)."""
    if st.st_uid != 0 or st.st_mode & 0o002:
        return False
    groups = {os.getegid(), *os.getgroups()}
    return not (st.st_mode & 0o020 and st.st_gid in groups and os.geteuid() != 0)


def parse(data: bytes) -> Iterable[LoginRecord]:
    for offset in range(0, len(data) - RECORD.size + 1, RECORD.size):
        kind, _, pid, line, _, _, _, _, _, _, seconds, micros, addr, _ = RECORD.unpack_from(data, offset)
        if kind != USER_PROCESS or pid <= 0:
            continue
        name = line.split(b"\0", 1)[0].decode("ascii", "replace")
        yield LoginRecord(line=name, pid=pid, address=address_of(addr), at=seconds + micros / 1e6)


def address_of(raw: bytes) -> str | None:
    """``ut_addr_v6`` as text: IPv4 in the first word when the other three are zero, else IPv6."""
    if not any(raw):
        return None
    if not any(raw[4:]):
        return socket.inet_ntop(socket.AF_INET, raw[:4])
    return socket.inet_ntop(socket.AF_INET6, raw)


def make_record(line: str, pid: int, at: float, address: str | None = None, user: str = "") -> bytes:
    """One utmp USER_PROCESS record (for tests and the tools that simulate a login)."""
    raw = b"\0" * 16
    if address is not None:
        parsed = parse_address(address)
        if parsed is None:
            raise ValueError(f"not an address: {address!r}")
        raw = parsed.packed.ljust(16, b"\0")
    return RECORD.pack(USER_PROCESS, 0, pid, line.encode("ascii"), line[-4:].encode("ascii"),
                       user.encode("ascii"), (address or "").encode("ascii"), 0, 0, 0, int(at),
                       round((at - int(at)) * 1e6), raw, b"")


def own_addresses(candidates: Iterable[str]) -> frozenset[str]:
    """Those of ``candidates`` that are addresses of this machine (a socket can bind to them)."""
    own = set()
    for text in candidates:
        address = parse_address(text)
        if address is None:
            continue
        family = socket.AF_INET if address.version == 4 else socket.AF_INET6
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as probe:
                probe.bind((str(address), 0))
        except OSError:
            continue
        own.add(str(address))
    return frozenset(own)
