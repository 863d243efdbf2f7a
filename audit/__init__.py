"""The audit trail: recorded settlements, hash-chained and replayable (issue 6)."""
