"""S231: two declared names a reader cannot tell apart (equal UTS #39 skeletons).

因病致贫重病患者 declared twice, once with U+FA5B for 者, gave one reader two
identities paid 10% and 90% (issue 21 item 5)."""

from __future__ import annotations

from yibao.core.diagnostics import Diagnostic, Severity
from yibao.dsl import ast
from yibao.dsl.checking.state import CheckState
from yibao.dsl.confusables import skeleton

# What a policy file declares by name: one namespace for the look-alike check.
DECLARATIONS = (ast.Identity, ast.UpstreamLine, ast.ComputedLine, ast.FieldDecl, ast.Param,
                ast.Alert, ast.Referral)


def check_look_alikes(state: CheckState) -> None:
    first: dict[str, ast.Name | ast.DisplayName] = {}
    for name in _declared_names(state.tree):
        seen = first.setdefault(skeleton(name.text), name)
        if seen.text != name.text:
            state.diagnostics.append(Diagnostic(
                "S231", Severity.ERROR,
                f"the name {name.text} looks the same as {seen.text}, declared at "
                f"{seen.span}, but is written with other characters",
                name.span,
                hint="use one spelling for one thing, or names that differ visibly: "
                     "the two differ at " + differences(seen.text, name.text),
                related=(("the name it looks like", seen.span),)))


def _declared_names(tree: ast.PolicyFile):
    """Every name the file declares, a field's display name after the field's own name:
    a reader tells fields apart by their display names in the views."""
    for item in tree.items:
        if isinstance(item, DECLARATIONS):
            yield item.name
            if isinstance(item, ast.FieldDecl) and item.display_name is not None:
                yield item.display_name


def differences(one: str, other: str) -> str:
    """The characters where two look-alike names differ, with their code points."""
    pairs = [f"{a} U+{ord(a):04X} / {b} U+{ord(b):04X}"
             for a, b in zip(one, other) if a != b]
    if len(one) != len(other) or not pairs:
        return f"{' '.join(f'U+{ord(c):04X}' for c in one)} / " \
               f"{' '.join(f'U+{ord(c):04X}' for c in other)}"
    return ", ".join(pairs)
