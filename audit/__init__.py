"""The audit trail: recorded settlements, hash-chained, in a Merkle tree with signed
checkpoints, replayable; and the settlement book kept on it (year to date across runs)."""
