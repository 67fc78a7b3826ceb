"""`make bench`: run every benchmark module in order on throwaway databases and print one report.

Each module listed in BENCHMARKS has run(workspace) -> report.Section; adding a benchmark is one line here.
The exit code is 0 even when a goal is missed: this is a report, not a test (misses are printed as MISS).
"""
import importlib
import logging
import tempfile
import time
from pathlib import Path

from .report import load, machine
from .seed import Workspace

BENCHMARKS = [
    "devtools.bench.engine",
    "devtools.bench.inbox",
    "devtools.bench.timers",
    "devtools.bench.dashboard",
    "devtools.bench.duplicates",
]


def main(argv=None) -> int:
    """`python -m devtools.bench [name ...]`: every benchmark, or only those named (e.g. `dashboard`)."""
    import sys

    wanted = (argv if argv is not None else sys.argv[1:]) or None
    chosen = [b for b in BENCHMARKS if wanted is None or b.rsplit(".", 1)[-1] in wanted]
    logging.basicConfig(level=logging.WARNING)  # a root handler: migrations then keep quiet (no alembic.ini logging)
    started = time.perf_counter()
    print(f"SIPROC benchmarks\nMachine: {machine()}\nAt start: {load()}\n", flush=True)
    sections = []
    with tempfile.TemporaryDirectory(prefix="siproc-bench-") as folder:
        workspace = Workspace(Path(folder), log=lambda text: print(text, flush=True))
        for name in chosen:
            print(f"running {name} ...", flush=True)
            sections.append(importlib.import_module(name).run(workspace))
    print()
    for section in sections:
        print(section.render(), end="\n\n")
    misses = sum(section.misses for section in sections)
    print(f"Machine: {machine()}")
    print(f"At the end: {load()}")
    print(f"Overall: {'PASS' if not misses else f'MISS ({misses} goal(s) missed)'}"
          f" · {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
