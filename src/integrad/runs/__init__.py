"""Dataset runs: explain every row of a file, folder, data frame or list of texts.

- ``readers.py``: the input, streamed in batches of rows (CSV, JSON Lines, Parquet, pandas,
  Hugging Face datasets, iterables of strings).
- ``rows.py``: one shard of rows -> the output table (a model loaded once, failures as rows).
- ``shards.py`` and ``manifest.py``: the run folder (``part-NNNNN.parquet``, ``manifest.json``),
  written atomically, and a run's identity for resuming.
- ``local.py`` and ``ray_engine.py``: the engines; ``runner.py``: :func:`explain_dataset`.
- ``summary.py``: :func:`summarize`, a corpus summary streamed over the shards.

Nothing here imports torch at module level, so the command line's ``--help`` stays fast.
"""
