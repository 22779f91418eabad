"""Model adapters: a model and raw input (text, images, tables) to an attributable forward.

Each adapter turns what a user has (a classifier and a sentence, say) into a call of the core
engine, :func:`integrad.attribute`, and its result into a result object for that input kind.
"""
