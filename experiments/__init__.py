"""Experiments that reproduce the paper's results (run from the repository root)."""
