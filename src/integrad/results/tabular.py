"""What :func:`integrad.explain_tabular` returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from integrad.errors import InputError
from integrad.results.base import ClassifierBatch

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass(frozen=True, eq=False, kw_only=True)
class TabularExplanation(ClassifierBatch):
    """One score per row and column; frames keep the rows' index and the column names.

    The fields every batch result shares (``output``, ``baseline_output``, ``delta``,
    ``n_evals``, ``error_estimate``, ``baseline``, ``options``), one entry per row in row
    order, are described in :class:`~integrad.results.base.BatchExplanation` (and
    :meth:`diagnostics` gives them as a DataFrame with the rows' index); ``target``,
    ``predicted``, ``labels`` in :class:`~integrad.results.base.ClassifierBatch`.

    Attributes:
        attributions: Rows by features: each feature's share of F(x) - F(baseline).
        values: The explained rows, as given (same index and columns).
        probabilities: Softmax of the outputs, rows by classes (a DataFrame with the rows'
            index), or None for a model with one output.
        std: Noise-averaging standard deviation per row and feature, or None.
        spread: Standard deviation across averaged background rows, or None.

    Example:
        >>> exp = integrad.explain_tabular(model, test_rows, background=train_rows)
        >>> exp.summary().head()            # mean |attribution| per feature
        >>> exp.plot(0).savefig("row0.png")
    """

    attributions: pd.DataFrame
    values: pd.DataFrame
    probabilities: pd.DataFrame | None = None
    std: pd.DataFrame | None = None
    spread: pd.DataFrame | None = None

    def diagnostics(self) -> pd.DataFrame:
        """Per row: F(x), F(x'), delta, evaluations and the error estimate, by row index."""
        columns = {
            "output": self.output.numpy(),
            "baseline_output": self.baseline_output.numpy(),
            "delta": self.delta.numpy(),
            "n_evals": self.n_evals.numpy(),
        }
        if self.error_estimate is not None:
            columns["error_estimate"] = self.error_estimate.numpy()
        return pd.DataFrame(columns, index=self.attributions.index)

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

    def plot(
        self,
        index: int | None = None,
        *,
        ax: Any = None,
        max_features: int = 15,
        row: int | None = None,
    ) -> Figure:
        """Bar chart of one row's attributions, largest magnitudes on top.

        Args:
            index: The row's position (0 when None); see :meth:`plot_summary` for all rows.
            ax: Axes to draw into; None makes a new figure.
            max_features: Most features shown.
            row: Deprecated spelling of ``index``.
        """
        from integrad.options import deprecated
        from integrad.render.tabular import row_figure

        if row is not None:
            deprecated("row", "index", "TabularExplanation.plot")
            index = row
        position = self._check_row(0 if index is None else index)
        return row_figure(self, position, max_features, ax=ax)

    def plot_summary(self, max_features: int = 20) -> Figure:
        """Bar chart of the mean absolute attribution per feature over all rows."""
        from integrad.render.tabular import summary_figure

        return summary_figure(self, max_features)

    def to_html(self, max_rows: int = 5, max_features: int = 12) -> str:
        """A self-contained fragment: the global summary and the first rows' features."""
        from integrad.render.tabular import tabular_html

        return tabular_html(self, max_rows, max_features)

    def _check_row(self, position: int) -> int:
        n = len(self.attributions)
        if isinstance(position, bool) or not isinstance(position, int) or not -n <= position < n:
            raise InputError(
                f"row {position!r} is out of range: there are {n} rows (positions 0..{n - 1}); "
                "use exp.attributions.index.get_loc(label) for an index label"
            )
        return position % n
