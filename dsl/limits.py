"""Bounds on what a policy file may be, so no input can hang or exhaust the parser.

A policy file is data written by hand: a real notice fits in a few hundred
lines.  The bounds are far above that and low enough that parsing, checking
and compiling stay fast and shallow whatever a file contains.
"""

from __future__ import annotations

import os
import pathlib
import stat

from yibao.core.diagnostics import Diagnostic, PolicyError, Severity
from yibao.core.span import Span
from yibao.dsl.characters import code_characters

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
    # Parentheses in quoted text and comments are prose, not nesting.
    for _, line, column, char in code_characters(source):
        if char == "(":
            depth += 1
            if depth > MAX_NESTING:
                raise _limit_error(
                    "P111", f"conditions nest more than {MAX_NESTING} parentheses deep",
                    path, line, column, hint="simplify the condition",
                )
        elif char == ")":
            depth = max(depth - 1, 0)


# A UTF-8 byte order mark, as Windows Notepad writes at the start of a file:
# invisible, so accepted and dropped (claims files accept one too).
BOM = "\ufeff"

# Suffixes of claims files: given where the policy goes, the arguments were swapped.
CLAIMS_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".parquet")
SWAPPED_HINT = ("this looks like a claims file, not a policy: the policy comes first, "
                "as in yibao eval POLICY CLAIMS (yibao check takes the policy alone)")


def read_bounded_text(path: pathlib.Path) -> str:
    """Read a policy file as UTF-8, refusing huge files and undecodable bytes with a diagnostic.

    Only a regular file is read (a named pipe never ends, /dev/zero never
    ends), and never more than the limit plus one byte, whatever size the file
    reports: st_size is 0 for /proc files and can change while reading.
    """
    name = str(path)
    try:
        # O_NONBLOCK: opening a named pipe with no writer would otherwise wait forever.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        if isinstance(error, IsADirectoryError):
            raise _not_regular(name, "a folder") from None
        raise _limit_error("P112", f"cannot read policy file: {error.strerror}", name) from None
    try:
        kind = _kind(os.fstat(descriptor).st_mode)
        if kind:
            raise _not_regular(name, kind)
        data = _read_at_most(descriptor, MAX_SOURCE_BYTES + 1)
    except OSError as error:
        raise _limit_error("P112", f"cannot read policy file: {error.strerror}", name) from None
    finally:
        os.close(descriptor)
    claims_like = path.suffix.lower() in CLAIMS_SUFFIXES
    if len(data) > MAX_SOURCE_BYTES:
        raise _limit_error(
            "P110", f"policy file is more than the {MAX_SOURCE_BYTES} bytes allowed", name,
            hint=SWAPPED_HINT if claims_like else
            "split the notice into a base policy and revisions that extend it",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = len(before.rsplit(b"\n", 1)[-1].decode("utf-8", errors="replace")) + 1
        hint = SWAPPED_HINT if claims_like else \
            "save the file as UTF-8 (GBK files must be converted first)"
        raise _limit_error("P113", "policy file is not valid UTF-8", name, line, column,
                           hint=hint) from None
    return text[1:] if text.startswith(BOM) else text


def _read_at_most(descriptor: int, limit: int) -> bytes:
    chunks = []
    left = limit
    while left > 0:
        chunk = os.read(descriptor, min(left, 1 << 16))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _kind(mode: int) -> str:
    """What a file that is not a regular file is, in words; "" for a regular file."""
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "something other than a regular file"


def _not_regular(name: str, kind: str) -> PolicyError:
    return _limit_error(
        "P115", f"{name} is {kind}, not a policy file", name,
        hint="give the path of a .policy file saved on disk (to check text from a pipe, "
             "save it to a file first)",
    )


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
