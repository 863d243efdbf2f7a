"""`yibao fmt` (dsl/format.py): the canonical layout, comments and meaning kept.

The canonical layout is the hand-written style of policies/benxi-2023.policy;
meaning is the AST (spans ignored): parse(fmt(src)) == parse(src).
"""

from __future__ import annotations

import random
import re
import textwrap

import lark
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import POLICIES
from yibao.core.diagnostics import PolicyError
from yibao.dsl import format as fmt
from yibao.dsl.format import FormatError, format_policy
from yibao.dsl.parser import GRAMMAR, parse_policy

# Every construct of dsl/policy.lark, laid out canonically, with comments in
# each place they can go.  It need not check, only parse.
EVERY_CONSTRUCT = """\
# A leading comment, before the header.
policy every-construct-2023 extends base-2022 {  # on the header's opening line
    title "全部构造 \\"引号\\""
    region "某地"
    effective 2023-01-01
    source "seeds/x.txt"
    document "某文件"
    schemes 居民医保, 职工医保 §一 "险种"
}

clause §一 "第一条"
clause §（二） "第二条"
identity 甲 §一 "甲"
identity 乙 treated as 甲 §一
identity 丙
take highest §一 "就高"
take highest
field in_province "省内就医": bool default true §一
field referred: bool default false
field bed_days: count §一
field budget: money default 2万 §一

line 基本医保 upstream §一 "上游"
line 医疗救助 upstream
line 大病保险 upstream §一 {
    identities 甲 §一
    base in_scope_cost - 基本医保 when not in_province §一
    base unspecified "未规定" when not in_province and referred §一
    base total_cost - 基本医保 - 医疗救助 when in_province and referred
}
line 救助 {
    # before the first rule of a block
    covers 住院, 门诊慢特病 §一
    when in_province or referred and not (in_province or referred) §一
    when (in_province or referred) and referred
    when in_province or (referred or in_province)
    when not not in_province
    identities 甲 §一
    base remaining §一
    deductible §一 {
        甲: 0  # on an entry
        others: 2000 §一 "其他"
    }
    rate bands {
        from 0 to 2万: 65%
        from 2万: 75%
    } §一 "分段"
    cap none §一
    # before the closing brace
}  # on the closing brace
line 床日 {
    covers 住院 §一
    per bed_days unspecified "未规定" §一
    per bed_days unspecified
    rate §一 {
        甲: bands {
            from 0: 100%
        } §一
        others: 5%
    }
}
line 空 {}
amend 救助 {
    rate §一 {
        甲: plus 5%
        others: times 50%
    }
    cap 1.2万元
}
amend 空 {}
amend 救助 for 住院, 门诊慢特病 §一 "住院、门诊特殊病" {
    rate plus 5% §一
}
alert 预警 {
    burden after all lines §一
    visits 住院 §一
    group 甲 §一
    threshold 5000 §一
}
alert 预警三 {
    group 甲 §一
    threshold above 5000 §一 "超过5000元"
}
alert 预警二 {
    burden after 基本医保, 大病保险
    group except 预警 §一
    threshold §一 {
        居民医保: 2万
        职工医保: 5万
    }
}
alert 空 {}
zero contribution only for 甲 §一
zero contribution only for 甲, 乙
subsidy §一 {
    甲: full
    乙: fixed 180 at most 丙
    丙: fixed unspecified "未给出" at most 甲
    丁: share 60%
    戊: fixed 100
    己: fixed unspecified
    庚: fixed unspecified "未给出"
    辛: unspecified
}
ceiling 95% §一 {
    identities 甲 §一
    visits 住院 §一
    reduces 救助 §一
}
ceiling 90% {}
param 参数 1.2万元 §一
param 表 §一 {
    a: 1
    b: 2% §一
}
refer 一事一议 {
    identities 甲 §一
    capped 救助 §一
}
refer 空 {}
# The last comment, at the end of the file.
"""


def test_benxi_is_already_canonical():
    """The canonical layout is benxi-2023's hand-written style: formatting changes nothing."""
    source = (POLICIES / "benxi-2023.policy").read_text(encoding="utf-8")
    assert format_policy(source) == source


def test_every_construct_round_trips_unchanged_and_keeps_meaning():
    assert format_policy(EVERY_CONSTRUCT) == EVERY_CONSTRUCT
    assert parse_policy(format_policy(EVERY_CONSTRUCT)) == parse_policy(EVERY_CONSTRUCT)


def _grammar_forms() -> set[str]:
    """Every tree node the grammar can produce: rules and aliases Lark does not inline."""
    parser = lark.Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr",
                       maybe_placeholders=True)
    forms = set()
    for rule in parser.rules:
        origin = str(rule.origin.name)
        if origin.startswith("_"):
            continue
        kept = [s for s in rule.expansion if not (s.is_term and s.filter_out)]
        if rule.options.expand1 and len(kept) == 1 and not rule.alias:
            continue
        forms.add(str(rule.alias or origin))
    return forms


def _forms_in(source: str) -> set[str]:
    from yibao.dsl.comments import parse_with_comments

    tree, _ = parse_with_comments(source)
    return {subtree.data for subtree in tree.iter_subtrees()}


def test_every_grammar_rule_is_in_the_sample_and_known_to_the_formatter():
    """Fails when dsl/policy.lark gains a construct: add it to EVERY_CONSTRUCT and the printer."""
    forms = _grammar_forms()
    assert forms - _forms_in(EVERY_CONSTRUCT) == set()
    assert forms - (fmt.STATEMENTS | fmt.FRAGMENTS | fmt.INNER_FORMS) == set()


def test_a_fields_display_name_sits_between_its_name_and_the_colon():
    source = ('policy t-2023 {\n    effective 2023-01-01\n}\n'
              'field   referred  "按规定转诊"  :  bool default false §一\n')
    assert format_policy(source).endswith(
        'field referred "按规定转诊": bool default false §一\n')


def test_messy_layout_becomes_canonical():
    messy = ('policy t-2023 {effective 2023-01-01 title "标题"}\n\n\n\n'
             'identity 甲 §(一)   identity 乙 treated as 甲\n   §(一)\n'
             'line 救助 { covers 住院 §(四) rate { 甲: 70% §(五) } cap 2万 §(五) }')
    assert format_policy(messy) == textwrap.dedent("""\
        policy t-2023 {
            effective 2023-01-01
            title "标题"
        }

        identity 甲 §(一)
        identity 乙 treated as 甲 §(一)
        line 救助 {
            covers 住院 §(四)
            rate {
                甲: 70% §(五)
            }
            cap 2万 §(五)
        }
        """)


def test_amounts_keep_the_drafters_spelling():
    source = ("policy t {\n    effective 2023-01-01\n}\n"
              "field budget: money default 1.2万元 §一\nparam p 2万 §一\nparam q 20000元 §一\n")
    assert format_policy(source) == source


def test_comments_move_to_the_next_rule_or_stay_at_the_end_of_their_line():
    source = textwrap.dedent("""\
        policy t {
            effective 2023-01-01
        }
        identity 甲 # why 甲
            §(一)
        line 救助 {
              covers 住院 §(四)   # visits
          # about the rate
          rate 70%
          # last word
          §(五)
        }
        # the end
        """)
    assert format_policy(source) == textwrap.dedent("""\
        policy t {
            effective 2023-01-01
        }
        identity 甲 §(一)  # why 甲
        line 救助 {
            covers 住院 §(四)  # visits
            # about the rate
            rate 70% §(五)
            # last word
        }
        # the end
        """)


def test_a_second_trailing_comment_of_one_output_line_follows_it():
    source = "policy t {\n    effective 2023-01-01\n}\nidentity 甲 # one\n §(一) # two\n"
    formatted = format_policy(source)
    assert formatted == "policy t {\n    effective 2023-01-01\n}\nidentity 甲 §(一)  # one\n# two\n"
    assert format_policy(formatted) == formatted


def test_parentheses_that_shape_a_condition_are_kept_and_others_dropped():
    source = ("policy t {\n    effective 2023-01-01\n}\nline x {\n"
              "    when ((a) or (b or c)) and not (d and e) §一\n}\n")
    formatted = format_policy(source)
    assert "    when (a or (b or c)) and not (d and e) §一\n" in formatted
    assert parse_policy(formatted) == parse_policy(source)


def test_a_syntax_error_is_the_parsers_diagnostic():
    with pytest.raises(PolicyError) as error:
        format_policy('policy t {\n    title "unclosed\n}\n', "bad.policy")
    assert error.value.diagnostics[0].code.startswith("P1")


def test_a_construct_the_printer_does_not_know_is_refused_not_dropped():
    printer = fmt._Printer()
    unknown = lark.Tree("mystery", [], meta=lark.tree.Meta())
    unknown.meta.line = 7
    with pytest.raises(FormatError, match="mystery"):
        printer.statement(unknown, 0)


def _words(source: str) -> list[str]:
    """The source as whitespace-separated words, strings kept whole, comments dropped."""
    return re.findall(r'"(?:[^"\\\n]|\\.)*"|[^\s"]+', re.sub(r"#[^\n]*", "", source))


@settings(max_examples=12, deadline=None)
@given(st.randoms(use_true_random=False))
def test_the_layout_does_not_depend_on_how_the_source_was_spaced(rng: random.Random):
    """Benxi's words re-joined by random spaces and line breaks (no blank lines, no
    comments) format to the same text as when joined by single spaces."""
    words = _words((POLICIES / "benxi-2023.policy").read_text(encoding="utf-8"))
    spaced = words[0] + "".join(rng.choice([" ", "\n", "   ", "\n\t  "]) + w for w in words[1:])
    canonical = format_policy(" ".join(words))
    assert format_policy(spaced) == canonical
    assert format_policy(canonical) == canonical
