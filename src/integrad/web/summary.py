"""A run's corpus summary as an HTML fragment, for the run's summary page.

The report is :func:`integrad.summarize`'s (the same one ``integrad summary --html`` writes),
computed by streaming over the run's shards; a folder it cannot summarise gets the reason.
"""

from __future__ import annotations

from integrad.errors import InputError
from integrad.render.html import esc
from integrad.web.runs import Run


def summary_html(run: Run) -> str:
    """:func:`integrad.summarize` of the run as an HTML fragment (already escaped)."""
    from integrad.runs.summary import summarize

    try:
        return summarize(run.path).to_html()
    except InputError as err:
        return f"<p class='hint'>{esc(err)}</p>"
