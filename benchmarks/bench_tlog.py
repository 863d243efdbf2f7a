"""The transparency log at scale (issue 25): appends with the tree kept, proofs, verification.

    .venv/bin/python -m benchmarks.bench_tlog                  # 10^6 records
    .venv/bin/python -m benchmarks.bench_tlog --records 100000 --body-bytes 1500

1. ``--records`` records are appended to a fresh SQLite store, in transactions
   of ``--per-transaction`` (default 5,000), through the store's own append
   path (``appending()``: the records, then the tree grown once per
   transaction).  Each body is a canonical record body of about
   ``--body-bytes`` (chained with audit/chain.py), built before the clock
   starts, so the figure is the store's.  The same is done with the tree's
   tables absent (a store as before the tree) for the overhead, on
   ``--baseline`` records (default a tenth).
2. A checkpoint at half the records is signed; then inclusion proofs of
   ``--proofs`` random records under the final checkpoint, and the
   consistency proof from the half-way checkpoint: their sizes (hashes,
   bytes), the time to make each (store reads) and to verify each.
3. ``verify_store`` with the half-way checkpoint: the whole walk (every
   record re-hashed, its leaf compared, the roots recomputed, the proof).

Not a test: figures depend on the machine; it prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time

from yibao.audit import merkle
from yibao.audit.chain import GENESIS, link
from yibao.audit.checkpoint import sign
from yibao.audit.policies import policy_key
from yibao.audit.sqlite_store import SQLiteStore
from yibao.audit.store import StoredRecord
from yibao.audit.verify import verify_store


def bodies(count: int, size: int):
    """(claim id, fields) of ``count`` records whose bodies are about ``size`` bytes."""
    padding = "x" * max(0, size - 420)
    for number in range(count):
        yield f"t-{number:07d}", {
            "batch": 1, "mode": "sorted", "position": number + 1,
            "claim_id": f"t-{number:07d}", "claim": padding,
            "outcome": {"claim_id": f"t-{number:07d}", "total_paid": f"{number % 9999}.00",
                        "payouts": {"基本救助": f"{number % 777}.00"}},
            "policy_id": None, "policy_sha256": None, "policies": [],
            "engine_version": "bench", "recorded_at": "2026-01-01T00:00:00.000000+00:00",
            "previous": None}


def build(path: str, count: int, size: int, per: int, tree: bool) -> float:
    """Append ``count`` records; seconds spent in the store (bodies prepared outside)."""
    store = SQLiteStore(path, create=True)
    if not tree:
        db = store._db
        db.execute("DROP TABLE tlog_nodes")
        store._has_tree = False
    store.open_batch("sorted", "bench", policy_key([]), "2026-01-01T00:00:00+00:00", {})
    spent, seq, prev = 0.0, 0, GENESIS
    source = bodies(count, size)
    while seq < count:
        chunk = []
        for claim_id, fields in (next(source) for _ in range(min(per, count - seq))):
            body, digest = link(fields, seq + 1, prev)
            seq, prev = seq + 1, digest
            chunk.append(StoredRecord(seq, digest, 1, seq, claim_id, body))
        started = time.perf_counter()
        with store.appending() as tail:
            for record in chunk:
                tail.add(record)
        spent += time.perf_counter() - started
    store.close()
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, help="records appended without the tree")
    parser.add_argument("--body-bytes", type=int, default=1_000)
    parser.add_argument("--per-transaction", type=int, default=5_000)
    parser.add_argument("--proofs", type=int, default=1_000)
    args = parser.parse_args()
    count, baseline = args.records, args.baseline or max(1, args.records // 10)
    folder = tempfile.mkdtemp(prefix="bench-tlog-")
    path = os.path.join(folder, "log.db")
    rows = []

    plain = build(os.path.join(folder, "plain.db"), baseline, args.body_bytes,
                  args.per_transaction, tree=False)
    rows.append(("append without the tree", f"{baseline:,} records",
                 f"{baseline / plain:,.0f} records/s"))
    spent = build(path, count, args.body_bytes, args.per_transaction, tree=True)
    rows.append(("append with the tree", f"{count:,} records",
                 f"{count / spent:,.0f} records/s ({spent:.1f} s)"))
    rows.append(("store size", "", f"{os.path.getsize(path) / 2**20:,.0f} MiB"))

    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    store = SQLiteStore(path)
    half = count // 2
    nodes = store.tree_nodes
    half_root = merkle.root(half, nodes)
    final = sign(store, key, "2026-01-02T00:00:00+00:00")
    rng = random.Random(25)
    made, checked, sizes = [], [], []
    for _ in range(args.proofs):
        index = rng.randrange(count)
        started = time.perf_counter()
        path_hashes = merkle.inclusion_proof(index, count, nodes)
        made.append(time.perf_counter() - started)
        leaf = store.tree_nodes({(0, index)})[(0, index)]
        started = time.perf_counter()
        merkle.verify_inclusion(index, count, leaf, path_hashes, final.root_bytes)
        checked.append(time.perf_counter() - started)
        sizes.append(len(path_hashes))
    ms = lambda values: f"p50 {statistics.median(values) * 1e3:.2f} ms, " \
                        f"max {max(values) * 1e3:.2f} ms"
    rows.append(("inclusion proof: size", f"{args.proofs:,} random records",
                 f"{min(sizes)}–{max(sizes)} hashes ({max(sizes) * 32} bytes)"))
    rows.append(("inclusion proof: make (store reads)", "", ms(made)))
    rows.append(("inclusion proof: verify", "", ms(checked)))
    started = time.perf_counter()
    consistency = merkle.consistency_proof(half, count, nodes)
    make_time = time.perf_counter() - started
    started = time.perf_counter()
    merkle.verify_consistency(half, count, half_root, final.root_bytes, consistency)
    check_time = time.perf_counter() - started
    rows.append(("consistency proof from the half-way checkpoint",
                 f"{half:,} → {count:,}",
                 f"{len(consistency)} hashes; make {make_time * 1e3:.2f} ms, verify "
                 f"{check_time * 1e3:.2f} ms"))
    half_checkpoint = sign_at(store, key, half, half_root)
    started = time.perf_counter()
    report = verify_store(store, checkpoints=(half_checkpoint,))
    walked = time.perf_counter() - started
    assert report.ok and report.consistent, report.problem
    rows.append(("verify --since the half-way checkpoint (whole walk)", f"{count:,} records",
                 f"{walked:.1f} s ({count / walked:,.0f} records/s)"))
    store.close()

    print("| measure | of | figure |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def sign_at(store, key, size: int, root: bytes):
    """A checkpoint of an earlier size (as one signed then would have been)."""
    import base64

    from yibao.audit.checkpoint import Checkpoint, key_id, signed_message

    origin, time_ = store.log_id(), "2026-01-01T12:00:00+00:00"
    signature = key.sign(signed_message(origin, size, root.hex(), time_))
    return Checkpoint(origin, size, root.hex(), time_, key_id(key.public_key()),
                      base64.b64encode(signature).decode("ascii"))


if __name__ == "__main__":
    main()
