"""`jutaku audit` commands: verify the chain against its signed anchors, search it, anchor it now.

Each command audits itself (AUDIT_VERIFY, AUDIT_SEARCH, AUDIT_CHECKPOINT). Output is Japanese with
English in parentheses, as the rest of the command line.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from jutaku.accounts.permissions import Permission
from jutaku.audit.events import AuditEvent
from jutaku.clikit import Refused, current_actor, echo_table, requires

if TYPE_CHECKING:
    from jutaku.audit.verify import VerifyResult

EXIT_BROKEN = 1


@click.group(name="audit")
def audit() -> None:
    """The tamper-evident audit trail."""


@audit.command(name="verify")
@click.option("--from-seq", default=1, show_default=True, type=click.IntRange(min=1),
              help="Start here, trusting the stored hash of the record before.")
@click.option("--checkpoint", "checkpoint_path", type=click.Path(dir_okay=False, path_type=Path),
              help="A jutaku-audit/v1 checkpoint file (before signed anchors); the chain must still contain it.")
@click.option("--anchors", "anchors_copy", type=click.Path(dir_okay=False, path_type=Path),
              help="An auditor's earlier copy of the anchor file: this machine's file must begin with it.")
@requires(Permission.AUDIT_VERIFY)
def verify_command(from_seq: int, checkpoint_path: Path | None, anchors_copy: Path | None) -> None:
    """Recompute the hash chain against the signed anchors; exit 0 when intact, 1 when broken."""
    from jutaku.audit import checkpoint as cp
    from jutaku.audit.reports import verify_recorded

    checkpoint = None
    if checkpoint_path is not None:
        try:
            checkpoint = cp.read(checkpoint_path)
        except (OSError, ValueError) as exc:
            raise Refused(f"checkpoint {checkpoint_path}: {exc}") from exc
    verification = verify_recorded(actor=current_actor(), from_seq=from_seq, checkpoint=checkpoint,
                                   earlier_anchors=anchors_copy)
    result = verification.result
    if not verification.recorded:
        click.echo("警告: 検証の記録に失敗しました (warning: could not record the verification)", err=True)
    if result.ok:
        click.echo(f"監査証跡は完全です (audit trail intact): {result.checked:,} 件検証 (records checked), "
                   f"最終 seq {result.last_seq} hash {result.last_hash[:16]}…")
        click.echo(_anchor_line(result))
        return
    where = f"seq {result.first_bad_seq}: " if result.first_bad_seq is not None else ""
    click.echo(f"監査証跡の不整合を検出しました (audit trail BROKEN): {where}{result.reason} "
               f"({result.checked:,} 件は正常 / records verified before it)")
    raise SystemExit(EXIT_BROKEN)


def _anchor_line(result: VerifyResult) -> str:
    from jutaku.audit.trail import jst

    if result.anchor_seq is None:
        return "署名付きアンカーはまだありません (no signed anchor yet: one is written after the next command)"
    restores = f", リストア {result.restores} 回 (restores)" if result.restores else ""
    return (f"署名付きアンカー {result.anchor_lines:,} 行と照合 (checked against the signed anchors); 最新 seq "
            f"{result.anchor_seq} ({jst(result.anchor_time)}){restores}")


@audit.command(name="list")
@click.option("--event", type=click.Choice([e.value for e in AuditEvent]), default=None,
              help="The event's code (number:store 個人番号の登録, …; the list: jutaku audit events).")
@click.option("--object", "object_id", default=None, help="An object id (person id, job id, file hash).")
@click.option("--user", "username", default=None)
@click.option("--since", default=None, help="YYYYMMDD (JST), inclusive.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@requires(Permission.AUDIT_SEARCH)
def list_command(event: str | None, object_id: str | None, username: str | None, since: str | None,
                 limit: int) -> None:
    """Search the trail, newest first. The search itself is audited."""
    from jutaku.audit.labels import detail_items, event_label, outcome_label
    from jutaku.audit.queries import Criteria
    from jutaku.audit.reports import search_recorded
    from jutaku.audit.service import InvalidAuditContent
    from jutaku.domain.jst import format_time

    criteria = Criteria(event=AuditEvent(event) if event else None, object_id=object_id, username=username,
                        since=_parse_day(since), limit=limit)
    try:
        rows = search_recorded(criteria, actor=current_actor())
    except InvalidAuditContent as exc:
        raise Refused(str(exc)) from exc
    table = []
    for row in rows:
        objects = row.object_ids if len(row.object_ids) <= 60 else row.object_ids[:57] + "..."
        details = "、".join(f"{label} {value}" for label, value in detail_items(row.detail))
        table.append([row.seq, format_time(row.at), row.username, row.terminal,
                      event_label(row.event), outcome_label(row.event, row.outcome), row.job_id or "", objects,
                      details])
    echo_table(["連番", "日時", "利用者", "端末", "操作", "結果", "ジョブ", "対象", "詳細"], table, right={0, 6})
    click.echo(f"{len(rows)} 件")


@audit.command(name="events")
@requires(Permission.AUDIT_SEARCH)
def events_command() -> None:
    """The operations the trail records, by area: the code `jutaku audit list --event` takes, and its name."""
    from jutaku.audit.labels import event_areas

    echo_table(["分類", "操作", "コード"], [[area, label, code] for area, events in event_areas()
                                        for code, label in events])


@audit.command(name="checkpoint")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also copy the anchor file here, to take off this system (see the runbook).")
@requires(Permission.AUDIT_VERIFY)
def checkpoint_command(out_path: Path | None) -> None:
    """Verify the trail, then append a signed anchor of its head now (and copy the anchor file with --out)."""
    import shutil

    from django.db import transaction

    from jutaku.audit import anchors
    from jutaku.audit.service import record
    from jutaku.audit.trail import verify_trail

    result = verify_trail()
    if not result.ok:
        click.echo(f"監査証跡が不整合のためアンカーを作成しません (chain broken, no anchor): "
                   f"seq {result.first_bad_seq}: {result.reason}")
        raise SystemExit(EXIT_BROKEN)
    with transaction.atomic():
        record(AuditEvent.AUDIT_CHECKPOINT, actor=current_actor(),
               detail={"seq": result.last_seq, "hash": result.last_hash,
                       "file": out_path.name if out_path else anchors.ANCHOR_FILE})
    try:
        anchor = anchors.anchor_now("manual")
    except anchors.AnchorRefused as exc:
        raise Refused(str(exc)) from exc
    where = anchors.location()
    if out_path is not None:
        shutil.copyfile(where.anchor_file, out_path)
        os.chmod(out_path, 0o600)
    seq = anchor.seq if anchor else result.last_seq
    click.echo(f"署名付きアンカーを書き込みました (signed anchor written): {where.anchor_file} seq {seq}"
               + (f"; 控え (copy) {out_path}" if out_path else ""))
    click.echo(f"公開鍵 (public key, to verify copies elsewhere): {where.public_key_file}")


def _parse_day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y%m%d").date()  # noqa: DTZ007 - a calendar day, no time
    except ValueError as exc:
        raise click.BadParameter("YYYYMMDD expected", param_hint="--since") from exc
