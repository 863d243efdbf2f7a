"""`yibao fmt`: one canonical layout for policy files, comments and meaning kept.

The layout is the hand-written style of ``policies/benxi-2023.policy``: one
item or rule per line, blocks indented by four spaces, one table entry or band
per line, citations and quotes after the value.  Blank lines the drafter put
between items are kept (several collapse to one); none open or close a block.

The printer works on Lark's parse tree, not the AST, because the tree keeps
every token as written: amounts stay ``2万``, strings keep their escapes.  Each
grammar rule has its entry (a table row or a method); a construct the printer
does not know is refused, never dropped.  Comments, which the grammar ignores, are collected by
:mod:`yibao.dsl.comments` and put back: a comment alone on its line before the
item or rule that follows it (or before the closing brace of its block), a
comment after code at the end of that code's line.  As a last guard the output
is parsed again and must give the same AST as the input.
"""

from __future__ import annotations

import attrs
from lark import Token, Tree

from yibao.dsl.comments import Comment, parse_with_comments
from yibao.dsl.parser import parse_policy

INDENT = "    "


class FormatError(Exception):
    """The formatter cannot lay the file out without changing it (a construct it does not know)."""


@attrs.define
class _Line:
    """One output line and the source lines it stands for (to place comments and blank lines)."""

    depth: int
    text: str
    first: int
    last: int
    kind: str = "plain"          # plain | open | close | comment
    comment: str = ""            # a trailing comment


def format_policy(source: str, path: str = "<policy>") -> str:
    """The canonical text of a policy; raises PolicyError on a syntax error."""
    before = parse_policy(source, path)
    tree, comments = parse_with_comments(source)
    printer = _Printer()
    printer.item_list(tree, 0)
    lines = _place_comments(printer.lines, comments)
    text = _render(lines, _blank_lines(source))
    if parse_policy(text, path) != before:   # the guard of last resort: never change meaning
        raise FormatError(f"{path}: formatting would change the policy's meaning; left unchanged")
    return text


# ---- the printer: one method per grammar rule ------------------------------------

# Rules printed on one line as their keywords, then their parts as written.
ONE_LINE = {
    "title": "title", "region": "region", "effective": "effective", "source": "source",
    "document": "document", "schemes": "schemes", "clause": "clause", "identity": "identity",
    "take_highest": "take highest", "covers": "covers", "condition_rule": "when",
    "members": "identities", "base": "base", "burden": "burden after", "visits": "visits",
    "group_members": "group", "group_except": "group except",
    "zero_contribution": "zero contribution only for", "reduces": "reduces", "capped": "capped",
}
# Rules that state a value by their keyword: inline, or a table by identity.
VALUED = frozenset({"deductible", "rate", "cap", "subsidy"})
# Blocks of rules under a keyword and a name.
NAMED_BLOCKS = {"computed_line": "line", "alert": "alert", "referral": "refer"}


class _Printer:
    def __init__(self):
        self.lines: list[_Line] = []

    def emit(self, depth: int, text: str, first: int, last: int, kind: str = "plain") -> None:
        self.lines.append(_Line(depth, text, first, last, kind))

    def statement(self, tree: Tree, depth: int) -> None:
        if tree.data in ONE_LINE:
            self.simple(tree, depth, words(ONE_LINE[tree.data], *tree.children))
        elif tree.data in VALUED:
            self.value_spec(tree.data, tree, tree.children[0], depth)
        elif tree.data in NAMED_BLOCKS:
            name, *rules = tree.children
            self.block(f"{NAMED_BLOCKS[tree.data]} {name}", tree, rules, depth)
        elif hasattr(self, f"s_{tree.data}"):
            getattr(self, f"s_{tree.data}")(tree, depth)
        else:
            raise FormatError(f"yibao fmt does not know the construct `{tree.data}` "
                              f"(line {tree.meta.line}); the file is left unchanged")

    def item_list(self, tree: Tree, depth: int) -> None:
        for child in tree.children:
            self.statement(child, depth)

    def block(self, head: str, tree: Tree, children, depth: int) -> None:
        """``head {`` children ``}``, the braces on the lines of the source's braces."""
        self.emit(depth, f"{head} {{", tree.meta.line, tree.meta.line, "open")
        for child in children:
            self.statement(child, depth + 1)
        self.emit(depth, "}", tree.meta.end_line, tree.meta.end_line, "close")

    def simple(self, tree: Tree, depth: int, text: str) -> None:
        self.emit(depth, text, tree.meta.line, tree.meta.end_line)

    # header -------------------------------------------------------------------
    def s_policy(self, tree, depth):
        policy_id, extends, *fields = tree.children
        head = f"policy {policy_id}" + (f" {fragment(extends)}" if extends is not None else "")
        self.block(head, tree, fields, depth)

    # lines ----------------------------------------------------------------------
    def s_upstream_line(self, tree, depth):
        name, citation, rules = tree.children
        head = words("line", name, "upstream", citation)
        if rules is None:
            self.simple(tree, depth, head)
            return
        self.emit(depth, f"{head} {{", tree.meta.line, rules.meta.line, "open")
        for child in rules.children:
            self.statement(child, depth + 1)
        self.emit(depth, "}", rules.meta.end_line, tree.meta.end_line, "close")

    def s_amend(self, tree, depth):
        name, visits, *rules = tree.children
        self.block(words("amend", name, visits), tree, rules, depth)

    def s_threshold(self, tree, depth):
        above, spec = tree.children
        self.value_spec("threshold above" if above is not None else "threshold", tree, spec, depth)

    def s_per_unit(self, tree, depth):
        unit, spec = tree.children
        self.value_spec(f"per {unit}", tree, spec, depth)

    # values: the one place a rule may open a block (a table, or bands) ------------
    def value_spec(self, head: str, rule: Tree, spec: Tree, depth: int) -> None:
        if spec.data == "inline_value":
            value, citation = spec.children
            self.valued(head, value, citation, rule, depth)
        elif spec.data == "table_value":
            citation, table = spec.children
            self.emit(depth, words(head, citation) + " {", rule.meta.line, table.meta.line, "open")
            for entry in table.children:
                self.statement(entry, depth + 1)
            self.emit(depth, "}", table.meta.end_line, rule.meta.end_line, "close")
        else:
            raise FormatError(f"yibao fmt does not know the value form `{spec.data}`")

    def valued(self, head: str, value: Tree, citation, rule: Tree, depth: int) -> None:
        """``head value citation``; bands open a block whose closing line carries the citation."""
        if value.data != "bands":
            self.simple(rule, depth, words(head, value, citation))
            return
        self.emit(depth, f"{head} bands {{", rule.meta.line, value.meta.line, "open")
        for band in value.children:
            self.simple(band, depth + 1, fragment(band))
        self.emit(depth, words("}", citation), value.meta.end_line, rule.meta.end_line, "close")

    def s_entry(self, tree, depth):
        names, value, citation = tree.children
        self.valued(f"{fragment(names)}:", value, citation, tree, depth)

    # alerts, subsidies, ceiling, params, referrals, fields --------------------------
    def s_ceiling(self, tree, depth):
        rate, citation, *rules = tree.children
        self.block(words("ceiling", rate, citation), tree, rules, depth)

    def s_param(self, tree, depth):
        name, spec = tree.children
        self.value_spec(f"param {name}", tree, spec, depth)

    def s_field(self, tree, depth):
        name, display, field_type, default, citation = tree.children
        head = f"field {name}" if display is None else f"field {name} {display}"
        self.simple(tree, depth, words(f"{head}: {field_type}", default, citation))


# ---- fragments: the parts of a line -------------------------------------------------


def words(*parts) -> str:
    """Parts joined by one space; a missing optional part (None) is left out."""
    return " ".join(fragment(part) for part in parts if part is not None)


def fragment(node) -> str:
    if isinstance(node, Token):
        return str(node)
    if isinstance(node, str):
        return node
    method = _FRAGMENTS.get(node.data)
    if method is None:
        raise FormatError(f"yibao fmt does not know the construct `{node.data}` "
                          f"(line {node.meta.line}); the file is left unchanged")
    return method(node.children)


def _condition(node, parent: str | None = None) -> str:
    """A condition with only the parentheses that keep its tree: ``a or (b or c)`` stays so."""
    if isinstance(node, Token):
        return str(node)
    kind = node.data
    if kind == "field_ref":
        return str(node.children[0])
    if kind == "negation":
        return "not " + _condition(node.children[0], "negation")
    joiner = " or " if kind == "or_condition" else " and "
    text = joiner.join(_condition(child, kind) for child in node.children)
    # `and` binds tighter than `or`; a nested list of the same kind, or an `or`
    # under `and`/`not`, needs its parentheses to parse back to the same tree.
    needs_parentheses = parent == kind or parent == "negation" or (
        kind == "or_condition" and parent == "and_condition")
    return f"({text})" if needs_parentheses else text


_FRAGMENTS = {
    "extends": lambda c: f"extends {c[0]}",
    "citation": lambda c: words(*c),
    "treated_as": lambda c: f"treated as {c[0]}",
    "name_list": lambda c: ", ".join(str(name) for name in c),
    "base_remaining": lambda c: "remaining",
    "base_difference": lambda c: " - ".join(fragment(term) for term in c),
    "base_term": lambda c: str(c[0]),
    "base_unspecified": lambda c: words("unspecified", *c),
    "base_condition": lambda c: "when " + _condition(c[0]),
    "or_condition": lambda c: _condition(Tree("or_condition", c)),
    "and_condition": lambda c: _condition(Tree("and_condition", c)),
    "negation": lambda c: _condition(Tree("negation", c)),
    "field_ref": lambda c: str(c[0]),
    "amount": lambda c: str(c[0]),
    "percent": lambda c: str(c[0]),
    "no_limit": lambda c: "none",
    "unspecified": lambda c: words("unspecified", *c),
    "full": lambda c: "full",
    "fixed": lambda c: words("fixed", *c),
    "fixed_unspecified": lambda c: words("fixed unspecified", *c),
    "at_most": lambda c: f"at most {c[0]}",
    "share": lambda c: f"share {c[0]}",
    "plus": lambda c: f"plus {c[0]}",
    "times": lambda c: f"times {c[0]}",
    "band": lambda c: f"from {c[0]}" + (f" to {c[1]}" if c[1] is not None else "") + f": {c[2]}",
    "all_lines": lambda c: "all lines",
    "named_lines": lambda c: fragment(c[0]),
    "field_default": lambda c: f"default {c[0]}",
    "amend_visits": lambda c: words("for", *c),
    "above": lambda c: "above",
}

# Every rule of the grammar the formatter lays out: statements, then fragments.
STATEMENTS = frozenset(ONE_LINE) | VALUED | frozenset(NAMED_BLOCKS) | frozenset(
    name[2:] for name in dir(_Printer) if name.startswith("s_"))
FRAGMENTS = frozenset(_FRAGMENTS)
# Forms handled inside another rule's method rather than by name.
INNER_FORMS = frozenset({"start", "inline_value", "table_value", "table", "bands",
                         "upstream_rules"})


# ---- comments and blank lines --------------------------------------------------------


def _place_comments(code: list[_Line], comments: tuple[Comment, ...]) -> list[_Line]:
    """Trailing comments stay at the end of their code's line; the others go before
    the next item or rule (or before the closing brace of their block)."""
    placed: list[tuple[int, int, Comment]] = []   # (before code line, source line, comment)
    for comment in comments:
        index = None if comment.own_line else _last_line_from(code, comment.line)
        if index is not None and not code[index].comment:
            code[index].comment = comment.text
            continue
        if index is not None:      # a second trailing comment for one output line
            placed.append((index + 1, comment.line, comment))
            continue
        before = next((i for i, line in enumerate(code) if line.first > comment.line), len(code))
        placed.append((before, comment.line, comment))
    placed.sort(key=lambda entry: (entry[0], entry[1]))
    out: list[_Line] = []
    cursor = 0
    for index, line in enumerate(code + [None]):
        while cursor < len(placed) and placed[cursor][0] == index:
            comment = placed[cursor][2]
            depth = 0 if line is None else line.depth + (1 if line.kind == "close" else 0)
            out.append(_Line(depth, comment.text, comment.line, comment.line, "comment"))
            cursor += 1
        if line is not None:
            out.append(line)
    return out


def _last_line_from(lines: list[_Line], source_line: int) -> int | None:
    found = None
    for index, line in enumerate(lines):
        if line.first <= source_line:
            found = index
    return found


def _blank_lines(source: str) -> frozenset[int]:
    return frozenset(number for number, text in enumerate(source.splitlines(), 1)
                     if not text.strip())


def _render(lines: list[_Line], blank: frozenset[int]) -> str:
    out: list[str] = []
    previous: _Line | None = None
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else None
        if line.kind == "open" and following is not None and following.kind == "close" \
                and not line.comment:
            # An empty block closes on its own line: `line X {}`.
            following.text = line.text + following.text
            following.first = line.first
            continue
        if previous is not None and previous.kind != "open" and line.kind != "close" and any(
                number in blank for number in range(previous.last + 1, line.first)):
            out.append("")
        text = INDENT * line.depth + line.text
        if line.comment:
            text += "  " + line.comment
        out.append(text)
        previous = line
    return "\n".join(out) + "\n" if out else ""
