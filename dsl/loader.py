"""Load a policy file and the versions it extends, checked, oldest first.

``extends jiamusi-2021`` names a policy id; its file is ``jiamusi-2021.policy``
in the same folder.  Nothing outside that folder is ever read, and nothing in
a policy file is executed: it is data.
"""

from __future__ import annotations

import pathlib
import re

import attrs

from yibao.core.diagnostics import Diagnostic, PolicyError, Severity
from yibao.core.span import Span
from yibao.dsl import ast
from yibao.dsl.limits import read_bounded_text
from yibao.dsl.model import Policy
from yibao.dsl.notices import find_notice
from yibao.dsl.source_digest import source_sha256

MAX_CHAIN = 20
_POLICY_ID = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


@attrs.frozen
class LoadedPolicy:
    """A checked version chain (oldest first) with every source text, by path."""

    versions: tuple[Policy, ...]
    sources: dict[str, str] = attrs.field(eq=False)
    warnings: tuple[Diagnostic, ...] = ()
    missing_base: str | None = None   # the id the oldest version extends, not in the folder

    @property
    def latest(self) -> Policy:
        return self.versions[-1]


def load_policy(path: str | pathlib.Path) -> LoadedPolicy:
    """Parse and check ``path`` and its predecessors; raise :class:`PolicyError`."""
    return load_chain(path)[0]


# One file of a chain as dsl/policy_cache.py checks it again: (path, SHA-256 of its
# text, its header), newest first as ``extends`` is walked.
ChainFile = tuple[str, str, "ast.Header | None"]


def load_chain(path: str | pathlib.Path
               ) -> tuple[LoadedPolicy, list[ChainFile], list[tuple[Diagnostic, ...]]]:
    """:func:`load_policy`, with the chain's files and each version's checker warnings
    (oldest first), which the policy cache keeps beside the loaded chain."""
    # The parser (Lark) and the checker are imported here, not with the module: a run
    # whose chain comes from the policy cache never needs them.
    from yibao.dsl.checker import check_policy
    from yibao.dsl.parser import parse_policy

    path = pathlib.Path(path)
    chain: list[tuple[pathlib.Path, str, ast.PolicyFile]] = []
    sources: dict[str, str] = {}
    current: pathlib.Path | None = path
    while current is not None:
        if len(chain) >= MAX_CHAIN:
            raise _error("S225", f"more than {MAX_CHAIN} versions extend each other", path)
        if any(p.resolve() == current.resolve() for p, _, _ in chain):
            raise _error("S225", f"{current.name} extends itself through its predecessors", path)
        text = read_bounded_text(current)
        tree = parse_policy(text, str(current))
        sources[str(current)] = text
        chain.append((current, text, tree))
        header = tree.header
        current = predecessor(current, header) if header and header.extends else None
    versions: list[Policy] = []
    warnings: list[Diagnostic] = []
    checked: list[tuple[Diagnostic, ...]] = []
    parent = None
    for file_path, text, tree in reversed(chain):
        result = check_policy(tree, parent, source_sha256(text))
        errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
        if errors:
            raise PolicyError(result.diagnostics)
        warnings.extend(result.diagnostics)
        checked.append(tuple(result.diagnostics))
        # A notice that cannot be read is reported, never fatal (dsl/notices.py says why).
        notice = find_notice(str(file_path), text, tree.header)
        if notice.problem is not None:
            warnings.append(notice.problem)
        parent = result.policy
        versions.append(result.policy)
    oldest = chain[-1][2].header
    missing = oldest.extends if oldest is not None and oldest.extends else None
    files = [(str(file_path), source_sha256(text), tree.header)
             for file_path, text, tree in chain]
    return LoadedPolicy(tuple(versions), sources, tuple(warnings), missing), files, checked


def predecessor(path: pathlib.Path, header: ast.Header) -> pathlib.Path | None:
    policy_id = header.extends
    if not _POLICY_ID.fullmatch(policy_id):
        raise _error("S225", f"extends {policy_id}: not a policy id", path)
    candidate = path.parent / f"{policy_id}.policy"
    if candidate.is_file():
        if candidate.resolve().parent != path.resolve().parent:
            # A link out of the folder: a policy reads only its own folder's files.
            raise _error("S225", f"extends {policy_id}: {candidate.name} links outside the "
                         "policy's folder", path)
        return candidate
    # The base is not in this folder (Lhasa amends a Tibet-wide policy): the file
    # is checked on its own and the values it amends stay unspecified.
    return None


def _error(code: str, message: str, path: pathlib.Path) -> PolicyError:
    return PolicyError([Diagnostic(code, Severity.ERROR, message, Span.point(str(path), 1, 1))])
