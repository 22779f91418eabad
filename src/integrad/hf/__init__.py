"""Hugging Face glue, in one place: loading models by name, folder or pipeline, their token
embeddings and limits, and the bundled default models. The only package that imports
transformers."""
