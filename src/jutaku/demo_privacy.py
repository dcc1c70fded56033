"""The demo's privacy steps (issue 12): the promises a resident is made, shown on synthetic data.

Each step drives the same services as the CLI and checks what it promises, so that `make demo` fails
loudly when a promise breaks:

- a 利用停止請求 handled before the cycle leaves the person out of every outbound file (``X07``);
- a 不開示 wish, whichever path set it (procedures extract, Mynaportal, a registrar by hand), puts
  不開示コード 2 on every inquiry about that person;
- a Juki-net death is not undone by the housing system's stale extract (``S01`` on the notice list);
- files on external media are encrypted and their hand-over and erasure are on the media ledger;
- a deletion leaves a shell and the 削除記録 says when the last backup holding the person expires.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import click

from jutaku.accounts.actor import Actor
from jutaku.domain.jst import format_day

INCOME_DECLARATION = "JT99000000530001"
DEMO_MEDIUM = "USB-DEMO-01"
DEMO_CARRIER = "デモ 搬送者（住宅政策本部）"


def _filers(year: int) -> list[str]:
    """Current filers of the income declaration with a registered number, in 個人ID order."""
    from jutaku.registry.models import Filing

    return sorted(set(Filing.objects.filter(
        procedure_code=INCOME_DECLARATION, fiscal_year=year, person__status="1", person__non_disclosure=False,
        person__my_number__isnull=False).values_list("person__person_id", flat=True)))


def suspend_and_wish(world: Path, registrar: Actor, state: dict[str, str]) -> str:
    """One filer's use is suspended (利用停止請求, handled); another asks for 不開示 at the counter."""
    from jutaku.registry.non_disclosure import set_non_disclosure
    from jutaku.subjects.service import handle, record_request

    year = int(json.loads((world / "world.json").read_text(encoding="utf-8"))["year"])
    filers = _filers(year)
    if len(filers) < 2:
        return "対象者が少ないため省略"
    state["suspended"], state["wished"] = filers[0], filers[-1]
    request = record_request(filers[0], "suspension", received_on=date(year, 11, 20), actor=registrar,
                             note="デモ: 窓口で受付")
    handle(request.pk, actor=registrar, note="デモ: 利用停止")
    set_non_disclosure(filers[-1], actor=registrar, reason="デモ: 窓口で不開示の申出（DV等支援措置）")
    return (f"利用停止請求 #{request.pk}（{filers[0]}）を対応済み → 以後の外部ファイルから除外（X07）; "
            f"{filers[-1]} に窓口で不開示を設定")


def wishes_hold(received: Path, state: dict[str, str]) -> str:
    """Every flagged person in the inquiry file went with 不開示コード 2, whichever path set the flag;
    the suspended person is not in it."""
    from jutaku.audit.models import AuditRecord
    from jutaku.registry.models import Person

    with received.open(encoding="utf-8", newline="") as fh:
        codes: dict[str, set[str]] = {}
        for row in csv.DictReader(fh):
            codes.setdefault(row["個人ID"], set()).add(row["不開示コード"])
    flagged = set(Person.objects.filter(non_disclosure=True).values_list("person_id", flat=True))
    wrong = [pid for pid in flagged if codes.get(pid, {"2"}) != {"2"}]
    if wrong or state.get("suspended") in codes:
        raise click.ClickException(f"a promise broke in the inquiry file: {len(wrong)} flagged persons without "
                                   "不開示コード 2, or a suspended person was asked about")
    sources: Counter[str] = Counter()
    seen: set[str] = set()
    for objects, detail in AuditRecord.objects.filter(event="non_disclosure:set").order_by("seq") \
            .values_list("object_ids", "detail"):
        for pid in objects.split(","):
            if pid in flagged and pid not in seen:
                seen.add(pid)
                sources[json.loads(detail or "{}").get("source", "")] += 1
    names = {"procedures": "手続抽出", "portal": "マイナポータル", "manual": "窓口"}
    by_source = "、".join(f"{names.get(k, k)} {v}" for k, v in sorted(sources.items()))
    asked = sum(1 for pid in flagged if pid in codes)
    return f"不開示 {len(flagged)} 人（{by_source}）: 照会された {asked} 人はすべて不開示コード2; 利用停止中の方は照会なし"


def stale_extract(world: Path, out: Path, registrar: Actor) -> str:
    """The housing system's next extract does not know yet of Juki-net's deaths (it lists them as current):
    the deaths stay, and the disagreement goes on the notice list (S01)."""
    from jutaku.formats.csvio import write_csv
    from jutaku.formats.layouts import TARGETS
    from jutaku.registry.models import Person
    from jutaku.registry.targets import import_targets, write_notice_list

    with (world / "targets.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    write_csv(out / "targets-next.csv", TARGETS, reversed(rows))  # a new file: the same persons, its own order
    result = import_targets(out / "targets-next.csv", actor=registrar, progress=False)
    stale = result.job.counts.get("S01", 0)
    notices = write_notice_list(result.job.job_id, out / f"notices-targets-{result.job.job_id}.csv", actor=registrar)
    dead = Person.objects.filter(status="4", status_source="juki").count()
    return (f"古い対象者抽出を再取込: 住基ネットの死亡 {dead} 人は死亡のまま、相違 S01 {stale} 人 → "
            f"{notices[0].name if notices else '届出勧奨リストなし'}")


def media_carriage(actor: Actor) -> str:
    """The files written for the other agencies are handed over on a medium; the inquiry file's erasure
    from it is confirmed, the business export's not yet — the ledger shows it as awaiting erasure."""
    from jutaku.exchange.ledger import awaiting_count, confirm_erasure, record_handover
    from jutaku.exchange.models import MediaLedgerEntry

    written = MediaLedgerEntry.objects.filter(direction="write")
    encrypted = written.filter(encrypted=True).count()
    inquiry = list(written.filter(interface="inquiry-request").values_list("pk", flat=True))
    export = list(written.filter(interface="business-export").values_list("pk", flat=True))
    record_handover(inquiry + export, medium=DEMO_MEDIUM, carrier=DEMO_CARRIER, actor=actor)
    confirm_erasure(inquiry, medium=DEMO_MEDIUM, actor=actor)
    return (f"暗号化して書き出したファイル {encrypted} 件; 媒体 {DEMO_MEDIUM} で引渡し {len(inquiry) + len(export)} 件、"
            f"消去確認 {len(inquiry)} 件; 未消去 {awaiting_count()} 件（jutaku media list --unerased）")


def backup_before_deletion(operations: Actor) -> str:
    from jutaku.retention.backup import backup

    result = backup(actor=operations)
    return f"{result.path.name}（保管期限 {format_day(result.expires_on)}）"


def what_deletion_left(operations: Actor) -> str:
    """The deleted are shells; the 削除記録 says until when a backup still holds them; nothing expired yet."""
    from jutaku.registry.models import Person
    from jutaku.retention.catalogue import prune_backups
    from jutaku.retention.models import DeletionRecord

    shells = Person.objects.filter(deleted_at__isnull=False)
    if shells.exclude(name="").exists() or shells.filter(birth_date__isnull=False).exists():
        raise click.ClickException("a deleted person's register entry still holds personal data")
    expiry = DeletionRecord.objects.order_by("-backup_expires_on").values_list("backup_expires_on", flat=True).first()
    pruned = prune_backups(now=datetime.now(UTC), actor=operations, record_idle=True)
    return (f"削除済み {shells.count()} 人は個人ID・区分・住宅区分・状態のみ; 最後のバックアップの保管期限 "
            f"{format_day(expiry, none='なし')}; 期限切れバックアップ {len(pruned.removed)} 件削除、保管中 {pruned.kept} 件")
