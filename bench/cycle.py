"""The whole-cycle benchmark (issues 5 and 6): after registration, integrated numbers, the income-declaration
inquiry (file creation, result import), Juki-net (result import), the business export and the bulk deletion
of every person, for N persons on SQLite and PostgreSQL, each timed step against the raw-insert ceiling of
the same database measured in the same run. Writes ``bench/reports/cycle.{md,json}``.

Usage: ``python bench/cycle.py --persons 1000000`` (``make bench-cycle``; ``make bench`` runs it after the
foundation benchmark). Set-up steps are untimed; each timed step is its own process (start-up included).
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench import ceiling  # noqa: E402
from bench.inquiry import _ceiling_rows  # noqa: E402
from bench.registration import _env, timed_step  # noqa: E402

#: (step, label) of the timed steps; the rate is rows of that step's file per second.
TIMED = [("inquiry-create", "情報照会ファイル作成"), ("inquiry-import", "情報照会結果取込"),
         ("juki-import", "住基ネット結果取込"), ("business-export", "業務システム連携"), ("deletion", "一括削除")]


def run_db(world: Path, home: Path, url: str | None, out: Path) -> dict[str, Any]:
    env = _env(home, url)
    out.mkdir(parents=True, exist_ok=True)
    timed_step(env, "init")
    for step, arg in (("targets", "targets.csv"), ("procedures", "procedures.csv"), ("kit", "kit.csv")):
        timed_step(env, step, str(world / arg))
    timed_step(env, "linkage", str(world), str(out))
    result: dict[str, Any] = {}

    def timed(name: str, *args: str) -> str:
        seconds, rss, printed = timed_step(env, name, *args)
        result[name] = {"s": round(seconds, 1), "peak_mib": rss / 1024}
        return printed

    def rows(name: str, count: int) -> None:
        result[name] |= {"rows": count, "rows_per_s": count / result[name]["s"]}

    requests = int(timed("inquiry-create", str(out / "inq.csv")).split(" ", 1)[0])
    rows("inquiry-create", requests)
    timed_step(env, "inquiry-answer", str(world), str(out / "inq.csv"), str(out / "inq-ans.csv"))
    timed("inquiry-import", str(out / "inq-ans.csv"))
    rows("inquiry-import", requests)
    _, _, queried = timed_step(env, "juki-request", str(out / "juki.csv"))
    timed_step(env, "juki-answer", str(world), str(out / "juki.csv"), str(out / "juki-ans.csv"))
    timed("juki-import", str(out / "juki-ans.csv"))
    rows("juki-import", int(queried.strip()))
    exported = int(timed("business-export", str(out / "business.csv")).strip())
    rows("business-export", exported)
    timed("deletion", str(out))
    with (out / "deletion.csv").open(encoding="utf-8") as fh:
        rows("deletion", sum(1 for _ in fh) - 1)
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "reports")
    args = ap.parse_args()
    from jutaku.sim.world import WorldSpec, build_world

    report: dict[str, Any] = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "persons": args.persons,
                              "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}
    with tempfile.TemporaryDirectory(dir=ROOT / "var" if (ROOT / "var").exists() else None) as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        build_world(WorldSpec(persons=args.persons, seed=2026, kit_share=1.0, portal_share=0.0), work / "world")
        report["world_s"] = round(time.perf_counter() - start, 1)
        rows = _ceiling_rows(args.persons)
        report["ceiling_sqlite"] = ceiling.sqlite_ceiling(rows, work)
        report["sqlite"] = run_db(work / "world", work / "home-sqlite", None, work / "out-sqlite")
        print("SQLite:", json.dumps(report["sqlite"], ensure_ascii=False), flush=True)
        try:
            import psycopg

            report["ceiling_postgres"] = ceiling.postgres_ceiling(rows, args.pg_url)
            name = f"jutaku_bench_{secrets.token_hex(4)}"
            with psycopg.connect(args.pg_url, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            try:
                report["postgres"] = run_db(work / "world", work / "home-pg", args.pg_url.rsplit("/", 1)[0] + "/" + name,
                                            work / "out-pg")
                print("PostgreSQL:", json.dumps(report["postgres"], ensure_ascii=False), flush=True)
            finally:
                with psycopg.connect(args.pg_url, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception as exc:  # reported in the report, not hidden
            report["postgres"] = f"skipped: {type(exc).__name__}: {exc}"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cycle.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    (args.out / "cycle.md").write_text(render(report), encoding="utf-8")
    print(f"report: {args.out / 'cycle.md'}")


def render(r: dict[str, Any]) -> str:
    lines = ["# Whole-cycle benchmark", "",
             f"{r['persons']:,} persons, {r['when']}, {r['machine']}; world build {r['world_s']} s. "
             "Whole processes, start-up included; rows/s of each step's file.", "",
             "| database | step | rows | s | rows/s | share of ceiling | peak MiB |", "|---|---|---:|---:|---:|---:|---:|"]
    for db in ("sqlite", "postgres"):
        d, c = r.get(db), r.get(f"ceiling_{db}")
        if not isinstance(d, dict) or not isinstance(c, float):
            lines.append(f"| {db} | {d} | | | | | |")
            continue
        for step, label in TIMED:
            s = d.get(step, {})
            if "rows_per_s" in s:
                lines.append(f"| {db} | {label} | {s['rows']:,} | {s['s']} | {s['rows_per_s']:,.0f} | "
                             f"{s['rows_per_s'] / c:.0%} | {s['peak_mib']:,.0f} |")
        lines.append(f"| {db} | ceiling (persons/s) | | | {c:,.0f} | 100% | |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
