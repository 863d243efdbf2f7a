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
        ["covered"], ["burden", "remainder"], ["left"], ["later"], ["after"]]


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
