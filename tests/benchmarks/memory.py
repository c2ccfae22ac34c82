"""Peak-memory measurement for benchmarks (child process, so figures are not polluted)."""

from __future__ import annotations

import resource
import subprocess
import sys


def peak_rss_mb_of(code: str) -> float:
    """Run ``code`` in a fresh interpreter and return its peak RSS in MiB."""
    subprocess.run([sys.executable, "-c", code], check=True)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_maxrss / 1024.0
