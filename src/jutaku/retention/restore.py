"""`jutaku restore`: a backup replaces the database only once it is known to be this home's and to open,
verify and decrypt; the current database is kept aside until the switch is confirmed, and put back on any
failure (issue 14 item 2, ADR 0019; runbook retention.md).

1. **Before anything** (:func:`_refusal_of_file`): the file is copied into ``<home>/restore/`` (SQLite) and
   hashed; its manifest (beside it, else the catalogue's line for that hash: a file this home's `jutaku
   backup` never wrote is refused) must give the same size and SHA-256, this home's id, this vendor,
   no migration this version lacks, and key ids this key ring holds (:mod:`jutaku.domain.restore`).
2. **On a copy** (:func:`_prepare`): the backup is loaded beside the database (:mod:`.dbswap`) and the
   process's connection pointed at it, with anchoring paused. What it holds is checked again, as facts:
   its migrations (newer: refused; older: migrated forward), its audit chain against the signed anchors up
   to its head, a sample of its data keys and numbers against the key ring and the blind index. Then every
   deletion made since is re-applied to it (deletion ledger ∪ current 削除記録) and the restore recorded.
3. **Switch** (:func:`_switch`): the current database goes aside, the copy takes its place; the head is
   confirmed and the signed ``restore`` anchor written at the backup's head. Any failure puts the current
   database back and says so; only then is the aside copy dropped.

A refusal is recorded on the current trail (``restore:run``, outcome ``refused`` or ``rolled_back``, with
its code). Messages say exactly what happened to the database.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from jutaku.accounts.actor import Actor
from jutaku.audit import anchors
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import record
from jutaku.audit.trail import verify_trail
from jutaku.domain.restore import Manifest, RestoreRefused, file_refusal, manifest_refusal, unknown_migrations
from jutaku.incidents import log_incident
from jutaku.retention import dbswap
from jutaku.retention import manifest as manifests
from jutaku.retention.backup import Tombstone, all_tombstones, reapply, sha256_of
from jutaku.retention.keycheck import check_keys

log = logging.getLogger(__name__)
SUFFIX: Final = {"sqlite": ".sqlite3", "postgresql": ".pgdump"}


class RestoreFailed(Exception):
    """The restore did not happen. ``rolled_back``: the copy had replaced the database and the current one
    was put back; ``stranded``: putting it back failed, and it is kept there (a path or database name)."""

    def __init__(self, refusal: RestoreRefused, *, rolled_back: bool = False, stranded: str = "") -> None:
        self.refusal = refusal
        self.code = refusal.code
        self.rolled_back = rolled_back
        self.stranded = stranded
        super().__init__(self.message)

    @property
    def message(self) -> str:
        if self.stranded:
            what = (f"リストアに失敗し、元のデータベースに戻せませんでした。元のデータベースは {self.stranded} に"
                    "残っています（docs/runbooks/retention.md「リストアの失敗」の手順で戻してください）。")
        elif self.rolled_back:
            what = "リストアを取り消し、元のデータベースに戻しました（データベースはリストア前の状態です）。"
        else:
            what = "リストアしませんでした。現在のデータベースは変更していません。"
        return f"{what}\n理由: {self.refusal.text}"


@dataclass(frozen=True)
class RestoreResult:
    path: Path
    reapplied: int
    tombstones: int
    audit_seq: int = 0  # the backup's audit head: the signed restore anchor fixes it
    migrated: int = 0  # migrations applied forward to an older backup
    manifest: Manifest | None = None
    aside_left: str = ""  # the replaced database, when it could not be dropped


@dataclass(frozen=True)
class _Head:
    seq: int
    hash: str


@dataclass(frozen=True)
class _Prepared:
    candidate: dbswap.Candidate
    manifest: Manifest
    sha256: str
    restored: _Head  # the backup's head, verified against the anchors
    final: _Head  # after the re-applied deletions and the restore's own record
    migrated: int
    reapplied: int
    tombstones: int


def vendor() -> str:
    return "sqlite" if connection.vendor == "sqlite" else "postgresql"


def restore(backup_file: Path, *, actor: Actor) -> RestoreResult:
    """Replace the database with ``backup_file`` (see the module docstring); :class:`RestoreFailed` else."""
    staged = dbswap.workspace() / f"candidate-{dbswap.stamp()}{SUFFIX[vendor()]}"
    digest = ""
    try:
        try:
            digest, source, described = _refusal_of_file(backup_file, staged)
            prepared = _prepare(source, described, digest, actor=actor, name=backup_file.name)
        except RestoreRefused as exc:
            _record_failure(actor, backup_file, digest, "refused", exc.code)
            raise RestoreFailed(exc) from None
        aside_left = _switch(prepared, actor, backup_file)
    finally:
        if vendor() == "sqlite":
            dbswap.SqliteCandidate(staged).discard()
    return RestoreResult(backup_file, prepared.reapplied, prepared.tombstones, prepared.restored.seq,
                         prepared.migrated, prepared.manifest, aside_left)


def _refusal_of_file(backup_file: Path, staged: Path) -> tuple[str, Path, Manifest]:
    """Step 1: the file against its manifest and this home; nothing of the database is touched."""
    if not backup_file.is_file():
        raise RestoreRefused("R01", f"{backup_file.name} はファイルではありません")
    _refuse_while_busy()
    source = backup_file
    if vendor() == "sqlite":  # what is hashed is what is restored: the copy in the workspace
        shutil.copyfile(backup_file, staged)
        staged.chmod(0o600)
        source = staged
    digest, size = sha256_of(source), source.stat().st_size
    described = manifests.find(backup_file, digest)
    refusal = file_refusal(described, sha256=digest, size=size) or manifest_refusal(
        described, home_id=manifests.home_id(), vendor=vendor(), held=manifests.held_keys(),
        known=manifests.known_migrations())
    if refusal is not None:
        raise refusal
    return digest, source, described


def _refuse_while_busy() -> None:
    """A job whose process is alive would write into a database about to be replaced."""
    from jutaku.jobs.locks import held
    from jutaku.jobs.models import Job, JobState

    for job in Job.objects.filter(state=JobState.RUNNING).order_by("id"):
        if held(job.kind):
            raise RestoreRefused("R12", f"ジョブ #{job.pk}（{job.kind}）が実行中です")


def _prepare(source: Path, described: Manifest, digest: str, *, actor: Actor, name: str) -> _Prepared:
    """Step 2: load the copy beside the database, check what it holds, re-apply the deletions to it."""
    tombstones = all_tombstones()
    candidate = dbswap.candidate(source)
    candidate.load()
    try:
        with anchors.paused(), candidate.connected():
            restored, migrated = _check_copy()
            reapplied = reapply(tombstones, actor=actor)
            with transaction.atomic():
                record(AuditEvent.RESTORE_RUN, actor=actor, objects=[f"sha256:{digest}"],
                       detail={"file": name[:100], "tombstones": len(tombstones), "reapplied": reapplied,
                               "audit_seq": restored.seq, "migrated": migrated})
            final = _head()
    except BaseException as exc:
        candidate.discard()
        if isinstance(exc, RestoreRefused) or not isinstance(exc, Exception):
            raise
        raise RestoreRefused("R14", f"受付番号 {log_incident(exc)}") from None
    return _Prepared(candidate, described, digest, restored, final, migrated, reapplied, len(tombstones))


def _check_copy() -> tuple[_Head, int]:
    """What the copy holds: a Jutaku database of a schema this version knows (older ones are migrated
    forward), an audit chain that verifies against the signed anchors up to its head, keys that open it."""
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA quick_check")
                if cursor.fetchone()[0] != "ok":
                    raise RestoreRefused("R08", "quick_check で破損が見つかりました")
            applied, versions, seq = manifests.facts(cursor)
    except DatabaseError:
        raise RestoreRefused("R08", "Jutaku のデータベースではありません") from None
    known = manifests.known_migrations()
    if newer := unknown_migrations(applied, known):
        raise RestoreRefused("R06", ", ".join(newer[:5]))
    missing = sum(len(names - set(applied.get(app, ()))) for app, names in known.items())
    if missing:
        try:
            call_command("migrate", interactive=False, verbosity=0)
        except Exception as exc:
            raise RestoreRefused("R10", f"受付番号 {log_incident(exc)}") from None
    verdict = verify_trail(until=seq)
    if not verdict.ok:
        raise RestoreRefused("R09", f"seq {verdict.first_bad_seq}: {verdict.reason}"[:300])
    check_keys(versions)
    return _head(seq), missing


def _head(seq: int | None = None) -> _Head:
    """The audit head (or record ``seq``) of the database the default connection is on."""
    with connection.cursor() as cursor:
        if seq is None:
            cursor.execute("SELECT seq, hash FROM audit_head WHERE id = 1")
        else:
            cursor.execute("SELECT seq, hash FROM audit_record WHERE seq = %s", [seq])
        row = cursor.fetchone()
    return _Head(0, "0" * 64) if row is None else _Head(int(row[0]), str(row[1]))


def _switch(prepared: _Prepared, actor: Actor, backup_file: Path) -> str:
    """Step 3; returns the aside database left behind when it could not be dropped (else "")."""
    candidate = prepared.candidate
    try:
        candidate.switch()
    except RestoreRefused as exc:
        candidate.discard()
        _record_failure(actor, backup_file, prepared.sha256, "refused", exc.code)
        raise RestoreFailed(exc) from None
    try:
        _confirm_switched(prepared.final)
        anchors.restored(prepared.restored.seq, prepared.restored.hash)
    except Exception as exc:
        refusal = exc if isinstance(exc, RestoreRefused) else RestoreRefused("R11", f"受付番号 {log_incident(exc)}")
        _switch_back(candidate, refusal)
        _record_failure(actor, backup_file, prepared.sha256, "rolled_back", refusal.code)
        raise RestoreFailed(refusal, rolled_back=True) from None
    try:
        candidate.drop_aside()
    except Exception as exc:
        log.warning("restore: the replaced database could not be dropped: incident %s", log_incident(exc))
        return candidate.aside
    return ""


def _switch_back(candidate: dbswap.Candidate, refusal: RestoreRefused) -> None:
    try:
        candidate.switch_back()
    except Exception as exc:
        log.error("restore: switching back failed: incident %s", log_incident(exc))
        raise RestoreFailed(refusal, stranded=candidate.aside) from None
    try:  # the current database is back: the copy and the aside copy of it are only left over
        candidate.discard()
        candidate.drop_aside()
    except Exception as exc:
        log.warning("restore: the restored copy could not be removed: incident %s", log_incident(exc))


def _confirm_switched(expected: _Head) -> None:
    """The database now in place is the checked copy: the same audit head (seq and hash)."""
    found = _head()
    if found != expected:
        raise RestoreRefused("R11", f"監査証跡の先頭が seq {found.seq}（期待 seq {expected.seq}）")


def _record_failure(actor: Actor, backup_file: Path, digest: str, outcome: str, code: str) -> None:
    """On the current trail (which is the database in place again); a broken database only logs it."""
    try:
        with transaction.atomic():
            record(AuditEvent.RESTORE_RUN, actor=actor, objects=[f"sha256:{digest}"] if digest else [],
                   outcome=outcome, detail={"file": backup_file.name[:100], "code": code})
    except DatabaseError as exc:
        log.warning("restore: the refusal could not be recorded: incident %s", log_incident(exc))


__all__ = ["RestoreFailed", "RestoreResult", "Tombstone", "restore"]
