"""The transparency log (issue 25): the tree kept by the stores, signed checkpoints, and
every tampering of the issue caught by `verify --since` an earlier checkpoint or by
`check-proof`.

The log: docs/specification.md §6's three claims (see conftest: 基本救助 7,800 /
6,000 / 6,200) recorded twice by `eval --record` with $YIBAO_AUDIT_KEY set, so a
checkpoint is signed after each run and appended to the witness file: sizes 3 and
6.  The tamperer has write access to the store but not the private key; after an
edit they re-chain every later record (seq, prev, hash) and let yibao rebuild the
tree from the records, so plain `verify` passes (as the issue found).
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from helpers import POLICIES
from yibao.audit import merkle
from yibao.audit.chain import body_hash, canonical_json
from yibao.audit.sqlite_store import SQLiteStore
from yibao.audit.stores import open_store
from yibao.cli.main import EXIT_CLAIMS_FAILED, EXIT_OK, EXIT_USAGE, main

POLICY = str(POLICIES / "benxi-2023.policy")


@pytest.fixture
def claims_file(tmp_path, as_lines, domain_claims):
    path = tmp_path / "claims.jsonl"
    path.write_text("".join(line + "\n" for _, line in as_lines(domain_claims)), encoding="utf-8")
    return str(path)


@pytest.fixture
def keyed(tmp_path, claims_file, store_path, monkeypatch, capsys):
    """(store, private key, public key, witness file) after two signed runs."""
    key = str(tmp_path / "audit.key")
    assert main(["audit", "keygen", key]) == EXIT_OK
    witness = str(tmp_path / "witness.jsonl")
    monkeypatch.setenv("YIBAO_AUDIT_KEY", key)
    monkeypatch.setenv("YIBAO_AUDIT_WITNESS", witness)
    for _ in range(2):
        assert main(["eval", POLICY, claims_file, "--record", store_path]) == EXIT_OK
    monkeypatch.delenv("YIBAO_AUDIT_KEY")
    capsys.readouterr()
    return store_path, key, key + ".pub", witness


def verify_since(keyed, capsys):
    store, _, public, witness = keyed
    status = main(["audit", "verify", store, "--since", witness, "--pubkey", public])
    return status, capsys.readouterr()


def rows(path):
    db = sqlite3.connect(path)
    found = db.execute("SELECT seq, hash, batch, position, claim_id, body FROM records "
                       "ORDER BY seq").fetchall()
    db.close()
    return found


def rewrite(path, bodies: list[dict]):
    """Replace the records by ``bodies`` (in order), re-chained from #1, and let yibao
    rebuild the tree from them: a rewrite by someone without the key."""
    db = sqlite3.connect(path)
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f"DROP TRIGGER {name}")
    db.execute("DELETE FROM records")
    prev = "0" * 64
    for seq, data in enumerate(bodies, 1):
        body = canonical_json({**data, "seq": seq, "prev": prev})
        prev = body_hash(body)
        db.execute("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)",
                   (seq, prev, data["batch"], data["position"], data["claim_id"], body))
    db.execute("DROP TABLE tlog_nodes")
    db.execute("DELETE FROM tlog_checkpoints")
    db.commit()
    db.close()
    SQLiteStore(path, create=True).close()      # yibao rebuilds the tree from the records
    assert main(["audit", "verify", path]) == EXIT_OK   # plain verify is fooled


def bodies(path):
    return [json.loads(row[5]) for row in rows(path)]


# ---- the tree the stores keep --------------------------------------------------------------
def tree_root_from_records(store):
    compact = merkle.Compact()
    for record in store.records():
        compact.add(merkle.record_leaf(record.body))
    return compact.root()


def test_the_store_keeps_the_tree_of_its_records(keyed):
    with open_store(keyed[0]) as store:
        assert store.tree_size() == 6
        assert merkle.root(6, store.tree_nodes) == tree_root_from_records(store)
        # 6 leaves + 3 nodes of level 1 + 1 of level 2: every complete subtree, no more
        assert len(store.tree_nodes({(0, i) for i in range(6)} | {(1, 0), (1, 1), (1, 2),
                                                                  (2, 0), (2, 1)})) == 10


def test_a_store_written_before_the_tree_gets_it_on_its_next_write(store_path, record, store,
                                                                     benxi_engine, as_lines,
                                                                     domain_claims):
    record(store, benxi_engine, as_lines(domain_claims))
    store.close()
    db = sqlite3.connect(store_path)
    db.execute("DROP TABLE tlog_nodes")
    db.commit()
    db.close()
    with SQLiteStore(store_path) as old:           # read only: no tree, verify still works
        assert old.tree_size() == 0
    with SQLiteStore(store_path, create=True) as upgraded:
        assert upgraded.tree_size() == 3
        assert merkle.root(3, upgraded.tree_nodes) == tree_root_from_records(upgraded)


def test_checkpoints_are_signed_after_each_run_and_verify(keyed, capsys):
    store, _, public, witness = keyed
    lines = open(witness, encoding="utf-8").read().splitlines()
    assert [json.loads(line)["size"] for line in lines] == [3, 6]
    status, out = verify_since(keyed, capsys)
    assert status == EXIT_OK, out.err
    # From 3 to 6, RFC 9162's SUBPROOF(3, D[0:6]) is MTH(D[2:3]), MTH(D[3:4]), MTH(D[0:2]),
    # MTH(D[4:6]): four hashes.
    size3 = [line for line in out.out.splitlines() if "(size 3," in line]
    assert size3 and all(line.endswith("consistency proof of 4 hash(es)") for line in size3)


def test_a_proof_is_checked_with_the_public_key_alone(keyed, tmp_path, capsys):
    store, _, public, _ = keyed
    proof = str(tmp_path / "b.proof")
    assert main(["audit", "prove", store, "--claim", "b", "-o", proof]) == EXIT_OK
    data = json.loads(open(proof, encoding="utf-8").read())
    # Leaf 4 of 6: PATH(4, D[0:6]) = MTH(D[5:6]), MTH(D[0:4]).
    assert (data["record"]["seq"], data["checkpoint"]["size"], len(data["path"])) == (5, 6, 2)
    assert json.loads(data["record"]["body"])["outcome"]["payouts"]["基本救助"] == "6000.00"
    capsys.readouterr()
    assert main(["audit", "check-proof", proof, "--pubkey", public]) == EXIT_OK
    assert capsys.readouterr().out.startswith("ok: record #5 of claim b, paid ")


# ---- every tampering of the issue ------------------------------------------------------------
def expect(keyed, capsys, code, words):
    status, out = verify_since(keyed, capsys)
    assert status == EXIT_CLAIMS_FAILED, out
    assert f"yibao: {code} " in out.err and words in out.err, out.err


def test_a_full_rechain_after_editing_an_amount(keyed, capsys):
    changed = bodies(keyed[0])
    changed[1]["outcome"]["payouts"]["基本救助"] = "9000.00"
    rewrite(keyed[0], changed)
    expect(keyed, capsys, "A411", "the first record that disagrees is among #1–#3")


def test_back_dating_a_record_and_rechaining(keyed, capsys):
    changed = bodies(keyed[0])
    changed[4]["recorded_at"] = "2023-01-01T00:00:00.000000+00:00"
    rewrite(keyed[0], changed)
    expect(keyed, capsys, "A411", "among #4–#6")


def test_swapping_two_records_and_rechaining(keyed, capsys):
    changed = bodies(keyed[0])
    changed[3], changed[4] = changed[4], changed[3]
    rewrite(keyed[0], changed)
    expect(keyed, capsys, "A411", "among #4–#6")


def test_editing_and_rehashing_the_last_record(keyed, capsys):
    changed = bodies(keyed[0])
    changed[5]["outcome"]["total_paid"] = "1.00"
    rewrite(keyed[0], changed)
    expect(keyed, capsys, "A411", "among #4–#6")


def test_cutting_the_last_record_without_rebuilding_the_tree(keyed, capsys, tamper):
    tamper(keyed[0], "DELETE FROM records WHERE seq = 6")
    assert main(["audit", "verify", keyed[0]]) == EXIT_CLAIMS_FAILED    # no checkpoint needed
    assert "yibao: A410 " in capsys.readouterr().err


def test_truncating_the_last_record(keyed, capsys):
    rewrite(keyed[0], bodies(keyed[0])[:5])
    expect(keyed, capsys, "A410", "record #6 was removed")


def test_a_forged_append(keyed, capsys):
    forged = bodies(keyed[0])
    extra = dict(forged[5])
    extra["position"], extra["claim_id"] = 4, "forged"
    rewrite(keyed[0], forged + [extra])
    expect(keyed, capsys, "A416", "record #7 is covered by no checkpoint signed by this key")


def test_a_rewrite_is_caught_by_the_store_own_signed_checkpoints_too(keyed, capsys):
    # Only the checkpoints kept in the store (the rewriter deleted none of them here).
    store, _, public, _ = keyed
    changed = bodies(store)
    changed[0]["outcome"]["total_paid"] = "1.00"
    kept = sqlite3.connect(store).execute("SELECT size, checkpoint FROM tlog_checkpoints")
    kept = kept.fetchall()
    rewrite(store, changed)
    db = sqlite3.connect(store)
    db.executemany("INSERT INTO tlog_checkpoints VALUES (?, ?)", kept)
    db.commit()
    db.close()
    assert main(["audit", "verify", store, "--pubkey", public]) == EXIT_CLAIMS_FAILED
    assert "A411" in capsys.readouterr().err


@pytest.mark.parametrize("edit, value", [("mode", "'stream'"), ("policy_key", "'0000'"),
                                         ("engine_version", "'9.9.9'")])
def test_an_edit_of_the_batches_table(keyed, capsys, tamper, edit, value):
    tamper(keyed[0], f"UPDATE batches SET {edit} = {value} WHERE batch = 1")
    expect(keyed, capsys, "A409", "batch 1 in the batches table disagrees with its record #1")


def test_a_deleted_batch_row(keyed, capsys, tamper):
    tamper(keyed[0], "DELETE FROM batches WHERE batch = 2")
    expect(keyed, capsys, "A409", "record #4 belongs to batch 2, which the batches table")


def test_an_altered_interior_node_of_the_tree(keyed, capsys, tamper):
    tamper(keyed[0], "UPDATE tlog_nodes SET hash = zeroblob(32) WHERE level = 1 AND idx = 2")
    expect(keyed, capsys, "A408", "the stored tree")


def test_a_checkpoint_from_another_log(keyed, capsys, tamper):
    tamper(keyed[0], "UPDATE meta SET value = 'another' WHERE key = 'log_id'")
    expect(keyed, capsys, "A413", "it was replaced by another log")


def test_a_checkpoint_not_signed_by_the_key(keyed, tmp_path, capsys):
    store, _, _, witness = keyed
    other = str(tmp_path / "other.key")
    main(["audit", "keygen", other])
    assert main(["audit", "verify", store, "--since", witness,
                 "--pubkey", other + ".pub"]) == EXIT_CLAIMS_FAILED
    assert "A412" in capsys.readouterr().err


def test_an_altered_checkpoint_fails_its_signature(keyed, tmp_path, capsys):
    store, _, public, witness = keyed
    first = json.loads(open(witness, encoding="utf-8").readline())
    first["size"] = 2
    altered = tmp_path / "altered.json"
    altered.write_text(json.dumps(first), encoding="utf-8")
    assert main(["audit", "verify", store, "--since", str(altered),
                 "--pubkey", public]) == EXIT_CLAIMS_FAILED
    assert "A412" in capsys.readouterr().err


# ---- proofs ------------------------------------------------------------------------------------
@pytest.fixture
def proof(keyed, tmp_path, capsys):
    path = tmp_path / "a.proof"
    assert main(["audit", "prove", keyed[0], "--claim", "a", "--seq", "1", "-o",
                 str(path)]) == EXIT_OK
    capsys.readouterr()
    return path


def test_a_proof_made_earlier_still_proves_the_record_as_signed(keyed, proof, capsys):
    changed = bodies(keyed[0])
    changed[0]["outcome"]["total_paid"] = "1.00"
    rewrite(keyed[0], changed)
    # The auditor's proof still shows what was signed; the store no longer has it.
    assert main(["audit", "check-proof", str(proof), "--pubkey", keyed[2]]) == EXIT_OK
    checkpoint = json.loads(proof.read_text(encoding="utf-8"))["checkpoint"]
    old = proof.parent / "old.checkpoint"
    old.write_text(json.dumps(checkpoint), encoding="utf-8")
    capsys.readouterr()
    assert main(["audit", "prove", keyed[0], "--claim", "a", "--seq", "1",
                 "--checkpoint", str(old)]) == EXIT_USAGE
    assert "A411" in capsys.readouterr().err


@pytest.mark.parametrize("change, code", [
    (lambda p: p["record"].update(body=p["record"]["body"].replace("7800.00", "9800.00")),
     "A415"),
    (lambda p: p["path"].__setitem__(0, "00" * 32), "A415"),
    (lambda p: p.update(leaf_index=1), "A415"),
    (lambda p: p["checkpoint"].update(root="11" * 32), "A412"),
])
def test_a_tampered_proof_is_refused(proof, keyed, capsys, change, code):
    data = json.loads(proof.read_text(encoding="utf-8"))
    change(data)
    if code == "A415" and "9800.00" in data["record"]["body"]:
        data["record"]["hash"] = body_hash(data["record"]["body"])    # re-hashed, too
    proof.write_text(json.dumps(data), encoding="utf-8")
    assert main(["audit", "check-proof", str(proof), "--pubkey", keyed[2]]) == EXIT_CLAIMS_FAILED
    assert f"yibao: {code} " in capsys.readouterr().err


def test_a_file_that_is_not_a_proof(tmp_path, keyed, capsys):
    path = tmp_path / "x.proof"
    path.write_text("[1, 2]", encoding="utf-8")
    assert main(["audit", "check-proof", str(path), "--pubkey", keyed[2]]) == EXIT_USAGE
    assert "A433" in capsys.readouterr().err


def test_keygen_never_overwrites_a_key(keyed, capsys):
    assert main(["audit", "keygen", keyed[1]]) == EXIT_USAGE
    assert "A431" in capsys.readouterr().err


# ---- audit show verifies before it displays (issue 25 item 7) ----------------------------------
def test_show_says_the_chain_verified_and_writes_to_a_file(keyed, tmp_path, capsys):
    out_file = tmp_path / "shown.txt"
    assert main(["audit", "show", keyed[0], "--claim", "b", "-o", str(out_file)]) == EXIT_OK
    shown = out_file.read_text(encoding="utf-8")
    assert "verified: the chain verifies from #1 to #6" in shown
    assert "  基本救助: 6,000.00" in shown and capsys.readouterr().out == ""


def test_show_refuses_a_record_after_a_tampered_one(keyed, capsys, tamper):
    tamper(keyed[0], "UPDATE records SET body = replace(body, '\"6000.00\"', '\"9000.00\"') "
                     "WHERE seq = 5")
    assert main(["audit", "show", keyed[0], "--claim", "b"]) == EXIT_CLAIMS_FAILED
    out, err = capsys.readouterr()
    assert out == "" and "yibao: A401 " in err and "record #5 is not shown" in err
    # Skipping the walk is stated in what is shown.
    assert main(["audit", "show", keyed[0], "--claim", "b", "--no-verify"]) == EXIT_CLAIMS_FAILED
    out = capsys.readouterr().out
    assert "not verified (--no-verify)" in out and "9,000.00" in out


def test_show_of_a_record_before_the_problem_is_shown_with_exit_1(keyed, capsys, tamper):
    tamper(keyed[0], "UPDATE records SET body = body || ' ' WHERE seq = 6")
    assert main(["audit", "show", keyed[0], "--claim", "a", "--seq", "1",
                 "--format", "json"]) == EXIT_CLAIMS_FAILED
    data = json.loads(capsys.readouterr().out)
    assert data["verified"] is True and data["outcome"]["payouts"]["基本救助"] == "7800.00"


# ---- PostgreSQL keeps the same tree ---------------------------------------------------------
def test_postgresql_keeps_the_same_tree_and_migrate_keeps_the_log(keyed, postgres_url, capsys):
    store, _, public, witness = keyed
    assert main(["audit", "migrate", store, postgres_url]) == EXIT_OK
    with open_store(store) as sqlite_store, open_store(postgres_url) as pg:
        assert pg.tree_size() == 6 and pg.log_id() == sqlite_store.log_id()
        assert merkle.root(6, pg.tree_nodes) == merkle.root(6, sqlite_store.tree_nodes)
        assert merkle.inclusion_proof(2, 6, pg.tree_nodes) == \
            merkle.inclusion_proof(2, 6, sqlite_store.tree_nodes)
    # The checkpoints signed on SQLite hold for the migrated log.
    capsys.readouterr()
    assert main(["audit", "verify", postgres_url, "--since", witness]) == EXIT_OK
    assert "(size 3," in capsys.readouterr().out


def test_postgresql_grows_its_tree_with_each_append(tmp_path, postgres_url, claims_file, capsys):
    for _ in range(3):
        assert main(["eval", POLICY, claims_file, "--record", postgres_url]) == EXIT_OK
    with open_store(postgres_url) as pg:
        assert pg.tree_size() == 9
        assert merkle.root(9, pg.tree_nodes) == tree_root_from_records(pg)


def test_a_checkpoint_file_that_is_not_one_is_a_usage_error(keyed, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "yibao-checkpoint/1", "size": "six"}', encoding="utf-8")
    assert main(["audit", "verify", keyed[0], "--since", str(bad)]) == EXIT_USAGE
    assert "yibao: A432 " in capsys.readouterr().err


def test_prove_without_any_checkpoint_says_how_to_sign_one(store_path, claims_file, capsys):
    assert main(["eval", POLICY, claims_file, "--record", store_path]) == EXIT_OK
    capsys.readouterr()
    assert main(["audit", "prove", store_path, "--claim", "a"]) == EXIT_USAGE
    assert "A434" in capsys.readouterr().err
