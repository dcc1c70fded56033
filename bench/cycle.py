"""The whole-cycle benchmark (issues 5 and 6): after registration, integrated numbers, the income-declaration
inquiry (file creation, result import), Juki-net (result import), the business export and the bulk deletion
of every person, for N persons on SQLite and PostgreSQL, each timed step against the raw-insert ceiling of
the same database measured in the same run. Writes ``bench/reports/cycle.{md,json}``.

Usage: ``python bench/cycle.py --persons 1000000`` (``make bench-cycle``; ``make bench`` runs it after the
foundation benchmark). Set-up steps are untimed; each timed step is its own process (start-up included).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.inquiry import drive  # noqa: E402
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
        print(f"  {'postgres' if url else 'sqlite'} {name}: {seconds:.1f} s, peak {rss / 1024:,.0f} MiB", flush=True)
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
    drive("cycle", args.persons, args.pg_url, args.out, run_db, render)


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
