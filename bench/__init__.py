"""Benchmarks: our commands against the documented procedure and against the critical-path limit.

`make bench` (or `python -m bench`) runs them against armsim; see README.md, "Benchmarks".
"""
