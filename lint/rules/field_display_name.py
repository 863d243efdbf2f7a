"""L304 field-without-display-name: a claim field declared without the notice's words for it.

What it does: reports a ``field`` declaration with no display name (the quoted
words after the field's name).  A policy without them still loads: the views
then show the field's identifier.

Why it matters: the views show a field by its display name wherever a reader
would otherwise see the identifier: a refusal reads "条件不满足: (省内就医 或
按规定转诊)", not "(in_province 或 referred)".  An auditor reads the notice's
Chinese, and checks the condition against the clause in those words.

Example::

    field in_province: bool default true §(十三)

Use instead::

    field in_province "省内就医": bool default true §(十三)
"""

from yibao.core.diagnostics import Severity
from yibao.dsl import ast
from yibao.lint.registry import Needs, Rule

RULE = Rule("L304", "field-without-display-name", Severity.WARNING, "completeness",
            "a claim field without the notice's words for it", Needs.TREE,
            hint="add the notice's words after the name: field in_province \"省内就医\": bool …")


def check(context):
    for item in context.tree.of_type(ast.FieldDecl):
        if item.display_name is None:
            yield RULE.finding(f"field {item.name.text} has no display name", item.name.span)
