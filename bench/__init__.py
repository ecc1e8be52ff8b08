"""Benchmarks at realistic scale: each module is a command that prints its figures.

See docs/performance.md for what each measures, the targets and the latest results.
"""

import os

# The dashboard deployment's settings (docs/performance.md): one page holds every activity,
# and the cost limit fits it. Set before ropa is imported: reads.MAX_PAGE is read once.
BENCH_ENV = {"ROPA_MAX_PAGE": "1000", "ROPA_MAX_COST": "1000000", "ROPA_RATE_LIMIT": "0"}
for _name, _value in BENCH_ENV.items():
    os.environ.setdefault(_name, _value)
