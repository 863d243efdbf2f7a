"""1,000 random edits of the shipped policies, sent to `yibao lsp` as an editor sends them.

Each edit replaces a random stretch of a shipped policy (as a ranged change in
UTF-16 positions) with a random piece of the language — a keyword, a name, a
Chinese or non-BMP character, a brace, a quote, a figure — so most versions
are half-typed.  After each edit the server must publish diagnostics for
exactly that version, with every range inside the document, and answer one
more request (hover, completion, definition, references, semantic tokens,
symbols, folding, inlay hints, code lenses, code actions, formatting) with a
well-formed result: the client parses every response into lsprotocol's types
and pytest-lsp checks it against the client's capabilities
(LspSpecificationWarning is an error here).  The seed is fixed; set
YIBAO_LSP_FUZZ_SEED to explore others (the seed is in the failure message).
"""

from __future__ import annotations

import os
import random

import pytest
from lsprotocol import types

from helpers import POLICIES

pytestmark = pytest.mark.asyncio(loop_scope="module")   # the module's one server

SEED = int(os.environ.get("YIBAO_LSP_FUZZ_SEED", "20261206"))
EDITS = 1000
RESET_EVERY = 25     # start again from the shipped text, so edits do not pile into noise

PIECES = [
    "policy", "extends", "clause", "identity", "treated as", "line", "upstream", "amend",
    "covers", "when", "base", "remaining", "deductible", "rate", "cap", "per", "bands",
    "from", "to", "alert", "threshold", "subsidy", "full", "share", "fixed", "plus", "times",
    "ceiling", "param", "field", "refer", "none", "unspecified", "others", "not", "and", "or",
    "低保对象", "特困人员", "基本救助", "住院", "门诊慢特病", "in_province", "bed_days",
    "§(五)", "§二.1", "§", "\"", "\"…\"", "{", "}", ":", ",", "-", "(", ")", "#", "\n",
    " ", "    ", "70%", "2万", "1.2万元", "2000", "0", "105%", "2023-01-01", "2023-02-30",
    "：", "，", "（", "𠀋", "😀", "é", "\t", "\\", "…",
]


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _position(text: str, offset: int) -> types.Position:
    before = text[:offset]
    line = before.count("\n")
    return types.Position(line=line, character=_units(before[before.rfind("\n") + 1:]))


def _random_edit(rng: random.Random, text: str):
    start = rng.randrange(len(text) + 1)
    end = min(len(text), start + rng.choice((0, 0, 1, 2, 5, 12, 40)))
    new = "".join(rng.choice(PIECES) for _ in range(rng.choice((0, 1, 1, 2, 3))))
    change = types.TextDocumentContentChangePartial(
        range=types.Range(start=_position(text, start), end=_position(text, end)), text=new)
    return text[:start] + new + text[end:], change


def _inside(text: str, position: types.Position) -> bool:
    lines = text.split("\n")
    return 0 <= position.line < len(lines) and 0 <= position.character <= _units(lines[position.line])


def _assert_range(text: str, where: types.Range, what: str) -> None:
    assert _inside(text, where.start) and _inside(text, where.end), (what, where)
    assert (where.start.line, where.start.character) <= (where.end.line, where.end.character), what


async def _request(client, rng: random.Random, uri: str, text: str, diagnostics) -> None:
    document = types.TextDocumentIdentifier(uri=uri)
    offset = rng.randrange(len(text) + 1)
    position = _position(text, offset)
    kind = rng.randrange(11)
    if kind == 0:
        result = await client.text_document_hover_async(types.HoverParams(
            text_document=document, position=position))
        assert result is None or isinstance(result.contents, types.MarkupContent)
    elif kind == 1:
        result = await client.text_document_completion_async(types.CompletionParams(
            text_document=document, position=position))
        assert isinstance(result, types.CompletionList)
    elif kind == 2:
        result = await client.text_document_definition_async(types.DefinitionParams(
            text_document=document, position=position))
        for location in result or ():
            if location.uri == uri:
                _assert_range(text, location.range, "definition")
    elif kind == 3:
        result = await client.text_document_references_async(types.ReferenceParams(
            text_document=document, position=position,
            context=types.ReferenceContext(include_declaration=True)))
        for location in result or ():
            _assert_range(text, location.range, "reference")
    elif kind == 4:
        result = await client.text_document_semantic_tokens_full_async(
            types.SemanticTokensParams(text_document=document))
        assert len(result.data) % 5 == 0
        _assert_tokens(text, result.data)
    elif kind == 5:
        for symbol in await client.text_document_document_symbol_async(
                types.DocumentSymbolParams(text_document=document)) or ():
            _assert_range(text, symbol.range, "symbol")
            _assert_range(text, symbol.selection_range, "symbol selection")
    elif kind == 6:
        lines = text.count("\n")
        for fold in await client.text_document_folding_range_async(
                types.FoldingRangeParams(text_document=document)) or ():
            assert 0 <= fold.start_line <= fold.end_line <= lines
    elif kind == 7:
        whole = types.Range(start=types.Position(line=0, character=0),
                            end=_position(text, len(text)))
        for hint in await client.text_document_inlay_hint_async(types.InlayHintParams(
                text_document=document, range=whole)) or ():
            assert _inside(text, hint.position) and hint.label
    elif kind == 8:
        for lens in await client.text_document_code_lens_async(
                types.CodeLensParams(text_document=document)) or ():
            _assert_range(text, lens.range, "lens")
    elif kind == 9:
        actions = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=document, range=types.Range(start=position, end=position),
            context=types.CodeActionContext(diagnostics=list(diagnostics))))
        for action in actions or ():
            for edit in action.edit.changes[uri]:
                _assert_range(text, edit.range, "code action edit")
    else:
        for edit in await client.text_document_formatting_async(types.DocumentFormattingParams(
                text_document=document,
                options=types.FormattingOptions(tab_size=4, insert_spaces=True))) or ():
            _assert_range(text, edit.range, "formatting")


def _assert_tokens(text: str, data: list[int]) -> None:
    lines = text.split("\n")
    line = start = 0
    for index in range(0, len(data), 5):
        delta_line, delta_start, length = data[index:index + 3]
        line += delta_line
        start = start + delta_start if delta_line == 0 else delta_start
        assert line < len(lines) and start + length <= _units(lines[line]), (line, start, length)


@pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning")
async def test_random_edits_of_shipped_policies_never_break_the_server(editor):
    rng = random.Random(SEED)
    shipped = sorted(POLICIES.glob("*.policy"))
    documents, version = {}, {}
    for number in range(EDITS):
        path = shipped[(number // RESET_EVERY) % len(shipped)]
        uri = editor.uri_of(path)
        if number % RESET_EVERY == 0:
            original = path.read_text(encoding="utf-8")
            if uri in documents:
                version[uri] += 1
                await editor.replace(uri, original, version[uri])
            else:
                version[uri] = 1
                await editor.open(path, original, 1)
            documents[uri] = original
        text, change = _random_edit(rng, documents[uri])
        documents[uri] = text
        version[uri] += 1
        editor.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version[uri]),
            content_changes=[change]))
        try:
            found = await editor.diagnostics(uri, version[uri])
            for diagnostic in found:
                _assert_range(text, diagnostic.range, diagnostic.code)
                assert diagnostic.code and diagnostic.message
                assert diagnostic.code != "L000", diagnostic.message   # an analysis that failed
            await _request(editor.client, rng, uri, text, found)
            # A feature that failed answers empty and logs an error: none may.
            errors = [m.message for m in editor.client.log_messages
                      if m.type == types.MessageType.Error]
            assert errors == []
        except AssertionError as error:
            raise AssertionError(f"seed {SEED}, edit {number} of {path.name}: {error}\n"
                                 f"text:\n{text}") from error
