"""Test support: run a real job in its own process, so that a test can SIGKILL it (REL-01, REL-03).

Run with the environment of a child home (``JUTAKU_HOME``, ``PYTHONPATH=src``, and
``JUTAKU_DATABASE_URL`` on the PostgreSQL tier)::

    python tests/integration/jobs/kill_support.py run --items 20000 --chunk 500 --sleep 0.05 --pause 0.05
    python tests/integration/jobs/kill_support.py dump

``run`` applies a synthetic input: one PERSON_IMPORT audit record per item (object ``0000000042``) in
chunks, sleeping a little inside each chunk (``--sleep``) and between chunks (``--pause``: lets other
processes write on SQLite) so that the job can be killed in the middle. It prints the result
as JSON and exits 0, or 2 when the run is refused (another run holds the lock). ``dump`` prints the
audited objects in chain order, the jobs of the kind and the audit verification as JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Iterator, Mapping
from typing import Any

KIND = "test.kill"


def synthetic_items(n: int, *, chunk: int, pause: float) -> Iterator[str]:
    """The input stream; it pauses before each chunk, outside any transaction (SQLite has one writer)."""
    for i in range(n):
        if pause and i % chunk == 0:
            time.sleep(pause)
        yield f"synthetic-{i:06d}"


def run(args: argparse.Namespace) -> int:
    from jutaku.accounts.actor import SYSTEM
    from jutaku.audit.events import AuditEvent
    from jutaku.audit.service import AuditEntry, record_many
    from jutaku.jobs.errors import JobRefused
    from jutaku.jobs.runner import ChunkContext, run_job

    def handler(chunk: list[tuple[int, str]], ctx: ChunkContext) -> Mapping[str, int]:
        record_many((AuditEntry(AuditEvent.PERSON_IMPORT, (f"{i:010d}",)) for i, _ in chunk),
                    actor=ctx.actor, job_id=ctx.job_id)
        time.sleep(args.sleep)
        return {"imported": len(chunk)}

    sha = hashlib.sha256(f"synthetic kill-test input {args.items}".encode()).hexdigest()
    try:
        result = run_job(KIND, items=synthetic_items(args.items, chunk=args.chunk, pause=args.pause), input_sha256=sha, input_name="kill-test.csv",
                         actor=SYSTEM, handler=handler, chunk_size=args.chunk, total=args.items,
                         dry_run=args.dry_run, progress=False)
    except JobRefused as exc:
        print(json.dumps({"refused": str(exc)}))
        return 2
    print(json.dumps({"job_id": result.job_id, "state": result.state, "counts": result.counts,
                      "resumed": result.resumed, "duplicate": result.duplicate}))
    return 0


def dump() -> int:
    from jutaku.audit.models import AuditRecord
    from jutaku.audit.service import verify
    from jutaku.jobs.models import Job

    objects = list(AuditRecord.objects.filter(event="person:import").order_by("seq")
                   .values_list("object_ids", flat=True))
    jobs: list[dict[str, Any]] = [
        {"id": j.pk, "state": j.state, "cursor": j.cursor, "counts": j.counts, "dry_run": j.dry_run}
        for j in Job.objects.filter(kind=KIND).order_by("id")
    ]
    result = verify()
    print(json.dumps({"objects": objects, "jobs": jobs, "verify_ok": result.ok, "verify_reason": result.reason}))
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run")
    p_run.add_argument("--items", type=int, default=20_000)
    p_run.add_argument("--chunk", type=int, default=500)
    p_run.add_argument("--sleep", type=float, default=0.05, help="seconds inside each chunk's transaction")
    p_run.add_argument("--pause", type=float, default=0.0, help="seconds between chunks, outside transactions")
    p_run.add_argument("--dry-run", action="store_true")
    sub.add_parser("dump")
    args = parser.parse_args(argv)

    from jutaku.bootstrap import setup_django

    setup_django()
    return run(args) if args.command == "run" else dump()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
