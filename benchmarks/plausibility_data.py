"""Builds the sentence sets of ``bench_plausibility.py`` from templates and a sentiment lexicon.

Each sentence holds exactly one clear sentiment word among neutral words, so a plausible
explanation puts its largest score on that word. The sentiment words are checked against the VADER
lexicon (Hutto & Gilbert 2014, ``vader_lexicon.txt`` in the PyPI package ``vaderSentiment``):
each must be in it with a mean rating of at least ``MIN_RATING`` in absolute value, of the sign we
give it, and a rating standard deviation of at most ``MAX_STD`` (raters agreed); every other word
of every template must be absent from the lexicon (it carries no sentiment VADER knows of).

Two disjoint sets: ``dev`` for development, ``heldout`` (other templates, other words) to be
evaluated only at the end. Run ``python benchmarks/plausibility_data.py`` to rewrite both files
under ``benchmarks/data/``; the files are committed so the benchmark itself needs no lexicon.
File format: one sentence per line, ``LABEL<TAB>sentiment word<TAB>sentence``.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
MIN_RATING = 1.5
MAX_STD = 1.2
# Words that start with a vowel letter but take "a" ("a useless laptop").
_CONSONANT_SOUND = frozenset({"useless"})

TEMPLATES = {
    "dev": (
        "The crew was {}.",
        "Our hotel room in Boston was {}.",
        "The pizza at this place is {}.",
        "My new phone is {}.",
        "We had a {} flight to Denver.",
        "The {} waiter brought our drinks.",
        "The train from Paris to Lyon on Monday was {}.",
        "I think the final episode of the series was {}.",
    ),
    "heldout": (
        "The service at the bank was {}.",
        "Her new car is {}.",
        "It was a {} concert.",
        "The movie we watched yesterday was {}.",
        "This {} laptop arrived on Tuesday.",
        "The bus ride to the airport this morning was {}.",
        "They said the meal at the hotel was {}.",
        "We stayed in a {} apartment near the station.",
    ),
}
WORDS = {
    "dev": {
        "POSITIVE": (
            "friendly",
            "comfortable",
            "wonderful",
            "excellent",
            "amazing",
        ),
        "NEGATIVE": (
            "terrible",
            "rude",
            "dirty",
            "disappointing",
            "horrible",
        ),
    },
    "heldout": {
        "POSITIVE": (
            "great",
            "fantastic",
            "perfect",
            "nice",
            "delightful",
        ),
        "NEGATIVE": (
            "bad",
            "horrendous",
            "ugly",
            "annoying",
            "disgusting",
        ),
    },
}


def vader_lexicon() -> dict[str, tuple[float, float]]:
    """Reads ``vader_lexicon.txt`` from the installed ``vaderSentiment`` (without importing it).

    Returns:
        Token -> (mean rating, standard deviation); ratings run from -4 to 4.
    """
    spec = importlib.util.find_spec("vaderSentiment")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the lexicon check needs: pip install vaderSentiment")
    path = Path(next(iter(spec.submodule_search_locations))) / "vader_lexicon.txt"
    lexicon = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        token, mean, std = line.split("\t")[:3]
        lexicon[token] = (float(mean), float(std))
    return lexicon


def check(lexicon: dict[str, tuple[float, float]]) -> None:
    """Raises ValueError unless the word lists and templates follow the module docstring."""
    for part in ("dev", "heldout"):
        for label, words in WORDS[part].items():
            sign = 1 if label == "POSITIVE" else -1
            for word in words:
                mean, std = lexicon.get(word, (0.0, 99.0))
                if sign * mean < MIN_RATING or std > MAX_STD:
                    raise ValueError(f"{word!r}: VADER rating {mean} (std {std}) is not clear")
        for template in TEMPLATES[part]:
            for word in re.findall(r"[a-z]+", template.lower()):
                if word in lexicon:
                    raise ValueError(f"{template!r}: {word!r} is in the VADER lexicon")
    dev_words = {w for words in WORDS["dev"].values() for w in words}
    heldout_words = {w for words in WORDS["heldout"].values() for w in words}
    if dev_words & heldout_words or set(TEMPLATES["dev"]) & set(TEMPLATES["heldout"]):
        raise ValueError("dev and heldout must share no word and no template")


def sentences(part: str) -> list[tuple[str, str, str]]:
    """``(label, sentiment word, sentence)`` for every template and word of ``part``."""
    rows = []
    for template in TEMPLATES[part]:
        for label, words in WORDS[part].items():
            for word in words:
                sentence = template.format(word)
                if word[0] in "aeiou" and word not in _CONSONANT_SOUND:
                    sentence = sentence.replace(f"a {word}", f"an {word}")
                rows.append((label, word, sentence[0].upper() + sentence[1:]))
    return rows


def main() -> None:
    """Checks the lists against the lexicon and writes ``data/plausibility_{part}.tsv``."""
    check(vader_lexicon())
    DATA.mkdir(exist_ok=True)
    for part in TEMPLATES:
        rows = sentences(part)
        path = DATA / f"plausibility_{part}.tsv"
        path.write_text("".join("\t".join(row) + "\n" for row in rows), encoding="utf-8")
        print(f"wrote {len(rows)} sentences to {path}")


if __name__ == "__main__":
    main()
