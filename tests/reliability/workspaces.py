"""Generated workspaces for the engine's reliability tests, and edits to keep them changing.

`make_tree` writes a deterministic project of `file_count` small Python and text files in
nested packages (plus a `.gitignore`d log file and a symbolic link inside the tree), backdated
so scans trust their stat. `edit_tree` changes, adds and deletes a few files the way a person
editing would, so every scan and generation has real work to write.
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path

OLD = time.time() - 3600


@dataclass
class EditCounts:
    modified: int = 0
    added: int = 0
    deleted: int = 0


def make_tree(root: Path, file_count: int, *, seed: int = 1) -> list[Path]:
    """Write the project under `root`; return the files written."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / ".gitignore").write_text("*.log\nbuild/\n", encoding="utf-8")
    (root / "debug.log").write_text("ignored\n", encoding="utf-8")
    files = []
    for index in range(file_count):
        package = root / f"pkg{index % 23}" / f"sub{index % 5}"
        if index % 3 == 0:
            package = package / f"deep{index % 4}"
        package.mkdir(parents=True, exist_ok=True)
        path = package / (f"module_{index}.py" if index % 4 else f"notes_{index}.md")
        path.write_text(_content(index, rng.randint(0, 40)), encoding="utf-8")
        files.append(path)
    link = root / "pkg0" / "alias.py"  # a link inside the workspace: scanned as a file
    if not link.is_symlink():
        link.symlink_to(Path("..") / files[1].relative_to(root))
    for path in [*files, root / ".gitignore", root / "debug.log"]:
        os.utime(path, (OLD, OLD))
    return files


def _content(index: int, padding: int, revision: int = 0) -> str:
    if index % 4 == 0:
        return f"# Notes {index}\n\nRevision {revision}.\n" + "- a point\n" * padding
    return (
        f'"""Module {index}, revision {revision}."""\n\n'
        f"import os\n\n\nclass Thing{index}:\n"
        f'    """A thing."""\n\n    def size(self) -> int:\n        return {index}\n\n\n'
        f"def helper_{index}(value: int) -> int:\n"
        f'    """Add {index}."""\n    return value + {index}\n' + "# padding\n" * padding
    )


def edit_tree(root: Path, rng: random.Random, *, changes: int) -> EditCounts:
    """Modify, add and delete about `changes` files under `root` (never the link target)."""
    counts = EditCounts()
    files = sorted(p for p in root.rglob("*.py") if not p.is_symlink() and ".ctree" not in p.parts)
    for _ in range(changes):
        roll = rng.random()
        if roll < 0.7 and files:
            path = rng.choice(files)
            index = int("".join(ch for ch in path.stem if ch.isdigit()) or 0)
            path.write_text(_content(index, rng.randint(0, 40), rng.randint(1, 10**9)),
                            encoding="utf-8")
            counts.modified += 1
        elif roll < 0.85:
            folder = root / f"pkg{rng.randrange(23)}" / f"added{rng.randrange(3)}"
            folder.mkdir(parents=True, exist_ok=True)
            number = rng.randrange(10**6)
            (folder / f"new_{number}.py").write_text(_content(number, 2, 1), encoding="utf-8")
            counts.added += 1
        elif len(files) > 10:
            victim = files.pop(rng.randrange(len(files)))
            if victim.name != "module_1.py":
                victim.unlink()
                counts.deleted += 1
    return counts


def scan_root_id(stdout: str) -> str:
    """The root id from `ctree scan --json` output."""
    return str(json.loads(stdout.strip().splitlines()[-1])["root_id"])
