"""`jutaku demo`: a fresh embedded home, a synthetic world, and every function that exists so far.

Demo mode only (``JUTAKU_MODE=demo``, set by ``make demo``): production refuses it. It uses the
embedded SQLite database of the home (``./var/demo``) and starts from scratch each time.
"""

from __future__ import annotations

import io
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from jutaku import config
from jutaku import demo_privacy as privacy
from jutaku.accounts.actor import Actor
from jutaku.clikit import Refused


@dataclass
class DemoReport:
    steps: list[tuple[str, str, float]] = field(default_factory=list)

    def step(self, name: str, fn: Callable[[], str]) -> None:
        click.echo(f"▶ {name}", err=True)
        start = time.perf_counter()
        summary = fn()
        self.steps.append((name, summary, time.perf_counter() - start))


def _fresh_home(cfg: config.Config) -> None:
    if cfg.is_production:
        raise Refused("the demo runs only in demo mode (JUTAKU_MODE=demo); production refuses demo data")
    if cfg.database_url and not cfg.database_url.startswith("sqlite"):
        raise Refused("the demo uses the embedded SQLite database: unset JUTAKU_DATABASE_URL")
    if cfg.home.exists():
        marker = cfg.home / "jutaku.json"
        if any(cfg.home.iterdir()) and not (marker.exists() and '"mode": "demo"' in marker.read_text("utf-8")):
            raise Refused(f"{cfg.home} is not a demo home; the demo only replaces its own home")
        shutil.rmtree(cfg.home)


def run_demo(*, persons: int, seed: int) -> None:
    from jutaku.system_commands import initialise_home

    cfg = config.get()
    _fresh_home(cfg)
    report = DemoReport()
    world = cfg.home / "world"
    actors: dict[str, Actor] = {}

    def init() -> str:
        from jutaku.accounts.bootstrap import register_console
        from jutaku.accounts.demo import create_demo_users

        initialise_home(cfg.home, mode=cfg.mode)
        register_console(actor=Actor("os:demo", "127.0.0.1"))
        actors.update(create_demo_users(cfg))
        return f"home {cfg.home}, keys 0600, schema migrated, {len(actors)} demo users → credentials.txt"

    report.step("初期化 (jutaku init)", init)
    actor, auditor = actors["registrar"], actors["auditor"]
    report.step("模擬データ生成 (sim world)", lambda: _world(world, persons, seed))
    report.step("対象者取込 (import targets)", lambda: _targets(world, actor))
    report.step("手続取込 (import procedures)", lambda: _procedures(world, actor))
    report.step("個人番号一括登録 キット (register kit)", lambda: _register(world, "kit", actor))
    report.step("個人番号一括登録 ポータル (register portal)", lambda: _register(world, "portal", actor))
    report.step("模擬データの正解との照合 (answer key)", lambda: _answer_key(world))
    state: dict[str, str] = {}
    report.step("利用停止請求・窓口での不開示の申出 (requests record/handle, persons non-disclosure set)",
                lambda: privacy.suspend_and_wish(world, actor, state))
    inquirer, operations = actors["inquirer"], actors["operations"]
    report.step("団体内統合利用番号の取得 (linkage request → 連携サーバ → import)",
                lambda: _linkage(world, cfg.output_dir, inquirer))
    report.step("収入の申告 情報照会 (inquiry create → 連携サーバ → import)",
                lambda: _income_inquiry(world, cfg.output_dir, inquirer))
    report.step("不開示・利用停止の確認（照会ファイル）", lambda: privacy.wishes_hold(
        _received(cfg.output_dir), state))
    report.step("住基ネット照会 (juki request → 住基ネット → import)",
                lambda: _juki(world, cfg.output_dir, inquirer))
    report.step("古い対象者抽出の再取込 (import targets: 住基ネットの死亡は維持)",
                lambda: privacy.stale_extract(world, cfg.output_dir, actor))
    report.step("業務システム連携 (export business: request → 責任者の承認 → run)",
                lambda: _business_export(world, cfg.output_dir, inquirer, actors["supervisor"]))
    report.step("外部記録媒体の引渡し・消去確認 (media handover / erased)", lambda: privacy.media_carriage(inquirer))
    report.step("バックアップ (backup)", lambda: privacy.backup_before_deletion(operations))
    report.step("退去者の個人番号一括削除 (delete propose → request → 承認 → run)",
                lambda: _deletion(world, cfg.output_dir, actor, actors["supervisor"]))
    report.step("削除後に残るもの・バックアップの期限 (backup prune)", lambda: privacy.what_deletion_left(operations))
    report.step("監査証跡の検証 (audit verify)", lambda: _verify(auditor))
    report.step("統計（個人を特定しない集計）(stats)", lambda: _stats(cfg.output_dir, auditor))
    _print(report, cfg.home)


def _world(out: Path, persons: int, seed: int) -> str:
    from jutaku.sim.world import WorldSpec, build_world

    summary = build_world(WorldSpec(persons=persons, seed=seed), out)
    files = ", ".join(sorted(p.name for p in out.iterdir() if p.is_file()))
    return f"{persons:,} persons (seed {seed}): {files}" if summary is not None else files


def _targets(world: Path, actor: Actor) -> str:
    from jutaku.registry.targets import import_targets

    result = import_targets(world / "targets.csv", actor=actor, progress=False)
    counts = ", ".join(f"{k} {v:,}" for k, v in sorted(result.job.counts.items()))
    return f"job {result.job.job_id}: {result.rows:,} rows — {counts}"


def _procedures(world: Path, actor: Actor) -> str:
    from jutaku.registry.models import Person
    from jutaku.registry.procedures import import_procedures

    result = import_procedures(world / "procedures.csv", actor=actor, progress=False)
    counts = ", ".join(f"{k} {v:,}" for k, v in sorted(result.job.counts.items()))
    flagged = Person.objects.filter(non_disclosure=True).count()
    return f"job {result.job.job_id}: {result.rows:,} rows — {counts}; 不開示 {flagged:,} persons"


def _register(world: Path, source: str, actor: Actor) -> str:
    from jutaku.registry.registration import KINDS, register_numbers
    from jutaku.registry.rejections import default_path, write_rejections

    path = world / ("kit.csv" if source == "kit" else "portal.zip")
    result = register_numbers(path, source=source, actor=actor, progress=False)
    counts = ", ".join(f"{k} {v:,}" for k, v in sorted(result.job.counts.items()))
    out, info = write_rejections(result.job.job_id, default_path(KINDS[source], result.job.job_id), actor=actor)
    return f"job {result.job.job_id}: {counts}; 差戻リスト {out.name} ({info.rows:,} rows)"


def _answer_key(world: Path) -> str:
    """Compare the registration outcome counts with the simulator's independent answer key."""
    import csv
    from collections import Counter

    from jutaku.jobs.models import Job

    with (world / "answers.csv").open(encoding="utf-8-sig", newline="") as fh:
        expected = Counter((row["ファイル"], row["期待結果"]) for row in csv.DictReader(fh))
    got: Counter[tuple[str, str]] = Counter()
    for kind, name in (("register-kit", "kit.csv"), ("register-portal", "portal.zip")):
        job = Job.objects.filter(kind=kind).latest("id")
        got.update({(name, code): n for code, n in job.counts.items()})
    if got != expected:
        raise click.ClickException(f"outcomes differ from the answer key: {sorted((got - expected).items())}")
    return f"all {sum(expected.values()):,} rows agree with the answer key"


def _linkage(world: Path, out: Path, actor: Actor) -> str:
    from jutaku.crypto.keyring import get_keyring
    from jutaku.crypto.media import open_media
    from jutaku.linkage.requests import request_linkage
    from jutaku.linkage.results import import_linkage_results
    from jutaku.sim.linkage import Rates, answer_linkage

    sent = request_linkage(out / "linkage-request.csv", actor=actor)  # it holds My Numbers: encrypted
    if sent.path is None:
        return "no person to link"
    # The linkage server holds the media key too: the simulated one reads the file in memory.
    with open_media(sent.path, get_keyring().media_key) as fh:
        answer_linkage(world, io.BytesIO(fh.read()), out / "linkage-result.csv", Rates(not_found=0.01, error=0.005))
    result = import_linkage_results(out / "linkage-result.csv", actor=actor)
    counts = ", ".join(f"{k} {v:,}" for k, v in sorted(result.job.counts.items()))
    return f"{sent.written:,} requests ({sent.path.name}, encrypted); answers: {counts}"


INCOME_DECLARATION = "JT99000000530001"


def _received(out: Path) -> Path:
    """What the simulated linkage server received of the inquiry file (its own record, decrypted)."""
    from jutaku.sim.linkage import received_path

    return received_path(out / "inquiry-result.csv")


def _income_inquiry(world: Path, out: Path, actor: Actor) -> str:
    import csv

    from jutaku.linkage.inquiries import create_inquiry_file
    from jutaku.linkage.inquiry_results import import_inquiry_results, write_notice_list
    from jutaku.sim.linkage import Rates, answer_inquiries, received_path

    year = int(json.loads((world / "world.json").read_text(encoding="utf-8"))["year"])
    made = create_inquiry_file(INCOME_DECLARATION, year, out / "inquiry-request.csv", actor=actor)
    if made.path is None:
        return "no inquiry to send"
    answer_inquiries(world, made.path, out / "inquiry-result.csv", Rates(unset=0.01, error=0.005))
    with received_path(out / "inquiry-result.csv").open(encoding="utf-8", newline="") as fh:
        dv = sum(row["不開示コード"] == "2" for row in csv.DictReader(fh))
    result = import_inquiry_results(out / "inquiry-result.csv", actor=actor)
    notices = write_notice_list(result.job.job_id, out / f"notices-{result.job.job_id}.csv", actor=actor)
    counts = ", ".join(f"{k} {v:,}" for k, v in sorted(result.job.counts.items()))
    noticed = f"届出勧奨 {notices[1].rows:,}" if notices is not None else "届出勧奨 0"
    return (f"{made.written:,} requests ({made.counts.get('persons', 0):,} persons, 不開示コード2 {dv:,}); "
            f"answers: {counts}; {noticed}")


def _juki(world: Path, out: Path, actor: Actor) -> str:
    from jutaku.crypto.keyring import get_keyring
    from jutaku.crypto.media import encrypt_file, open_media
    from jutaku.formats.manifest import manifest_path_for
    from jutaku.juki.requests import request_juki
    from jutaku.juki.results import import_juki_results, write_notice_list
    from jutaku.sim.juki import answer_juki

    year = int(json.loads((world / "world.json").read_text(encoding="utf-8"))["year"])
    sent = request_juki(year, out / "juki-request.csv", actor=actor)  # it holds My Numbers: encrypted
    if sent.path is None:
        return "no person to query"
    key = get_keyring().media_key
    with open_media(sent.path, key) as fh:  # Juki-net's side holds the media key
        plain_queries = io.BytesIO(fh.read())
    # Its answer carries My Numbers: it comes back encrypted too; the plaintext exists only in a 0700
    # working folder for the moment the simulator writes it.
    work = config.get().home / "work"
    work.mkdir(mode=0o700, exist_ok=True)
    plain = work / "juki-result.csv"
    try:
        answer_juki(world, plain_queries, plain, error_rate=0.002)
        encrypt_file(plain, out / "juki-result.csv.enc", key)
        shutil.move(str(manifest_path_for(plain)), manifest_path_for(out / "juki-result.csv.enc"))
    finally:
        plain.unlink(missing_ok=True)
    result = import_juki_results(out / "juki-result.csv.enc", actor=actor)
    notices = write_notice_list(result.job.job_id, out / f"notices-juki-{result.job.job_id}.csv", actor=actor)
    counts = ", ".join(f"{k} {v:,}" for k, v in sorted(result.job.counts.items()))
    return (f"{sent.written:,} queries ({sent.path.name}); answers: {counts}; "
            f"届出勧奨 {notices[1].rows if notices else 0:,}")


def _business_export(world: Path, out: Path, inquirer: Actor, supervisor: Actor) -> str:
    from jutaku.accounts.approvals import approve
    from jutaku.crypto.keyring import get_keyring
    from jutaku.crypto.media import open_media
    from jutaku.domain import leakscan
    from jutaku.linkage.export import request_export, run_export

    year = int(json.loads((world / "world.json").read_text(encoding="utf-8"))["year"])
    approval = request_export(INCOME_DECLARATION, year, actor=inquirer, reason="デモ: 家賃算定のための連携")
    approve(approval.pk, actor=supervisor)
    result = run_export(approval.pk, out / "business-export.csv", actor=inquirer)  # encrypted (.enc)
    with open_media(result.path, get_keyring().media_key) as fh:  # the business system holds the media key
        found = list(leakscan.scan(fh.read()))
    if found:
        raise click.ClickException("the business export holds a My Number-like value: refused")
    return (f"承認 #{approval.pk} ({inquirer.username} → {supervisor.username}): {result.rows:,} rows, "
            f"{result.persons:,} persons → {result.path.name} (暗号化); 利用停止で除外 {len(result.excluded)} 件; "
            f"個人番号スキャン 0 件")


def _deletion(world: Path, out: Path, registrar: Actor, supervisor: Actor) -> str:
    """The housing system reports moves (the world's truth knows who moved out); their numbers go."""
    import csv
    from collections import Counter
    from datetime import date

    from jutaku.accounts.approvals import approve
    from jutaku.formats.csvio import write_csv
    from jutaku.formats.layouts import TARGETS
    from jutaku.registry.targets import import_targets
    from jutaku.retention.deletion import propose, request_deletion, run_deletion

    with (world / "targets.csv").open(encoding="utf-8-sig", newline="") as fh:
        targets = {row["個人ID"]: row for row in csv.DictReader(fh)}
    with (world / "truth" / "juki.csv").open(encoding="utf-8-sig", newline="") as fh:
        moved = [row["個人ID"] for row in csv.DictReader(fh)
                 if row["異動事由"] == "消除:転出" and targets[row["個人ID"]]["状態"] == "1"]
    update = [{**targets[pid], "状態": "2", "状態日付": "20261101"} for pid in moved]
    write_csv(out / "targets-moves.csv", TARGETS, update)
    import_targets(out / "targets-moves.csv", actor=registrar, progress=False)
    path, info = propose(out / "deletion-proposal.csv", actor=registrar, today=date(2026, 11, 28))
    if info.rows == 0:
        return f"{len(moved)} moved out; no number to delete"
    approval = request_deletion(path, actor=registrar, reason="デモ: 退去者の個人番号削除")
    approve(approval.pk, actor=supervisor)
    result = run_deletion(approval.pk, actor=registrar, report=out / f"deletion-report-{approval.pk}.csv")
    from jutaku.retention.record_report import write_record_pdf

    printed, _ = write_record_pdf(approval.pk, out / f"deletion-report-{approval.pk}.pdf", actor=registrar)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reasons = Counter(row["削除理由"] for row in csv.DictReader(fh))
    labels = {"1": "退去", "2": "辞退・不合格", "3": "死亡", "4": "利用停止"}
    by_reason = "、".join(f"{labels.get(k, k)} {v}" for k, v in sorted(reasons.items()))
    return (f"{len(moved)} moved out (targets update); 承認 #{approval.pk}: {result.job.counts.get('persons', 0)} "
            f"persons deleted ({by_reason}), keys crypto-erased → {result.report.name}, {printed.name}")


def _stats(out: Path, actor: Actor) -> str:
    from jutaku.stats.plots import progress_plots
    from jutaku.stats.report import write_pdf
    from jutaku.stats.service import export

    path, info = export(out / "statistics.csv", actor=actor)
    drawn = progress_plots(out / "plots", 10, actor=actor)
    printed = write_pdf(out / "statistics.pdf", actor=actor, k=10)
    return (f"{path.name}: {info.rows:,} cells (10 未満は <10、相補秘匿は x); 図 {', '.join(p.name for p in drawn)}; "
            f"印刷用 {printed.name}")


def _verify(actor: Actor) -> str:
    from jutaku.audit.reports import verify_recorded

    verification = verify_recorded(actor=actor)
    result = verification.result
    if not verification.recorded:
        raise click.ClickException("the audit verification could not be recorded on the trail")
    if not result.ok:
        raise click.ClickException(f"audit chain broken at seq {result.first_bad_seq}: {result.reason}")
    return f"{result.checked:,} records, chain intact"


def _print(report: DemoReport, home: Path) -> None:
    table = Table(title="Jutaku デモ結果 (synthetic data only)")
    table.add_column("処理")
    table.add_column("結果")
    table.add_column("秒", justify="right")
    for name, summary, seconds in report.steps:
        table.add_row(name, summary, f"{seconds:.1f}")
    Console(width=max(Console().width, 110)).print(table)
    click.echo(f"demo home: {home}")
    click.echo(f"demo users (ROLE USERNAME PASSWORD TOTP_SECRET): {home / 'credentials.txt'}")
    click.echo(f"sign in:   JUTAKU_HOME={home} JUTAKU_MODE=demo .venv/bin/jutaku login --user <USERNAME>")
    click.echo("           (password, then the current TOTP code of the user's secret, e.g. from an authenticator app)")
    click.echo("web UI:    make demo-web   → http://127.0.0.1:8000/  (jutaku serve + jutaku worker on this home)")
    click.echo(f"           a demo user's current code: JUTAKU_HOME={home} JUTAKU_MODE=demo .venv/bin/jutaku demo --code <USERNAME>")
    click.echo(f"           users: {', '.join(_demo_users(home))}")


def _demo_users(home: Path) -> list[str]:
    lines = (home / "credentials.txt").read_text(encoding="ascii").splitlines()
    return [f"{line.split()[1]} ({line.split()[0]})" for line in lines if line.strip()]


def demo_code(username: str) -> str:
    """The current TOTP code of a demo user (from the demo home's credentials file; demo mode only)."""
    import pyotp

    cfg = config.get()
    if cfg.mode != "demo":
        raise Refused("only in demo mode (JUTAKU_MODE=demo)")
    for line in (cfg.home / "credentials.txt").read_text(encoding="ascii").splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[1] == username:
            return str(pyotp.TOTP(parts[3]).now())
    raise Refused(f"no demo user {username!r} in {cfg.home / 'credentials.txt'}")
