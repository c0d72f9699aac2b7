"""Reading YAML a person wrote (rules, assets, bank profiles, settings) without trusting it.

``yaml.safe_load`` already refuses Python tags, but it shares an alias's node wherever the alias
is used, so a small file can stand for billions of values (the "billion laughs": nine anchors,
each a list of ten aliases of the one before). Nothing goes wrong while loading; the validator
that walks the result afterwards never finishes. ``load_yaml`` counts the document as it would
be walked, aliases expanded, and refuses one that is too big or too deep (a list that contains
itself is infinitely deep) before anything walks it. A key given twice in one mapping is refused
too, where PyYAML would keep the last without a word.
"""

from __future__ import annotations

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from disburse.foundation.i18n import tr

# A rule or an assets file of a large county stays well below these.
YAML_VALUES_MAX = 200_000
YAML_DEPTH_MAX = 64


class YamlRefused(yaml.YAMLError):
    """A document refused before it is loaded: too many values once aliases are expanded, or too deep."""


def _expanded_size(node: Node, depth: int, sizes: dict[int, int]) -> int:
    if depth > YAML_DEPTH_MAX:
        raise YamlRefused(
            tr(
                "nested more than {limit} levels deep (line {line}); an alias that contains itself never ends",
                limit=YAML_DEPTH_MAX,
                line=node.start_mark.line + 1,
            )
        )
    known = sizes.get(id(node))
    if known is not None:
        return known
    size = 1
    if isinstance(node, SequenceNode):
        for child in node.value:
            size += _expanded_size(child, depth + 1, sizes)
    elif isinstance(node, MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            # PyYAML keeps the last of two equal keys without a word: which one the writer meant
            # is not ours to guess (a rule with two `percent:`).
            if isinstance(key.value, str) and key.value in seen:
                raise YamlRefused(
                    tr(
                        "the key {key} appears twice in one mapping (line {line})",
                        key=repr(key.value),
                        line=key.start_mark.line + 1,
                    )
                )
            if isinstance(key.value, str):
                seen.add(key.value)
            size += _expanded_size(key, depth + 1, sizes) + _expanded_size(value, depth + 1, sizes)
    if size > YAML_VALUES_MAX:
        raise YamlRefused(
            tr(
                "more than {limit} values once its aliases are expanded (line {line}); "
                "a file that small cannot mean that many",
                limit=f"{YAML_VALUES_MAX:,}",
                line=node.start_mark.line + 1,
            )
        )
    sizes[id(node)] = size
    return size


def load_yaml(text: str) -> object:
    """The one YAML document in ``text``, loaded safely; None for an empty document. Raises a
    ``yaml.YAMLError`` (``YamlRefused`` for a document too big or too deep) on anything else."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, 0, {})
        return loader.construct_document(node)
    finally:
        loader.dispose()
