"""Ignore rules: gitignore semantics with nested files, negation, directories, built-ins."""

from __future__ import annotations

from pathlib import Path

import pytest

from contextree.engine.ignore import IgnoreRules

from .helpers import write


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    write(root, ".gitignore", "*.log\nbuild/\n/top.txt\n!keep.log\n")
    write(root, "src/.gitignore", "generated/\n*.tmp\n!important.tmp\n/local.txt\n")
    write(root, "src/deep/.gitignore", "!*.log\n")
    return root


@pytest.mark.parametrize(
    ("path", "is_dir", "ignored"),
    [
        ("a.log", False, True),
        ("keep.log", False, False),  # negation in the same file
        ("src/x.log", False, True),  # root patterns apply at any depth
        ("src/deep/x.log", False, False),  # a deeper file overrides a shallower one
        ("build", True, True),
        ("build", False, False),  # a directory pattern does not match a file
        ("src/build", True, True),
        ("top.txt", False, True),
        ("src/top.txt", False, False),  # anchored to its own directory
        ("src/local.txt", False, True),
        ("local.txt", False, False),  # src/.gitignore does not reach its parent
        ("src/a.tmp", False, True),
        ("src/important.tmp", False, False),
        ("src/generated", True, True),
        ("src/generated/inside.py", False, True),  # inside an ignored directory
        ("build/keep.log", False, True),  # an excluded directory cannot be re-included
        ("src/main.py", False, False),
    ],
)
def test_gitignore_semantics(root: Path, path: str, is_dir: bool, ignored: bool) -> None:
    assert IgnoreRules(root).is_ignored(path, is_dir) is ignored


@pytest.mark.parametrize("name", [".git", ".ctree", "node_modules", "__pycache__", ".venv"])
def test_builtins_are_ignored_at_any_depth_and_cannot_be_negated(
    tmp_path: Path, name: str
) -> None:
    write(tmp_path, ".gitignore", f"!{name}\n!{name}/\n")
    rules = IgnoreRules(tmp_path)
    assert rules.is_ignored(name, True)
    assert rules.is_ignored(f"a/b/{name}", True)
    assert rules.is_ignored(f"a/{name}/x.py", False)
    assert not rules.is_ignored(f"a/{name}x", True)


def test_config_patterns_rank_below_gitignore_files(tmp_path: Path) -> None:
    write(tmp_path, "docs/.gitignore", "!draft.md\n")
    rules = IgnoreRules(tmp_path, patterns=["*.md", "vendor/"])
    assert rules.is_ignored("README.md", False)
    assert rules.is_ignored("vendor", True)
    assert not rules.is_ignored("docs/draft.md", False)
    assert rules.is_ignored("docs/other.md", False)


def test_extra_paths_are_ignored(tmp_path: Path) -> None:
    rules = IgnoreRules(tmp_path, extra_paths=["data/store"])
    assert rules.is_ignored("data/store", True)
    assert rules.is_ignored("data/store/data.mdb", False)
    assert not rules.is_ignored("data/other", True)


def test_cache_is_cleared_when_gitignore_files_change(tmp_path: Path) -> None:
    rules = IgnoreRules(tmp_path)
    assert not rules.is_ignored("a/x.txt", False)
    write(tmp_path, "a/.gitignore", "x.txt\n")
    assert not rules.is_ignored("a/x.txt", False)  # cached until told
    rules.clear_cache()
    assert rules.is_ignored("a/x.txt", False)
