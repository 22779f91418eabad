"""The run's progress bar: rows done, rows per second and the time left (rich, on stderr)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def progress_bar(
    total: int | None, done: int = 0, quiet: bool = False
) -> Iterator[Callable[[int], None]]:
    """Yields ``advance(n)``, which moves the bar ``n`` rows on (a no-op when ``quiet``)."""
    if quiet:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RowsPerSecond(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            if speed is None and task.elapsed:  # slow rows: fewer updates than rich averages
                speed = (task.completed - task.fields["kept"]) / task.elapsed or None
            shown = "" if speed is None else f"{speed:,.1f} rows/s"
            return Text(shown, style="progress.data.speed")

    columns = (
        TextColumn("explaining"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        RowsPerSecond(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task("rows", total=total, completed=done, kept=done)
        yield lambda n: bar.advance(task, n)
