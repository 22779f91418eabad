"""Models that ship with integrad."""

from integrad.models.default import load_default_model

__all__ = ["load_default_model"]
