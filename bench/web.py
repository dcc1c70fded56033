"""Web load benchmark (issue 7): person search and the detail page with 1,000,000 persons in PostgreSQL,
20 concurrent staff on loopback; the 95th percentile must stay under 200 ms.

Usage: ``python bench/web.py --persons 1000000`` (``make bench-web``). Builds the world and registers it
(targets, procedures, kit) on a fresh PostgreSQL database (or ``--reuse-db NAME`` a database such a run kept
with ``--keep-db``), makes 20 synthetic inquirer accounts, starts ``jutaku serve`` (gunicorn) and runs locust
headless (``bench/locustfile.py``). Writes ``bench/reports/web.{md,json}``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.registration import _env, timed_step  # noqa: E402

TARGET_MS = 200
#: How the screens are addressed (kept here so the locustfile holds no URL of its own).
URLS = {"search_url": "/persons/", "id_param": "person_id", "kana_param": "kana", "detail_url": "/persons/{pk}/"}


def setup(persons: int, work: Path, url: str, env: dict[str, str]) -> None:
    from jutaku.sim.world import WorldSpec, build_world

    start = time.perf_counter()
    build_world(WorldSpec(persons=persons, seed=2026, kit_share=1.0, portal_share=0.0, truth=False), work / "world")
    print(f"world of {persons:,} persons in {time.perf_counter() - start:.0f} s", flush=True)
    timed_step(env, "init")
    for step, name in (("targets", "targets.csv"), ("procedures", "procedures.csv"), ("kit", "kit.csv")):
        seconds, _, _ = timed_step(env, step, str(work / "world" / name))
        print(f"{step}: {seconds:.0f} s", flush=True)


def accounts_and_sample(env: dict[str, str], users: int, out: Path) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "step.py"), "web-sample", str(users), str(out)],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    sample: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    sample.update(URLS)
    out.write_text(json.dumps(sample, ensure_ascii=False), encoding="utf-8")
    return sample


def wait_up(base: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/login/", timeout=2) as r:  # noqa: S310 - our loopback server
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("the web server did not come up")


def run_load(env: dict[str, str], sample_path: Path, users: int, seconds: int, work: Path, port: int) -> list[dict[str, str]]:
    server = subprocess.Popen([sys.executable, "-m", "jutaku", "serve", "--port", str(port), "--workers", "4"],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(work / "serve.log", "w"))  # noqa: SIM115
    try:
        wait_up(f"http://127.0.0.1:{port}")
        prefix = work / "locust"
        subprocess.run([sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                        "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--host", f"http://127.0.0.1:{port}",
                        "--csv", str(prefix), "--only-summary"],
                       env=env | {"JUTAKU_BENCH_SAMPLE": str(sample_path)}, cwd=ROOT, check=False, timeout=seconds + 300)
        with open(f"{prefix}_stats.csv", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=120)
    ap.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--reuse-db", help="a database kept by an earlier run (--keep-db)")
    ap.add_argument("--keep-db", action="store_true")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "reports")
    args = ap.parse_args()
    import psycopg

    base = args.pg_url.rsplit("/", 1)[0]
    db = args.reuse_db or f"jutaku_web_{secrets.token_hex(4)}"
    with tempfile.TemporaryDirectory(dir=ROOT / "var" if (ROOT / "var").exists() else None) as tmp:
        work = Path(tmp)
        home = ROOT / "var" / f"bench-web-{db}"  # outlives the run only with --keep-db (for --reuse-db)
        env = _env(home, f"{base}/{db}")
        if not args.reuse_db:
            with psycopg.connect(args.pg_url, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{db}"')
            setup(args.persons, work, args.pg_url, env)
        try:
            sample = accounts_and_sample(env, args.users, work / "sample.json")
            stats = run_load(env, work / "sample.json", args.users, args.seconds, work, args.port)
        finally:
            if not args.keep_db and not args.reuse_db:
                with psycopg.connect(args.pg_url, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
                shutil.rmtree(home, ignore_errors=True)
            elif args.keep_db:
                print(f"kept database {db} and home {home}: rerun with --reuse-db {db}", flush=True)
    report = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "persons": args.persons, "users": args.users,
              "seconds": args.seconds, "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
              "sampled_persons": len(sample["persons"]), "stats": stats}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "web.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    (args.out / "web.md").write_text(render(report), encoding="utf-8")
    print(render(report))


def render(r: dict[str, Any]) -> str:
    lines = ["# Web load benchmark", "",
             f"{r['persons']:,} persons in PostgreSQL, {r['users']} concurrent staff for {r['seconds']} s on loopback "
             f"(gunicorn 4 workers × 4 threads; locust), {r['when']}, {r['machine']}. Target: p95 < {TARGET_MS} ms.",
             "Each user signs in once (password + TOTP), then searches by 個人ID, kana prefix or surname + birth date and opens detail pages of "
             "random registered persons; every search and view writes its audit record and touches the session.", "",
             "| request | count | failures | median ms | p95 ms | p99 ms | max ms | req/s | p95 < 200 ms |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for row in r["stats"]:
        if row["Name"] in ("login page", "sign in"):
            continue
        p95 = float(row["95%"] or 0)
        lines.append(f"| {row['Name']} | {row['Request Count']} | {row['Failure Count']} | {row['50%']} | {row['95%']} | "
                     f"{row['99%']} | {float(row['Max Response Time']):.0f} | {float(row['Requests/s']):.1f} | "
                     f"{'yes' if p95 < TARGET_MS else 'NO'} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
