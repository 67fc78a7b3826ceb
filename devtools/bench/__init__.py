"""Benchmarks: `make bench` (python -m devtools.bench) seeds throwaway databases and prints one report."""
