"""Benchmarks that reproduce the seed papers' tables; run ``python -m benchmarks --help``."""
