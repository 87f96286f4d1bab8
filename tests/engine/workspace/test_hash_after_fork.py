"""Large-file hashing keeps working in a child forked after the parent hashed in parallel.

blake3 hashes big inputs on a native thread pool; its threads do not survive `fork`, so a
child that used the inherited pool would wait forever. The child must fall back to hashing
on its own thread.
"""

from __future__ import annotations

import os
import select
import signal
from pathlib import Path

from contextree.engine.workspace.entries import PARALLEL_HASH_BYTES, hash_file


def test_a_forked_child_hashes_a_large_file_after_the_parent_did(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(PARALLEL_HASH_BYTES + 1024))
    _, parent_hash, _ = hash_file(str(big), follow_symlink=False)  # starts the thread pool
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _, child_hash, _ = hash_file(str(big), follow_symlink=False)
        os.write(write_fd, (child_hash or "").encode())
        os._exit(0)
    os.close(write_fd)
    pidfd = os.pidfd_open(pid)
    try:
        finished, _, _ = select.select([pidfd], [], [], 60)
        if not finished:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        child_hash = os.read(read_fd, 128).decode()
    finally:
        os.close(pidfd)
        os.close(read_fd)
    assert finished, "the forked child hung hashing a large file"
    assert child_hash == parent_hash
