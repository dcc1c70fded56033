"""The whole verification `jutaku audit verify` and the 監査 screen run: the chain against its signed anchors.

:func:`verify_trail` always reads the anchor file (:mod:`jutaku.audit.anchors`), checks every line's
signature, order and link, and hands what the anchors fix to :func:`jutaku.audit.verify.verify`, so that
a trail shorter than, or different from, any anchor is BROKEN — however consistent the database is with
itself. An auditor's earlier copy of the file can be given too: this machine's file must still begin with
it, and the chain must hold what it says. An empty trail is BROKEN in a home that holds data (every row of
those tables was written with its audit record). ADR 0014.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.apps import apps
from django.db import DatabaseError

from jutaku.audit import anchorfile, anchors
from jutaku.audit.anchorfile import Anchor, AnchorFileError, AnchorLog
from jutaku.audit.verify import Checkpoint, Expected, VerifyResult, verify
from jutaku.domain.jst import format_time

#: Tables whose rows are each written together with an audit record: one row means the trail cannot be empty.
HAS_DATA: Final = ("accounts.User", "accounts.Terminal", "registry.Person", "jobs.Job")


def verify_trail(*, from_seq: int = 1, checkpoint: Checkpoint | None = None,
                 earlier: Path | None = None, until: int | None = None) -> VerifyResult:
    """Verify the chain against the anchors (and ``checkpoint``, and the auditor's copy ``earlier``).

    ``until``: only the anchors up to this seq apply — a backup about to be restored ends there, and the
    ``restore`` line a restore writes supersedes the anchors above it (ADR 0014, ADR 0019).
    """
    try:
        local, copies = _anchor_logs(earlier)
    except AnchorFileError as exc:
        return VerifyResult(False, 0, None, f"アンカーファイルを検証できません (anchor file BROKEN): {exc}")
    known = {seq: a for seq, a in anchorfile.merged_expectations([local, *copies]).items()
             if until is None or seq <= until}
    result = verify(from_seq=from_seq, checkpoint=checkpoint, anchored=_expected(known))
    newest = local.newest
    result = replace(result, anchor_seq=newest.seq if newest else None, anchor_time=newest.time if newest else "",
                     anchor_lines=len(local.lines), restores=len(local.restores))
    if result.ok and result.last_seq == 0 and from_seq == 1 and _home_has_data():
        return replace(result, ok=False, first_bad_seq=1,
                       reason="監査証跡が空ですが、このホームにはデータがあります (the trail is empty, but the home "
                              "holds users, terminals, persons or jobs: the records were removed)")
    return result


def _anchor_logs(earlier: Path | None) -> tuple[AnchorLog, list[AnchorLog]]:
    where = anchors.location()
    try:
        key = anchors.public_key(where)
        text = where.anchor_file.read_text(encoding="ascii") if where.anchor_file.exists() else ""
    except (OSError, ValueError, anchors.AnchorRefused) as exc:
        raise AnchorFileError(0, f"鍵またはファイルを読めません (cannot read the key or the file: {exc})") from None
    if key is None:
        if text or earlier is not None:
            raise AnchorFileError(0, "署名鍵も公開鍵もありません (neither the signing key nor the public key exists)")
        return AnchorLog((), {}), []
    _check_exported(where, key)
    if not text:
        raise AnchorFileError(0, f"アンカーファイル {where.anchor_file} がないか空です (missing or empty, although "
                                 "the signing key exists)")
    local = anchorfile.read(text, key)
    _check_counts(local)
    if earlier is None:
        return local, []
    try:
        copy = anchorfile.read(earlier.read_text(encoding="ascii"), key)
    except (OSError, UnicodeDecodeError) as exc:
        raise AnchorFileError(0, f"控え {earlier} を読めません (cannot read the copy: {exc})") from None
    except AnchorFileError as exc:
        raise AnchorFileError(exc.line, f"控え (the copy): {exc.reason}") from None
    try:
        anchorfile.check_extends(local.lines, copy.lines)
    except AnchorFileError as exc:
        raise AnchorFileError(exc.line, f"このマシンのファイルが控えと一致しません (this machine's file does not "
                                        f"begin with the copy: {exc.reason})") from None
    return local, [copy]


def _check_counts(log: AnchorLog) -> None:
    """Every record since seq 1 is kept (no archive yet, LOG-05), so an anchor counts as many records as its seq."""
    for anchor in log.lines:
        if anchor.count != anchor.seq:
            raise AnchorFileError(anchor.n, f"count {anchor.count} is not seq {anchor.seq} (records missing)")


def _check_exported(where: anchors.Location, key: Ed25519PublicKey) -> None:
    """The exported public key (what auditors verify copies with) must be the signing key's."""
    if not where.public_key_file.exists():
        return
    exported = anchorfile.load_public_pem(where.public_key_file.read_bytes())
    if anchorfile.key_id(exported) != anchorfile.key_id(key):
        raise AnchorFileError(0, f"{where.public_key_file} は署名鍵の公開鍵ではありません (the exported public key "
                                 "is not the signing key's)")


def jst(utc: str) -> str:
    """An anchor's UTC time (``2026-12-05T07:15:00Z``) as staff read it: ``2026-12-05 16:15:00 JST``."""
    return format_time(datetime.strptime(utc, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC))


def _expected(known: Mapping[int, Anchor]) -> dict[int, Expected]:
    return {seq: Expected(seq, a.hash,
                          f"記録が署名付きアンカー (行 {a.n}, {jst(a.time)}) と異なります (hash differs from the "
                          "signed anchor: chain rewritten)",
                          f"監査証跡が署名付きアンカー (行 {a.n}, {jst(a.time)}, seq {a.seq}) より短くなっています "
                          "(the trail is shorter than the signed anchor: records removed)")
            for seq, a in known.items()}


def _home_has_data() -> bool:
    try:
        return any(apps.get_model(label).objects.exists() for label in HAS_DATA)
    except (LookupError, DatabaseError):
        return False
