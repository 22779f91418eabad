"""The IG engine: integration rules, the evaluation loop, layer substitution, batching.

Nothing here imports transformers: every adapter meets the same small engine.
"""

from integrad.core.attribute import attribute
from integrad.core.rules import list_rules, register_rule, rule_points

__all__ = ["attribute", "list_rules", "register_rule", "rule_points"]
