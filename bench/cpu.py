"""Where the CPU went during a load phase, read from /proc (Linux).

On a 2-core box the load generator, the web server, PostgreSQL and anything else running share
the same cores, so requests/s alone is ambiguous; CPU time per request of the server and of
PostgreSQL says what each costs, and the machine's busy share says whether the cores were full.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class CpuUsage:
    """CPU seconds per process group over one window, and the machine's busy share of it."""

    seconds: dict[str, float] = field(default_factory=dict)
    machine_busy: float = 0.0

    def per_unit_ms(self, units: int) -> dict[str, float]:
        """Milliseconds of CPU per request (or per item) for each group."""
        return (
            {name: round(s * 1000 / units, 3) for name, s in self.seconds.items()} if units else {}
        )


@contextmanager
def usage(groups: dict[str, int | None]) -> Iterator[CpuUsage]:
    """Measure the process trees rooted at `groups` (name -> pid; None is skipped)."""
    roots = {name: pid for name, pid in groups.items() if pid}
    result = CpuUsage()
    before, machine_before = _tree_seconds(roots), _machine_ticks()
    yield result
    after, machine_after = _tree_seconds(roots), _machine_ticks()
    result.seconds = {name: after[name] - before[name] for name in roots}
    busy, total = (a - b for a, b in zip(machine_after, machine_before, strict=True))
    result.machine_busy = busy / total if total else 0.0


def postgres_pid(data_dir: Path) -> int | None:
    """The postmaster of an embedded server (first line of postmaster.pid), if readable."""
    try:
        return int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def _tree_seconds(roots: dict[str, int]) -> dict[str, float]:
    stats = _all_stats()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    totals = {}
    for name, root in roots.items():
        ticks, pending = 0, [root]
        while pending:
            pid = pending.pop()
            ticks += stats.get(pid, (0, 0))[1]
            pending.extend(children.get(pid, []))
        totals[name] = ticks / TICKS
    return totals


def _all_stats() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, user + system ticks, including reaped children)."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:  # the process ended meanwhile
            continue
        fields = text.rsplit(")", 1)[1].split()
        # After the command: state ppid ... utime(12) stime(13) cutime(14) cstime(15).
        stats[int(entry.name)] = (int(fields[1]), sum(int(v) for v in fields[11:15]))
    return stats


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot; idle and iowait count as not busy."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(values[:8])  # guest time is already inside user
    return total - values[3] - values[4], total
