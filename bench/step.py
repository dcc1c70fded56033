"""One benchmark step in its own process (so /usr/bin/time reports that step's own peak memory).

Calls the services directly with the system actor: the benchmark measures the batch paths, not the
sign-in. Usage: ``python bench/step.py init|targets FILE|procedures FILE|kit FILE|linkage WORLD OUT|
inquiry-create OUT|inquiry-answer WORLD REQ OUT|inquiry-import FILE|juki-request OUT|juki-answer WORLD REQ OUT|
juki-import FILE|business-export OUT|deletion OUTDIR`` with JUTAKU_HOME etc. set.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))


def main() -> None:
    from jutaku.bootstrap import setup_django

    setup_django()
    from jutaku import config
    from jutaku.accounts.actor import SYSTEM

    what = sys.argv[1]
    if what == "init":
        from jutaku.system_commands import initialise_home

        initialise_home(config.get().home, mode=config.get().mode)
    elif what == "targets":
        from jutaku.registry.targets import import_targets

        print(import_targets(Path(sys.argv[2]), actor=SYSTEM, progress=False).job.counts)
    elif what == "kit":
        from jutaku.registry.registration import register_numbers

        print(register_numbers(Path(sys.argv[2]), source="kit", actor=SYSTEM, progress=False).job.counts)
    elif what == "procedures":
        from jutaku.registry.procedures import import_procedures

        print(import_procedures(Path(sys.argv[2]), actor=SYSTEM, progress=False).job.counts)
    elif what == "linkage":  # WORLD OUTDIR: request, simulated answers, import (untimed set-up)
        from jutaku.linkage.requests import request_linkage
        from jutaku.linkage.results import import_linkage_results
        from jutaku.sim.linkage import answer_linkage

        world, out = Path(sys.argv[2]), Path(sys.argv[3])
        sent = request_linkage(out / "link-req.csv", actor=SYSTEM, plain=True)
        answer_linkage(world, out / "link-req.csv", out / "link-ans.csv")
        print(sent.written, import_linkage_results(out / "link-ans.csv", actor=SYSTEM).job.counts)
    elif what == "inquiry-create":  # OUTFILE
        from jutaku.linkage.inquiries import create_inquiry_file

        made = create_inquiry_file("JT99000000530001", 2026, Path(sys.argv[2]), actor=SYSTEM, plain=True)
        print(made.written, made.counts)
    elif what == "inquiry-answer":  # WORLD REQUESTS OUT (the simulated server; untimed)
        from jutaku.sim.linkage import answer_inquiries

        print(answer_inquiries(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])))
    elif what == "inquiry-import":  # FILE
        from jutaku.linkage.inquiry_results import import_inquiry_results

        print(import_inquiry_results(Path(sys.argv[2]), actor=SYSTEM).job.counts)
    elif what == "juki-request":  # OUTFILE (plain: the simulated network reads it)
        from jutaku.juki.requests import request_juki

        print(request_juki(2026, Path(sys.argv[2]), actor=SYSTEM, plain=True).written)
    elif what == "juki-answer":  # WORLD REQUESTS OUT (the simulated network; untimed)
        from jutaku.sim.juki import answer_juki

        print(answer_juki(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])))
    elif what == "juki-import":  # FILE
        from jutaku.juki.results import import_juki_results

        print(import_juki_results(Path(sys.argv[2]), actor=SYSTEM).job.counts)
    elif what == "business-export":  # OUTFILE (requested and approved by two bench actors, then run)
        from jutaku.accounts.actor import Actor
        from jutaku.accounts.approvals import approve
        from jutaku.accounts.permissions import Permission
        from jutaku.linkage.export import request_export, run_export

        inquirer = Actor("bench.inquirer", "127.0.0.1", frozenset(Permission))
        approval = request_export("JT99000000530001", 2026, actor=inquirer, reason="bench")
        approve(approval.pk, actor=Actor("bench.supervisor", "127.0.0.1", frozenset(Permission)))
        print(run_export(approval.pk, Path(sys.argv[2]), actor=inquirer, plain=True).rows)
    elif what == "deletion":  # OUTDIR: every person becomes a deletion target (理由 9), approved, run
        from jutaku.accounts.actor import Actor
        from jutaku.accounts.approvals import approve
        from jutaku.accounts.permissions import Permission
        from jutaku.formats.csvio import write_csv
        from jutaku.formats.layouts import DELETION_TARGETS
        from jutaku.registry.models import MyNumberRecord
        from jutaku.retention.deletion import request_deletion, run_deletion

        out = Path(sys.argv[2])
        holders = MyNumberRecord.objects.values_list("person__person_id", flat=True).iterator(chunk_size=50_000)
        write_csv(out / "deletion.csv", DELETION_TARGETS, ({"個人ID": p, "削除理由": "9"} for p in holders))
        clerk = Actor("bench.registrar", "127.0.0.1", frozenset(Permission))
        approval = request_deletion(out / "deletion.csv", actor=clerk, reason="bench")
        approve(approval.pk, actor=Actor("bench.supervisor", "127.0.0.1", frozenset(Permission)))
        print(run_deletion(approval.pk, actor=clerk, report=out / "deletion-report.csv").job.counts)
    elif what == "web-sample":  # N OUTFILE: N synthetic inquirer accounts and a sample of persons (web bench)
        _web_sample(int(sys.argv[2]), Path(sys.argv[3]))
    else:
        raise SystemExit(f"unknown step {what}")


def _web_sample(users: int, out: Path) -> None:
    import json
    import secrets
    from datetime import timedelta

    from django.utils import timezone

    from jutaku.accounts.actor import SYSTEM
    from jutaku.accounts.terminals import register_console
    from jutaku.accounts.users import NewUser, create_user
    from jutaku.registry.models import Person

    register_console(actor=SYSTEM)
    today = timezone.localdate()
    accounts = []
    tag = secrets.token_hex(2)
    for n in range(users):
        password = secrets.token_urlsafe(18)
        new = NewUser(username=f"load{tag}{n:02d}.w", full_name=f"負荷試験 {n}", staff_id=f"W{tag}{n:03d}",
                      organisation="bureau", start_date=today - timedelta(days=1), end_date=today + timedelta(days=30),
                      roles=("inquirer",))
        made = create_user(new, password, actor=SYSTEM, dual_control=False, must_change_password=False)
        accounts.append({"username": new.username, "password": password, "secret": made.enrolment.secret})
    picked = Person.objects.order_by("?").values_list("pk", "person_id", "kana_key", "name", "birth_date")[:2000]
    persons = [{"pk": pk, "person_id": pid, "kana_prefix": key[:3], "surname": name.split(" ")[0],
                "birth_date": birth.isoformat() if birth else ""} for pk, pid, key, name, birth in picked]
    out.write_text(json.dumps({"accounts": accounts, "persons": persons}, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
