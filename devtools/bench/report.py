"""Small helpers for benchmark reports: the machine line, latency figures and plain-text tables."""
import math
import os
import platform
import sqlite3
import statistics
import sys
from dataclasses import dataclass, field


def machine() -> str:
    """CPU model, cores, RAM, Python, SQLite and OS, on one line."""
    return (f"{_cpu_model()} · {os.cpu_count()} cores · {_ram_gib():.1f} GiB RAM · Python {platform.python_version()}"
            f" · SQLite {sqlite3.sqlite_version} · {_os_name()} ({platform.system()} {platform.release()},"
            f" {platform.machine()})")


def load() -> str:
    """The machine's load average: other work on a shared machine shows in the figures."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load average unknown"
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return platform.processor() or "CPU unknown"


def _ram_gib() -> float:
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def _os_name() -> str:
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME", sys.platform)
    except OSError:
        return sys.platform


@dataclass
class Figures:
    """Latencies of one scenario, in milliseconds."""

    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 95)


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def table(headers: list[str], rows: list[list], right_from: int = 1) -> str:
    """A plain-text table; columns from `right_from` on are right-aligned (numbers)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row):
        return "  ".join(c.rjust(w) if i >= right_from else c.ljust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths), *map(line, cells[1:])])


@dataclass
class Section:
    """One benchmark's part of the report."""

    title: str
    lines: list[str] = field(default_factory=list)
    misses: int = 0

    def add(self, text: str = "") -> None:
        self.lines.append(text)

    def render(self) -> str:
        return "\n".join([self.title, "=" * len(self.title), *self.lines])


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"
