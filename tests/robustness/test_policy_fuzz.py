"""Fuzzing the language front end: any text gets a compiled policy or a clean diagnostic.

The parser, checker and lowering (``parse_policy`` → ``check_policy`` →
``lower_policy``) and the loader (``load_policy``, from bytes on disk) are fed
texts derived from the grammar, mutations of the shipped policies (tokens
deleted, duplicated, swapped; full-width punctuation, random characters and
stray keywords inserted) and random bytes.  Each must end in an evaluation
graph or a :class:`PolicyError` whose diagnostics have a stable code, a
message and a file:line:col, never another exception.  (Hangs show as the
test's own time; the bounds are tested in ``test_policy_limits``.)
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from robustness.policy_text import (
    assert_clean, compile_text, front_end_answers, grammar_texts, mutated_policies, policy_sources,
    tokens,
)
from robustness.profiles import scaled
from yibao.compiler.graph import EvaluationGraph
from yibao.core.diagnostics import PolicyError
from yibao.dsl.loader import load_policy
from yibao.dsl.syntax_errors import FULL_WIDTH


@pytest.mark.parametrize("name", sorted(policy_sources()))
def test_every_shipped_policy_compiles_or_explains_why_not(name):
    """The starting points of the mutations: each shipped file on its own."""
    outcome = front_end_answers(policy_sources()[name], "fuzz.policy")
    assert isinstance(outcome, (EvaluationGraph, PolicyError))


@scaled(4)
@given(grammar_texts())
def test_texts_the_grammar_derives(text):
    front_end_answers(text)


@scaled(4)
@given(mutated_policies())
def test_mutated_shipped_policies(text):
    front_end_answers(text)


@scaled(1)
@given(st.binary(max_size=2000) | mutated_policies().map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_bytes_on_disk_through_the_loader(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("bytes")
    path = folder / "fuzz.policy"
    path.write_bytes(data)
    try:
        load_policy(path)
    except PolicyError as error:
        # Alone in its folder, a file that extends another is checked on its own.
        assert_clean(error, str(path))


def _gaps(text: str) -> list[int]:
    """Offsets inside whitespace between tokens (outside quotes and comments)."""
    offsets, position = [], 0
    for token in tokens(text):
        if token.isspace() and len(token) >= 2:
            offsets.append(position + 1)
        position += len(token)
    return offsets


@scaled(2)
@given(st.data())
def test_full_width_punctuation_is_named_where_it_was_typed(data):
    """A drafter's Chinese input method types ： for : — P102 at that exact spot."""
    name = data.draw(st.sampled_from(sorted(policy_sources())))
    text = policy_sources()[name]
    offset = data.draw(st.sampled_from(_gaps(text)))
    char = data.draw(st.sampled_from(sorted(FULL_WIDTH)))
    broken = text[:offset] + char + text[offset:]
    with pytest.raises(PolicyError) as raised:
        compile_text(broken)
    first = raised.value.diagnostics[0]
    line = text.count("\n", 0, offset) + 1
    column = offset - text.rfind("\n", 0, offset)
    assert (first.code, first.span.line, first.span.column) == ("P102", line, column)
    assert FULL_WIDTH[char] in first.hint
