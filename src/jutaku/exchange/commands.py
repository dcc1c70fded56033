"""`jutaku media list|handover|erased` (the media ledger) and `jutaku outputs list|purge` (retention)."""

from __future__ import annotations

from datetime import datetime

import click

from jutaku.accounts.permissions import Permission
from jutaku.clikit import Refused, current_actor, echo_table, requires


def _jst(at: datetime | None) -> str:
    from jutaku.domain.jst import format_time

    return format_time(at, none="-")


@click.group(name="media")
def media() -> None:
    """外部記録媒体 管理台帳（使用記録・媒体と搬送者・媒体からの消去確認）."""


@media.command(name="list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 200))
@click.option("--unerased", is_flag=True, help="媒体からの消去が確認されていない記録だけを表示")
@requires(Permission.MEDIA_LEDGER_VIEW)
def list_entries(limit: int, unerased: bool) -> None:
    """List the most recent files read or written, with their medium, carrier and erasure (newest first)."""
    from jutaku.exchange.labels import interface_label, outcome_label
    from jutaku.exchange.ledger import awaiting_count, awaits, recent_entries

    rows = recent_entries(actor=current_actor(), limit=limit, unerased=unerased)
    table = []
    for e in rows:
        erased = f"済 {_jst(e.erased_at)} {e.erased_by}" if e.erased_at else ("未確認" if awaits(e) else "-")
        table.append([
            e.pk, _jst(e.at), e.username, e.get_direction_display(), interface_label(e.interface), e.file_name,
            e.record_count, "あり" if e.encrypted else "なし", outcome_label(e.outcome),
            e.media_id, e.carrier, erased, e.sha256[:16] + "..."])
    echo_table(["番号", "日時", "利用者", "方向", "様式", "ファイル", "件数", "暗号化", "結果", "媒体", "搬送者", "消去確認",
                "SHA-256"], table, right={0, 6})
    click.echo(f"媒体からの消去が未確認の記録: {awaiting_count()} 件")


@media.command(name="handover")
@click.argument("entries", nargs=-1, required=True, type=click.IntRange(1))
@click.option("--medium", required=True, help="媒体ID（媒体のラベル。英数字・ハイフン等 40 文字以内）")
@click.option("--carrier", required=True, help="搬送者（氏名・所属。番号は書かない）")
@requires(Permission.MEDIA_RECORD)
def handover(entries: tuple[int, ...], medium: str, carrier: str) -> None:
    """Record that the files of ledger ENTRIES were copied onto MEDIUM and carried by CARRIER."""
    from jutaku.exchange.ledger import MediaRecordRefused, record_handover

    try:
        done = record_handover(entries, medium=medium, carrier=carrier, actor=current_actor())
    except MediaRecordRefused as exc:
        raise Refused(str(exc)) from exc
    for e in done:
        click.echo(f"台帳 #{e.pk} {e.file_name}: 媒体 {e.media_id}、搬送者 {e.carrier} を記録しました。")
    click.echo(f"転送後に媒体から消去したら jutaku media erased {' '.join(str(e.pk) for e in done)} "
               f"--medium {medium} で記録してください。")


@media.command(name="erased")
@click.argument("entries", nargs=-1, required=True, type=click.IntRange(1))
@click.option("--medium", required=True, help="消去した媒体の媒体ID")
@requires(Permission.MEDIA_RECORD)
def erased(entries: tuple[int, ...], medium: str) -> None:
    """Confirm that the files of ledger ENTRIES were erased from MEDIUM after the transfer (論理削除)."""
    from jutaku.exchange.ledger import MediaRecordRefused, confirm_erasure

    try:
        done = confirm_erasure(entries, medium=medium, actor=current_actor())
    except MediaRecordRefused as exc:
        raise Refused(str(exc)) from exc
    for e in done:
        click.echo(f"台帳 #{e.pk} {e.file_name}: 媒体 {e.media_id} からの消去を記録しました。")


@click.group(name="outputs")
def outputs() -> None:
    """出力ファイル（作成したファイルの保存期間と削除）."""


@outputs.command(name="list")
@click.option("--all", "include_purged", is_flag=True, help="削除済みのファイルも表示")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000))
@requires(Permission.OUTPUTS_VIEW)
def list_outputs(include_purged: bool, limit: int) -> None:
    """The files the system wrote that are still kept (newest first), with their expiry."""
    from jutaku import config
    from jutaku.exchange.labels import interface_label
    from jutaku.exchange.outputs import live

    rows = live(actor=current_actor(), include_purged=include_purged, limit=limit)
    click.echo(f"保存期間: {config.get().output_retention_days} 日（JUTAKU_OUTPUT_RETENTION_DAYS）")
    echo_table(["番号", "作成日時", "作成者", "様式", "削除予定", "状態", "ファイル"], [
        [o.pk, _jst(o.created_at), o.username, interface_label(o.interface), _jst(o.expires_at),
         "保存中" if o.purged_at is None else f"{o.get_purge_outcome_display()} {_jst(o.purged_at)}", o.path]
        for o in rows], right={0})


@outputs.command(name="purge")
@click.option("--file", "file_id", type=click.IntRange(1), default=None,
              help="この番号の出力ファイルを保存期間前に削除（作成した本人のみ）")
@requires(Permission.OUTPUTS_PURGE)
def purge(file_id: int | None) -> None:
    """Remove the outputs whose retention has ended (already done before every command), or, with
    --file, one of one's own outputs now."""
    from jutaku.exchange.outputs import OutputRefused, purge_expired, purge_output

    actor = current_actor()
    if file_id is None:
        before = click.get_current_context().obj.get("housekeeping")
        already = before.removed.get("outputs", 0) if before is not None else 0
        result = purge_expired(actor=actor)
        click.echo(f"期限切れの出力ファイル: このコマンドの開始時に処理 {already} 件; 続けて削除 {result.removed} 件、"
                   f"既に無い {result.missing} 件、置き換わっていたため削除せず {result.changed} 件、"
                   f"削除できず {result.failed} 件")
        return
    try:
        outcome = purge_output(file_id, actor=actor)
    except OutputRefused as exc:
        raise Refused(str(exc)) from exc
    from jutaku.exchange.models import OutputFile

    click.echo(f"出力ファイル #{file_id}: {OutputFile.Outcome(outcome).label}")
