"""What a privacy notice discloses (GDPR Art. 13 and 14), read offline and explainably.

`analyze(text, media_type)` returns the recipients, countries, regions, data categories,
data uses, lawful bases, transfer mechanisms, retention periods and contacts a notice names,
each with the `[start, end)` spans of its evidence in the input. docs/notices.md describes
the output and the rules.
"""

from __future__ import annotations

from typing import Any


def analyze(text: str, media_type: str = "text/plain") -> dict[str, list[dict[str, Any]]]:
    """What the notice `text` discloses; see `ropa.notices.extract.analyze`."""
    from ropa.notices.extract import analyze as run

    return run(text, media_type)


__all__ = ["analyze"]
