"""Ignore rules: gitignore semantics with nested files, negation, directories, built-ins."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from pathspec import GitIgnoreSpec

from contextree.engine.workspace import ignore as ignore_module
from contextree.engine.workspace.ignore import IgnoreRules, _alternates_at_top, any_pattern_search

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


ZOO_PATTERNS = [
    "*.log", "!keep.log", "build/", "/top.txt", "docs/_build/", "**/cache/**", "a/**/b",
    "*.py[cod]", "[!x]y.tmp", "\\#literal", "weird(?P<x>)name", "dist", "!dist/keep/", "*~",
    "lib64/", ".env", "src/*.gen", "# a comment", "", "deep/nested/only.txt",
]
ZOO_NAMES = ["build", "keep.log", "x.log", "top.txt", "docs", "_build", "cache", "a", "b",
             "m.pyc", "m.py", "zy.tmp", "xy.tmp", "#literal", "weird(?P<x>)name", "dist", "keep",
             "f~", "lib64", ".env", "src", "x.gen", "deep", "nested", "only.txt"]


def test_one_search_over_all_patterns_agrees_with_checking_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, ".gitignore", "\n".join(ZOO_PATTERNS[:10]) + "\n")
    write(tmp_path, "src/.gitignore", "\n".join(ZOO_PATTERNS[10:]) + "\n")
    joined = IgnoreRules(tmp_path, patterns=["*.gen", "!x.gen", "cache"])
    with monkeypatch.context() as patched:
        patched.setattr(ignore_module, "any_pattern_search", lambda spec: None)
        one_by_one = IgnoreRules(tmp_path, patterns=["*.gen", "!x.gen", "cache"])
        one_by_one.matcher_for("src")
    verdicts: list[bool] = []
    for depth in (1, 2, 3):
        for index, parts in enumerate(itertools.product(ZOO_NAMES, repeat=depth)):
            if depth == 3 and index % 7:
                continue  # a sample of the deepest paths keeps the test fast
            for prefix in ("", "src/"):
                path = prefix + "/".join(parts)
                for is_dir in (False, True):
                    expected = one_by_one.is_ignored(path, is_dir)
                    assert joined.is_ignored(path, is_dir) is expected, (path, is_dir)
                    verdicts.append(expected)
    assert len(verdicts) > 5000 and 0.1 < sum(verdicts) / len(verdicts) < 0.9


def test_a_file_without_patterns_has_no_search() -> None:
    assert any_pattern_search(GitIgnoreSpec.from_lines(["*.log"])) is not None
    assert any_pattern_search(GitIgnoreSpec.from_lines(["# only a comment"])) is None


@pytest.mark.parametrize(
    ("source", "alternates"),
    [("a|b", True), ("[a]|b", True), (r"[\]]|a", True), ("(a|b)", False), ("a(?:/|$)", False),
     ("[|]", False), ("[]|]", False), ("[^]|]", False), (r"\|", False), (r"[\]|]", False)],
)
def test_only_a_top_level_bar_keeps_a_pattern_out_of_the_shared_prefix(
    source: str, alternates: bool
) -> None:
    assert _alternates_at_top(source) is alternates
