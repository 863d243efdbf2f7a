"""Policy texts in the store: content-addressed, and loaded back into a checked chain.

A batch's policy is the loader's version chain (oldest first).  Each version's
source text is stored once under its SHA-256; a record names the chain by
(policy id, sha256, path) triples.  :func:`load_stored_policy` rebuilds the
:class:`LoadedPolicy` from those texts alone, doing what the loader does for
``extends`` (parse, then check each version against its predecessor, oldest
first) without reading any file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

import attrs

from yibao.audit.chain import body_hash, canonical_json
from yibao.audit.store import AuditError
from yibao.core.diagnostics import PolicyError, Severity
from yibao.dsl.source_digest import source_sha256

if TYPE_CHECKING:   # the loader imports the AST: not for verify (audit/verify_ahead.py)
    from yibao.dsl.loader import LoadedPolicy


@attrs.frozen
class PolicyRef:
    policy_id: str
    sha256: str
    path: str

    def to_json(self) -> dict:
        return {"policy_id": self.policy_id, "sha256": self.sha256, "path": self.path}

    @classmethod
    def from_json(cls, data: dict) -> "PolicyRef":
        return cls(data["policy_id"], data["sha256"], data["path"])


def policy_chain(loaded: LoadedPolicy) -> tuple[tuple[PolicyRef, ...], dict[str, str]]:
    """The chain's references, and its source texts by sha256, for storing."""
    texts = {source_sha256(text): text for text in loaded.sources.values()}
    chain = []
    for version in loaded.versions:
        if version.source_sha256 not in texts:
            raise AuditError(f"the source text of {version.policy_id} is not among the loaded "
                             "sources; it cannot be stored")
        chain.append(PolicyRef(version.policy_id, version.source_sha256, version.source_path))
    return tuple(chain), {ref.sha256: texts[ref.sha256] for ref in chain}


def policy_key(chain: Sequence[PolicyRef]) -> str:
    """One hash naming the exact texts of a chain: equal keys, same policy."""
    return body_hash(canonical_json([ref.sha256 for ref in chain]))


def load_stored_policy(chain: Sequence[PolicyRef], text_of: Callable[[str], str | None]
                       ) -> LoadedPolicy:
    """Parse and check a stored chain, oldest first; raise AuditError or PolicyError."""
    versions = []
    sources: dict[str, str] = {}
    warnings = []
    parent = None
    for ref in chain:
        text = text_of(ref.sha256)
        if text is None:
            raise AuditError(f"the store has no source text for {ref.policy_id} ({ref.sha256})")
        if source_sha256(text) != ref.sha256:
            raise AuditError(f"the stored text of {ref.policy_id} does not hash to {ref.sha256}",
                             "the store was altered: run yibao audit verify")
        result = _checked(text, ref.path, parent, ref.sha256)
        if result.policy is None:
            raise PolicyError(result.diagnostics)
        if result.policy.policy_id != ref.policy_id:
            raise AuditError(f"the text stored for {ref.policy_id} declares {result.policy.policy_id}")
        warnings.extend(d for d in result.diagnostics if d.severity is not Severity.ERROR)
        sources[ref.path] = text
        versions.append(result.policy)
        parent = result.policy
    from yibao.dsl.loader import LoadedPolicy

    # As the loader says: the oldest version extends a policy the chain lacks.
    missing_base = versions[0].extends if versions else None
    return LoadedPolicy(tuple(versions), sources, tuple(warnings), missing_base)


def _checked(text: str, path: str, parent, sha256: str):
    # The parser (Lark) and the checker, imported when a stored chain is read back
    # (replay, show), not by every settle run that imports this module (fixed costs).
    from yibao.dsl.checker import check_policy
    from yibao.dsl.parser import parse_policy

    return check_policy(parse_policy(text, path), parent, sha256)
