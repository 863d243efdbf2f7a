"""The language server: pygls wiring of the features, over stdio.

Documents are analysed once per version (:mod:`yibao.lsp.analysis`) and
diagnostics published on open, change and save.  No request may take the
server down: a feature that fails on a half-typed file answers "nothing"
(an empty list, no hover) and logs the failure; diagnostics always publish,
with a yibao internal-error diagnostic (L000) at the top of the file if the
analysis itself failed.
"""

from __future__ import annotations

import functools
import logging
from typing import Callable

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from yibao import __version__
from yibao.lsp import completion, edits, hover, inlay, lens, navigation, outline, semantic
from yibao.lsp.analysis import Analysis, analyse
from yibao.lsp.diagnostics import to_lsp

log = logging.getLogger("yibao.lsp")


class PolicyServer(LanguageServer):
    def __init__(self):
        super().__init__("yibao", __version__)
        self.analyses: dict[str, Analysis] = {}

    def analysis(self, uri: str) -> Analysis:
        """The analysis of the document's current text (cached by version)."""
        document = self.workspace.get_text_document(uri)
        cached = self.analyses.get(uri)
        if cached is not None and cached.version == document.version and \
                cached.text == document.source:
            return cached
        path = to_fs_path(uri) or uri
        result = analyse(uri, path, document.source, document.version)
        self.analyses[uri] = result
        return result

    def report(self, message: str) -> None:
        """A failure the editor's log should show (the request itself got an empty answer)."""
        self.window_log_message(types.LogMessageParams(type=types.MessageType.Error,
                                                       message=message))

    def publish(self, uri: str) -> None:
        try:
            current = self.analysis(uri)
            found = [to_lsp(d, uri, current.index, current.path) for d in current.findings]
        except Exception as error:  # noqa: BLE001 - diagnostics always publish
            log.exception("analysis of %s failed", uri)
            self.report(f"analysis of {uri} failed: {type(error).__name__}: {error}")
            found = [_internal_error(uri, error)]
            current = None
        version = current.version if current is not None else None
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, diagnostics=found, version=version))


def _internal_error(uri: str, error: Exception) -> types.Diagnostic:
    start = types.Position(line=0, character=0)
    return types.Diagnostic(
        range=types.Range(start=start, end=start), severity=types.DiagnosticSeverity.Error,
        code="L000", source="yibao",
        message=f"yibao could not analyse this file: {type(error).__name__}: {error} "
                "(this is a bug in yibao; please report it)")


def _safe(default: Callable[[], object]):
    """A feature that fails answers its empty result instead of an error."""

    def wrap(handler):
        @functools.wraps(handler)
        def run(server: PolicyServer, params):
            try:
                return handler(server, params)
            except Exception as error:  # noqa: BLE001 - one failing request never stops the server
                log.exception("%s failed", handler.__name__)
                server.report(f"{handler.__name__} failed: {type(error).__name__}: {error}")
                return default()
        return run
    return wrap


def build_server() -> PolicyServer:
    server = PolicyServer()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PolicyServer, params: types.DidOpenTextDocumentParams):
        ls.publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: PolicyServer, params: types.DidChangeTextDocumentParams):
        ls.publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: PolicyServer, params: types.DidSaveTextDocumentParams):
        ls.publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: PolicyServer, params: types.DidCloseTextDocumentParams):
        ls.analyses.pop(params.text_document.uri, None)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=params.text_document.uri, diagnostics=[]))

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @_safe(lambda: None)
    def on_hover(ls: PolicyServer, params: types.HoverParams):
        return hover.hover(ls.analysis(params.text_document.uri), params.position)

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    @_safe(list)
    def on_definition(ls: PolicyServer, params: types.DefinitionParams):
        return navigation.definition(ls.analysis(params.text_document.uri), params.position)

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    @_safe(list)
    def on_references(ls: PolicyServer, params: types.ReferenceParams):
        return navigation.references(ls.analysis(params.text_document.uri), params.position,
                                     params.context.include_declaration)

    @server.feature(types.TEXT_DOCUMENT_COMPLETION,
                    types.CompletionOptions(trigger_characters=["§", " ", ","]))
    @_safe(lambda: types.CompletionList(is_incomplete=False, items=[]))
    def on_completion(ls: PolicyServer, params: types.CompletionParams):
        return completion.complete(ls.analysis(params.text_document.uri), params.position)

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    @_safe(list)
    def on_formatting(ls: PolicyServer, params: types.DocumentFormattingParams):
        return edits.formatting(ls.analysis(params.text_document.uri))

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
    @_safe(list)
    def on_code_action(ls: PolicyServer, params: types.CodeActionParams):
        return edits.code_actions(ls.analysis(params.text_document.uri), params)

    @server.feature(types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL, semantic.LEGEND)
    @_safe(lambda: types.SemanticTokens(data=[]))
    def on_semantic_tokens(ls: PolicyServer, params: types.SemanticTokensParams):
        return semantic.semantic_tokens(ls.analysis(params.text_document.uri))

    @server.feature(types.TEXT_DOCUMENT_INLAY_HINT)
    @_safe(list)
    def on_inlay_hint(ls: PolicyServer, params: types.InlayHintParams):
        return inlay.inlay_hints(ls.analysis(params.text_document.uri), params.range)

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @_safe(list)
    def on_document_symbol(ls: PolicyServer, params: types.DocumentSymbolParams):
        return outline.document_symbols(ls.analysis(params.text_document.uri))

    @server.feature(types.TEXT_DOCUMENT_FOLDING_RANGE)
    @_safe(list)
    def on_folding_range(ls: PolicyServer, params: types.FoldingRangeParams):
        return outline.folding_ranges(ls.analysis(params.text_document.uri))

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS)
    @_safe(list)
    def on_code_lens(ls: PolicyServer, params: types.CodeLensParams):
        return lens.code_lenses(ls.analysis(params.text_document.uri))

    @server.command(lens.COMMAND)
    def settle(ls: PolicyServer, uri: str, line: str | None = None):
        try:
            result = lens.settle_examples(ls.analysis(uri), line)
        except Exception as error:  # noqa: BLE001 - the command reports, never crashes
            log.exception("settling the examples failed")
            result = {"error": f"{type(error).__name__}: {error}", "text": str(error),
                      "claims": [], "cases": [], "failed": 0}
        kind = types.MessageType.Error if result.get("error") else (
            types.MessageType.Warning if result["failed"] else types.MessageType.Info)
        ls.window_show_message(types.ShowMessageParams(type=kind, message=result["text"]))
        return result

    return server


def serve() -> None:
    build_server().start_io()

