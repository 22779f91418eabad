"""The IG engine: integration rules, the evaluation loop, layer substitution, batching.

Nothing here imports transformers, pandas or matplotlib: every front end meets the same
small engine. Names are imported on first use, so ``integrad.core.rules`` loads without torch.
"""

from integrad._lazy import by_module, lazy_exports

EXPORTS = by_module(
    {
        "integrad.core.engine": ["attribute"],
        "integrad.core.rules": ["list_rules", "register_rule", "rule_points"],
    }
)
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
