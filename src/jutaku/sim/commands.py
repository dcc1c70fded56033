"""`jutaku sim` commands: the synthetic world (synthetic data only; never touches the database)."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import click

from jutaku.accounts.permissions import Permission
from jutaku.clikit import Refused, requires
from jutaku.sim.faults import FaultRates

_FAULTS = [f.name for f in dataclasses.fields(FaultRates)]


def _fault_options(fn: Any) -> Any:
    for name in reversed(_FAULTS):
        fn = click.option(
            f"--{name.replace('_', '-')}-rate",
            name,
            type=click.FloatRange(0.0, 1.0),
            default=None,
            help=f"Rate of the {name} fault (default {getattr(FaultRates(), name)}).",
        )(fn)
    return fn


@click.group(name="sim")
def sim() -> None:
    """The synthetic world and simulated external systems (synthetic data only)."""


@sim.command(name="world")
@click.option("--persons", type=click.IntRange(min=1), default=10_000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--fault-rate", type=click.FloatRange(0.0, 0.09), default=None,
              help="Every error fault at this rate (benign variants at twice it); per-fault options override.")
@_fault_options
@click.option("--kit-share", type=click.FloatRange(0.0, 1.0), default=0.7, show_default=True)
@click.option("--portal-share", type=click.FloatRange(0.0, 1.0), default=0.2, show_default=True)
@click.option("--year", type=click.IntRange(2016, 2099), default=2026, show_default=True)
@click.option("--no-truth", is_flag=True, help="Skip the truth/ files (faster; no simulated agencies).")
@requires(Permission.SIM_RUN)
def world(persons: int, seed: int, out: Path, fault_rate: float | None, kit_share: float, portal_share: float,
          year: int, no_truth: bool, **rates: float | None) -> None:  # fmt: skip
    """Build a reproducible synthetic Tokyo in the layouts of interfaces.md (targets, procedures, kit, portal,
    answers, truth)."""
    from jutaku.sim.world import WorldSpec, build_world

    base = FaultRates() if fault_rate is None else FaultRates.uniform(fault_rate)
    try:
        chosen = dataclasses.replace(base, **{k: v for k, v in rates.items() if v is not None})
        spec = WorldSpec(persons=persons, seed=seed, rates=chosen, kit_share=kit_share,
                         portal_share=portal_share, year=year, truth=not no_truth)  # fmt: skip
    except ValueError as exc:
        raise Refused(str(exc)) from exc
    started = time.perf_counter()
    summary = build_world(spec, out)
    counts = summary["counts"]
    click.echo(f"world: {summary['persons']} persons, {summary['households']} households → {out}")
    click.echo(f"kit rows {counts['kit_rows']}, portal entries {counts['portal_entries']}, "
               f"procedures rows {counts['procedures_rows']}")  # fmt: skip
    click.echo("expected outcomes: " + json.dumps(counts["expected"], ensure_ascii=False))
    click.echo(f"elapsed {time.perf_counter() - started:.1f} s")


@sim.command(name="linkage-server")
@click.option("--world", "world_dir", type=click.Path(file_okay=False, exists=True, path_type=Path), required=True)
@click.argument("requests", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--not-found-rate", type=click.FloatRange(0.0, 1.0), default=0.0, show_default=True,
              help="Linkage: share of answers turned into 1 該当なし.")
@click.option("--unset-rate", type=click.FloatRange(0.0, 1.0), default=0.0, show_default=True,
              help="Inquiries: share of answers turned into 02 未設定.")
@click.option("--error-rate", type=click.FloatRange(0.0, 1.0), default=0.0, show_default=True,
              help="Share of answers turned into エラー (9 / 09).")
@requires(Permission.SIM_RUN)
def linkage_server(world_dir: Path, requests: Path, out: Path, not_found_rate: float, unset_rate: float,
                   error_rate: float) -> None:
    """Answer a linkage-request or inquiry-request file from the world's truth (synthetic data only)."""
    from jutaku.formats.errors import FileRejected
    from jutaku.sim.linkage import Rates, answer_inquiries, answer_linkage, request_kind

    source: Any = requests
    if requests.name.endswith(".enc"):  # the other side holds the media key too: the home's, when given
        source = _decrypted(requests)
    try:
        rates = Rates(not_found=not_found_rate, error=error_rate, unset=unset_rate)
        answer = answer_inquiries if request_kind(source) == "inquiry" else answer_linkage
        counts = answer(world_dir, source, out, rates)
    except (FileRejected, ValueError) as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"answers → {out}: " + json.dumps(counts, ensure_ascii=False, sort_keys=True))


def _decrypted(path: Path) -> Any:
    """The plaintext of an encrypted request file, in memory, under the media key of ``$JUTAKU_HOME``."""
    import io

    from jutaku import config
    from jutaku.crypto.keyring import KeyRing
    from jutaku.crypto.media import MediaIntegrityError, open_media

    keys = config.get().keys_dir
    if not (keys / "media.key").is_file():
        raise Refused(f"{path.name} is encrypted: set JUTAKU_HOME to a home whose keys hold the media key")
    try:
        with open_media(path, KeyRing.load(keys, production=config.get().is_production).media_key) as fh:
            return io.BytesIO(fh.read())
    except MediaIntegrityError as exc:
        raise Refused(f"{path.name}: encrypted media failed authentication") from exc


@sim.command(name="juki")
@click.option("--world", "world_dir", type=click.Path(file_okay=False, exists=True, path_type=Path), required=True)
@click.argument("queries", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--error-rate", type=click.FloatRange(0.0, 1.0), default=0.0, show_default=True,
              help="Share of answers turned into 09 エラー.")
@requires(Permission.SIM_RUN)
def juki(world_dir: Path, queries: Path, out: Path, error_rate: float) -> None:
    """Answer a Juki-net query file from the world's truth (synthetic data only)."""
    from jutaku.formats.errors import FileRejected
    from jutaku.sim.juki import answer_juki

    source: Any = _decrypted(queries) if queries.name.endswith(".enc") else queries
    try:
        counts = answer_juki(world_dir, source, out, error_rate=error_rate)
    except (FileRejected, ValueError) as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"answers → {out}: " + json.dumps(counts, ensure_ascii=False, sort_keys=True))
