"""What `ctree status` reports: the stored tree, whether it is stale, sessions, coverage.

Staleness is checked by walking the workspace against the stored tree exactly as an
incremental scan would (files with unchanged stat are not read) without writing anything;
the tree is stale when the root id would change. Context coverage per agent comes from a
`CoverageSource` that the frames layer supplies; without one it is left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from contextree.engine.store import EngineStore
from contextree.engine.workspace.builder import TreeBuilder
from contextree.engine.workspace.config import Config, load_config
from contextree.engine.workspace.ignore import IgnoreRules
from contextree.engine.workspace.layout import Workspace
from contextree.engine.workspace.tree import FILE, ROOT, NodeRecord, TreeStore

STALE_PATHS_REPORTED = 20

CoverageSource = Callable[[Mapping[str, NodeRecord]], Mapping[str, "AgentCoverage"]]
"""Given the current tree (path → record), the coverage of each agent id."""


@runtime_checkable
class SessionLister(Protocol):
    """The part of `EventStore` status needs."""

    def list_sessions(self) -> list[Any]: ...


@dataclass(frozen=True)
class AgentCoverage:
    """How many of the tree's nodes have a current context frame from one agent."""

    covered: int
    total: int

    @property
    def ratio(self) -> float:
        return self.covered / self.total if self.total else 0.0


@dataclass
class WorkspaceStatus:
    """Everything `ctree status` shows; `to_json()` is its `--json` form."""

    workspace: str
    store: str
    scanned: bool
    root_id: str | None = None
    node_count: int = 0
    file_count: int = 0
    dir_count: int = 0
    total_bytes: int = 0
    last_scan_at: str | None = None
    tree_updated_at: str | None = None
    stale: bool | None = None
    stale_count: int = 0
    stale_paths: list[str] = field(default_factory=list)
    sessions: dict[str, int] = field(default_factory=dict)
    coverage: dict[str, AgentCoverage] = field(default_factory=dict)

    @property
    def session_count(self) -> int:
        return sum(self.sessions.values())

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["session_count"] = self.session_count
        data["coverage"] = {
            agent: {**asdict(value), "ratio": round(value.ratio, 4)}
            for agent, value in self.coverage.items()
        }
        return data


def workspace_status(
    workspace: Workspace,
    store: EngineStore,
    *,
    config: Config | None = None,
    check_stale: bool = True,
    coverage: CoverageSource | None = None,
) -> WorkspaceStatus:
    """Gather the status of `workspace` from `store` (and, for staleness, the disk)."""
    config = config if config is not None else load_config(workspace)
    tree = TreeStore.open_existing(store)
    records = tree.load_records() if tree is not None else {}
    status = WorkspaceStatus(
        workspace=str(workspace.root), store=str(workspace.store_path), scanned=ROOT in records
    )
    _fill_tree(status, tree, records)
    if check_stale and status.scanned:
        _fill_staleness(status, workspace, config, records)
    if isinstance(store, SessionLister):
        status.sessions = session_counts(store)
    if coverage is not None and status.scanned:
        status.coverage = dict(coverage(records))
    return status


def _fill_tree(
    status: WorkspaceStatus, tree: TreeStore | None, records: Mapping[str, NodeRecord]) -> None:
    files = sum(1 for record in records.values() if record.type == FILE)
    root = records.get(ROOT)
    status.root_id = root.id if root else None
    status.node_count = len(records)
    status.file_count = files
    status.dir_count = len(records) - files
    status.total_bytes = root.size if root else 0
    if tree is None:
        return
    last_scan = tree.last_scan() or {}
    status.last_scan_at = last_scan.get("finished_at")
    status.tree_updated_at = (tree.summary() or {}).get("updated_at")


def _fill_staleness(
    status: WorkspaceStatus,
    workspace: Workspace,
    config: Config,
    records: Mapping[str, NodeRecord],
) -> None:
    rules = IgnoreRules.for_workspace(workspace, config.ignore_patterns)
    builder = TreeBuilder(workspace.root, rules, records)
    builder.build_root()
    before = _file_ids(records)
    after = _file_ids(builder.records)
    changed_files = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    status.stale = builder.records[ROOT].id != status.root_id
    status.stale_count = len(changed_files)
    status.stale_paths = changed_files[:STALE_PATHS_REPORTED]


def _file_ids(records: Mapping[str, NodeRecord]) -> dict[str, str]:
    return {path: record.id for path, record in records.items() if record.type == FILE}


def session_counts(store: SessionLister) -> dict[str, int]:
    """Sessions by effective status."""
    return dict(Counter(record.status for record in store.list_sessions()))
