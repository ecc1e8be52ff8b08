"""Keys of the Fides taxonomy: what an Art. 30(1)(c) record names as data and data subjects.

Data categories (`user.contact.email`), data subjects (`customer`) and data uses
(`marketing.communications`) are the keys of `fideslang`'s default taxonomy; any other key is
unknown and is rejected. Keys are dotted paths: `user.contact` is the parent of
`user.contact.email`, so a processor's DPA that covers `user.contact` covers the e-mail too.
"""

from __future__ import annotations

from collections.abc import Iterable

from fideslang.default_taxonomy import DEFAULT_TAXONOMY

DATA_CATEGORIES: frozenset[str] = frozenset(
    item.fides_key for item in DEFAULT_TAXONOMY.data_category
)
DATA_SUBJECTS: frozenset[str] = frozenset(item.fides_key for item in DEFAULT_TAXONOMY.data_subject)
DATA_USES: frozenset[str] = frozenset(item.fides_key for item in DEFAULT_TAXONOMY.data_use)


def is_data_category(key: str) -> bool:
    return key in DATA_CATEGORIES


def is_data_subject(key: str) -> bool:
    return key in DATA_SUBJECTS


def is_data_use(key: str) -> bool:
    return key in DATA_USES


def is_covered_by(key: str, covering: Iterable[str]) -> bool:
    """Whether `key` is one of `covering` or a descendant of one of them."""
    return any(key == parent or key.startswith(parent + ".") for parent in covering)
