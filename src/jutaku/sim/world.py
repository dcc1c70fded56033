"""`jutaku sim world`: a reproducible synthetic Tokyo written in the exact layouts of interfaces.md.

Output directory::

    targets.csv  procedures.csv  kit.csv  portal.zip  answers.csv  world.json  truth/*.csv

Same seed and options → byte-identical files (no clock, no unseeded randomness, fixed ZIP timestamps).
Each part draws from its own ``random.Random`` seeded from (seed, part), so parts are independent.
Synthetic data only: no real person, no real My Number.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import json
import multiprocessing
import random
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final
from xml.sax.saxutils import escape

from jutaku.formats.layouts import HOUSING, KIT, PORTAL, PROCEDURES, TARGETS
from jutaku.sim.answers import FILE_COLUMN, KIT_FILE, PORTAL_FILE, TargetPerson, expected_outcomes
from jutaku.sim.faults import FaultRates
from jutaku.sim.notifications import Notifications, build_notifications
from jutaku.sim.population import FIRST_PERSON_ID, Population, build_population
from jutaku.sim.truth import write_truth

GENERATOR_VERSION: Final = 1
ANSWERS_HEADER: Final = ("ファイル", "行番号", "受付番号", "個人ID", "期待結果")
ZIP_TIME: Final = (2026, 4, 1, 0, 0, 0)
INCOME_DECLARATION: Final = "収入の申告"
APPLICATION: Final = "入居の申込み"
RENT_REDUCTION: Final = "家賃・金銭・敷金の減免の申請"
_NEEDS_ESCAPE: Final = re.compile("[&<>]")


@dataclass(frozen=True)
class WorldSpec:
    persons: int
    seed: int
    rates: FaultRates = field(default_factory=FaultRates)
    kit_share: float = 0.7
    portal_share: float = 0.2
    non_disclosure_rate: float = 0.005  # households asking for 不開示 (DV)
    consent_rate: float = 0.95  # persons consenting to inquiries of business information
    year: int = 2026
    truth: bool = True

    def __post_init__(self) -> None:
        if self.persons < 1:
            raise ValueError("persons must be at least 1")
        if not (self.kit_share >= 0 and self.portal_share >= 0 and self.kit_share + self.portal_share <= 1):
            raise ValueError("kit and portal shares must be within 0..1 together")

    def rng(self, part: str) -> random.Random:
        # Synthetic test data only: a seeded, reproducible PRNG is the point here.
        return random.Random(f"{self.seed}/{part}")  # noqa: S311


def procedure_codes() -> dict[str, dict[str, str]]:
    """{住宅区分 code: {procedure name: JT code}} from the packaged allow-list."""
    by_name = {name: code for code, name in HOUSING.items()}
    text = resources.files("jutaku.data").joinpath("allowlist.csv").read_text(encoding="utf-8-sig")
    out: dict[str, dict[str, str]] = {}
    for row in csv.DictReader(text.splitlines()):
        out.setdefault(by_name[row["housing_category"]], {})[row["procedure_name"]] = row["procedure_code"]
    return out


def _open_csv(path: Path) -> Any:
    return path.open("w", encoding="utf-8", newline="", buffering=1 << 20)


def write_targets(pop: Population, path: Path) -> None:
    with _open_csv(path) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(TARGETS.header)
        w.writerows(pop.targets_row(i) for i in range(len(pop)))


def non_disclosure_households(spec: WorldSpec, pop: Population) -> frozenset[str]:
    """個人ID of the members of households that asked for 不開示 (DV), drawn from their own stream."""
    rng = spec.rng("non_disclosure")
    hidden: set[str] = set()
    for start, end in pop.households:
        if rng.random() < spec.non_disclosure_rate:
            hidden.update(Population.person_id(i) for i in range(start, end))
    return frozenset(hidden)


def write_procedures(spec: WorldSpec, pop: Population, path: Path, hidden: frozenset[str]) -> int:
    """Filed procedures (one row per filing and person covered); returns the row count."""
    rng, codes, year = spec.rng("procedures"), procedure_codes(), spec.year
    rows = 0
    seq = 0
    with _open_csv(path) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(PROCEDURES.header)
        for start, end in pop.households:
            covered = [i for i in range(start, end) if pop.status[i] == "1"]
            if not covered:
                continue
            names = codes[pop.housing[start]]
            filings = [APPLICATION] if pop.kubun[start] == "2" else [INCOME_DECLARATION]
            if pop.kubun[start] == "1" and rng.random() < 0.03:
                filings.append(RENT_REDUCTION)
            applicant = Population.person_id(covered[0])
            for name in filings:
                seq += 1
                received = f"{year}{4 + seq % 3:02d}{1 + seq % 28:02d}"
                for i in covered:
                    pid = Population.person_id(i)
                    consent = "1" if rng.random() < spec.consent_rate else "0"
                    w.writerow((f"P{year}{seq:08d}", names[name], year, received, applicant, pid, consent,
                                "1" if pid in hidden else "0"))  # fmt: skip
                    rows += 1
    return rows


def write_kit(notes: Notifications, path: Path) -> None:
    with _open_csv(path) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(KIT.header)
        w.writerows(notes.kit)


def portal_template() -> str:
    """The XML of one application, driven by the element paths of ``PORTAL.extra``."""
    root = PORTAL.extra["root"]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f"<{root}>"]
    parent: str | None = None
    for i, col in enumerate(PORTAL.columns):
        *path, leaf = PORTAL.extra[col.name].split("/")
        here = path[0] if path else None
        if here != parent:
            if parent:
                lines.append(f"  </{parent}>")
            if here:
                lines.append(f"  <{here}>")
            parent = here
        lines.append(f"{'    ' if here else '  '}<{leaf}>{{{i}}}</{leaf}>")
    if parent:
        lines.append(f"  </{parent}>")
    lines.append(f"</{root}>\n")
    return "\n".join(lines)


def write_portal(notes: Notifications, path: Path) -> None:
    template = portal_template()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for row in notes.portal:
            info = zipfile.ZipInfo(f"{row[0]}.xml", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            values = [escape(v) for v in row] if _NEEDS_ESCAPE.search("".join(row)) else row
            zf.writestr(info, template.format(*values).encode("utf-8"), compresslevel=1)


def processing_rows(notes: Notifications) -> Iterator[dict[str, str]]:
    """Kit rows in file order, then portal entries in 受付番号 order, as the answer key reads them."""
    kit_header, portal_header = KIT.header, PORTAL.header
    for row in notes.kit:
        item = dict(zip(kit_header, row, strict=True))
        item[FILE_COLUMN] = KIT_FILE
        yield item
    for row in notes.portal:
        item = dict(zip(portal_header, row, strict=True))
        item[FILE_COLUMN] = PORTAL_FILE
        yield item


class PopulationTargets(Mapping[str, TargetPerson]):
    """The register as the answer key sees it, read straight from the population columns."""

    def __init__(self, pop: Population) -> None:
        self.pop = pop

    def _index(self, person_id: str) -> int:
        well_formed = len(person_id) == 10 and person_id.isascii() and person_id.isdigit()
        i = int(person_id) - FIRST_PERSON_ID if well_formed else -1
        if not 0 <= i < len(self.pop):
            raise KeyError(person_id)
        return i

    def __getitem__(self, person_id: str) -> TargetPerson:
        i, pop = self._index(person_id), self.pop
        return TargetPerson(pop.kana[i], pop.birth[i], pop.sex[i], pop.status[i])

    def __iter__(self) -> Iterator[str]:
        return (Population.person_id(i) for i in range(len(self.pop)))

    def __len__(self) -> int:
        return len(self.pop)


def write_answers(pop: Population, notes: Notifications, path: Path) -> list[str]:
    codes = expected_outcomes(PopulationTargets(pop), processing_rows(notes))
    with _open_csv(path) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(ANSWERS_HEADER)
        w.writerows((KIT_FILE, n, r[0], r[1], c) for n, (r, c) in enumerate(zip(notes.kit, codes, strict=False), 1))
        w.writerows(
            (PORTAL_FILE, n, r[0], r[3], c)
            for n, (r, c) in enumerate(zip(notes.portal, codes[len(notes.kit) :], strict=True), 1)
        )
    return codes


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_register_and_truth(
    spec: WorldSpec, pop: Population, out: Path, hidden: frozenset[str]
) -> tuple[int, dict[str, int]]:
    write_targets(pop, out / "targets.csv")
    procedure_rows = write_procedures(spec, pop, out / "procedures.csv", hidden)
    return procedure_rows, (write_truth(pop, spec.rng("truth"), out / "truth") if spec.truth else {})


def _write_notifications(notes: Notifications, out: Path) -> None:
    write_kit(notes, out / "kit.csv")
    write_portal(notes, out / "portal.zip")


PARALLEL_FROM: Final = 50_000  # persons; smaller worlds are written in one process


class _Parts:
    """Runs independent parts in forked children (the population is shared copy-on-write, not pickled)."""

    def __init__(self, parallel: bool) -> None:
        self.parallel = parallel
        self.jobs: list[tuple[str, Any, Any]] = []
        self.results: dict[str, Any] = {}

    def run(self, name: str, fn: Callable[..., Any], *args: Any) -> None:
        if not self.parallel:
            self.results[name] = fn(*args)
            return
        ctx = multiprocessing.get_context("fork")
        receiver, sender = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, args=(sender, fn, args), name=f"jutaku-sim-{name}")
        proc.start()
        sender.close()
        self.jobs.append((name, proc, receiver))

    def join(self) -> dict[str, Any]:
        for name, proc, receiver in self.jobs:
            try:
                status, result = receiver.recv()
            except EOFError:
                status, result = "error", "no result"
            proc.join()
            if status != "ok" or proc.exitcode != 0:
                raise RuntimeError(f"simulator part {name} failed: {result}")
            self.results[name] = result
        self.jobs.clear()
        return self.results


def _child(sender: Any, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        sender.send(("ok", fn(*args)))
    except Exception as exc:
        sender.send(("error", repr(exc)))
        raise
    finally:
        sender.close()


def build_world(spec: WorldSpec, out: Path, *, parallel: bool | None = None) -> dict[str, Any]:
    """Generate every file into ``out``; return (and write) the ``world.json`` summary.

    Large worlds write the truth files and portal.zip in forked child processes beside the parent.
    The garbage collector is paused meanwhile: millions of rows, no reference cycles.
    """
    out.mkdir(parents=True, exist_ok=True)
    parts = _Parts(spec.persons >= PARALLEL_FROM if parallel is None else parallel)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        pop = build_population(
            spec.rng("population"), spec.persons, year=spec.year, spare=spec.persons // 10 + 100
        )
        hidden = non_disclosure_households(spec, pop)
        parts.run("register", _write_register_and_truth, spec, pop, out, hidden)
        notes = build_notifications(
            pop, spec.rng("notifications"), spec.rates,
            kit_share=spec.kit_share, portal_share=spec.portal_share, non_disclosure_ids=hidden,
        )  # fmt: skip
        parts.run("notifications", _write_notifications, notes, out)
        codes = write_answers(pop, notes, out / "answers.csv")
        procedure_rows, truth_rows = parts.join()["register"]
    finally:
        if gc_was_enabled:
            gc.enable()
    files = sorted(p for p in out.rglob("*") if p.is_file() and p.name != "world.json")
    summary: dict[str, Any] = {
        "generator_version": GENERATOR_VERSION,
        "seed": spec.seed,
        "persons": len(pop),
        "households": len(pop.households),
        "year": spec.year,
        "rates": spec.rates.as_dict(),
        "shares": {"kit": spec.kit_share, "portal": spec.portal_share, "non_disclosure": spec.non_disclosure_rate},
        "counts": {
            "by_kubun": dict(sorted(Counter(pop.kubun).items())),
            "by_housing": dict(sorted(Counter(pop.housing).items())),
            "by_status": dict(sorted(Counter(pop.status).items())),
            "procedures_rows": procedure_rows,
            "kit_rows": len(notes.kit),
            "portal_entries": len(notes.portal),
            "faults": dict(sorted(Counter(f for f in notes.kit_faults + notes.portal_faults if f).items())),
            "expected": dict(sorted(Counter(codes).items())),
            "truth_rows": dict(sorted(truth_rows.items())),
        },
        "files": {p.relative_to(out).as_posix(): sha256(p) for p in files},
    }
    (out / "world.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return summary
