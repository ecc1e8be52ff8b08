"""Benchmarks at realistic scale: each module is a command that prints its figures.

See docs/performance.md for what each measures, the targets and the latest results.
"""
