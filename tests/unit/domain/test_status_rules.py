"""Status precedence (jutaku.domain.status; issue 12 item 6): a death recorded from Juki-net is not undone
by an extract, only by a supervisor's correction."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jutaku.domain.status import (
    DECEASED,
    DISAGREES,
    DISAGREES_LABEL,
    STATUSES,
    CorrectionRefused,
    Held,
    StatusSource,
    correct,
    from_extract,
    from_juki_death,
)
from jutaku.registry.targets import OUTCOMES

statuses = st.sampled_from(STATUSES)
sources = st.sampled_from(list(StatusSource))
JUKI_DEATH = Held(DECEASED, StatusSource.JUKI)


def valid_held() -> st.SearchStrategy[Held]:
    """Any status the register can hold (Juki-net only ever sets 死亡: a database constraint says so)."""
    return st.builds(Held, statuses, sources).filter(lambda h: h.source is not StatusSource.JUKI or h.status == DECEASED)


@given(incoming=statuses)
def test_an_extract_never_undoes_a_juki_net_death(incoming: str) -> None:
    verdict = from_extract(JUKI_DEATH, incoming)
    assert (verdict.status, verdict.source) == (DECEASED, StatusSource.JUKI) and verdict.keeps_held
    assert verdict.disagrees is (incoming != DECEASED)


@given(held=valid_held(), incoming=statuses)
def test_otherwise_the_extract_sets_the_status(held: Held, incoming: str) -> None:
    if held == JUKI_DEATH:
        return
    verdict = from_extract(held, incoming)
    assert verdict.status == incoming and not verdict.disagrees and not verdict.keeps_held
    # Who set it changes only with the status itself.
    assert verdict.source == (held.source if held.status == incoming else StatusSource.EXTRACT)


@given(incoming=statuses)
def test_a_new_person_takes_the_extracts_status(incoming: str) -> None:
    assert from_extract(None, incoming) == from_extract(None, incoming)
    verdict = from_extract(None, incoming)
    assert (verdict.status, verdict.source, verdict.disagrees) == (incoming, StatusSource.EXTRACT, False)


@given(held=st.one_of(st.none(), valid_held()))
def test_a_juki_net_death_always_applies(held: Held | None) -> None:
    verdict = from_juki_death(held)
    assert (verdict.status, verdict.source, verdict.disagrees) == (DECEASED, StatusSource.JUKI, False)


@given(new=st.sampled_from(("1", "2", "3")))
def test_a_supervisor_corrects_a_juki_net_death_after_which_the_extract_applies_again(new: str) -> None:
    corrected = correct(JUKI_DEATH, new)
    assert (corrected.status, corrected.source) == (new, StatusSource.CORRECTION)
    after = Held(corrected.status, corrected.source)
    assert not from_extract(after, "1").disagrees and from_extract(after, "2").status == "2"


@given(held=valid_held(), new=statuses)
def test_nothing_but_a_juki_net_death_is_corrected_and_never_to_death(held: Held, new: str) -> None:
    if held == JUKI_DEATH and new != DECEASED:
        return
    with pytest.raises(CorrectionRefused):
        correct(held, new)


def test_the_code_is_a_targets_outcome_on_the_outcome_page() -> None:
    assert OUTCOMES[DISAGREES] == DISAGREES_LABEL
    page = (Path(__file__).resolve().parents[3] / "docs" / "outcome-codes.md").read_text(encoding="utf-8")
    for code, label in OUTCOMES.items():
        assert f"| `{code}` | {label} |" in page
