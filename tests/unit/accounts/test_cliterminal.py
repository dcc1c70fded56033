"""The CLI's terminal from facts the user cannot set (NET-01, issue 13 item 10, ADR 0018): the pure rule
(:mod:`jutaku.accounts.cliterminal`) and the operating system's facts (:mod:`jutaku.accounts.osfacts`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jutaku.accounts import cliterminal, osfacts
from jutaku.accounts.cliterminal import Binding, LoginRecord, OsFacts, Process, identify
from jutaku.accounts.network import CONSOLE, UNKNOWN

NOW = 1_780_000_000.0
SHELL, SSHD, INIT = Process(4000, NOW - 10), Process(3000, NOW - 20), Process(1, NOW - 9000)
LINEAGE = (Process(5000, NOW), SHELL, SSHD, INIT)


def facts(*records: LoginRecord, lineage: tuple[Process, ...] = LINEAGE, own: frozenset[str] = frozenset(),
          uid: int = 1000, loginuid: int | None = 1000) -> OsFacts:
    return OsFacts(uid=uid, loginuid=loginuid, lineage=lineage, records=records, own_addresses=own)


def test_a_remote_login_is_the_peer_address_sshd_recorded_with_its_binding() -> None:
    here = identify(facts(LoginRecord("pts/3", SSHD.pid, "10.1.2.31", NOW - 19)))
    assert (here.address, here.why) == ("10.1.2.31", cliterminal.REMOTE_LOGIN)
    assert here.binding == Binding(1000, 1000, f"pts/3:{SSHD.pid}:{NOW - 19:.6f}")


@pytest.mark.parametrize("line", ["tty1", "tty6", "tty63", "console"])
def test_a_virtual_console_login_is_the_console(line: str) -> None:
    here = identify(facts(LoginRecord(line, SSHD.pid, None, NOW - 19)))
    assert (here.address, here.why) == (CONSOLE, cliterminal.CONSOLE_LOGIN)


@pytest.mark.parametrize("line", ["pts/0", "ttyS0", "tty64", ":0", "tty0"])
def test_a_local_terminal_that_is_not_a_virtual_console_has_no_terminal(line: str) -> None:
    here = identify(facts(LoginRecord(line, SSHD.pid, None, NOW - 19)))
    assert (here.address, here.why) == (UNKNOWN, cliterminal.LOCAL_PSEUDO_TERMINAL)


@pytest.mark.parametrize("peer", ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1", UNKNOWN, "192.0.2.10"])
def test_a_login_relayed_through_this_machine_has_no_terminal(peer: str) -> None:
    """ssh -L / socat on the server make sshd's peer the loopback or one of the server's own addresses."""
    here = identify(facts(LoginRecord("pts/3", SSHD.pid, peer, NOW - 19), own=frozenset({"192.0.2.10"})))
    assert (here.address, here.why) == (UNKNOWN, cliterminal.FROM_THIS_MACHINE)


def test_outside_every_login_session_there_is_no_terminal() -> None:
    """tmux/screen servers, cron, setsid daemons: their processes do not descend from a login's process."""
    elsewhere = LoginRecord("pts/3", 7777, "10.1.2.31", NOW - 19)
    here = identify(facts(elsewhere, lineage=(Process(5000, NOW), INIT)))
    assert (here.address, here.why, here.binding.login) == (UNKNOWN, cliterminal.NO_LOGIN_SESSION, "")
    assert here.outside_login


def test_untrusted_or_missing_login_records_give_no_terminal() -> None:
    here = identify(OsFacts(uid=0, loginuid=None, lineage=LINEAGE, records=None))
    assert (here.address, here.why) == (UNKNOWN, cliterminal.NO_RECORDS)


def test_a_recycled_pid_does_not_inherit_an_old_login_record() -> None:
    stale = LoginRecord("pts/3", SHELL.pid, "10.1.2.31", SHELL.started - 3600)  # written long before it started
    assert identify(facts(stale)).why == cliterminal.NO_LOGIN_SESSION


def test_the_innermost_login_session_counts() -> None:
    """A nested ssh to this machine from a registered session is a relay, not the outer terminal."""
    outer = LoginRecord("pts/1", SSHD.pid, "10.1.2.31", NOW - 19)
    inner = LoginRecord("pts/2", SHELL.pid, "127.0.0.1", NOW - 9)
    assert identify(facts(outer, inner)).why == cliterminal.FROM_THIS_MACHINE
    assert identify(facts(outer)).address == "10.1.2.31"


records = st.builds(LoginRecord, line=st.sampled_from(["tty1", "pts/0", "console", "ttyS0", ":0"]),
                    pid=st.sampled_from([5000, 4000, 3000, 1, 8888]),
                    address=st.one_of(st.none(), st.sampled_from(["10.1.2.31", "127.0.0.1", "::1", "192.0.2.10",
                                                                  "2001:db8::5"])),
                    at=st.floats(NOW - 10_000, NOW + 10))


@given(st.lists(records, max_size=5), st.booleans())
def test_the_terminal_is_only_ever_a_recorded_peer_of_the_processs_own_login_or_the_console(
        found: list[LoginRecord], own: bool) -> None:
    here = identify(facts(*found, own=frozenset({"192.0.2.10"}) if own else frozenset()))
    chosen = cliterminal.login_record(facts(*found))
    if here.address == CONSOLE:
        assert chosen is not None and chosen.address is None and chosen.line in ("tty1", "console")
    elif here.address != UNKNOWN:
        assert chosen is not None and chosen.address == here.address and chosen.pid in {p.pid for p in LINEAGE}
        assert here.address not in ("127.0.0.1", "::1") and not (own and here.address == "192.0.2.10")


# --------------------------------------------------------------------------------------------- osfacts

def test_utmp_records_round_trip_in_glibcs_layout() -> None:
    data = (osfacts.make_record("pts/3", 4242, NOW + 0.25, "10.1.2.31")
            + osfacts.make_record("tty1", 17, NOW, None) + osfacts.make_record("pts/9", 99, NOW, "2001:db8::5"))
    assert osfacts.RECORD.size == 384 and len(data) == 3 * 384
    assert list(osfacts.parse(data)) == [LoginRecord("pts/3", 4242, "10.1.2.31", NOW + 0.25),
                                         LoginRecord("tty1", 17, None, NOW),
                                         LoginRecord("pts/9", 99, "2001:db8::5", NOW)]


def test_dead_and_other_records_are_skipped() -> None:
    dead = bytearray(osfacts.make_record("pts/3", 4242, NOW, "10.1.2.31"))
    dead[0:2] = (8).to_bytes(2, "little")  # DEAD_PROCESS: the session ended
    assert list(osfacts.parse(bytes(dead) + b"\0" * 100)) == []


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler to read <utmp.h>")
def test_the_record_layout_is_the_systems_struct_utmp(tmp_path: Path) -> None:
    source = tmp_path / "u.c"
    source.write_text('#include <utmp.h>\n#include <stdio.h>\n#include <stddef.h>\nint main(void){printf("%zu %zu %zu '
                      '%zu %zu\\n", sizeof(struct utmp), offsetof(struct utmp, ut_pid), offsetof(struct utmp, ut_line), '
                      'offsetof(struct utmp, ut_tv), offsetof(struct utmp, ut_addr_v6));return 0;}\n')
    subprocess.run(["cc", str(source), "-o", str(tmp_path / "u")], check=True, capture_output=True)
    out = subprocess.run([str(tmp_path / "u")], check=True, capture_output=True, text=True).stdout.split()
    assert [int(n) for n in out] == [384, 4, 8, 340, 348]


def _stat(uid: int, gid: int, mode: int) -> os.stat_result:
    return os.stat_result((mode, 0, 0, 1, uid, gid, 384, 0, 0, 0))


def test_only_root_written_login_records_are_believed() -> None:
    assert osfacts.trusted(_stat(0, 0, 0o100644))
    assert osfacts.trusted(_stat(0, 43, 0o100664)) or 43 in {os.getegid(), *os.getgroups()}  # root:utmp
    assert not osfacts.trusted(_stat(1000, 1000, 0o100600))  # a user's own file
    assert not osfacts.trusted(_stat(0, 0, 0o100666))  # anyone may write it


def test_a_group_writable_file_of_the_users_own_group_is_not_believed_unless_root_reads_it() -> None:
    mine = _stat(0, os.getegid(), 0o100664)
    assert osfacts.trusted(mine) is (os.geteuid() == 0)


def test_the_facts_come_from_the_kernel_not_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    utmp = tmp_path / "utmp"
    utmp.write_bytes(osfacts.make_record("pts/4", os.getppid(), time.time(), "10.1.2.31"))
    if os.geteuid() != 0:
        pytest.skip("only root can write login records the CLI believes")
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    monkeypatch.delenv("SSH_CLIENT", raising=False)
    bare = identify(osfacts.current(utmp))
    monkeypatch.setenv("SSH_CONNECTION", "127.0.0.1 5000 127.0.0.1 22")
    monkeypatch.setenv("SSH_CLIENT", "10.9.9.9 5000 22")
    assert identify(osfacts.current(utmp)) == bare
    assert (bare.address, bare.why, bare.binding.uid) == ("10.1.2.31", cliterminal.REMOTE_LOGIN, os.getuid())


def test_the_lineage_is_this_process_and_its_ancestors() -> None:
    chain = osfacts.lineage()
    assert [p.pid for p in chain[:2]] == [os.getpid(), os.getppid()]
    assert chain[-1].pid == 1 or len(chain) >= 2
    assert all(p.started <= time.time() + 1 for p in chain)
    assert chain[0].started >= chain[1].started - 1  # a child starts after its parent


def test_addresses_of_this_machine_are_told_apart() -> None:
    assert osfacts.own_addresses(["127.0.0.1", "192.0.2.10", "bogus"]) == frozenset({"127.0.0.1"})
