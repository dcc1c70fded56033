"""Every web action behind a step-up is continued after it (issue 14 item 7, ADR 0024): the step-up page can
name it, and nothing else can be continued."""

from __future__ import annotations

from jutaku.web.access import access_of
from jutaku.web.pending import LABELS
from tests.architecture.test_web_routes import routes


def test_every_posted_step_up_action_can_be_continued_and_only_those() -> None:
    actions = set()
    for _, name, view in routes():
        spec = access_of(view)
        assert spec is not None
        if spec.step_up is not None and "POST" in spec.methods:
            actions.add(name)
    assert actions == set(LABELS)
