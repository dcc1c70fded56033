"""The signed anchor file (ADR 0014): its line format, and every way a file (or an auditor's copy) fails.

Pure: no database, no home. The key is derived from a fixed seed, so every run signs the same bytes.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from jutaku.audit import anchorfile
from jutaku.audit.anchorfile import Anchor, AnchorFileError

KEY = anchorfile.private_key(hashlib.sha256(b"jutaku test anchor key").digest())
OTHER = anchorfile.private_key(hashlib.sha256(b"someone else's key").digest())
T0 = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


def h(seq: int) -> str:
    return anchorfile.ZERO if seq == 0 else hashlib.sha256(f"record {seq}".encode()).hexdigest()


def lines(*steps: tuple[str, int], key: Ed25519PrivateKey = KEY) -> list[Anchor]:
    out: list[Anchor] = []
    for i, (kind, seq) in enumerate(steps):
        out.append(anchorfile.make_line(key, previous=out[-1] if out else None, kind=kind, seq=seq, count=seq,
                                        hash_=h(seq), now=T0 + timedelta(minutes=i)))
    return out


def text(anchors: list[Anchor]) -> str:
    return "".join(a.raw + "\n" for a in anchors)


FILE = text(lines(("init", 3), ("job", 120), ("command", 121), ("periodic", 500)))


def test_a_file_reads_back_with_what_the_chain_must_hold() -> None:
    log = anchorfile.read(FILE, KEY.public_key())
    assert [(a.n, a.kind, a.seq) for a in log.lines] == [(1, "init", 3), (2, "job", 120), (3, "command", 121),
                                                          (4, "periodic", 500)]
    assert sorted(log.expected) == [3, 120, 121, 500] and log.expected[500].hash == h(500)
    assert log.newest is not None and log.newest.time == "2026-12-01T00:03:00Z" and log.restores == ()
    first = log.lines[0].raw.split(" ")
    assert first[:5] == ["jutaku-anchor/v1", "1", "init", "3", "3"] and first[7] == anchorfile.ZERO
    assert first[8] == anchorfile.key_id(KEY.public_key()) and len(first) == 10


@given(st.data())
def test_any_changed_character_is_caught(data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(FILE) - 1), label="position")
    replacement = data.draw(st.sampled_from("0123456789abcdefABZz+/= \nx"), label="replacement")
    if FILE[position] == replacement:
        return
    changed = FILE[:position] + replacement + FILE[position + 1:]
    with pytest.raises(AnchorFileError):
        anchorfile.read(changed, KEY.public_key())


def test_a_removed_middle_line_is_caught_and_a_removed_last_line_needs_the_copy() -> None:
    rows = FILE.splitlines(keepends=True)
    with pytest.raises(AnchorFileError, match="line 2: numbered 3"):
        anchorfile.read("".join(rows[:1] + rows[2:]), KEY.public_key())
    cut = anchorfile.read("".join(rows[:3]), KEY.public_key())  # consistent on its own...
    copy = anchorfile.read(FILE, KEY.public_key())
    with pytest.raises(AnchorFileError, match="the copy has 4 lines, this file only 3"):
        anchorfile.check_extends(cut.lines, copy.lines)  # ...but not with the auditor's copy
    anchorfile.check_extends(copy.lines, cut.lines)  # a later file extends an earlier copy


def test_a_rewritten_file_is_caught_by_the_copy() -> None:
    copy = anchorfile.read(FILE, KEY.public_key()).lines
    rewritten = lines(("init", 3), ("job", 120), ("command", 121), ("periodic", 400), ("periodic", 500))
    with pytest.raises(AnchorFileError, match="line 4: differs from the copy"):
        anchorfile.check_extends(rewritten, copy)


def test_an_incomplete_last_line_and_another_key_are_caught() -> None:
    with pytest.raises(AnchorFileError, match="incomplete"):
        anchorfile.read(FILE[:-1], KEY.public_key())
    with pytest.raises(AnchorFileError, match="line 1: signed by another key"):
        anchorfile.read(text(lines(("init", 3), key=OTHER)), KEY.public_key())


def test_a_signature_of_another_line_does_not_verify() -> None:
    one, two = lines(("init", 3), ("job", 4))
    forged = two.raw.rpartition(" ")[0] + " " + one.raw.rpartition(" ")[2]
    with pytest.raises(AnchorFileError, match="line 2: the signature does not verify"):
        anchorfile.read(one.raw + "\n" + forged + "\n", KEY.public_key())


def test_a_line_that_goes_backwards_or_disagrees_is_broken_unless_it_records_a_restore() -> None:
    with pytest.raises(AnchorFileError, match="line 3: goes backwards"):
        anchorfile.read(text(lines(("init", 3), ("job", 120), ("job", 119))), KEY.public_key())
    two = lines(("init", 3), ("job", 120))
    two.append(anchorfile.make_line(KEY, previous=two[-1], kind="job", seq=120, count=120, hash_="f" * 64, now=T0))
    with pytest.raises(AnchorFileError, match="line 3: another hash for seq 120 than line 2"):
        anchorfile.read(text(two), KEY.public_key())
    restored = anchorfile.read(text(lines(("init", 3), ("job", 120), ("restore", 50), ("job", 60))),
                               KEY.public_key())
    assert sorted(restored.expected) == [3, 50, 60]  # the anchor at 120 is superseded by the restore
    assert [a.seq for a in restored.restores] == [50]


def test_lines_are_made_only_from_sound_values() -> None:
    with pytest.raises(ValueError, match="unknown anchor kind"):
        anchorfile.make_line(KEY, previous=None, kind="nightly", seq=1, count=1, hash_=h(1), now=T0)
    with pytest.raises(ValueError, match="out of range"):
        anchorfile.make_line(KEY, previous=None, kind="job", seq=1, count=2, hash_=h(1), now=T0)
    with pytest.raises(ValueError, match="aware"):
        anchorfile.make_line(KEY, previous=None, kind="job", seq=1, count=1, hash_=h(1), now=T0.replace(tzinfo=None))


def test_merged_expectations_take_the_latest_line_for_a_seq() -> None:
    local = anchorfile.read(FILE, KEY.public_key())
    copy = anchorfile.read(text(lines(("init", 3), ("job", 120))), KEY.public_key())
    merged = anchorfile.merged_expectations([copy, local])
    assert sorted(merged) == [3, 120, 121, 500] and merged[120].n == 2


def test_the_stand_alone_verifier(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "anchors.log").write_text(FILE)
    (tmp_path / "earlier.log").write_text("".join(FILE.splitlines(keepends=True)[:2]))
    (tmp_path / "pub.pem").write_bytes(anchorfile.public_pem(KEY.public_key()))
    (tmp_path / "other.pem").write_bytes(anchorfile.public_pem(OTHER.public_key()))
    args = [str(tmp_path / "anchors.log"), "--public-key", str(tmp_path / "pub.pem")]
    assert anchorfile.main([*args, "--earlier", str(tmp_path / "earlier.log")]) == 0
    assert "anchor file verifies" in capsys.readouterr().out
    assert anchorfile.main([str(tmp_path / "anchors.log"), "--public-key", str(tmp_path / "other.pem")]) == 1
    assert "anchor file BROKEN" in capsys.readouterr().out
    assert anchorfile.main([str(tmp_path / "earlier.log"), "--public-key", str(tmp_path / "pub.pem"),
                            "--earlier", str(tmp_path / "anchors.log")]) == 1


def test_the_anchor_and_key_folders_are_configurable_apart_from_the_home(tmp_path: Path) -> None:
    from jutaku import config

    default = config.load({"JUTAKU_HOME": str(tmp_path / "home")})
    assert default.audit_anchor_dir == tmp_path / "home" / "audit-anchors"
    assert default.audit_signing_dir == tmp_path / "home" / "audit-signing" != default.keys_dir
    assert default.audit_anchor_minutes == 5
    moved = config.load({"JUTAKU_HOME": str(tmp_path / "home"), "JUTAKU_AUDIT_ANCHOR_DIR": str(tmp_path / "worm"),
                         "JUTAKU_AUDIT_SIGNING_DIR": str(tmp_path / "sign"), "JUTAKU_AUDIT_ANCHOR_MINUTES": "15"})
    assert (moved.audit_anchor_dir, moved.audit_signing_dir, moved.audit_anchor_minutes) == (
        tmp_path / "worm", tmp_path / "sign", 15)
    for bad in ("0", "-1", "five", "1441"):
        with pytest.raises(config.ConfigurationError, match="JUTAKU_AUDIT_ANCHOR_MINUTES"):
            config.load({"JUTAKU_HOME": str(tmp_path), "JUTAKU_AUDIT_ANCHOR_MINUTES": bad})
