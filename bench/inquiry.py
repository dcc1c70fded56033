"""Inquiry benchmark (issue 5): inquiry-file creation and result import for N persons, on SQLite and
PostgreSQL, against the raw-insert ceiling of the same database measured in the same run.

Usage: ``python bench/inquiry.py --persons 1000000`` (``make bench-inquiry PERSONS=…``). The set-up
(world, targets, procedures, kit registration, integrated numbers) is untimed; each timed step runs as its
own process under ``/usr/bin/time`` (start-up included, peak memory its own). Rates are requests (rows of
the inquiry file) per second and answer rows per second. Writes ``bench/reports/inquiry.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench import ceiling  # noqa: E402
from bench.registration import _env, timed_step  # noqa: E402


def _ceiling_rows(n: int) -> list[ceiling.Row]:
    return [(f"{1_000_000_001 + i:010d}", os.urandom(47), os.urandom(16)) for i in range(n)]


def run_db(world: Path, home: Path, url: str | None, out: Path) -> dict[str, Any]:
    env = _env(home, url)
    timed_step(env, "init")
    for step, arg in (("targets", "targets.csv"), ("procedures", "procedures.csv"), ("kit", "kit.csv")):
        timed_step(env, step, str(world / arg))
    out.mkdir(parents=True, exist_ok=True)
    timed_step(env, "linkage", str(world), str(out))
    t_create, rss_create, made = timed_step(env, "inquiry-create", str(out / "inq.csv"))
    requests = int(made.split(" ", 1)[0])
    timed_step(env, "inquiry-answer", str(world), str(out / "inq.csv"), str(out / "inq-ans.csv"))
    t_import, rss_import, counts = timed_step(env, "inquiry-import", str(out / "inq-ans.csv"))
    return {"requests": requests, "create_s": round(t_create, 1), "create_rows_per_s": requests / t_create,
            "create_peak_mib": rss_create / 1024, "import_s": round(t_import, 1),
            "import_rows_per_s": requests / t_import, "import_peak_mib": rss_import / 1024,
            "import_counts": counts.strip()}


RunDb = Callable[[Path, Path, "str | None", Path], dict[str, Any]]


def drive(name: str, persons: int, pg_url: str, out_dir: Path, run_db: RunDb,
          render: Callable[[dict[str, Any]], str]) -> dict[str, Any]:
    """Build the world once, measure the SQLite ceiling and run ``run_db`` on SQLite, then the PostgreSQL
    ceiling and ``run_db`` on a fresh PostgreSQL database (dropped after); write ``<name>.{json,md}``."""
    from jutaku.sim.world import WorldSpec, build_world

    report: dict[str, Any] = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "persons": persons,
                              "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}
    with tempfile.TemporaryDirectory(dir=ROOT / "var" if (ROOT / "var").exists() else None) as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        build_world(WorldSpec(persons=persons, seed=2026, kit_share=1.0, portal_share=0.0), work / "world")
        report["world_s"] = round(time.perf_counter() - start, 1)
        print(f"world of {persons:,} persons in {report['world_s']} s", flush=True)
        rows = _ceiling_rows(persons)
        report["ceiling_sqlite"] = ceiling.sqlite_ceiling(rows, work)
        report["sqlite"] = run_db(work / "world", work / "home-sqlite", None, work / "out-sqlite")
        print(f"SQLite: {json.dumps(report['sqlite'], ensure_ascii=False)}", flush=True)
        try:
            import psycopg

            report["ceiling_postgres"] = ceiling.postgres_ceiling(rows, pg_url)
            db = f"jutaku_bench_{secrets.token_hex(4)}"
            with psycopg.connect(pg_url, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{db}"')
            try:
                report["postgres"] = run_db(work / "world", work / "home-pg", pg_url.rsplit("/", 1)[0] + "/" + db,
                                            work / "out-pg")
                print(f"PostgreSQL: {json.dumps(report['postgres'], ensure_ascii=False)}", flush=True)
            finally:
                with psycopg.connect(pg_url, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        except Exception as exc:  # reported in the report, not hidden
            report["postgres"] = f"skipped: {type(exc).__name__}: {exc}"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    (out_dir / f"{name}.md").write_text(render(report), encoding="utf-8")
    print(f"report: {out_dir / f'{name}.md'}")
    return report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "reports")
    args = ap.parse_args()
    drive("inquiry", args.persons, args.pg_url, args.out, run_db, render)


def render(r: dict[str, Any]) -> str:
    lines = ["# Inquiry benchmark", "",
             f"{r['persons']:,} persons (収入の申告, every current person filed), {r['when']}, {r['machine']}.",
             f"World build {r['world_s']} s. Whole processes, start-up included.", "",
             "| database | requests | create rows/s | share of ceiling | import rows/s | share of ceiling |"
             " peak MiB (create / import) | ceiling persons/s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for db in ("sqlite", "postgres"):
        d, c = r.get(db), r.get(f"ceiling_{db}")
        if isinstance(d, dict) and isinstance(c, float):
            lines.append(f"| {db} | {d['requests']:,} | {d['create_rows_per_s']:,.0f} | {d['create_rows_per_s'] / c:.0%} "
                         f"| {d['import_rows_per_s']:,.0f} | {d['import_rows_per_s'] / c:.0%} | "
                         f"{d['create_peak_mib']:,.0f} / {d['import_peak_mib']:,.0f} | {c:,.0f} |")
        elif d is not None:
            lines.append(f"| {db} | {d} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
