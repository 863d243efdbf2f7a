"""L106 treated-as-cycle: identities treated as each other in a circle.

What it does: reports a chain of ``treated as`` that comes back to where it
started (the checker's S204).

Why it matters: the identity never reaches one with its own treatment, so no
value can be looked up for it.

Example::

    identity 返贫致贫人口 treated as 监测帮扶对象 §(六)
    identity 监测帮扶对象 treated as 返贫致贫人口 §(六)

Use instead::

    identity 返贫致贫人口 treated as 低保对象 §(六)
    identity 监测帮扶对象 treated as 低保对象 §(六)
"""

from yibao.core.diagnostics import Severity
from yibao.lint.registry import Needs, Rule

RULE = Rule("L106", "treated-as-cycle", Severity.ERROR, "correctness",
            "treated-as identities that form a cycle", Needs.SOURCE, takes_over=("S204",),
            hint="end the chain at an identity that has its own treatment")


def check(context):
    return ()   # the checker finds every cycle (S204); the runner reports it under this code
