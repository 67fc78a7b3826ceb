"""Benchmarks: `make bench` (python -m app.bench) seeds throwaway databases and prints one report."""
