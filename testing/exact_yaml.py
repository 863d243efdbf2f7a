"""YAML read exactly: numbers as Decimal, dates as text, every mapping knows its line.

Case files are written by people, so they are YAML (comments beside the figures
say which clause they come from).  Plain YAML would read ``7800.10`` as a
binary float and ``2023-01-10`` as a date object; here a number keeps the
digits written (money never passes through a float) and a date stays the
``YYYY-MM-DD`` text the claim format expects.  Only the safe loader is used:
a case file is data, nothing in it is constructed into objects.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import yaml


class Mapping(dict):
    """A YAML mapping that remembers the line (1-based) it starts on."""

    line: int = 0


class Sequence(list):
    line: int = 0


class ExactLoader(yaml.SafeLoader):
    pass


def _number(loader: ExactLoader, node: yaml.ScalarNode):
    text = loader.construct_scalar(node).replace("_", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        # .inf, .nan and the like: kept as written, so validation rejects them by name.
        return text


def _text(loader: ExactLoader, node: yaml.ScalarNode) -> str:
    return loader.construct_scalar(node)


def _mapping(loader: ExactLoader, node: yaml.MappingNode) -> Mapping:
    mapping = Mapping()
    mapping.line = node.start_mark.line + 1
    yield mapping
    mapping.update(loader.construct_mapping(node, deep=True))


def _sequence(loader: ExactLoader, node: yaml.SequenceNode) -> Sequence:
    sequence = Sequence()
    sequence.line = node.start_mark.line + 1
    yield sequence
    sequence.extend(loader.construct_sequence(node, deep=True))


ExactLoader.add_constructor("tag:yaml.org,2002:int", _number)
ExactLoader.add_constructor("tag:yaml.org,2002:float", _number)
ExactLoader.add_constructor("tag:yaml.org,2002:timestamp", _text)
ExactLoader.add_constructor("tag:yaml.org,2002:map", _mapping)
ExactLoader.add_constructor("tag:yaml.org,2002:seq", _sequence)


def plain(value):
    """Plain dicts and lists again (the claim reader checks exact types), lines dropped."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def load_exact(text: str):
    """Parse one YAML document; raise yaml.YAMLError with a position when it is not YAML."""
    return yaml.load(text, Loader=ExactLoader)  # noqa: S506 - ExactLoader is a SafeLoader
