"""Small real models trained in seconds, shared by the examples (and the tests).

Everything is seeded and built from data that needs no download: scikit-learn's bundled
digits and breast-cancer tables, and synthetic product reviews made here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn


def _seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _fit(model: nn.Module, loss_of, n: int, epochs: int, batch: int, lr: float = 1e-2) -> None:
    """Minibatch Adam; ``loss_of(model, rows)`` is the loss on the rows (a LongTensor).

    One thread: for models this small, threads cost more in handoffs than they save.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    try:
        for _ in range(epochs):
            for rows in torch.randperm(n).split(batch):
                optimizer.zero_grad()
                loss_of(model, rows).backward()
                optimizer.step()
    finally:
        model.eval()
        torch.set_num_threads(threads)


# ---- digits: a CNN on scikit-learn's 8x8 images ------------------------------------------


def digits_cnn() -> nn.Module:
    """(N, 1, 8, 8) floats in [0, 1] -> 10 logits."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 10),
    )


def train_digits(epochs: int = 4, seed: int = 0) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """A trained digits CNN and its held-out images (N, 1, 8, 8) and labels (N,)."""
    from sklearn.datasets import load_digits

    _seed(seed)
    digits = load_digits()
    images = torch.tensor(digits.images / 16.0, dtype=torch.float32)[:, None]
    labels = torch.tensor(digits.target)
    order = torch.randperm(len(labels))
    train, test = order[:1400], order[1400:]
    model = digits_cnn()
    x, y = images[train], labels[train]
    _fit(model, lambda m, r: nn.functional.cross_entropy(m(x[r]), y[r]), len(y), epochs, 32)
    return model, images[test], labels[test]


# ---- breast cancer: an MLP on scikit-learn's table ---------------------------------------


@dataclass(frozen=True)
class Table:
    """A trained tabular model with its data: DataFrames keep the feature names."""

    model: nn.Module
    train: pd.DataFrame
    test: pd.DataFrame
    test_labels: pd.Series
    labels: list[str]
    mean: pd.Series
    scale: pd.Series

    def transform(self, frame: pd.DataFrame) -> torch.Tensor:
        """Standardise the columns the way the model was trained."""
        return torch.tensor(((frame - self.mean) / self.scale).to_numpy(np.float32))


def train_breast_cancer(epochs: int = 30, seed: int = 0) -> Table:
    """An MLP on the breast-cancer table (30 named features, malignant / benign)."""
    from sklearn.datasets import load_breast_cancer

    _seed(seed)
    data = load_breast_cancer(as_frame=True)
    frame, target = data.frame.drop(columns="target"), data.target
    order = np.random.permutation(len(frame))
    train, test = frame.iloc[order[:420]], frame.iloc[order[420:]]
    mean, scale = train.mean(), train.std()
    model = nn.Sequential(nn.Linear(30, 32), nn.Tanh(), nn.Linear(32, 2))
    x = torch.tensor(((train - mean) / scale).to_numpy(np.float32))
    y = torch.tensor(target.iloc[order[:420]].to_numpy())
    _fit(
        model,
        lambda m, r: nn.functional.cross_entropy(m(x[r]), y[r]) + 1e-3 * _l2(m),
        len(y),
        epochs,
        32,
    )
    labels = [str(n) for n in data.target_names]
    return Table(model, train, test, target.iloc[order[420:]], labels, mean, scale)


def _l2(model: nn.Module) -> torch.Tensor:
    return sum((p**2).sum() for p in model.parameters())  # type: ignore[return-value]


# ---- product reviews: text + numbers + categories ----------------------------------------

POSITIVE = ["great", "excellent", "love", "perfect", "sturdy", "recommend"]
NEGATIVE = ["broken", "awful", "refund", "disappointed", "flimsy", "useless"]
FILLER = ["the", "it", "was", "and", "arrived", "item", "really", "very", "box", "quality"]
CATEGORIES = {
    "category": ["books", "electronics", "toys", "garden"],
    "shipping": ["standard", "express", "pickup"],
}
NUMBERS = ["price", "delivery_days"]


class WordTokenizer:
    """Whitespace words -> ids; 0 is padding. Enough of a tokenizer for the example."""

    def __init__(self) -> None:
        self.vocab = ["[PAD]", *POSITIVE, *NEGATIVE, *FILLER]
        self.index = {w: i for i, w in enumerate(self.vocab)}

    def __call__(self, texts: list[str]) -> dict[str, torch.Tensor]:
        rows = [[self.index[w] for w in t.split()] for t in texts]
        length = max(len(r) for r in rows)
        ids = torch.tensor([r + [0] * (length - len(r)) for r in rows])
        return {"input_ids": ids, "attention_mask": (ids != 0).long()}

    def convert_ids_to_tokens(self, ids: list[int]) -> list[str]:
        return [self.vocab[i] for i in ids]


class ReviewModel(nn.Module):
    """Review text, two numbers and two categories -> (unhappy, happy) logits."""

    def __init__(self, vocab_size: int, numbers_mean: torch.Tensor, numbers_scale: torch.Tensor):
        super().__init__()
        self.text_embedding = nn.Embedding(vocab_size, 16, padding_idx=0)
        sizes = [len(v) for v in CATEGORIES.values()]
        # One table for both category columns: column j's ids are shifted by offsets[j].
        self.category_embedding = nn.Embedding(sum(sizes), 4)
        self.register_buffer("offsets", torch.tensor([0, *np.cumsum(sizes)[:-1].tolist()]))
        self.register_buffer("numbers_mean", numbers_mean)
        self.register_buffer("numbers_scale", numbers_scale)
        self.head = nn.Sequential(nn.Linear(16 + 2 + 8, 32), nn.Tanh(), nn.Linear(32, 2))

    def forward(self, input_ids, attention_mask, numbers, categories):
        mask = attention_mask[..., None].to(torch.float32)
        words = (torch.tanh(self.text_embedding(input_ids)) * mask).sum(1)  # (N, 16)
        text = words / mask.sum(1).clamp_min(1.0)
        scaled = (numbers - self.numbers_mean) / self.numbers_scale  # (N, 2)
        cats = self.category_embedding(categories + self.offsets).flatten(1)  # (N, 8)
        return self.head(torch.cat([text, scaled, cats], 1))


@dataclass(frozen=True)
class Reviews:
    """Synthetic reviews: texts, numbers (N, 2), categories (N, 2) ids, labels (N,)."""

    texts: list[str]
    numbers: torch.Tensor
    categories: torch.Tensor
    labels: torch.Tensor


def make_reviews(n: int, seed: int = 0) -> Reviews:
    """Reviews whose happiness depends on words, delivery time, price and shipping."""
    rng = np.random.default_rng(seed)
    texts, numbers, categories, labels = [], [], [], []
    for _ in range(n):
        n_pos, n_neg = rng.integers(0, 3), rng.integers(0, 3)
        words = list(rng.choice(POSITIVE, n_pos)) + list(rng.choice(NEGATIVE, n_neg))
        words += list(rng.choice(FILLER, rng.integers(2, 6)))
        rng.shuffle(words)
        price, days = float(rng.uniform(5, 120)), float(rng.integers(1, 15))
        category, shipping = int(rng.integers(0, 4)), int(rng.integers(0, 3))
        logit = 1.6 * (n_pos - n_neg) - 0.45 * (days - 5) - 0.015 * (price - 60)
        logit += [-0.6, 1.2, 0.0][shipping] + [0.0, -0.8, 0.3, 0.0][category]
        texts.append(" ".join(words))
        numbers.append([price, days])
        categories.append([category, shipping])
        labels.append(int(logit + rng.normal(0, 0.5) > 0))
    return Reviews(texts, torch.tensor(numbers), torch.tensor(categories), torch.tensor(labels))


def train_reviews(
    n: int = 2000, epochs: int = 12, seed: int = 0
) -> tuple[ReviewModel, WordTokenizer, Reviews]:
    """A trained review model, its tokenizer and fresh held-out reviews."""
    _seed(seed)
    data, tokenizer = make_reviews(n, seed), WordTokenizer()
    encoded = tokenizer(data.texts)
    numbers = data.numbers.float()
    model = ReviewModel(len(tokenizer.vocab), numbers.mean(0), numbers.std(0))
    ids, mask, cats = encoded["input_ids"], encoded["attention_mask"], data.categories

    def loss(m: nn.Module, r: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(m(ids[r], mask[r], numbers[r], cats[r]), data.labels[r])

    _fit(model, loss, n, epochs, 50)
    return model, tokenizer, make_reviews(200, seed + 1)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return float((logits.argmax(1) == labels).float().mean())
