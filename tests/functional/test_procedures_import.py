"""Filed procedures (手続抽出): upsert, consent, sticky non-disclosure, coded rejections (issue 4 item 1)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from jutaku.accounts.actor import SYSTEM
from jutaku.formats.csvio import write_csv
from jutaku.formats.layouts import PROCEDURES
from jutaku.registry.models import Filing, ImportRejection, Person
from jutaku.registry.procedures import import_procedures, permitted_procedure_codes
from jutaku.registry.targets import import_targets
from jutaku.sim.world import WorldSpec, build_world

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys", "allowlist")]


@pytest.fixture
def world(tmp_path: Path) -> Path:
    out = tmp_path / "world"
    build_world(WorldSpec(persons=300, seed=13), out)
    import_targets(out / "targets.csv", actor=SYSTEM, progress=False)
    return out


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_filing_of_the_world_loads_with_its_consent_and_wish(world: Path) -> None:
    rows = rows_of(world / "procedures.csv")
    result = import_procedures(world / "procedures.csv", actor=SYSTEM, progress=False)
    assert result.job.counts == {"OK": len(rows)}
    assert Filing.objects.count() == len(rows)
    wished = {r["対象者個人ID"] for r in rows if r["不開示希望"] == "1"}
    assert set(Person.objects.filter(non_disclosure=True).values_list("person_id", flat=True)) == wished
    consented = {(r["受付番号"], r["対象者個人ID"]) for r in rows if r["照会同意"] == "1"}
    assert set(Filing.objects.filter(consent=True).values_list("receipt_no", "person__person_id")) == consented


def test_bad_rows_get_their_codes_and_the_rest_loads(world: Path, tmp_path: Path) -> None:
    rows = rows_of(world / "procedures.csv")[:6]
    good = rows[0]
    unknown = dict(rows[1], 対象者個人ID="9999999999")
    not_permitted = dict(rows[2], 手続コード="JT99999999999999")
    malformed = dict(rows[3], 受付日="20261340")
    dup_a, dup_b = rows[4], dict(rows[4], 照会同意="0" if rows[4]["照会同意"] == "1" else "1")
    path = tmp_path / "procedures.csv"
    write_csv(path, PROCEDURES, [good, unknown, not_permitted, malformed, dup_a, dup_b], strict=False)
    result = import_procedures(path, actor=SYSTEM, progress=False)
    assert result.job.counts == {"OK": 1, "E02": 1, "E08": 1, "E00": 1, "E06": 2}
    codes = dict(ImportRejection.objects.filter(job_id=result.job.job_id).values_list("line_no", "code"))
    assert codes == {3: "E02", 4: "E08", 5: "E00", 6: "E06", 7: "E06"}
    assert Filing.objects.count() == 1
    assert "JT99999999999999" not in permitted_procedure_codes()


def test_a_later_file_never_clears_non_disclosure(world: Path, tmp_path: Path) -> None:
    row = rows_of(world / "procedures.csv")[0]
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    write_csv(first, PROCEDURES, [dict(row, 不開示希望="1")], strict=False)
    write_csv(second, PROCEDURES, [dict(row, 不開示希望="0", 照会同意="0")], strict=False)
    import_procedures(first, actor=SYSTEM, progress=False)
    result = import_procedures(second, actor=SYSTEM, progress=False)
    assert result.job.counts == {"U01": 1}
    person = Person.objects.get(person_id=row["対象者個人ID"])
    assert person.non_disclosure is True
    filing = Filing.objects.get(receipt_no=row["受付番号"], person=person)
    assert filing.consent is False and filing.non_disclosure_wish is False
