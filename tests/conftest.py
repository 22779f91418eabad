"""Small models built in-process, shared by the tests."""

import importlib.util
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

# The test models are tiny: one thread avoids thread start-up costs that dominate them, and
# keeps the suite quick when the machine is busy.
torch.set_num_threads(1)


class EmbeddingMLP(nn.Module):
    """Token ids -> embeddings -> mean over positions -> MLP -> 3 logits."""

    def __init__(self, vocab: int = 20, dim: int = 8) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 16), nn.Tanh(), nn.Linear(16, 3))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None):
        h = self.embedding(input_ids)
        if attention_mask is not None:
            h = h * attention_mask[..., None]
        return self.mlp(h.mean(1))


@pytest.fixture
def fresh_probes(monkeypatch):
    """An empty memory-probe cache, so a test sees the first call's probe whatever ran before."""
    from integrad.core import batching

    monkeypatch.setattr(batching, "_PROBES", type(batching._PROBES)())


@pytest.fixture
def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 3)).double()


@pytest.fixture
def cnn():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding=1),
        nn.Softplus(),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16, 5),
    )


@pytest.fixture
def embedding_mlp():
    torch.manual_seed(0)
    return EmbeddingMLP()


@pytest.fixture(scope="session")
def examples_train():
    """examples/_train.py, which builds and trains the examples' small real models."""
    path = Path(__file__).resolve().parents[1] / "examples" / "_train.py"
    spec = importlib.util.spec_from_file_location("_train", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["_train"] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


# The tiny BERT classifier and its tokenizer, for every folder's tests.
from tests.tiny_bert import tiny_bert, tiny_bert_folder, tiny_tokenizer  # noqa: E402

__all__ = ["tiny_bert", "tiny_bert_folder", "tiny_tokenizer"]
