"""Definitions packed into nested SELECTs (backends/layers.py): each level that holds a
window function costs the engine a sort, so windows of the same rank share a level."""

from __future__ import annotations

from sqlglot import exp

from yibao.backends import sql
from yibao.backends.layers import Definition, _levels, layered_select


def _names(levels):
    return [[d.name for d in level] for level in levels]


def test_windows_of_one_rank_share_a_level_after_all_their_inputs():
    definitions = [
        Definition("burden", sql.running_sum(sql.col("total_fen"))),       # reads the claim
        Definition("covered", sql.col("visit").eq(sql.text("住院"))),
        Definition("remainder", sql.running_sum(sql.when(sql.col("covered"), sql.col("in_scope_fen"),
                                                         sql.num(0)))),
        Definition("left", exp.Sub(this=sql.col("burden"), expression=sql.col("remainder"))),
        Definition("later", sql.running_sum(sql.col("left"))),              # rank 2
        Definition("after", exp.Add(this=sql.col("later"), expression=sql.num(1))),
    ]
    assert _names(_levels(definitions)) == [
        ["covered"], ["remainder_arg1"], ["burden", "remainder"], ["left"], ["later"], ["after"]]


def test_without_windows_each_definition_sits_just_above_what_it_reads():
    definitions = [
        Definition("a", sql.col("total_fen")),
        Definition("b", exp.Add(this=sql.col("a"), expression=sql.num(1))),
        Definition("c", sql.col("in_scope_fen")),
        Definition("d", exp.Add(this=sql.col("b"), expression=sql.col("c"))),
    ]
    assert _names(_levels(definitions)) == [["a", "c"], ["b"], ["d"]]


def test_the_two_running_sums_render_in_one_select():
    definitions = [
        Definition("burden", sql.running_sum(sql.col("total_fen"))),
        Definition("covered", sql.col("visit").eq(sql.text("住院"))),
        Definition("remainder", sql.running_sum(sql.when(sql.col("covered"), sql.col("in_scope_fen"),
                                                         sql.num(0)))),
    ]
    query = layered_select(exp.to_table("claims"), definitions, ["burden", "remainder"])
    with_windows = [select for select in query.find_all(exp.Select)
                    if any(column.find(exp.Window) for column in select.expressions)]
    assert len(with_windows) == 1


def _window_select(query: exp.Select) -> exp.Select:
    return next(select for select in query.find_all(exp.Select)
                if any(column.find(exp.Window) for column in select.expressions))


def _carried_into(select: exp.Select) -> set[str]:
    """The columns the window's level reads from the level below: what its sort moves."""
    return {column.name for column in select.find_all(exp.Column)
            if column.find_ancestor(exp.Select) is select}


def _covered_burden() -> list[Definition]:
    covered = sql.col("visit").eq(sql.text("住院"))
    return [Definition("covered", covered), Definition("burden", sql.running_sum(
        sql.when(sql.col("covered"), sql.col("total_fen"), sql.num(0))))]


def test_a_constant_read_only_by_the_result_rides_through_no_window():
    # A SELECT computes its plain expressions after its windows: at the window's own
    # level the constants cross no sort.
    definitions = [Definition("label", sql.text("特困人员")),
                   Definition("zero", sql.bigint(sql.num(0))), *_covered_burden()]
    assert _names(_levels(definitions)) == [["label", "zero", "covered"], ["burden_arg1"],
                                            ["burden"]]
    keep = ["idx", "label", "zero", "burden"]
    assert _names(_levels(definitions, set(keep))) == [["covered"], ["burden_arg1"],
                                                       ["label", "zero", "burden"]]
    query = layered_select(exp.to_table("claims"), definitions, keep)
    assert _carried_into(_window_select(query)) == {"idx", "burden_arg1", "py", "ord"}


def test_a_definition_stays_below_the_window_when_moving_it_would_carry_more():
    # "net" reads two claim columns nothing else needs after the window: computed
    # first, one column crosses the sort instead of two.
    net = exp.Sub(this=sql.col("in_scope_fen"), expression=sql.col("up_0"))
    definitions = [Definition("net", net), *_covered_burden(),
                   Definition("left", exp.Sub(this=sql.col("net"), expression=sql.col("burden")))]
    assert _names(_levels(definitions, {"left"})) == [["net", "covered"], ["burden_arg1"],
                                                      ["burden"], ["left"]]


def test_a_window_s_argument_is_computed_below_it_so_the_sort_moves_one_integer():
    # Evaluated inside the window, "visit IN (...)" would carry the visit's text through
    # the sort; hoisted, only its integer result crosses.
    argument = sql.when(sql.one_of(sql.col("visit"), ("住院", "门诊慢特病")),
                        sql.col("total_fen"), sql.num(0))
    burden = Definition("burden", sql.running_sum(argument))
    query = layered_select(exp.to_table("claims"), [burden], ["idx", "burden"])
    assert _carried_into(_window_select(query)) == {"idx", "burden_arg1", "py", "ord"}
    assert burden.expression.find(exp.Window).this.this is argument   # the lowering's tree
    assert _names(_levels([Definition("plain", sql.running_sum(sql.col("total_fen")))])) == [
        ["plain"]]
