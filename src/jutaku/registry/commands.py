"""`jutaku import ...`: loading the housing system's extracts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from jutaku.accounts.permissions import Permission, StepUp
from jutaku.clikit import Refused, current_actor, echo_table, requires
from jutaku.formats.layouts import NOTICE_LIST, REJECTIONS

F = TypeVar("F", bound=Callable[..., Any])


@click.group(name="import")
def import_group() -> None:
    """Import files from the housing system (都住システム)."""


def emit_list(job: Any, interface: str, title: str, write: Callable[[], tuple[Path, Any] | None]) -> None:
    """Write a list of a job (rejections, notices) and say where it is.

    For a rerun of a completed file (``job.duplicate``) the list is written only if no run wrote it yet —
    the run that completed the job was stopped before writing it (issue 13 item 7) — and always from the
    database, never from the file; one already written is reported with what became of it.
    """
    from jutaku.exchange.outputs import earlier_output

    if job.duplicate:
        earlier = earlier_output(job.job_id, interface)
        if earlier is not None:
            click.echo(f"{title}: {earlier.describe()}")
            return
    written = write()
    if written is not None:
        again = "（前回の実行で作成されていなかったため、記録から作成しました）" if job.duplicate else ""
        click.echo(f"{title}: {written[0]} ({written[1].rows} rows){again}")


def echo_counts(counts: dict[str, int], labels: dict[str, str]) -> None:
    """A job's outcome table: each code with its count and meaning, then the counters that are not codes
    (:mod:`jutaku.jobs.labels`) by their names."""
    from jutaku.jobs.labels import is_code

    keys = sorted(counts, key=lambda c: (not is_code(c), c[0] != "O", c))
    echo_table(["結果コード", "件数", "内容"],
               [[c if is_code(c) else "", f"{counts[c]:,}", labels.get(c, "" if is_code(c) else c)] for c in keys],
               right={1})


def _import(kind: str, file: Path, dry_run: bool, encoding: str | None, rejections_path: Path | None,
            no_progress: bool, chunk_size: int, notices_path: Path | None = None) -> None:
    from jutaku.formats.errors import FileRejected
    from jutaku.jobs.errors import JobRefused
    from jutaku.registry import procedures, targets
    from jutaku.registry.rejections import default_path, write_rejections

    module = targets if kind == "targets" else procedures
    service = targets.import_targets if kind == "targets" else procedures.import_procedures
    actor = current_actor()
    try:
        result = service(file, actor=actor, dry_run=dry_run, progress=not no_progress, encoding=encoding,
                         chunk_size=chunk_size)
    except (FileRejected, JobRefused) as exc:
        raise Refused(str(exc)) from exc
    job = result.job
    if job.duplicate:
        click.echo(f"このファイルは取込済みです (job {job.job_id}): no change (duplicate file, same SHA-256).")
    click.echo(f"job {job.job_id}: {result.rows} rows{' (dry run: nothing changed)' if dry_run else ''}")
    echo_counts(job.counts, module.OUTCOMES)
    if not dry_run and any(c.startswith("E") for c in job.counts):
        emit_list(job, REJECTIONS.name, "差戻リスト", lambda: write_rejections(
            job.job_id, rejections_path or default_path(module.KIND, job.job_id), actor=actor))
    if kind == "targets" and not dry_run:
        _write_target_notices(job, notices_path, actor)


def _write_target_notices(job: Any, path: Path | None, actor: Any) -> None:
    """Rows that disagreed with a death recorded from Juki-net (S01) go on the notice list."""
    from jutaku import config
    from jutaku.registry.targets import write_notice_list

    target = path or config.get().output_dir / f"notices-targets-{job.job_id}.csv"
    emit_list(job, NOTICE_LIST.name, "届出勧奨リスト", lambda: write_notice_list(job.job_id, target, actor=actor))


_import_options = [
    click.argument("file", type=click.Path(path_type=Path)),
    click.option("--dry-run", is_flag=True, help="Report outcomes, change nothing."),
    click.option("--encoding", type=click.Choice(["utf-8", "cp932"]), default=None, help="Default: detect."),
    click.option("--rejections", "rejections_path", type=click.Path(path_type=Path), default=None,
                 help="Where to write the rejection list (default: the home's output folder)."),
    click.option("--no-progress", is_flag=True),
    click.option("--chunk-size", default=5000, show_default=True, type=click.IntRange(1, 100_000),
                 help="Rows per committed chunk."),
]


def _with(options: list[Callable[[F], F]]) -> Callable[[F], F]:
    def apply(fn: F) -> F:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return apply


@import_group.command(name="targets")
@_with(_import_options)
@click.option("--notices", "notices_path", type=click.Path(path_type=Path), default=None,
              help="Where to write the notice list 届出勧奨リスト of rows that disagree with a death recorded "
                   "from Juki-net (default: the home's output folder).")
@requires(Permission.REGISTRY_IMPORT)
def targets(file: Path, dry_run: bool, encoding: str | None, rejections_path: Path | None,
            no_progress: bool, chunk_size: int, notices_path: Path | None) -> None:
    """Load residents and applicants (対象者抽出): upsert by 個人ID, keep status history."""
    _import("targets", file, dry_run, encoding, rejections_path, no_progress, chunk_size, notices_path)


@import_group.command(name="procedures")
@_with(_import_options)
@requires(Permission.REGISTRY_IMPORT)
def procedures_cmd(file: Path, dry_run: bool, encoding: str | None, rejections_path: Path | None,
                   no_progress: bool, chunk_size: int) -> None:
    """Load filed procedures (手続抽出) with consent and non-disclosure wishes."""
    _import("procedures", file, dry_run, encoding, rejections_path, no_progress, chunk_size)


@click.group(name="register")
def register_group() -> None:
    """Bulk registration of My Numbers (個人番号一括登録)."""


def _register(source: str, file: Path, dry_run: bool, encoding: str | None, rejections_path: Path | None,
              no_progress: bool, chunk_size: int) -> None:
    from jutaku.formats.errors import FileRejected
    from jutaku.jobs.errors import JobRefused
    from jutaku.registry.registration import KINDS, register_numbers
    from jutaku.registry.rejections import default_path, write_rejections

    actor = current_actor()
    try:
        result = register_numbers(file, source=source, actor=actor, dry_run=dry_run, progress=not no_progress,
                                  encoding=encoding, chunk_size=chunk_size)
    except (FileRejected, JobRefused) as exc:
        raise Refused(str(exc)) from exc
    job = result.job
    if job.duplicate:
        click.echo(f"このファイルは登録済みです (job {job.job_id}): no change (duplicate file, same SHA-256).")
    click.echo(f"job {job.job_id}: {result.rows} rows{' (dry run: nothing changed)' if dry_run else ''}")
    from jutaku.formats.layouts import REGISTRATION_OUTCOME

    echo_counts(job.counts, dict(REGISTRATION_OUTCOME))
    if any(c.startswith("E") for c in job.counts):
        if dry_run:
            click.echo("差戻リスト: not written in a dry run (the outcome table above is complete)")
            return
        emit_list(job, REJECTIONS.name, "差戻リスト", lambda: write_rejections(
            job.job_id, rejections_path or default_path(KINDS[source], job.job_id), actor=actor))


_register_options = [
    click.argument("file", type=click.Path(path_type=Path)),
    click.option("--dry-run", is_flag=True, help="Report the outcomes, change nothing."),
    click.option("--rejections", "rejections_path", type=click.Path(path_type=Path), default=None,
                 help="Where to write the rejection list (default: the home's output folder)."),
    click.option("--no-progress", is_flag=True),
    click.option("--chunk-size", default=50_000, show_default=True, type=click.IntRange(1, 100_000),
                 help="Rows per committed chunk."),
]


@register_group.command(name="kit")
@_with(_register_options)
@click.option("--encoding", type=click.Choice(["utf-8", "cp932"]), default=None, help="Default: detect.")
@requires(Permission.NUMBERS_REGISTER)
def register_kit(file: Path, dry_run: bool, rejections_path: Path | None, no_progress: bool, chunk_size: int,
                 encoding: str | None) -> None:
    """Register My Numbers from the collection contractor's kit file (個人番号届出データ)."""
    _register("kit", file, dry_run, encoding, rejections_path, no_progress, chunk_size)


@register_group.command(name="portal")
@_with(_register_options)
@requires(Permission.NUMBERS_REGISTER)
def register_portal(file: Path, dry_run: bool, rejections_path: Path | None, no_progress: bool,
                    chunk_size: int) -> None:
    """Register My Numbers from a Mynaportal download (ZIP of LoGo-form XML)."""
    _register("portal", file, dry_run, None, rejections_path, no_progress, chunk_size)


@click.group(name="numbers")
def numbers_group() -> None:
    """Registered My Numbers: the change-notification path (個人番号変更届)."""


@numbers_group.command(name="change")
@click.argument("person_id")
@click.option("--reason", required=True, help="Why the number changes (変更理由). Never put a number here.")
@click.option("--receipt-no", default="", help="受付番号 of the change notification.")
@click.option("--id-document", default="", type=click.Choice(["", "1", "2", "3"]), help="本人確認書類.")
@requires(Permission.NUMBERS_CHANGE, step_up=StepUp.NUMBER_CHANGE)
def change_cmd(person_id: str, reason: str, receipt_no: str, id_document: str) -> None:
    """Replace a person's registered number (supervisor, after a fresh step-up). The new number is read
    from the terminal (hidden) or, when stdin is not a terminal, from its first line after the step-up's
    two lines when one is asked for (run `jutaku step-up` first in a script): never from the command line,
    where it would stay in the shell history and the process list."""
    import sys

    from jutaku.domain.my_number import mask, normalise
    from jutaku.registry.numbers import NumberChangeRefused, change_number

    if sys.stdin.isatty():
        new_number = click.prompt("新しい個人番号", hide_input=True)
    else:
        new_number = sys.stdin.readline().strip()
    try:
        result = change_number(person_id, new_number, actor=current_actor(), reason=reason,
                               receipt_no=receipt_no, id_document=id_document)
    except NumberChangeRefused as exc:
        raise Refused(str(exc)) from exc
    if result.changed:
        click.echo(f"個人ID {person_id}: 個人番号を変更しました ({mask(normalise(new_number))})")
    else:
        click.echo(f"個人ID {person_id}: 同一の個人番号が登録済みです（変更なし） (I01)")


def run_result_import(service: Callable[..., Any], file: Path, *, kind: str, labels: dict[str, str],
                      settled: frozenset[str], list_title: str, dry_run: bool, encoding: str | None,
                      rejections_path: Path | None, no_progress: bool) -> Any:
    """The CLI frame shared by the result imports (linkage, inquiry, Juki-net): run ``service``, print the
    job line and the outcome table, and write the list of rows to follow up (those not in ``settled``).
    Returns the job (``job.duplicate`` for a file already imported: its lists are written only if no run
    wrote them, :func:`emit_list`), or ``None`` after a dry run."""
    from jutaku.formats.errors import FileRejected
    from jutaku.jobs.errors import JobRefused
    from jutaku.registry.rejections import default_path, write_rejections

    actor = current_actor()
    try:
        result = service(file, actor=actor, dry_run=dry_run, progress=not no_progress, encoding=encoding)
    except (FileRejected, JobRefused) as exc:
        raise Refused(str(exc)) from exc
    job = result.job
    if job.duplicate:
        click.echo(f"このファイルは取込済みです (job {job.job_id}): no change (duplicate file, same SHA-256).")
    click.echo(f"job {job.job_id}: {result.rows} rows{' (dry run: nothing changed)' if dry_run else ''}")
    echo_counts(job.counts, labels)
    if dry_run:
        return None
    if any(code not in settled for code in job.counts):
        emit_list(job, REJECTIONS.name, list_title, lambda: write_rejections(
            job.job_id, rejections_path or default_path(kind, job.job_id), actor=actor))
    return job
