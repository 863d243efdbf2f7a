"""L102 band-order: bands that overlap, leave a gap or are out of order.

What it does: reports a band schedule whose slices do not follow each other
from 0 without gap or overlap, an open band (no ``to``) that is not the last,
and a band that ends before it starts (the checker's S210).

Why it matters: the marginal rate of some amounts would be counted twice or
never; Jiamusi 2022's bands run 0–2万, 2万–5万, 5万 and above.

Example::

    rate bands {
        from 0 to 2万: 65%
        from 3万 to 5万: 70%
        from 5万: 75%
    } §二.1

Use instead::

    rate bands {
        from 0 to 2万: 65%
        from 2万 to 5万: 70%
        from 5万: 75%
    } §二.1
"""

from yibao.core.diagnostics import Severity
from yibao.lint.registry import Needs, Rule

RULE = Rule("L102", "band-order", Severity.ERROR, "correctness",
            "bands that overlap, leave a gap or are out of order", Needs.SOURCE,
            takes_over=("S210",),
            hint="bands start at 0 and each starts where the one before it ends")


def check(context):
    return ()   # the checker finds every case (S210); the runner reports it under this code
