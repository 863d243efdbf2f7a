"""Types shared by every stage: exact money, source spans, diagnostics."""
