"""Turning results into something a person reads: HTML, terminal text and plots."""
