"""Bad input and crashes for the two result imports (issue 5, "bad-input and crash tests as in the
registration issue"): a broken file is refused whole with its code and changes nothing; a bad cell is a
row error while the rest loads; a crash inside a chunk leaves the database as before that chunk and the
rerun resumes to the same end state as an uninterrupted run. SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from jutaku.accounts.actor import SYSTEM
from jutaku.exchange.models import MediaLedgerEntry
from jutaku.formats.csvio import prescan
from jutaku.formats.errors import FileRejected
from jutaku.formats.layouts import INQUIRY_RESULT_LAYOUT, JUKI_RESULT_LAYOUT, LINKAGE_RESULT_LAYOUT, Layout
from jutaku.formats.manifest import write_manifest
from jutaku.jobs.models import Job
from jutaku.juki import results as juki_results
from jutaku.juki.models import JukiQuery, JukiResult
from jutaku.juki.requests import request_juki
from jutaku.linkage import inquiry_results, results
from jutaku.linkage.inquiries import create_inquiry_file
from jutaku.linkage.models import InquiryRequest, InquiryResult, IntegratedNumber, LinkageRequest
from jutaku.linkage.requests import request_linkage
from jutaku.registry.models import ImportRejection, Person
from jutaku.registry.procedures import import_procedures
from jutaku.registry.registration import register_numbers
from jutaku.registry.targets import import_targets
from jutaku.sim.juki import answer_juki
from jutaku.sim.linkage import answer_inquiries, answer_linkage
from jutaku.sim.world import WorldSpec, build_world

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys", "allowlist")]


@pytest.fixture
def answers(tmp_path: Path) -> dict[str, Path]:
    """A register with sent linkage requests and their answers, and (after those are imported in a copy
    of the flow) sent inquiries and their answers: the two files under test."""
    world = tmp_path / "world"
    build_world(WorldSpec(persons=250, seed=12), world)
    import_targets(world / "targets.csv", actor=SYSTEM, progress=False)
    import_procedures(world / "procedures.csv", actor=SYSTEM, progress=False)
    register_numbers(world / "kit.csv", source="kit", actor=SYSTEM, progress=False, workers=0)
    request_linkage(tmp_path / "link-req.csv", actor=SYSTEM, plain=True)
    answer_linkage(world, tmp_path / "link-req.csv", tmp_path / "link-ans.csv")
    request_juki(2026, tmp_path / "juki-req.csv", actor=SYSTEM, plain=True)
    answer_juki(world, tmp_path / "juki-req.csv", tmp_path / "juki-ans.csv")
    return {"world": world, "linkage": tmp_path / "link-ans.csv", "juki": tmp_path / "juki-ans.csv"}


def _case(which: str, answers: dict[str, Path], tmp_path: Path) -> tuple[Path, Layout, Any, Any]:
    """(answer file, layout, service, module) of one of the three result imports."""
    if which == "linkage":
        return answers["linkage"], LINKAGE_RESULT_LAYOUT, results.import_linkage_results, results
    if which == "juki":
        return answers["juki"], JUKI_RESULT_LAYOUT, juki_results.import_juki_results, juki_results
    return (_inquiry_answers(answers, tmp_path), INQUIRY_RESULT_LAYOUT, inquiry_results.import_inquiry_results,
            inquiry_results)


def _inquiry_answers(answers: dict[str, Path], tmp_path: Path) -> Path:
    results.import_linkage_results(answers["linkage"], actor=SYSTEM)
    create_inquiry_file("JT99000000530001", 2026, tmp_path / "inq.csv", actor=SYSTEM, plain=True)
    answer_inquiries(answers["world"], tmp_path / "inq.csv", tmp_path / "inq-ans.csv")
    return tmp_path / "inq-ans.csv"


def utf16(text: str, path: Path, layout: Layout) -> None:
    path.write_bytes(text.encode("utf-16"))


def broken_cp932(text: str, path: Path, layout: Layout) -> None:
    data = bytearray(text.encode("cp932"))
    # A lead byte where a character starts (after an ASCII byte), followed by a byte no character has.
    i = next(i for i in range(len(data) // 2, len(data) - 1) if data[i - 1] < 0x80 and data[i] < 0x80)
    data[i], data[i + 1] = 0x81, 0x0A
    path.write_bytes(bytes(data))


def truncated(text: str, path: Path, layout: Layout) -> None:
    path.write_text(text, encoding="utf-8")
    info = prescan(path, layout)
    write_manifest(path, interface=layout.name, layout_version=1, record_count=info.rows, sha256=info.sha256,
                   created_at=datetime.now(UTC), created_by="server", job_id=None)
    lines = text.splitlines(keepends=True)
    path.write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")


def junk(text: str, path: Path, layout: Layout) -> None:
    path.write_bytes(bytes(range(256)) * 40_000)


def wrong_header(text: str, path: Path, layout: Layout) -> None:
    path.write_text(text.replace(layout.header[0], "依頼番号", 1), encoding="utf-8")


BROKEN: dict[str, tuple[Callable[[str, Path, Layout], None], str]] = {
    "UTF-16": (utf16, "R_"), "CP932 broken lead byte": (broken_cp932, "R_ENCODING"),
    "truncated with manifest": (truncated, "R_MANIFEST"), "10 MB junk": (junk, "R_"),
    "wrong header": (wrong_header, "R_HEADER"),
}


def _state() -> dict[str, Any]:
    return {"linked": IntegratedNumber.objects.count(), "results": InquiryResult.objects.count(),
            "juki": JukiResult.objects.count(), "deceased": Person.objects.filter(status="4").count(),
            "link_states": sorted(LinkageRequest.objects.values_list("request_no", "state")),
            "inq_states": sorted(InquiryRequest.objects.values_list("request_no", "state"))}


@pytest.mark.parametrize("which", ["linkage", "inquiry", "juki"])
@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_answer_file_is_refused_whole(answers: dict[str, Path], tmp_path: Path, which: str,
                                               case: str) -> None:
    source, layout, service, _ = _case(which, answers, tmp_path)
    before, jobs = _state(), Job.objects.count()
    bad = tmp_path / "bad" / source.name
    bad.parent.mkdir()
    build, code = BROKEN[case]
    build(source.read_text(encoding="utf-8-sig"), bad, layout)
    with pytest.raises(FileRejected) as exc:
        service(bad, actor=SYSTEM)
    assert exc.value.code.startswith(code)
    assert _state() == before and Job.objects.count() == jobs
    assert MediaLedgerEntry.objects.filter(interface=layout.name).latest("id").outcome == exc.value.code


@pytest.mark.parametrize("which", ["linkage", "inquiry", "juki"])
def test_a_formula_cell_is_a_row_error_and_the_rest_loads(answers: dict[str, Path], tmp_path: Path,
                                                          which: str) -> None:
    source, _, service, _ = _case(which, answers, tmp_path)
    lines = source.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    lines[1] = "=HYPERLINK(\"x\")" + lines[1][lines[1].index(","):]
    bad = tmp_path / "formula" / source.name
    bad.parent.mkdir()
    bad.write_text("".join(lines), encoding="utf-8")
    job = service(bad, actor=SYSTEM).job
    assert list(ImportRejection.objects.filter(job_id=job.job_id, line_no=2).values_list("code", flat=True)) == ["E00"]
    assert sum(job.counts.values()) == len(lines) - 1 and job.counts.get("OK", 0) > 0


@pytest.mark.parametrize("which", ["linkage", "inquiry", "juki"])
def test_a_crash_inside_a_chunk_rolls_it_back_and_the_rerun_resumes(answers: dict[str, Path], tmp_path: Path,
                                                                    which: str, monkeypatch: pytest.MonkeyPatch) -> None:
    source, _, service, module = _case(which, answers, tmp_path)
    real = module.record_many
    calls = {"n": 0}

    def failing(*args: Any, **kwargs: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 3:  # the third chunk dies after its rows were written, before its audit rows
            raise RuntimeError("simulated crash")
        return int(real(*args, **kwargs))

    monkeypatch.setattr(module, "record_many", failing)
    with pytest.raises(RuntimeError):
        service(source, actor=SYSTEM, chunk_size=20)
    job = Job.objects.get(kind=module.KIND)
    assert (job.state, job.cursor) == ("failed", 40)  # two chunks committed, the third rolled back
    if which == "inquiry":  # what the two committed chunks stored, and nothing of the third
        assert InquiryResult.objects.count() == sum(job.counts.get(c, 0) for c in ("OK", "N01", "N02", "N09"))
    elif which == "juki":
        assert JukiResult.objects.count() == sum(job.counts.get(c, 0) for c in ("OK", "D01", "D02", "N01", "N09"))
    else:
        assert IntegratedNumber.objects.count() == job.counts.get("OK", 0)
    assert sum(job.counts.values()) == 40
    monkeypatch.setattr(module, "record_many", real)
    resumed = service(source, actor=SYSTEM, chunk_size=20)
    assert resumed.job.resumed and resumed.job.state == "completed"
    rows = len(source.read_text(encoding="utf-8-sig").splitlines()) - 1
    assert sum(resumed.job.counts.values()) == rows
    # The same end state as one uninterrupted run: each row applied once.
    if which == "linkage":
        assert IntegratedNumber.objects.count() == resumed.job.counts["OK"]
        assert not LinkageRequest.objects.filter(state="open").exists()
    elif which == "juki":
        assert JukiResult.objects.count() == rows
        assert not JukiQuery.objects.filter(state="open").exists()
    else:
        assert InquiryResult.objects.count() == rows
        assert not InquiryRequest.objects.filter(state="open").exists()
