"""Benchmarks against the performance budget of docs/DESIGN (measured here, never in unit tests).

`python -m bench.run_all` runs them all and rewrites bench/RESULTS.md; stores go in bench/data/ (git-ignored).
"""
