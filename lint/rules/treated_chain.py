"""L105 treated-as-chain: an identity treated as one that is itself treated as another.

What it does: reports ``A treated as B`` where B is ``treated as C``.

Why it matters: the notice says whose treatment A receives; a chain hides it
(A gets C's treatment, not B's) and changes silently when B's line changes.

Example::

    identity 监测帮扶对象 treated as 返贫致贫人口 §(六)
    identity 返贫致贫人口 treated as 低保对象 §(六)

Use instead::

    identity 监测帮扶对象 treated as 低保对象 §(六)
    identity 返贫致贫人口 treated as 低保对象 §(六)
"""

from yibao.core.diagnostics import Severity
from yibao.dsl import ast
from yibao.lint.registry import Needs, Rule

RULE = Rule("L105", "treated-as-chain", Severity.WARNING, "correctness",
            "a treated-as chain (A → B → C)", Needs.POLICY)


def check(context):
    policy = context.policy
    for item in context.tree.of_type(ast.Identity):
        if item.treated_as is None:
            continue
        target = policy.identity(item.treated_as.text)
        if target is None or not target.treated_as:
            continue
        chain = [item.name.text, target.name]
        while target is not None and target.treated_as and target.treated_as not in chain:
            chain.append(target.treated_as)
            target = policy.identity(target.treated_as)
        yield RULE.finding(
            f"{item.name.text} is treated as {item.treated_as.text}, which is itself treated as "
            f"another: {' → '.join(chain)}", item.treated_as.span,
            hint=f"write `treated as {chain[-1]}`, the identity whose treatment applies")
