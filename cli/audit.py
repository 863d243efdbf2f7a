"""`yibao audit verify|replay|show STORE`: the audit trail written by `yibao eval --record`."""

from __future__ import annotations

import json
import sys

from yibao.cli.explain import FORMATS
from yibao.cli.main import EXIT_CLAIMS_FAILED, EXIT_OK, EXIT_USAGE


def register(commands) -> None:
    audit = commands.add_parser(
        "audit", help="check, replay and show the settlements recorded by eval --record")
    actions = audit.add_subparsers(dest="action", required=True, metavar="ACTION")
    verify = actions.add_parser("verify", help="walk the hash chain; name the first record "
                                               "altered, removed or reordered")
    verify.add_argument("store")
    verify.add_argument("--head", help="the head hash an earlier verify printed: also catches "
                                       "records removed from the end")
    verify.set_defaults(handler=run_verify)
    migrate = actions.add_parser("migrate", help="copy a store (e.g. SQLite) into an empty "
                                                 "PostgreSQL database, records and hashes as "
                                                 "they are")
    migrate.add_argument("store", help="the store to copy (it must verify)")
    migrate.add_argument("target", help="a postgresql:// URL")
    migrate.set_defaults(handler=run_migrate)
    reindex = actions.add_parser("reindex", help="rebuild the settlement book's person-year "
                                                 "index from the chain")
    reindex.add_argument("store")
    reindex.set_defaults(handler=run_reindex)
    replay = actions.add_parser("replay", help="settle recorded claims again with their stored "
                                               "policy texts; report every difference")
    replay.add_argument("store")
    replay.add_argument("--claim", help="only this claim (its whole batch is re-settled)")
    replay.add_argument("--ignore-trace", action="store_true",
                        help="compare settlements only, not the wording of their traces")
    replay.add_argument("--format", choices=("text", "json"), default="text")
    replay.set_defaults(handler=run_replay)
    show = actions.add_parser("show", help="a recorded claim's explanation, as it was settled")
    show.add_argument("store")
    show.add_argument("--claim", required=True, help="the claim id")
    show.add_argument("--seq", type=int, help="which record of the claim (default: the latest)")
    # The explanation is rendered by `yibao explain`'s own renderers, with its options.
    show.add_argument("--format", choices=FORMATS, default="text",
                      help="json: the whole record; otherwise the explanation as explain gives it")
    show.add_argument("--lang", choices=("zh", "en"), default="zh")
    show.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    show.add_argument("--no-quotes", action="store_true", help="omit the clauses' words")
    show.set_defaults(handler=run_show, output=None)


def _guarded(action):
    """Report a store that cannot be read as a usage error, like a bad policy."""
    def run(args) -> int:
        from yibao.audit.store import AuditError
        from yibao.audit.stores import open_store

        try:
            with open_store(args.store) as store:
                return action(store, args)
        except AuditError as error:
            hint = f" — {error.hint}" if error.hint else ""
            print(f"yibao: {error.message}{hint}", file=sys.stderr)
            return EXIT_USAGE
    return run


@_guarded
def run_verify(store, args) -> int:
    from yibao.audit.verify import verify_store

    report = verify_store(store, args.head)
    if report.ok:
        store.mark_verified(report.records, report.head)   # settle verifies from here on
        print(f"ok: {report.records} record(s) verify; head #{report.records} {report.head}")
        return EXIT_OK
    print(f"yibao: {store.location}: {report.problem.message}", file=sys.stderr)
    print(f"yibao: the {report.records} record(s) before it verify (head {report.head})",
          file=sys.stderr)
    return EXIT_CLAIMS_FAILED


@_guarded
def run_migrate(store, args) -> int:
    from yibao.audit.postgres_store import PostgresStore, is_postgres
    from yibao.audit.store import AuditError
    from yibao.audit.verify import verify_store

    if not is_postgres(args.target):
        raise AuditError(f"{args.target}: not a postgresql:// URL")
    report = verify_store(store)
    if not report.ok:
        print(f"yibao: {store.location}: {report.problem.message}", file=sys.stderr)
        return EXIT_CLAIMS_FAILED
    with PostgresStore(args.target, create=True) as target:
        copied = target.copy_from(store)
        check = verify_store(target, report.head)
        if check.ok:
            target.mark_verified(check.records, check.head)
    if not check.ok:
        print(f"yibao: {args.target}: {check.problem.message}", file=sys.stderr)
        return EXIT_CLAIMS_FAILED
    print(f"ok: {copied} record(s) copied to {args.target}; head #{check.records} {check.head}")
    return EXIT_OK


@_guarded
def run_reindex(store, args) -> int:
    from yibao.audit.verify import BOOK_INDEX, verify_store

    report = verify_store(store)
    if not report.ok and report.problem.kind != BOOK_INDEX:
        # The index is derived from the chain: from a chain that does not verify, no.
        print(f"yibao: {store.location}: {report.problem.message}", file=sys.stderr)
        return EXIT_CLAIMS_FAILED
    from yibao.audit.book import index_entry

    entries = [(record.seq, *index_entry(data)) for record in store.records()
               if "kind" in (data := record.data)]
    store.rebuild_book_index(entries)
    print(f"ok: the book index lists {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}")
    return EXIT_OK


@_guarded
def run_replay(store, args) -> int:
    from yibao import ENGINE_VERSION
    from yibao.audit.replay import replay_store

    report = replay_store(store, args.claim, compare_trace=not args.ignore_trace)
    if args.format == "json":
        print(json.dumps({
            "compared": report.compared, "recorded_by": list(report.engine_versions),
            "replayed_by": ENGINE_VERSION,
            "differences": [{"seq": d.seq, "claim_id": d.claim_id, "field": d.field,
                             "recorded": d.recorded, "replayed": d.replayed}
                            for d in report.differences]}, ensure_ascii=False, indent=2))
    else:
        for d in report.differences:
            print(f"#{d.seq} {d.claim_id or '(no claim id)'} {d.field}: recorded {d.recorded}, "
                  f"replayed {d.replayed}")
        made = ", ".join(report.engine_versions) or "—"
        verdict = (f"{len(report.differences)} difference(s) in "
                   f"{len({d.seq for d in report.differences})} record(s)"
                   if report.differences else "no difference")
        print(f"replayed {report.compared} record(s) made by yibao {made} "
              f"with yibao {ENGINE_VERSION}: {verdict}")
    return EXIT_OK if report.ok else EXIT_CLAIMS_FAILED


@_guarded
def run_show(store, args) -> int:
    from yibao.audit.chain import body_hash
    from yibao.audit.restore import recorded_settlement
    from yibao.audit.store import AuditError
    from yibao.cli.explain import render
    from yibao.explain.book import book_lines

    records = store.records_of_claim(args.claim)
    # A book's adjustments and withdrawals hold no settlement to explain: they are
    # listed under the settlement or correction they follow (explain/book.py).
    settled = [r for r in records if "outcome" in r.data or args.seq == r.seq]
    chosen = [r for r in settled if args.seq in (None, r.seq)]
    if not chosen:
        which = f" as #{args.seq}" if args.seq is not None else ""
        raise AuditError(f"{store.location} holds no record of claim {args.claim}{which}")
    record = chosen[-1]
    body = record.data
    status = EXIT_OK if body_hash(record.body) == record.hash else EXIT_CLAIMS_FAILED
    if status != EXIT_OK:
        print(f"yibao: record #{record.seq} does not match its hash: run yibao audit verify",
              file=sys.stderr)
    if args.format == "json":
        print(json.dumps({"seq": record.seq, "hash": record.hash, **body},
                         ensure_ascii=False, indent=2))
        return status
    if args.format == "text":
        print(_header(record, body, [r.seq for r in records if r.seq != record.seq]))
    if "outcome" not in body:
        print(f"record #{record.seq} is a book {body['kind']} of claim {args.claim}")
        return status
    if "error" in body["outcome"]:
        outcome = body["outcome"]
        print(f"claim {args.claim}: {outcome['error']} {outcome['message']}")
        print(f"as received: {body.get('claim', body.get('claim_base64'))}")
        return status
    shown = recorded_settlement(store, body)
    if not shown.matches:
        print(f"yibao: record #{record.seq}: settled again to derive its trace, claim "
              f"{args.claim} is paid otherwise than recorded — run yibao audit replay",
              file=sys.stderr)
        status = EXIT_CLAIMS_FAILED
    sys.stdout.write(render(args, shown.engine, shown.result))
    if "kind" in body:
        sys.stdout.write(book_lines(body, [r.data | {"seq": r.seq} for r in records
                                           if r.seq > record.seq], args.lang))
    return status


def _header(record, body: dict, others: list[int]) -> str:
    kind = f"book {body['kind']} " if "kind" in body else ""
    line = body.get("input_line", record.position)   # a book's position is its entry's rank
    lines = [f"{kind}record #{record.seq} (batch {record.batch}, line {line}), recorded "
             f"{body['recorded_at']} by yibao {body['engine_version']}",
             f"hash {record.hash}"]
    for ref in body["policies"]:
        used = " (applied)" if ref["policy_id"] == body["policy_id"] else ""
        lines.append(f"policy {ref['policy_id']}{used}: {ref['path']} sha256 {ref['sha256']}")
    if body.get("previous"):
        lines.append(f"re-records claim {record.claim_id}: previous record #{body['previous']['seq']}")
    if others:
        lines.append("other records of this claim: " + ", ".join(f"#{seq}" for seq in others))
    return "\n".join(lines) + "\n"
