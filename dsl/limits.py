"""Bounds on what a policy file may be, so no input can hang or exhaust the parser.

A policy file is data written by hand: a real notice fits in a few hundred
lines.  The bounds are far above that and low enough that parsing, checking
and compiling stay fast and shallow whatever a file contains.
"""

from __future__ import annotations

import pathlib

from yibao.core.diagnostics import Diagnostic, PolicyError, Severity
from yibao.core.span import Span

MAX_SOURCE_BYTES = 512 * 1024
MAX_NESTING = 32  # parentheses in conditions; braces nest at most three deep by the grammar
MAX_TREE_DEPTH = 200  # `not not not …`: the transformer recurses once per level
MAX_IDENTITIES = 200
MAX_LINES_OF_DEFENCE = 50


def _limit_error(code: str, message: str, path: str, line: int = 1, column: int = 1, hint: str = ""):
    return PolicyError([Diagnostic(code, Severity.ERROR, message, Span.point(path, line, column), hint)])


def check_source_limits(source: str, path: str) -> None:
    size = len(source.encode("utf-8", errors="surrogatepass"))
    if size > MAX_SOURCE_BYTES:
        raise _limit_error(
            "P110", f"policy file is {size} bytes, more than the {MAX_SOURCE_BYTES} allowed", path,
            hint="split the notice into a base policy and revisions that extend it",
        )
    depth = 0
    line, column = 1, 0
    in_string = in_comment = False
    for char in source:
        column += 1
        if char == "\n":
            line, column = line + 1, 0
            in_string = in_comment = False
        elif in_comment:
            continue
        elif char == '"':
            in_string = not in_string
        elif in_string:
            continue
        elif char == "#":
            in_comment = True
        elif char == "(":
            depth += 1
            if depth > MAX_NESTING:
                raise _limit_error(
                    "P111", f"conditions nest more than {MAX_NESTING} parentheses deep",
                    path, line, column, hint="simplify the condition",
                )
        elif char == ")":
            depth = max(depth - 1, 0)


def read_bounded_text(path: pathlib.Path) -> str:
    """Read a policy file as UTF-8, refusing huge files and undecodable bytes with a diagnostic."""
    name = str(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise _limit_error("P112", f"cannot read policy file: {error.strerror}", name) from None
    if size > MAX_SOURCE_BYTES:
        raise _limit_error(
            "P110", f"policy file is {size} bytes, more than the {MAX_SOURCE_BYTES} allowed", name,
        )
    try:
        data = path.read_bytes()
    except OSError as error:  # a folder named like a policy, a vanished file, …
        raise _limit_error("P112", f"cannot read policy file: {error.strerror}", name) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = len(before.rsplit(b"\n", 1)[-1].decode("utf-8", errors="replace")) + 1
        raise _limit_error(
            "P113", "policy file is not valid UTF-8", name, line, column,
            hint="save the file as UTF-8 (GBK files must be converted first)",
        ) from None


def check_tree_depth(tree, path: str) -> None:
    """Refuse parse trees deeper than the transformer may recurse (P111), iteratively."""
    pending = [(tree, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_TREE_DEPTH:
            meta = getattr(node, "meta", None)
            line = getattr(meta, "line", 1) if meta is not None else 1
            column = getattr(meta, "column", 1) if meta is not None else 1
            raise _limit_error("P111", f"the policy nests more than {MAX_TREE_DEPTH} levels deep",
                               path, line, column, hint="simplify the condition")
        for child in getattr(node, "children", ()):
            if hasattr(child, "children"):
                pending.append((child, depth + 1))
