"""RFC 9162's Merkle tree against the reference test vectors of the Certificate
Transparency / Go tlog implementations (transparency-dev/merkle: the eight leaf
inputs below, the hash of every complete subtree, the roots of the trees of 0–8
leaves, and the inclusion and consistency proofs of the classic 8-leaf example).
The vectors are data published with those implementations; the code under test
is audit/merkle.py.
"""

from __future__ import annotations

import itertools

import pytest

from yibao.audit import merkle

LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243",
                                       "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
# The hash of every complete subtree of the 8-leaf tree, by level then index.
NODES = [
    ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
     "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
     "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
     "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
     "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
     "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"],
    ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
     "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"],
    ["d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]
ROOTS = ["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
         "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
         "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
         "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
         "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
         "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
         "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
         "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
         "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]
# (leaf index, 0-based; tree size; audit path)
INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (0, 1, []),
]
CONSISTENCY = [
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (1, 1, []),
]


def hexes(hashes):
    return [h.hex() for h in hashes]


def stored_tree(count: int) -> dict:
    """The tree of the first ``count`` leaves, kept as a store keeps it (merkle.extend)."""
    nodes: dict = {}
    read = lambda keys: {key: nodes[key] for key in keys}
    for size, leaf in enumerate(LEAVES[:count]):
        for level, index, digest in list(merkle.extend(size, read, [merkle.leaf_hash(leaf)])):
            nodes[(level, index)] = digest
    return nodes


def reader(nodes):
    return lambda keys: {key: nodes[key] for key in keys}


def test_the_empty_tree_hash():
    assert merkle.EMPTY_ROOT.hex() == ROOTS[0]
    assert merkle.root(0, reader({})).hex() == ROOTS[0]


def test_leaf_and_node_hashes_and_every_complete_subtree():
    nodes = stored_tree(8)
    assert {key: value.hex() for key, value in nodes.items()} == {
        (level, index): digest for level, row in enumerate(NODES)
        for index, digest in enumerate(row)}
    assert merkle.leaf_hash(LEAVES[0]).hex() == NODES[0][0]
    assert merkle.node_hash(merkle.leaf_hash(LEAVES[0]),
                            merkle.leaf_hash(LEAVES[1])).hex() == NODES[1][0]


@pytest.mark.parametrize("size", range(0, 9))
def test_roots_of_every_size_from_stored_subtrees_and_in_memory(size):
    assert merkle.root(size, reader(stored_tree(size))).hex() == ROOTS[size]
    compact = merkle.Compact()
    for leaf in LEAVES[:size]:
        compact.add(merkle.leaf_hash(leaf))
    assert compact.root().hex() == ROOTS[size]


@pytest.mark.parametrize("index, size, path", INCLUSION)
def test_inclusion_proofs_match_the_vectors_and_verify(index, size, path):
    proof = merkle.inclusion_proof(index, size, reader(stored_tree(size)))
    assert hexes(proof) == path
    leaf = merkle.leaf_hash(LEAVES[index])
    merkle.verify_inclusion(index, size, leaf, proof, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize("old, new, path", CONSISTENCY)
def test_consistency_proofs_match_the_vectors_and_verify(old, new, path):
    proof = merkle.consistency_proof(old, new, reader(stored_tree(new)))
    assert hexes(proof) == path
    merkle.verify_consistency(old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]),
                              proof)


def test_every_proof_of_trees_up_to_eight_verifies():
    for new in range(1, 9):
        nodes = stored_tree(new)
        for index in range(new):
            merkle.verify_inclusion(index, new, nodes[(0, index)],
                                    merkle.inclusion_proof(index, new, reader(nodes)),
                                    bytes.fromhex(ROOTS[new]))
        for old in range(1, new + 1):
            merkle.verify_consistency(old, new, bytes.fromhex(ROOTS[old]),
                                      bytes.fromhex(ROOTS[new]),
                                      merkle.consistency_proof(old, new, reader(nodes)))


def _flipped(proof, i):
    changed = list(proof)
    changed[i] = bytes([changed[i][0] ^ 8]) + changed[i][1:]
    return changed


@pytest.mark.parametrize("index, size, path", INCLUSION[:4])
def test_a_corrupted_inclusion_proof_is_refused(index, size, path):
    proof = [bytes.fromhex(h) for h in path]
    leaf, root = merkle.leaf_hash(LEAVES[index]), bytes.fromhex(ROOTS[size])
    wrong = [(index + 1, size, leaf, proof, root), (index, size * 2, leaf, proof, root),
             (index, size, merkle.leaf_hash(b"x"), proof, root),
             (index, size, leaf, proof, merkle.EMPTY_ROOT),
             (index, size, leaf, proof + [root], root), (index, size, leaf, [root] + proof, root),
             (index, size, leaf, proof[:-1], root)]
    wrong += [(index, size, leaf, _flipped(proof, i), root) for i in range(len(proof))]
    for case in wrong:
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(*case)


@pytest.mark.parametrize("old, new, path", CONSISTENCY[:4])
def test_a_corrupted_consistency_proof_is_refused(old, new, path):
    proof = [bytes.fromhex(h) for h in path]
    first, second = bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new])
    wrong = [(old - 1, new, first, second, proof), (old + 1, new, first, second, proof),
             (old, new * 2, first, second, proof), (old, new, second, first, proof),
             (old, new, merkle.EMPTY_ROOT, second, proof), (old, new, first, second, []),
             (old, new, first, second, proof + [first]), (old, new, first, second, proof[:-1]),
             (old, new, first, second, [proof[0]] + proof)]
    wrong += [(old, new, first, second, _flipped(proof, i)) for i in range(len(proof))]
    for case in wrong:
        if case[0] == 0:     # from the empty tree every tree is consistent
            continue
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(*case)


def test_a_tree_extended_in_chunks_equals_one_built_leaf_by_leaf():
    leaves = [merkle.leaf_hash(i.to_bytes(2, "big")) for i in range(1000)]
    nodes: dict = {}
    position = 0
    for size in itertools.accumulate([1, 2, 3, 7, 100, 250, 637]):
        for level, index, digest in list(merkle.extend(position, reader(nodes),
                                                       leaves[position:size])):
            nodes[(level, index)] = digest
        position = size
    compact = merkle.Compact()
    for leaf in leaves:
        compact.add(leaf)
    assert merkle.root(1000, reader(nodes)) == compact.root()
    assert len(nodes) == 1000 + 500 + 250 + 125 + 62 + 31 + 15 + 7 + 3 + 1
