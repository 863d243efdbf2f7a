"""Benchmark scripts (not tests): run ``python -m benchmarks.bench_batch``."""
