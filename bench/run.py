"""`make bench`: per-row costs of the foundation steps and the raw-insert ceilings, on the same run.

Writes ``bench/reports/foundation.md`` and ``bench/reports/foundation.json``. Later batch benchmarks
(registration, inquiries, ...) report their rows/s as a share of the ceilings measured here in the
same run. Synthetic data only.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench import ceiling  # noqa: E402
from jutaku.domain import my_number  # noqa: E402

KANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"


def synthetic_rows(n: int, seed: int = 7) -> list[tuple[str, str, str, str]]:
    """(person_id, My Number in a mix of written forms, kana name, kanji name) for n synthetic persons."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        # A bijection of i onto 11-digit bodies: unique numbers, as in a real register.
        number = my_number.from_body(f"{(i * 7_919_000_003 + 12_345) % 10**11:011d}")
        form = i % 4
        if form == 1:
            number = f"{number[:4]}-{number[4:8]}-{number[8:]}"
        elif form == 2:
            number = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        kana = "".join(rng.choice(KANA) for _ in range(4)) + "\u3000" + "".join(rng.choice(KANA) for _ in range(3))
        rows.append((f"{1_000_000_001 + i:010d}", number, kana, "髙橋\u3000太郎"))
    return rows


def timed(fn: Callable[[], object], runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return statistics.median(times), times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "reports")
    ap.add_argument("--skip-registration", action="store_true")
    args = ap.parse_args()
    n = args.rows
    print(f"generating {n:,} synthetic rows ...", flush=True)
    rows = synthetic_rows(n)
    results: dict[str, dict[str, object]] = {}

    def step(name: str, fn: Callable[[], object]) -> None:
        median, times = timed(fn, args.runs)
        results[name] = {"rows_per_s": n / median, "us_per_row": median / n * 1e6,
                         "runs_s": [round(t, 3) for t in times]}
        print(f"  {name:<44} {n / median:>12,.0f} rows/s  {median / n * 1e6:6.2f} µs/row", flush=True)

    step("normalise My Number (width, hyphens)", lambda: [my_number.normalise(r[1]) for r in rows])
    normalised = [my_number.normalise(r[1]) for r in rows]
    step("validate check digit (第5条)", lambda: [my_number.is_valid(x) for x in normalised])

    try:
        from jutaku.domain.japanese import kana_key, kanji_key

        step("kana matching key", lambda: [kana_key(r[2]) for r in rows])
        step("kanji variant key", lambda: [kanji_key(r[3]) for r in rows])
    except ImportError as exc:  # pragma: no cover - reported, not hidden
        print(f"  kana/kanji keys unavailable: {exc}")

    _csv_step(rows, step)
    sealed = _crypto_steps(rows, normalised, step)

    print("raw-insert ceilings ...", flush=True)
    ceil_rows = sealed
    ceilings: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as _:
        sq = [ceiling.sqlite_ceiling(ceil_rows) for _ in range(args.runs)]
        ceilings["sqlite_executemany_unique_index_audit"] = statistics.median(sq)
        print(f"  SQLite executemany + unique blind index + audit row: {statistics.median(sq):,.0f} persons/s")
    try:
        pg = [ceiling.postgres_ceiling(ceil_rows, args.pg_url) for _ in range(args.runs)]
        pk = [ceiling.postgres_ceiling(ceil_rows, args.pg_url, with_index_and_audit=False)
              for _ in range(args.runs)]
        ceilings["postgres_copy_unique_index_audit"] = statistics.median(pg)
        ceilings["postgres_copy_primary_key_only"] = statistics.median(pk)
        print(f"  PostgreSQL COPY + unique blind index + audit row:    {statistics.median(pg):,.0f} persons/s")
        print(f"  PostgreSQL COPY, primary key only:                   {statistics.median(pk):,.0f} persons/s")
    except Exception as exc:
        ceilings["postgres"] = f"skipped: {type(exc).__name__}"
        print(f"  PostgreSQL ceiling SKIPPED ({type(exc).__name__})")

    registration: dict[str, object] = {}
    if not args.skip_registration:
        from bench.registration import bench_registration

        print(f"registration of {n:,} kit rows against {n:,} persons ...", flush=True)
        pg_ok = isinstance(ceilings.get("postgres_copy_unique_index_audit"), float)
        with tempfile.TemporaryDirectory(dir=ROOT / "var" if (ROOT / "var").exists() else None) as work:
            registration = bench_registration(n, Path(work), args.pg_url if pg_ok else None)
        for db, key in (("sqlite", "sqlite_executemany_unique_index_audit"),
                        ("postgres", "postgres_copy_unique_index_audit")):
            if db in registration and isinstance(ceilings.get(key), float):
                share = registration[db]["register_rows_per_s"] / ceilings[key]  # type: ignore[index]
                registration[db]["share_of_ceiling"] = share  # type: ignore[index]
                print(f"  {db}: {share:.0%} of the raw-insert ceiling")

    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": n,
        "runs": args.runs,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "steps": results,
        "ceilings_persons_per_s": ceilings,
        "registration": registration,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "foundation.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    (args.out / "foundation.md").write_text(render(report), encoding="utf-8")
    print(f"report: {args.out / 'foundation.md'}")


def _csv_step(rows: list[tuple[str, str, str, str]], step: Callable[[str, Callable[[], object]], None]) -> None:
    """Read + validate the same rows as a kit file (the formats package's strict streaming reader)."""
    from jutaku.formats.csvio import read_csv, write_csv
    from jutaku.formats.layouts import KIT

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kit.csv"
        write_csv(path, KIT, ({"受付番号": f"K{i:011d}", "個人ID": r[0], "氏名": r[3], "氏名カナ": r[2],
                               "生年月日": "19700123", "性別": "1", "個人番号": r[1], "本人確認書類": "1",
                               "受付日": "20260401"} for i, r in enumerate(rows)), strict=False)

        def read() -> int:
            with read_csv(path, KIT) as reader:
                return sum(1 for row in reader if not row.errors)

        step("read + validate kit CSV row (UTF-8)", read)


def _crypto_steps(rows: list[tuple[str, str, str, str]], normalised: list[str],
                  step: Callable[[str, Callable[[], object]], None]) -> list[ceiling.Row]:
    """Encryption (a new per-person DEK, wrapped by the KEK) + blind index, through the project's API."""
    from jutaku.crypto.blind_index import BlindIndexer
    from jutaku.crypto.envelope import FieldCipher, MemoryDekStore
    from jutaku.crypto.keyring import KeyRing, initialise_keys

    with tempfile.TemporaryDirectory() as keys:
        initialise_keys(Path(keys))
        ring = KeyRing.load(Path(keys), production=False)
        indexer = BlindIndexer(ring.index_key)
        items = [(r[0], num.encode("ascii")) for r, num in zip(rows, normalised, strict=True)]

        def seal() -> list[ceiling.Row]:
            cipher = FieldCipher(ring, MemoryDekStore())  # fresh store: every person is new
            out: list[ceiling.Row] = []
            for start in range(0, len(items), 5000):
                part = items[start:start + 5000]
                tokens = cipher.encrypt_many("registry_mynumberrecord", "my_number", part)
                indexes = indexer.compute_many(n.decode("ascii") for _, n in part)
                out.extend((ref, tok, bi) for (ref, _), tok, bi in zip(part, tokens, indexes, strict=True))
            return out

        step("encrypt (new per-person DEK) + blind index", seal)
        return seal()


def render(report: dict[str, object]) -> str:
    lines = [
        "# Foundation benchmark",
        "",
        f"{report['rows']:,} synthetic rows, median of {report['runs']} runs, {report['when']}, "
        f"{report['machine']}.",  # type: ignore[index]
        "",
        "## Per-row costs",
        "| step | rows/s | µs/row |",
        "|---|---:|---:|",
    ]
    for name, r in report["steps"].items():  # type: ignore[attr-defined]
        lines.append(f"| {name} | {r['rows_per_s']:,.0f} | {r['us_per_row']:.2f} |")
    lines += ["", "## Raw-insert ceilings (persons/s; the denominators)", "| database, method | persons/s |",
              "|---|---:|"]
    for name, v in report["ceilings_persons_per_s"].items():  # type: ignore[attr-defined]
        lines.append(f"| {name} | {v:,.0f} |" if isinstance(v, float) else f"| {name} | {v} |")
    reg = report.get("registration") or {}
    if reg:
        lines += ["", "## Registration (jutaku register kit, whole process incl. start-up)",
                  f"World build: {reg.get('world_s')} s.", "",
                  "| database | targets rows/s | register rows/s | share of ceiling | peak MiB (register) |",
                  "|---|---:|---:|---:|---:|"]
        for db in ("sqlite", "postgres"):
            if db in reg:
                r = reg[db]
                lines.append(f"| {db} | {r['targets_rows_per_s']:,.0f} | {r['register_rows_per_s']:,.0f} | "
                             f"{r.get('share_of_ceiling', 0):.0%} | {r['register_peak_mib']:,.0f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
