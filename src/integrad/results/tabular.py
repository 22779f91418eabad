"""What :func:`integrad.explain_tabular` returns."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import pandas as pd

from integrad.results.base import ResultMixin, jsonable

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class TabularExplanation(ResultMixin):
    """One score per row and column; frames keep the rows' index and the column names.

    Attributes:
        attributions: Rows by features: each feature's share of F(x) - F(baseline).
        values: The explained rows, as given (same index and columns).
        baseline: What was used as the baseline (name, given row, or averaged rows).
        target: The class attributed per row, or None for a scalar output.
        target_labels: Names of the targets.
        predicted: The top class per row.
        probabilities: Softmax of the output, rows by classes, or None for one output.
        output: F(x) per row.
        baseline_output: F(baseline) per row, averaged over averaged baselines.
        delta: Completeness error per row: attributions.sum(axis=1) - (output - baseline_output).
        n_evals: Gradient evaluations per row.
        method: The integration rule.
        n_steps: Points per path, or None (adaptive).
        score: ``"logit"``, ``"probability"`` or ``"log_prob"``.
        std: Noise-averaging standard deviation per row and feature (an upper bound for
            features summed from several tensor columns), or None.
        spread: Standard deviation across averaged background rows, or None.
        error_estimate: Estimated relative integration error per row (adaptive), or None.

    Example:
        >>> exp = integrad.explain_tabular(model, test_rows, background=train_rows)
        >>> exp.summary().head()            # mean |attribution| per feature
        >>> exp.plot(0).savefig("row0.png")
    """

    attributions: pd.DataFrame
    values: pd.DataFrame
    baseline: str
    target: list[int] | None
    target_labels: list[str] | None
    predicted: list[int]
    probabilities: pd.DataFrame | None
    output: pd.Series
    baseline_output: pd.Series
    delta: pd.Series
    n_evals: pd.Series
    method: str
    n_steps: int | None
    score: str
    std: pd.DataFrame | None = None
    spread: pd.DataFrame | None = None
    error_estimate: pd.Series | None = None

    def summary(self) -> pd.Series:
        """Mean absolute attribution per feature over the rows, largest first."""
        return (
            self.attributions.abs()
            .mean(axis=0)
            .sort_values(ascending=False)
            .rename("mean |attribution|")
        )

    def row(self, position: int) -> pd.DataFrame:
        """One row's features with their values and scores, by |score| descending."""
        self._check_row(position)
        table = pd.DataFrame(
            {
                "value": self.values.iloc[position],
                "attribution": self.attributions.iloc[position],
            }
        )
        if self.std is not None:
            table["std"] = self.std.iloc[position]
        return table.reindex(table["attribution"].abs().sort_values(ascending=False).index)

    def plot(self, row: int = 0, max_features: int = 15) -> Figure:
        """Bar chart of one row's attributions (by position), largest magnitudes on top."""
        from integrad.render.tabular import row_figure

        self._check_row(row)
        return row_figure(self, row, max_features)

    def plot_summary(self, max_features: int = 20) -> Figure:
        """Bar chart of the mean absolute attribution per feature over all rows."""
        from integrad.render.tabular import summary_figure

        return summary_figure(self, max_features)

    def to_html(self, max_rows: int = 5, max_features: int = 12) -> str:
        """A self-contained fragment: the global summary and the first rows' features."""
        from integrad.render.tabular import tabular_html

        return tabular_html(self, max_rows, max_features)

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain data; frames as {"index", "columns", "data"}."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, pd.DataFrame):
                value = {
                    "index": [_plain(i) for i in value.index],
                    "columns": [str(c) for c in value.columns],
                    "data": [[_plain(v) for v in r] for r in value.itertuples(index=False)],
                }
            elif isinstance(value, pd.Series):
                value = [_plain(v) for v in value]
            out[f.name] = jsonable(value)
        return out

    def _check_row(self, position: int) -> None:
        from integrad.errors import InputError

        n = len(self.attributions)
        if not isinstance(position, int) or not -n <= position < n:
            raise InputError(
                f"row {position!r} is out of range: there are {n} rows (positions 0..{n - 1}); "
                "use exp.attributions.index.get_loc(label) for an index label"
            )


def _plain(value: Any) -> Any:
    """A cell or index label as JSON data: numbers and text as they are, anything else as text."""
    value = jsonable(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
