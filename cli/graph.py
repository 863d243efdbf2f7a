"""`yibao graph POLICY -o FILE.(svg|png|pdf|dot)`: draw the compiled evaluation graph.

With ``--claim ID --claims FILE`` the claim's evaluation is laid over the graph
from its trace: the path taken highlighted, each node with its figure, what was
not taken in grey.  ``--line NAME`` draws one line of defence only; ``--summary``
the meeting view (explain/graph_summary.py), one node per line of defence.
"""

from __future__ import annotations

import sys

from yibao.cli.main import EXIT_CLAIMS_FAILED, EXIT_OK, EXIT_USAGE
from yibao.cli.outcomes import report_failures, settle_file
from yibao.runtime.claims import ClaimError


def register(commands) -> None:
    graph = commands.add_parser("graph", help="draw the evaluation graph (svg, png, pdf, dot)")
    graph.add_argument("policy")
    graph.add_argument("-o", "--output", required=True, metavar="FILE",
                       help="FILE.svg, FILE.png, FILE.pdf or FILE.dot")
    graph.add_argument("--claim", help="lay this claim's evaluation over the graph")
    graph.add_argument("--claims", metavar="FILE", help="the claims file holding --claim")
    graph.add_argument("--line", help="draw this line of defence only")
    graph.add_argument("--summary", action="store_true",
                       help="the meeting view: one node per line of defence, each an "
                            "identity × {起付标准, 支付比例, 年度限额} table with its clauses' words")
    graph.add_argument("--version", metavar="POLICY_ID",
                       help="the version to draw (default: the latest, or the claim's)")
    graph.set_defaults(handler=run)


def run(args) -> int:
    import graphviz

    from yibao.api import load_engine
    from yibao.explain.graph import FORMATS, UnknownLine, graph_dot, render_graph
    from yibao.explain.overlay import overlay_from_result
    from yibao.explain.provenance import provenance

    suffix = args.output.rsplit(".", 1)[-1].lower() if "." in args.output else ""
    if suffix not in FORMATS:
        return _usage(f"{args.output}: give a file ending in .{', .'.join(FORMATS)}")
    if (args.claim is None) != (args.claims is None):
        return _usage("--claim and --claims go together")
    if args.summary and (args.claim is not None or args.line is not None):
        return _usage("--summary draws the whole policy, without a claim: not with --claim "
                      "or --line")
    overlay = None
    if args.claim is not None:
        engine, outcomes = settle_file(args.policy, args.claims, trace={args.claim})
        outcome = next((o for o in outcomes if o.claim_id == args.claim), None)
        if outcome is None:
            return _usage(f"no claim {args.claim} in {args.claims}")
        if isinstance(outcome, ClaimError):
            report_failures([outcome])
            return EXIT_CLAIMS_FAILED
        if args.version not in (None, outcome.policy):
            return _usage(f"claim {args.claim} was settled under {outcome.policy}, "
                          f"not {args.version}")
        overlay = overlay_from_result(outcome)
        version = outcome.policy
    else:
        engine = load_engine(args.policy)
        version = args.version or engine.policy.policy_id
    if version not in engine.evaluators:
        return _usage(f"no version {version} in {args.policy}; "
                      f"its versions: {', '.join(engine.evaluators)}")
    try:
        graph = engine.evaluators[version].graph
        made_by = provenance(graph.policy, args.claims)
        if args.summary:
            from yibao.explain.graph_summary import summary_dot

            dot = summary_dot(graph.policy, made_by)
        else:
            dot = graph_dot(graph, overlay, args.line, made_by)
    except UnknownLine as error:
        return _usage(str(error))
    try:
        render_graph(dot, args.output)
    except graphviz.ExecutableNotFound:
        return _usage("graphviz's `dot` is not installed: run scripts/ensure-system-packages.sh")
    return EXIT_OK


def _usage(message: str) -> int:
    print(f"yibao: {message}", file=sys.stderr)
    return EXIT_USAGE
