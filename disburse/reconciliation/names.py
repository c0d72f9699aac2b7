"""Counterparty-name similarity for fuzzy candidates (strategy 5), without any dependency.

Bank statements and books spell the same payee differently: a homophone character (张三丰 /
张三峰), a full-width bracket, a dropped 有限公司. The measure is the Dice coefficient over the
multiset of single characters and adjacent character pairs of the two normalised names:

    similarity = 2 × |shared grams| / (|grams of a| + |grams of b|)

Single characters matter for two- and three-character personal names, where one differing
character leaves only one pair in common; pairs matter for long company names, where word order
and shared boilerplate would otherwise dominate. Worked values: 张三丰 / 张三峰 → 60,
张三 / 张四 → 33, 张三 / 李四 → 0, 李明 / 李明华 → 75.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

# Characters that carry no identity in a name: separators of minority names (·), brackets and
# spaces that differ between full-width and half-width exports.
_IGNORED_CHARACTERS = frozenset(" \t\u3000·•.,，。()（）[]【】-_/")


def name_normalise(name: str) -> str:
    """The name in NFKC form (full-width → half-width), upper case, without separators."""
    folded = unicodedata.normalize("NFKC", name).upper()
    return "".join(character for character in folded if character not in _IGNORED_CHARACTERS)


def _grams(name: str) -> Counter[str]:
    grams: Counter[str] = Counter(name)
    grams.update(name[index : index + 2] for index in range(len(name) - 1))
    return grams


def name_similarity_percent(first: str | None, second: str | None) -> int:
    """Similarity of two counterparty names, an integer 0–100 (rounded down); 0 if either is blank."""
    if not first or not second:
        return 0
    first_grams = _grams(name_normalise(first))
    second_grams = _grams(name_normalise(second))
    total = sum(first_grams.values()) + sum(second_grams.values())
    if total == 0:
        return 0
    shared = sum((first_grams & second_grams).values())
    return 200 * shared // total
