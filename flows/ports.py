"""Which process listens on a local TCP port (Linux ``/proc``), to name it in an error.

Importing this module is cheap: the standard library only. Where ``/proc`` is not readable
(another OS, another user's process) the answer is None and callers say less.
"""

from __future__ import annotations

import os
from pathlib import Path

_LISTEN = "0A"
"""State code of a listening socket in ``/proc/net/tcp``."""


def _listening_inodes(port: int, proc: Path) -> set[str]:
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (proc / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != _LISTEN:
                continue
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def _command_line(pid_dir: Path) -> str:
    raw = (pid_dir / "cmdline").read_bytes()
    parts = [p.decode(errors="replace") for p in raw.split(b"\0") if p]
    line = " ".join(parts) if parts else (pid_dir / "comm").read_text().strip()
    return line if len(line) <= 120 else line[:117] + "..."


def process_on_port(port: int, proc: Path = Path("/proc")) -> str | None:
    """``pid N: <command line>`` of the process listening on ``port``, or None if unknown."""
    inodes = _listening_inodes(port, proc)
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            for fd in (pid_dir / "fd").iterdir():
                if os.readlink(fd) in wanted:
                    return f"pid {pid_dir.name}: {_command_line(pid_dir)}"
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return None
