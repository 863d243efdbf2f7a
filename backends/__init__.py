"""Vectorized evaluation of the compiled graph for whole years of claims (issue 9)."""
