"""Registration benchmark: N kit rows against an N-person register, on SQLite and PostgreSQL.

Each database gets a fresh home; the world is built once (kit share 100 %, so kit rows = persons).
Every step runs as its own process (bench/step.py, the services with the system actor) under `/usr/bin/time`, so the figures include start-up and
the peak resident memory is the step's own. Rows/s of `register kit` are reported next to the
raw-insert ceiling of the same database measured in the same `make bench` run.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _env(home: Path, url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUTAKU_", "DJANGO_"))}
    env.update(JUTAKU_HOME=str(home), JUTAKU_MODE="demo", PYTHONPATH=str(ROOT / "src"))
    if url:
        env["JUTAKU_DATABASE_URL"] = url
    return env


def timed_step(env: dict[str, str], *args: str) -> tuple[float, int, str]:
    """Run one step (bench/step.py ARGS) in its own process; return (seconds, peak RSS in KiB, stdout)."""
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "MAXRSS=%M", sys.executable, str(ROOT / "bench" / "step.py"),
                           *args],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"step {' '.join(args)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    match = re.search(r"MAXRSS=(\d+)", proc.stderr)
    return elapsed, int(match.group(1)) if match else -1, proc.stdout


def run_one(world: Path, home: Path, url: str | None, rows: int) -> dict[str, Any]:
    env = _env(home, url)
    timed_step(env, "init")
    t_targets, rss_targets, _ = timed_step(env, "targets", str(world / "targets.csv"))
    t_kit, rss_kit, out = timed_step(env, "kit", str(world / "kit.csv"))
    return {
        "targets_s": round(t_targets, 1), "targets_rows_per_s": rows / t_targets, "targets_peak_mib": rss_targets / 1024,
        "register_s": round(t_kit, 1), "register_rows_per_s": rows / t_kit, "register_peak_mib": rss_kit / 1024,
        "outcomes": out.strip(),
    }


def bench_registration(rows: int, workdir: Path, pg_url: str | None) -> dict[str, Any]:
    from jutaku.sim.world import WorldSpec, build_world

    world = workdir / "world"
    start = time.perf_counter()
    build_world(WorldSpec(persons=rows, seed=2026, kit_share=1.0, portal_share=0.0, truth=False), world)
    result: dict[str, Any] = {"world_s": round(time.perf_counter() - start, 1)}
    print(f"  world of {rows:,} persons built in {result['world_s']} s", flush=True)
    result["sqlite"] = run_one(world, workdir / "home-sqlite", None, rows)
    print(f"  SQLite: register {result['sqlite']['register_rows_per_s']:,.0f} rows/s, "
          f"peak {result['sqlite']['register_peak_mib']:,.0f} MiB", flush=True)
    if pg_url:
        import psycopg

        name = f"jutaku_bench_{secrets.token_hex(4)}"
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            result["postgres"] = run_one(world, workdir / "home-pg", pg_url.rsplit("/", 1)[0] + "/" + name, rows)
            print(f"  PostgreSQL: register {result['postgres']['register_rows_per_s']:,.0f} rows/s, "
                  f"peak {result['postgres']['register_peak_mib']:,.0f} MiB", flush=True)
        finally:
            with psycopg.connect(pg_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return result
