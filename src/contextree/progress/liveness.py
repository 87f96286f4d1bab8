"""Owner liveness a reader can trust: process probe where it can see the owner, heartbeat elsewhere.

A session record names its owner (pid, process start time, host, boot id, PID namespace). A
reader on the same host, boot and PID namespace probes that process; any other reader — or a
record whose owner cannot be probed — trusts the heartbeat the owner writes into
`obs_session_meta` every `HEARTBEAT_INTERVAL_S`: one older than `HEARTBEAT_STALE_S` means the
owner is gone (SPEC §5).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

HEARTBEAT_INTERVAL_S: Final = 5.0
"""How often an open session's owner rewrites its heartbeat (at most; commits carry it too)."""
HEARTBEAT_STALE_S: Final = 30.0
"""A heartbeat older than this means the owner is gone (when the owner cannot be probed)."""

_BOOT_ID_FILE: Final = Path("/proc/sys/kernel/random/boot_id")
_PID_NS_LINK: Final = "/proc/self/ns/pid"


def read_boot_id() -> str | None:
    """This machine's boot id, or None where the kernel does not expose one."""
    try:
        return _BOOT_ID_FILE.read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def read_pid_namespace() -> str | None:
    """This process's PID namespace (e.g. `pid:[4026531836]`), or None where unknown."""
    with contextlib.suppress(OSError):
        return os.readlink(_PID_NS_LINK)
    return None


BOOT_ID: Final = read_boot_id()
PID_NAMESPACE: Final = read_pid_namespace()


@dataclass(frozen=True)
class Liveness:
    """How a reader judges heartbeats: the staleness bound and the clock (injectable)."""

    stale_after_s: float = HEARTBEAT_STALE_S
    clock: Callable[[], float] = field(default=time.time)


DEFAULT_LIVENESS: Final = Liveness()


def can_probe_owner(host: str, boot_id: str | None, pid_namespace: str | None,
                    *, this_host: str) -> bool:
    """Whether this process sees the owner's pids: same host, boot and PID namespace.

    A record without a boot id or namespace (written by an older version) is judged by its
    host alone, as before.
    """
    if host and host != this_host:
        return False
    if boot_id is not None and boot_id != BOOT_ID:
        return False
    return pid_namespace is None or pid_namespace == PID_NAMESPACE


def heartbeat_fresh(heartbeat_s: float | None, liveness: Liveness) -> bool:
    """Whether a heartbeat (seconds since the epoch) is recent enough to call the owner alive."""
    if heartbeat_s is None:
        return False
    return liveness.clock() - heartbeat_s <= liveness.stale_after_s
