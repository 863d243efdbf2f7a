"""The project's diagnostics as LSP diagnostics: code, severity, UTF-16 range, hint.

The hint (what to write instead) goes into ``relatedInformation`` at the
diagnostic's own range, as LSP has no field for it, and so does every related
span the diagnostic names (a notice's nearest passage, a predecessor's line).
"""

from __future__ import annotations

import pathlib

from lsprotocol import types
from pygls.uris import from_fs_path

from yibao.core.diagnostics import Diagnostic, Severity
from yibao.lsp.positions import LineIndex

SOURCE = "yibao"
_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


def to_lsp(diagnostic: Diagnostic, uri: str, index: LineIndex, path: str) -> types.Diagnostic:
    here = index.range(diagnostic.span) if _same_file(diagnostic.span.file, path) \
        else types.Range(types.Position(line=0, character=0), types.Position(line=0, character=0))
    related = []
    if diagnostic.hint:
        related.append(types.DiagnosticRelatedInformation(
            location=types.Location(uri=uri, range=here), message=f"hint: {diagnostic.hint}"))
    for note, span in diagnostic.related:
        related.append(types.DiagnosticRelatedInformation(
            location=_location(span, uri, index, path), message=note))
    return types.Diagnostic(
        range=here, message=diagnostic.message, severity=_SEVERITY[diagnostic.severity],
        code=diagnostic.code, source=SOURCE, related_information=related or None,
        data={"hint": diagnostic.hint} if diagnostic.hint else None)


def _location(span, uri: str, index: LineIndex, path: str) -> types.Location:
    if _same_file(span.file, path):
        return types.Location(uri=uri, range=index.range(span))
    other = pathlib.Path(span.file)
    try:
        other_index = LineIndex(other.read_text(encoding="utf-8"))
        where = other_index.range(span)
    except (OSError, UnicodeDecodeError):
        where = types.Range(types.Position(line=max(span.line - 1, 0), character=0),
                            types.Position(line=max(span.line - 1, 0), character=0))
    return types.Location(uri=from_fs_path(str(other.resolve())) or uri, range=where)


def _same_file(file: str, path: str) -> bool:
    return file == path or file in ("<policy>", "<none>")
