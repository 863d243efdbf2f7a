"""`yibao audit …`: the audit trail written by `yibao eval --record` and `yibao settle`.

verify, replay, show, reindex, migrate, repage; and the transparency log
(docs/transparency.md): keygen, checkpoint, prove, check-proof.
"""

from __future__ import annotations

import json
import os
import sqlite3
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
    verify.add_argument("--since", metavar="CHECKPOINT", action="append", default=[],
                        help="a checkpoint file (or a witness file of many): prove the log "
                             "extends each; repeatable")
    verify.add_argument("--pubkey", metavar="KEY",
                        help="check the checkpoints' signatures with this public key")
    verify.set_defaults(handler=run_verify)
    keygen = actions.add_parser("keygen", help="make an Ed25519 key pair for signing checkpoints")
    keygen.add_argument("key", help="where to write the private key (KEY.pub: the public key)")
    keygen.set_defaults(handler=run_keygen)
    checkpoint = actions.add_parser("checkpoint", help="sign a checkpoint of the log: its size "
                                                       "and Merkle root now")
    checkpoint.add_argument("store")
    checkpoint.add_argument("--key", required=True, metavar="KEYFILE",
                            help="the private key (yibao audit keygen)")
    checkpoint.add_argument("-o", "--output", metavar="FILE",
                            help="also append it to FILE (a witness file, one per line)")
    checkpoint.add_argument("--witness", metavar="STORE",
                            help="also keep it in another audit store (created if missing)")
    checkpoint.set_defaults(handler=run_checkpoint)
    prove = actions.add_parser("prove", help="a self-contained proof that a claim's record is "
                                             "in the log under a signed checkpoint")
    prove.add_argument("store")
    prove.add_argument("--claim", required=True, help="the claim id")
    prove.add_argument("--seq", type=int, help="which record of the claim (default: the latest)")
    prove.add_argument("--checkpoint", metavar="FILE",
                       help="prove under this checkpoint (default: the latest kept in the store "
                            "that covers the record)")
    prove.add_argument("--key", metavar="KEYFILE", help="sign a new checkpoint of the log now "
                                                        "and prove under it")
    prove.add_argument("-o", "--output", metavar="FILE", help="write the proof to FILE")
    prove.set_defaults(handler=run_prove)
    check = actions.add_parser("check-proof", help="verify a proof file with the public key "
                                                   "alone, without the store")
    check.add_argument("proof")
    check.add_argument("--pubkey", required=True, metavar="KEY", help="the public key")
    check.set_defaults(handler=run_check_proof)
    migrate = actions.add_parser("migrate", help="copy a store (e.g. SQLite) into an empty "
                                                 "PostgreSQL database, records and hashes as "
                                                 "they are")
    migrate.add_argument("store", help="the store to copy (it must verify)")
    migrate.add_argument("target", help="a postgresql:// URL")
    migrate.set_defaults(handler=run_migrate)
    repage = actions.add_parser("repage", help="rewrite a SQLite store in larger pages (a book "
                                               "made before 16 kB pages), verified before and "
                                               "after")
    repage.add_argument("store", help="the SQLite store (it must verify)")
    repage.add_argument("--page-size", type=int, default=16384, metavar="BYTES",
                        help="the new page size, a power of two from 512 to 65536")
    repage.add_argument("-o", "--output", metavar="FILE",
                        help="write the store rewritten into FILE, a new file, and leave STORE "
                             "as it is (default: rewrite STORE in place)")
    repage.set_defaults(handler=run_repage)
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
    show.add_argument("--no-verify", action="store_true",
                      help="show without walking the chain first (huge stores); said in the "
                           "output")
    show.add_argument("-o", "--output", metavar="FILE", help="write to FILE, not stdout")
    show.set_defaults(handler=run_show)


UNREADABLE_STORE = "A420"   # a store whose database cannot be read (corrupt, locked, gone)


def _guarded(action):
    """Report a store that cannot be read as a usage error, like a bad policy."""
    def run(args) -> int:
        from yibao.audit.stores import open_store

        return _refusing(lambda: _opened(open_store(args.store), action, args), args.store)
    return run


def _opened(store, action, args) -> int:
    with store:
        return action(store, args)


def _refusing(step, location: str) -> int:
    """Run ``step``; a refusal (AuditError) or a database that cannot be read is exit 2."""
    from yibao.audit.store import AuditError

    try:
        return step()
    except AuditError as error:
        hint = f" — {error.hint}" if error.hint else ""
        print(f"yibao: {error.message}{hint}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:   # noqa: BLE001 - only the database drivers' own errors
        if not _is_database_error(error):
            raise
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"yibao: {UNREADABLE_STORE} {location}: the store cannot be read ({reason})",
              file=sys.stderr)
        return EXIT_USAGE


def _is_database_error(error: Exception) -> bool:
    if isinstance(error, (sqlite3.Error, UnicodeDecodeError)):
        # SQLite's message about a damaged file can itself be undecodable.
        return True
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(error, psycopg.Error)


def run_verify(args) -> int:
    from yibao.audit.checkpoint import check_signature, load_public, read_checkpoints

    def checkpoints():
        found = [c for path in args.since for c in read_checkpoints(path)]
        if args.pubkey:
            public = load_public(args.pubkey)
            for checkpoint in found:
                check_signature(checkpoint, public)
        return tuple(found)

    status = _refusing(lambda: _signed(checkpoints), args.store)
    if not isinstance(status, tuple):
        return status
    found = status
    return _guarded(lambda store, args: _verify(store, args, found))(args)


def _signed(load):
    """The checkpoints, or exit 1 for one whose signature does not verify (A412)."""
    from yibao.audit.checkpoint import BAD_SIGNATURE, CheckpointError

    try:
        return load()
    except CheckpointError as error:
        if error.code != BAD_SIGNATURE:
            raise
        print(f"yibao: {error.message}", file=sys.stderr)
        return EXIT_CLAIMS_FAILED


UNSIGNED_TAIL = "A416"   # records after every checkpoint the key signed (--pubkey)


def _verify(store, args, checkpoints) -> int:
    from yibao.audit.checkpoint import check_signature, load_public, parse
    from yibao.audit.store import AuditError
    from yibao.audit.verify import verify_store

    kept = ()
    if args.pubkey:
        # The checkpoints the store keeps are proved too: each signed by the key (an
        # unsigned or altered one is tampering), and the records after the newest of
        # them are reported: a forged append is signed by no one.
        public = load_public(args.pubkey)
        try:
            kept = tuple(parse(text, f"{store.location}'s checkpoint")
                         for text in store.checkpoints())
            for checkpoint in kept:
                check_signature(checkpoint, public)
        except AuditError as error:
            print(f"yibao: {error.message}", file=sys.stderr)
            return EXIT_CLAIMS_FAILED
    report = verify_store(store, args.head, checkpoints=checkpoints + kept)
    for warning in report.warnings:
        print(f"yibao: {warning.code} {store.location}: {warning.message}", file=sys.stderr)
    signed = max((c.size for c in checkpoints + kept), default=0)
    if report.ok and args.pubkey and report.records > signed:
        first = signed + 1
        gone = f"#{first}" if first == report.records else f"#{first}–#{report.records}"
        print(f"yibao: {UNSIGNED_TAIL} {store.location}: record {gone} is covered by no "
              f"checkpoint signed by this key (the newest covers {signed}): appended after "
              "the last signed run, or forged — if recorded legitimately, sign one: yibao "
              "audit checkpoint STORE --key KEYFILE", file=sys.stderr)
        return EXIT_CLAIMS_FAILED
    if report.ok:
        store.mark_verified(report.records, report.head)   # settle verifies from here on
        # The head line stays the first (and, without --since, only) line of stdout:
        # scripts read it; the tree's root is told on stderr.
        print(f"ok: {report.records} record(s) verify; head #{report.records} {report.head}")
        if report.root:
            print(f"yibao: the Merkle tree over the {report.records} record(s) has root "
                  f"{report.root}", file=sys.stderr)
        for proved in report.consistent:
            checkpoint = proved.checkpoint
            signed = "signature checked" if args.pubkey else "signature not checked (no --pubkey)"
            print(f"ok: extends the checkpoint of {checkpoint.time} (size {checkpoint.size}, "
                  f"key {checkpoint.key_id}, {signed}): consistency proof of {proved.proof} "
                  "hash(es)")
        return EXIT_OK
    problem = report.problem
    print(f"yibao: {problem.code} {store.location}: {problem.message}", file=sys.stderr)
    print(f"yibao: the {report.records} record(s) before it verify (head {report.head})",
          file=sys.stderr)
    return EXIT_CLAIMS_FAILED


def run_keygen(args) -> int:
    from yibao.audit.checkpoint import keygen

    def make():
        public, key = keygen(args.key)
        print(f"ok: private key {args.key} (keep it where only the recorder can read it), "
              f"public key {public} (give it to auditors), key id {key}")
        return EXIT_OK
    return _refusing(make, args.key)


@_guarded
def run_checkpoint(store, args) -> int:
    from yibao.audit.checkpoint import load_private, sign

    checkpoint = sign(store, load_private(args.key), utc_now())
    publish(store, checkpoint, args.output, args.witness)
    print(checkpoint.to_json())
    return EXIT_OK


def utc_now() -> str:
    import datetime

    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def publish(store, checkpoint, output: str | None, witness: str | None) -> None:
    """Keep a checkpoint in the store, a witness file and a witness store."""
    from yibao.audit.checkpoint import export
    from yibao.audit.stores import open_store

    store.add_checkpoint(checkpoint.size, checkpoint.to_json())
    if output:
        export(checkpoint, output)
    if witness:
        with open_store(witness, create=True) as other:
            other.add_checkpoint(checkpoint.size, checkpoint.to_json())


def sign_after_recording(store) -> None:
    """$YIBAO_AUDIT_KEY set: a checkpoint at the end of a recording run (eval, settle)."""
    key = os.environ.get("YIBAO_AUDIT_KEY")
    if not key:
        return
    from yibao.audit.checkpoint import load_private, sign

    checkpoint = sign(store, load_private(key), utc_now())
    publish(store, checkpoint, os.environ.get("YIBAO_AUDIT_WITNESS") or None, None)
    print(f"yibao: checkpoint of {store.location}: size {checkpoint.size}, root "
          f"{checkpoint.root}, key {checkpoint.key_id}", file=sys.stderr)


@_guarded
def run_prove(store, args) -> int:
    from yibao.audit.checkpoint import load_private, parse, read_checkpoints, sign
    from yibao.audit.proof import NO_CHECKPOINT, prove
    from yibao.audit.store import AuditError

    if args.key:
        checkpoint = sign(store, load_private(args.key), utc_now())
        publish(store, checkpoint, None, None)
    elif args.checkpoint:
        checkpoint = read_checkpoints(args.checkpoint)[-1]
    else:
        kept = [parse(text, f"{store.location}'s checkpoint") for text in store.checkpoints()]
        checkpoint = max(kept, key=lambda c: c.size, default=None)
        if checkpoint is None:
            raise AuditError(f"{NO_CHECKPOINT} {store.location} keeps no checkpoint",
                             "give --key KEYFILE to sign one now")
    text = json.dumps(prove(store, args.claim, checkpoint, args.seq), ensure_ascii=False,
                      indent=1) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def run_check_proof(args) -> int:
    from yibao.audit.checkpoint import BAD_SIGNATURE, CheckpointError, load_public
    from yibao.audit.proof import BAD_PROOF, check

    def verify():
        public = load_public(args.pubkey)
        try:
            with open(args.proof, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as error:
            print(f"yibao: {args.proof}: cannot read it ({error})", file=sys.stderr)
            return EXIT_USAGE
        try:
            proved = check(text, public, args.proof)
        except CheckpointError as error:
            if error.code not in (BAD_PROOF, BAD_SIGNATURE):
                raise
            print(f"yibao: {error.message}", file=sys.stderr)
            return EXIT_CLAIMS_FAILED
        outcome = proved.body.get("outcome") or {}
        paid = f", paid {outcome['total_paid']}" if isinstance(outcome, dict) \
            and "total_paid" in outcome else ""
        print(f"ok: record #{proved.seq} of claim {proved.claim_id}{paid} is in the log "
              f"{proved.checkpoint.origin} of {proved.checkpoint.size} record(s), checkpoint of "
              f"{proved.checkpoint.time} signed by key {proved.checkpoint.key_id}")
        return EXIT_OK
    return _refusing(verify, args.proof)


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


def run_repage(args) -> int:
    return _refusing(lambda: _repage(args), args.store)


def _repage(args) -> int:
    """A SQLite book rewritten in pages of --page-size (audit/sqlite_store.py repage):
    verified first (a book that does not verify is left alone), then the rewritten file
    verified to end at the same head."""
    from yibao.audit.postgres_store import is_postgres
    from yibao.audit.sqlite_store import CANNOT_REPAGE, SQLiteStore, repage
    from yibao.audit.store import AuditError
    from yibao.audit.verify import verify_store

    if is_postgres(args.store):
        raise AuditError(f"{CANNOT_REPAGE} {args.store}: only a SQLite store has pages to "
                         "rewrite", "PostgreSQL keeps its own page size")
    with SQLiteStore(args.store) as store:
        before = verify_store(store)
    if not before.ok:
        print(f"yibao: {before.problem.code} {args.store}: {before.problem.message}",
              file=sys.stderr)
        print(f"yibao: {args.store} is left as it is: repage only a store that verifies",
              file=sys.stderr)
        return EXIT_CLAIMS_FAILED
    size = os.path.getsize(args.store)
    was = repage(args.store, args.page_size, args.output)
    written = args.output or args.store
    with SQLiteStore(written) as store:
        after = verify_store(store, before.head)
    if not after.ok:
        print(f"yibao: {after.problem.code} {written}: {after.problem.message}", file=sys.stderr)
        return EXIT_CLAIMS_FAILED
    print(f"ok: {written} in pages of {args.page_size} bytes (were {was}); "
          f"{after.records} record(s) verify; head #{after.records} {after.head}; "
          f"{os.path.getsize(written) / 2**20:,.1f} MB (were {size / 2**20:,.1f})")
    return EXIT_OK


@_guarded
def run_reindex(store, args) -> int:
    from yibao.audit.verify import BOOK_INDEX, verify_store

    report = verify_store(store)
    if not report.ok and report.problem.kind != BOOK_INDEX:
        # The index is derived from the chain: from a chain that does not verify, no.
        print(f"yibao: {store.location}: {report.problem.message}", file=sys.stderr)
        return EXIT_CLAIMS_FAILED
    from yibao.audit.book_index import index_entry

    listed = 0

    def entries():
        # A generator, not a list: a store may write the rows as the chain is read (SQLite
        # does), so memory stays flat in the book's size (10^6 entries: some 10^9 bytes).
        nonlocal listed
        for record in store.records():
            data = record.data
            if "kind" in data:
                listed += 1
                yield (record.seq, *index_entry(data))
    store.rebuild_book_index(entries())
    print(f"ok: the book index lists {listed} entr{'y' if listed == 1 else 'ies'}")
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
    from yibao.cli.io import output_file

    with output_file(args.output) as out:
        return _show(store, args, out)


def _show(store, args, out) -> int:
    from yibao.audit.book_explain import recorded_earlier
    from yibao.audit.chain import body_hash
    from yibao.audit.restore import recorded_settlement
    from yibao.audit.store import AuditError
    from yibao.audit.verify import verify_store
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
    status = EXIT_OK
    # The chain is walked first: a record is shown as verified only if every record up
    # to it verifies (issue 25: show displayed tampered figures without a word).
    if args.no_verify:
        verified = "not verified (--no-verify): run yibao audit verify"
    else:
        report = verify_store(store)
        if not report.ok:
            print(f"yibao: {report.problem.code} {store.location}: {report.problem.message}",
                  file=sys.stderr)
            status = EXIT_CLAIMS_FAILED
            if record.seq > report.records:
                print(f"yibao: record #{record.seq} is not shown: the chain verifies only up "
                      f"to #{report.records} (--no-verify shows it unverified)", file=sys.stderr)
                return status
        verified = f"verified: the chain verifies from #1 to #{report.records}" + \
            ("" if report.ok else " (a later record does not)")
    print(f"yibao: record #{record.seq} {verified}", file=sys.stderr)
    body = record.data
    if body_hash(record.body) != record.hash:
        status = EXIT_CLAIMS_FAILED
        print(f"yibao: record #{record.seq} does not match its hash: run yibao audit verify",
              file=sys.stderr)
    if args.format == "json":
        out.write(json.dumps({"seq": record.seq, "hash": record.hash, **body,
                              "verified": not args.no_verify}, ensure_ascii=False, indent=2)
                  + "\n")
        return status
    if args.format == "text":
        out.write(_header(record, body, [r.seq for r in records if r.seq != record.seq])
                  + verified + "\n")
    if "outcome" not in body:
        out.write(f"record #{record.seq} is a book {body['kind']} of claim {args.claim}\n")
        return status
    if "error" in body["outcome"]:
        outcome = body["outcome"]
        out.write(f"claim {args.claim}: {outcome['error']} {outcome['message']}\n")
        out.write(f"as received: {body.get('claim', body.get('claim_base64'))}\n")
        return status
    shown = recorded_settlement(store, body)
    if not shown.matches:
        print(f"yibao: record #{record.seq}: settled again to derive its trace, claim "
              f"{args.claim} is paid otherwise than recorded — run yibao audit replay",
              file=sys.stderr)
        status = EXIT_CLAIMS_FAILED
    out.write(render(args, shown.engine, shown.result))
    if "kind" in body:
        # A yibao-audit/4 record does not list the claims behind its 本次前: they are
        # read from its event's ledger (audit/book.py year_to_date_from).
        earlier = recorded_earlier(store, record.seq, body)
        out.write(book_lines(body | {"year_to_date_from": earlier},
                             [r.data | {"seq": r.seq} for r in records if r.seq > record.seq],
                             args.lang))
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
