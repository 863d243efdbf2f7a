"""Running claims through a compiled policy: evaluation and its trace facts, the
year-to-date ledger, admission of claims, batches and their parallel workers.
The compiler (yibao.compiler) builds the graph; this package runs it."""
