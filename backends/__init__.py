"""Whole years of claims at once: the compiled graph lowered to SQL for DuckDB and
Spark, the claims file read and admitted in columns."""
