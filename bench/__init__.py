"""Benchmarks at realistic scale: each module is a command that prints its figures.

See docs/performance.md for what each measures, the targets and the latest results.
Importing this package changes nothing: the dashboard deployment's limits are applied by
the commands that need them (`bench.common.apply_dashboard_limits`), never by an import,
so test workers that import bench keep the default limits.
"""
