"""Progress of a running job on stderr: the job's name, a bar, items done, 行/秒, elapsed and 残り (ETA).

With an unknown total the bar pulses and the ETA shows ``-:--:--``. Nothing is drawn when stderr is
not a terminal (logs stay clean) or when the caller turns it off.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

Advance = Callable[[int], None]


class RateColumn(ProgressColumn):
    """Items per second over rich's sliding window (items skipped on resume do not count)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None and task.elapsed:  # finished without a sample window: average of this session
            speed = (task.completed - task.fields.get("initial", 0)) / task.elapsed
        return Text(f"{speed:,.0f} 行/秒" if speed else "- 行/秒", style="progress.data.speed")


def _ignore(_n: int) -> None:
    return None


@contextlib.contextmanager
def job_progress(
    description: str,
    *,
    total: int | None,
    completed: int = 0,
    enabled: bool = True,
    console: Console | None = None,
) -> Iterator[Advance]:
    """Yield ``advance(n)``; draws on ``console`` (stderr by default) when it is a terminal."""
    console = console or Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield _ignore
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("残り"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(description, total=total, completed=completed, initial=completed)

        def advance(n: int) -> None:
            bar.advance(task, n)

        yield advance
        if total is None:  # the stream has ended: the total is now known, stop pulsing
            bar.update(task, total=bar.tasks[0].completed)
