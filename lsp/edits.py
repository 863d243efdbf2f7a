"""Formatting (``yibao fmt``) and code actions: a did-you-mean fix, and
suppressing a lint finding with a reason comment."""

from __future__ import annotations

import re

from lsprotocol import types

from yibao.core.diagnostics import PolicyError
from yibao.dsl.format import format_policy
from yibao.lsp.analysis import Analysis
from yibao.lsp.symbols import CITE

_DID_YOU_MEAN = re.compile(r"did you mean '([^']+)'\?|did you mean (§\S+?)\?|^write (§\S+)$")
_LINT_CODE = re.compile(r"L\d{3}$")


def formatting(analysis: Analysis) -> list[types.TextEdit]:
    """The whole document as `yibao fmt` lays it out; nothing when it does not parse."""
    try:
        formatted = format_policy(analysis.text, analysis.path)
    except PolicyError:
        return []
    except Exception:  # noqa: BLE001 - formatting never takes the server down
        return []
    if formatted == analysis.text:
        return []
    whole = types.Range(start=types.Position(line=0, character=0), end=analysis.index.end())
    return [types.TextEdit(range=whole, new_text=formatted)]


def code_actions(analysis: Analysis, params: types.CodeActionParams) -> list[types.CodeAction]:
    actions = []
    for diagnostic in params.context.diagnostics:
        fix = _did_you_mean(analysis, diagnostic)
        if fix is not None:
            actions.append(fix)
        code = str(diagnostic.code or "")
        if _LINT_CODE.match(code):
            actions.append(_suppress(analysis, diagnostic, code))
    return actions


def _hint(diagnostic: types.Diagnostic) -> str:
    data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
    hint = data.get("hint") or ""
    if not hint:
        for info in diagnostic.related_information or ():
            if info.message.startswith("hint: "):
                hint = info.message[len("hint: "):]
    return hint


def _did_you_mean(analysis: Analysis, diagnostic: types.Diagnostic) -> types.CodeAction | None:
    match = _DID_YOU_MEAN.search(_hint(diagnostic))
    if match is None:
        return None
    word = next(g for g in match.groups() if g)
    target = diagnostic.range
    if word.startswith("§"):
        # The finding covers the whole citation: replace only its § token.
        line = analysis.index.line(target.start.line)
        start = analysis.index.column(target.start)
        cite = CITE.match(line, start)
        if cite is None:
            return None
        target = types.Range(start=target.start, end=types.Position(
            line=target.start.line,
            character=target.start.character + len(cite.group(0).encode("utf-16-le")) // 2))
    edit = types.WorkspaceEdit(changes={analysis.uri: [types.TextEdit(range=target,
                                                                        new_text=word)]})
    return types.CodeAction(title=f"Change to {word}", kind=types.CodeActionKind.QuickFix,
                            diagnostics=[diagnostic], edit=edit, is_preferred=True)


def _suppress(analysis: Analysis, diagnostic: types.Diagnostic, code: str) -> types.CodeAction:
    """``# yibao: disable=CODE reason`` on its own line above the finding (it applies to
    the next line of code), with the line's clause as the start of the reason."""
    row = diagnostic.range.start.line
    text = analysis.index.line(row)
    indent = text[: len(text) - len(text.lstrip())]
    cite = CITE.search(text)
    reason = f"{cite.group(0)}: why the notice wants this" if cite else "why the notice wants this"
    comment = f"{indent}# yibao: disable={code} {reason}\n"
    at = types.Position(line=row, character=0)
    edit = types.WorkspaceEdit(changes={analysis.uri: [
        types.TextEdit(range=types.Range(start=at, end=at), new_text=comment)]})
    return types.CodeAction(title=f"Suppress {code} on this line, with a reason",
                            kind=types.CodeActionKind.QuickFix, diagnostics=[diagnostic],
                            edit=edit)
