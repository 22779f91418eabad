"""The IG engine: integration rules, the evaluation loop, layer substitution, batching.

Nothing here imports transformers: every adapter meets the same small engine.
"""

from integrad.core.attribute import attribute
from integrad.core.noise import Noise
from integrad.core.rules import list_rules, register_rule, rule_points

__all__ = ["Noise", "attribute", "list_rules", "register_rule", "rule_points"]
