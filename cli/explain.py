"""`yibao explain POLICY CLAIMS --claim ID`: one claim's settlement, step by step.

Text for the terminal (the default; colour on a terminal, plain when piped or
written with -o), Markdown for a case file, one self-contained HTML page for
auditors (with the evaluation graph), or the JSON result with its trace.
"""

from __future__ import annotations

import json
import pathlib
import sys

from yibao.backends.encodings import ClaimsFileError, utf8_claims
from yibao.cli.main import EXIT_CLAIMS_FAILED, EXIT_OK, EXIT_USAGE
from yibao.cli.outcomes import (add_encoding_argument, refuse_claims_file, report_failures,
                                settle_file)
from yibao.runtime.claims import ClaimError
from yibao.runtime.results import outcome_to_json

FORMATS = ("text", "markdown", "html", "json")


def register(commands) -> None:
    explain = commands.add_parser("explain", help="one claim's settlement, step by step")
    explain.add_argument("policy")
    explain.add_argument("claims")
    explain.add_argument("--claim", required=True, help="the claim id")
    explain.add_argument("--format", choices=FORMATS, default="text")
    explain.add_argument("--lang", choices=("zh", "en"), default="zh",
                         help="labels in Chinese (default) or English; identities and "
                              "clause quotes stay in Chinese")
    explain.add_argument("-o", "--output", metavar="FILE", help="write to FILE, not stdout")
    explain.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                         help="colour the text on a terminal (auto: when stdout is one)")
    explain.add_argument("--no-quotes", action="store_true", help="omit the clauses' words")
    add_encoding_argument(explain)
    explain.add_argument("--book", metavar="STORE",
                         help="start the person's year from the claims this book holds "
                              "(nothing is written; see yibao settle)")
    explain.set_defaults(handler=run)


def run(args) -> int:
    if args.book:
        return _run_in_book(args)
    # The whole file is settled (earlier claims fill the year-to-date figures);
    # only the wanted claim is traced.
    try:
        engine, outcomes = settle_file(args.policy, args.claims, trace={args.claim},
                                       encoding=args.encoding)
    except ClaimsFileError as error:
        return refuse_claims_file(error)
    for outcome in outcomes:
        if outcome.claim_id != args.claim:
            continue
        if isinstance(outcome, ClaimError):
            report_failures([outcome])
            return EXIT_CLAIMS_FAILED
        _write(args.output, render(args, engine, outcome))
        note = starts_from_zero(engine, args.claim, args.claims, args.lang)
        if note:
            print(note, file=sys.stderr)
        return EXIT_OK
    print(f"yibao: no claim {args.claim} in {args.claims}", file=sys.stderr)
    return EXIT_USAGE


def starts_from_zero(engine, claim_id: str, source: str, lang: str) -> str | None:
    """A plain note when the file holds no earlier claim of the person that year.

    The year-to-date figures (本次前) are then zero because nothing before the
    claim was given, which is right only if the person had no earlier claim that
    year anywhere: claims settled in other runs are in a book, not in this file.
    """
    claims = list(engine.claims_by_id.values())
    ids = list(engine.claims_by_id)
    ours = engine.claims_by_id[claim_id]
    position = ids.index(claim_id)
    earlier = any(other.person_id == ours.person_id and other.date.year == ours.date.year
                  and (other.date, index) < (ours.date, position)
                  for index, other in enumerate(claims) if index != position)
    if earlier:
        return None
    if lang == "zh":
        return (f"yibao: 注意：{source} 中没有 {ours.person_id} {ours.date.year} 年在此之前的理赔，"
                "年度累计（本次前）从零开始；在其他批次结算的理赔不计入 —— 账簿中的理赔请用 "
                f"yibao audit show BOOK --claim {claim_id}")
    return (f"yibao: note: {source} holds no earlier claim of {ours.person_id} in "
            f"{ours.date.year}: the year-to-date figures (本次前) start from zero; claims "
            f"settled in other runs are not counted — for a claim in a book, use "
            f"yibao audit show BOOK --claim {claim_id}")


def render(args, engine, outcome) -> str:
    from yibao.explain.colour import PLAIN, terminal_palette
    from yibao.explain.labels import language
    from yibao.explain.provenance import provenance

    # Every view says what made it: yibao's version, the policy text, the claims file
    # (none for `audit show`: the claim comes from the store, which the view names).
    made_by = provenance(engine.evaluators[outcome.policy].graph.policy,
                         getattr(args, "claims", None))
    if args.format == "json":
        data = outcome_to_json(outcome)
        if "identity" in data and getattr(outcome, "trace", None):
            # The identity applied as the person holds it (监测帮扶对象（参照低保对象）), next to
            # `identity`, which stays the one applied, as the audit record keeps it.
            from yibao.explain.identity_shown import identity_shown
            shown = identity_shown(outcome.trace, outcome.identity)
            data = {key: value for name, item in data.items() for key, value in (
                ((name, item), ("identity_shown", shown)) if name == "identity"
                else ((name, item),))}
        data["provenance"] = made_by.to_json()
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    lang = language(args.lang)
    quotes = not args.no_quotes
    claim = engine.claims_by_id[args.claim]
    if args.format == "html":
        from yibao.explain.html import render_html

        graph = engine.evaluators[outcome.policy].graph
        return render_html(outcome, claim, graph, quotes, lang, made_by)
    policy = engine.version_for(claim.date, args.claim)
    if args.format == "markdown":
        from yibao.explain.markdown import render_markdown

        return render_markdown(outcome, claim, policy, quotes, lang, made_by)
    from yibao.explain.text import render_text

    palette = PLAIN if args.output else terminal_palette(sys.stdout, args.color)
    return render_text(outcome, claim, policy, quotes, lang, palette, made_by)


def _write(output: str | None, text: str) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        pathlib.Path(output).write_text(text, encoding="utf-8")


def _run_in_book(args) -> int:
    """The claim from CLAIMS, settled after its person's earlier claims in the book."""
    from yibao.audit.book import claim_object
    from yibao.audit.book_explain import explain_in_book
    from yibao.audit.store import AuditError
    from yibao.audit.stores import open_store
    from yibao.core.jsonl import read_lines
    from yibao.runtime.batch import Engine
    from yibao.dsl.loader import load_policy
    from yibao.explain.book import book_lines

    engine = Engine(load_policy(args.policy))
    try:
        with utf8_claims(args.claims, "jsonl", args.encoding) as path:
            lines = list(read_lines(path))
    except ClaimsFileError as error:
        return refuse_claims_file(error)
    for line, raw in lines:
        try:
            record, _ = claim_object(raw, line)
        except ClaimError:
            continue
        if record.get("claim_id") != args.claim:
            continue
        try:
            claim = engine.validate_line(record, line)
            with open_store(args.book) as store:
                view = explain_in_book(store, engine, claim, record)
        except ClaimError as error:
            report_failures([error])
            return EXIT_CLAIMS_FAILED
        except AuditError as error:
            hint = f" — {error.hint}" if error.hint else ""
            print(f"yibao: {error.message}{hint}", file=sys.stderr)
            return EXIT_USAGE
        if isinstance(view.outcome, ClaimError):
            report_failures([view.outcome])
            return EXIT_CLAIMS_FAILED
        engine.claims_by_id = {claim.claim_id: claim}
        text = render(args, engine, view.outcome)
        if args.format != "json":
            text += book_lines({"person_id": claim.person_id, "year": claim.date.year,
                                "year_to_date_from": list(view.earlier)},
                               list(view.adjustments), args.lang)
        _write(args.output, text)
        return EXIT_OK
    print(f"yibao: no claim {args.claim} in {args.claims}", file=sys.stderr)
    return EXIT_USAGE
