"""Draw a compiled evaluation graph with graphviz, optionally with a claim laid over it.

The lines of defence are clusters in settlement order (先保险后救助); claim
fields and upstream payouts are drawn as inputs (blue), payouts, totals,
alerts and referrals as outputs (green, double border).  With an
:class:`~yibao.explain.overlay.Overlay` (read from the claim's trace) the path
the claim took is drawn in one colour with each node's figure, and what was
not taken (lines that did not apply, losing take-highest candidates) in grey.

Only reads the graph and the overlay; never evaluates.
"""

from __future__ import annotations

import pathlib
from html import escape

import graphviz

from yibao.compiler.graph import EvaluationGraph, Node, Op
from yibao.compiler.lower import PERSONAL_BURDEN, TOTAL_PAID
from yibao.explain import colour
from yibao.explain.graph_label import node_label
from yibao.explain.overlay import Mark, Overlay
from yibao.explain.provenance import Provenance

FORMATS = ("svg", "png", "pdf", "dot")
_INPUT_OPS = (Op.INPUT, Op.UPSTREAM)
_OUTPUT_OPS = (Op.CAP, Op.CEILING_CUT, Op.TAKE_HIGHEST, Op.ALERT, Op.REFERRAL)
# Edges every node of a line has (its coverage, the candidate identity) would
# hide the money flow; the cluster says "this line", the tables say "by identity".
_QUIET_ROLES = ("covered", "identity")
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


class UnknownLine(ValueError):
    def __init__(self, name: str, lines: tuple[str, ...]):
        super().__init__(f"no line {name} in this policy; its lines: {'、'.join(lines)}")
        self.name, self.lines = name, lines


def is_input(node: Node) -> bool:
    return node.op in _INPUT_OPS


def is_output(node: Node) -> bool:
    return node.op in _OUTPUT_OPS or node.id in (TOTAL_PAID, PERSONAL_BURDEN)


def graph_dot(graph: EvaluationGraph, overlay: Overlay | None = None,
              line: str | None = None, provenance: Provenance | None = None) -> graphviz.Digraph:
    """The graph as DOT: all of it, or one line with the nodes it reads and feeds."""
    shown = _nodes_shown(graph, line)
    dot = graphviz.Digraph(name=graph.policy.policy_id,
                           graph_attr=_graph_attributes(graph, overlay, line, provenance),
                           node_attr={"fontname": colour.CJK_FONT, "shape": "box",
                                      "style": "rounded,filled", "margin": "0.08,0.04"},
                           edge_attr={"fontname": colour.CJK_FONT, "color": colour.NODE_BORDER,
                                      "arrowsize": "0.7"})
    for name, title, members in _clusters(graph, shown):
        with dot.subgraph(name=name) as cluster:
            cluster.attr(label=title, labeljust="l", style="rounded,dashed",
                         color=colour.CLUSTER_BORDER, fontsize="15")
            for node in members:
                _add_node(cluster, node, graph, overlay)
    for node in graph.order:
        if node.id in shown and _cluster_key(graph, node) is None:
            _add_node(dot, node, graph, overlay)
    _order_in_rows(dot, graph, shown)
    # Each edge is an input the node's evaluation reads (compiler/graph.py): with a ratio
    # ceiling the totals read each line's payout after it (xj-0007: 11,400, not the
    # 12,000 the lines paid before it).
    for node in graph.order:
        if node.id not in shown:
            continue
        for role, source in node.inputs:
            if source in shown and _drawn_edge(role, node):
                dot.edge(source, node.id, **_edge_style(source, node.id, overlay))
    return dot


def _order_in_rows(dot: graphviz.Digraph, graph: EvaluationGraph, shown: set[str]) -> None:
    """Claim fields on the top row; each line below the one before it (先保险后救助)."""
    inputs = [n.id for n in graph.order if n.op is Op.INPUT and n.id in shown]
    if inputs:
        with dot.subgraph() as top:
            top.attr(rank="min")
            for node_id in inputs:
                top.node(node_id)
    previous = None
    for line in graph.policy.lines:
        members = [n.id for n in graph.order if n.line == line.name and n.id in shown]
        if not members:
            continue
        if previous is not None:
            dot.edge(previous, members[0], style="invis")
        previous = members[-1]


def _graph_attributes(graph: EvaluationGraph, overlay: Overlay | None, line: str | None,
                      provenance: Provenance | None = None) -> dict:
    policy = graph.policy
    title = f"{policy.policy_id} 评估图"
    if line:
        title += f" · {line}"
    if overlay is not None:
        title += f" · 理赔 {overlay.claim_id}（适用身份: {overlay.winner_shown or overlay.winner}）"
    return {"label": provenance_title(title, provenance), "labelloc": "t", "fontsize": "20", "fontname": colour.CJK_FONT,
            "rankdir": "TB", "nodesep": "0.25", "ranksep": "0.4", "bgcolor": "white",
            "charset": "UTF-8", "newrank": "true"}


def _nodes_shown(graph: EvaluationGraph, line: str | None) -> set[str]:
    if line is None:
        return {node.id for node in graph.order}
    own = {node.id for node in graph.order if node.line == line}
    if not own:
        raise UnknownLine(line, tuple(l.name for l in graph.policy.lines))
    near = set(own)
    for node_id in own:
        near.update(graph.graph.predecessors(node_id))
        near.update(graph.graph.successors(node_id))
    return near


def _cluster_key(graph: EvaluationGraph, node: Node) -> str | None:
    if node.line is not None:
        return f"line:{node.line}"
    if node.op is Op.INPUT:
        return "claim"
    successors = [graph.node(s) for s in graph.graph.successors(node.id)]
    if node.op in (Op.ALERT, Op.REFERRAL) or (
            successors and all(s.op is Op.ALERT for s in successors)):
        return "monitoring"
    return None


def _clusters(graph: EvaluationGraph, shown: set[str]) -> list[tuple[str, str, list[Node]]]:
    """(name, title, nodes) per cluster: the claim, each line in settlement order, monitoring."""
    titles = {"claim": ("cluster_claim", "申报（输入）")}
    for index, line in enumerate(graph.policy.lines):
        kind = "上游结算" if line.upstream else "本政策计算"
        titles[f"line:{line.name}"] = (
            f"cluster_line_{index + 1}", f"{_CIRCLED[index % len(_CIRCLED)]} {line.name}（{kind}）")
    titles["monitoring"] = ("cluster_monitoring", "预警监测与转办")
    members: dict[str, list[Node]] = {key: [] for key in titles}
    for node in graph.order:
        key = _cluster_key(graph, node)
        if node.id in shown and key is not None:
            members[key].append(node)
    return [(*titles[key], nodes) for key, nodes in members.items() if nodes]


def _add_node(target: graphviz.Digraph, node: Node, graph: EvaluationGraph,
              overlay: Overlay | None) -> None:
    entry = overlay.nodes.get(node.id) if overlay is not None else None
    attributes = _node_style(node, entry.mark if entry else None, entry is not None and entry.zero)
    if node.citation is not None and node.citation.quote:
        attributes["tooltip"] = f"§{node.citation.clause} {node.citation.quote}"
    target.node(node.id, label=f"<{node_label(node, graph, overlay)}>", **attributes)


def _node_style(node: Node, mark: Mark | None, zero: bool = False) -> dict[str, str]:
    kind = "input" if is_input(node) else "output" if is_output(node) else "step"
    fill, border = {
        "input": (colour.INPUT_FILL, colour.INPUT_BORDER),
        "output": (colour.OUTPUT_FILL, colour.OUTPUT_BORDER),
        "step": (colour.NODE_FILL, colour.NODE_BORDER),
    }[kind]
    style = {"fillcolor": fill, "color": border, "penwidth": "1.2",
             "peripheries": "2" if kind == "output" else "1"}
    classes = [kind, node.op.value]
    if mark is Mark.TAKEN:
        style.update(color=colour.PATH, penwidth="2.6")
    elif mark is Mark.UNTAKEN:
        style.update(fillcolor=colour.UNTAKEN_FILL, color=colour.UNTAKEN, fontcolor=colour.UNTAKEN_TEXT,
                     style="rounded,filled,dashed")
    if mark is Mark.TAKEN and zero:
        # On the path but paid 0: the path's colour, dashed, so it never reads as a payment.
        style.update(fillcolor=colour.NODE_FILL, style="rounded,filled,dashed")
        classes.append("zero")
    if mark is not None:
        classes.append(mark.value)
    style["class"] = " ".join(classes)
    return style


def _drawn_edge(role: str, node: Node) -> bool:
    if role not in _QUIET_ROLES:
        return True
    # One coverage edge per line, into its base, says where the line starts.
    return role == "covered" and node.op is Op.DIFFERENCE or (
        role == "identity" and node.op is Op.COVERS)


def _edge_style(source: str, target: str, overlay: Overlay | None) -> dict[str, str]:
    if overlay is None:
        return {}
    marks = (overlay.mark(source), overlay.mark(target))
    if all(mark is Mark.TAKEN for mark in marks):
        return {"color": colour.PATH, "penwidth": "2.2", "class": "taken"}
    return {"color": colour.UNTAKEN, "style": "dashed", "class": "untaken"}


def provenance_title(title: str, provenance: Provenance | None) -> str:
    """The graph's title, with what made it in small type under it (a PNG or PDF
    leaves the command line behind: the picture itself must say its source)."""
    if provenance is None:
        return title
    small = "<BR/>".join(escape(part) for part in provenance.parts())
    return (f"<{escape(title).replace(chr(10), '<BR/>')}<BR/><FONT POINT-SIZE=\"10\" COLOR=\"{colour.CLAUSE}\">"
            f"{small}</FONT>>")


# ---- files -------------------------------------------------------------------------

def render_graph(dot: graphviz.Digraph, path: str | pathlib.Path) -> pathlib.Path:
    """Write the graph in the format its suffix names (.svg, .png, .pdf or .dot)."""
    path = pathlib.Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(f"{path}: cannot draw .{suffix}; use one of .{', .'.join(FORMATS)}")
    if suffix == "dot":
        path.write_text(dot.source, encoding="utf-8")
    else:
        path.write_bytes(dot.pipe(format=suffix))
    return path


def inline_svg(dot: graphviz.Digraph) -> str:
    """The SVG element alone (no XML prolog or doctype), for embedding in a page."""
    svg = dot.pipe(format="svg").decode("utf-8")
    return svg[svg.index("<svg"):]
