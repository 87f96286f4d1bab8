"""The history's filters (status, date, text, kept as sessions arrive) and its diff of a
marked session against another."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable, Static
from textual.widgets._footer import FooterKey

from contextree.progress import EventStore
from contextree.progress.diff import diff_sessions
from contextree.progress.diff_rollup import DiffEntry, format_figure, rolled_up
from contextree.tui.views.history_diff import DiffScreen
from contextree.tui.widgets.help_screen import HelpScreen
from tests.tui.conftest import FROZEN_NOW, AppFactory, wait_until
from tests.tui.synthetic import (
    T0,
    fixed_ulid,
    generation_events,
    scan_events,
    tree_plan,
    write_session,
)
from tests.tui.test_history import DAY, table_keys, three_sessions

SMALL = {"depth": 1, "dirs": 2, "files_per_dir": 3}


def dated_sessions(store: EventStore) -> dict[str, str]:
    """Scans started 20 days, 3 days and 2 hours before the frozen now, and one today."""
    ages = {"20 days": 20 * DAY, "3 days": 3 * DAY, "yesterday": 2 * 3600.0 + 11 * 3600,
            "today": 1800.0}
    return {name: write_session(store, scan_events(), command="scan",
                                session_id=fixed_ulid(FROZEN_NOW - age, serial),
                                start_s=FROZEN_NOW - age)
            for serial, (name, age) in enumerate(ages.items(), start=1)}


def rolled_tokens(entries: list[DiffEntry], path: str) -> int:
    return next(entry.deltas["tokens"] for entry in entries if entry.path == path)


def title(app: Any) -> str:
    return str(app.history.border_title)


async def test_s_cycles_the_status_shown_and_the_title_says_it(store: EventStore,
                                                               make_app: AppFactory) -> None:
    failed, scan, running = three_sessions(store)
    app = make_app(view="history")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: len(table_keys(app)) == 3, "three rows")
        assert title(app) == "History · 3 sessions"
        shown = []
        for _ in range(5):
            await pilot.press("s")
            shown.append((app.history.filter.status, table_keys(app)))
        assert shown == [("running", [running]), ("completed", [scan]), ("failed", [failed]),
                         ("interrupted", []), ("all", [running, scan, failed])]
        await pilot.press("s", "s", "s")
        assert title(app) == "History · 1 of 3 sessions · failed"
        assert app.history.query_one("#history-empty", Static).display is False


async def test_t_cycles_the_dates_shown_from_the_app_clock(store: EventStore,
                                                           make_app: AppFactory) -> None:
    ids = dated_sessions(store)
    app = make_app(view="history")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: len(table_keys(app)) == 4, "four rows")
        await pilot.press("t")
        assert table_keys(app) == [ids["today"]]
        assert title(app) == "History · 1 of 4 sessions · today"
        await pilot.press("t")
        assert table_keys(app) == [ids["today"], ids["yesterday"], ids["3 days"]]
        await pilot.press("t")
        assert table_keys(app) == [ids["today"], ids["yesterday"], ids["3 days"],
                                   ids["20 days"]]
        assert title(app).endswith(" · 30 days")
        await pilot.press("t")
        assert title(app) == "History · 4 sessions"


async def test_filters_combine_and_hold_while_sessions_arrive(store: EventStore,
                                                              make_app: AppFactory) -> None:
    failed = three_sessions(store)[0]
    app = make_app(view="history")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: len(table_keys(app)) == 3, "three rows")
        await pilot.press("s", "s", "s", "t", "slash", *"generate", "enter")
        assert table_keys(app) == [failed]
        assert title(app) == "History · 1 of 3 sessions · failed · today · “generate”"
        new_failed = write_session(store, generation_events(tree_plan(**SMALL)),
                                   session_id=fixed_ulid(T0 + 1800, 7), start_s=T0 + 1800,
                                   status="failed", error="stopped")
        write_session(store, generation_events(tree_plan(**SMALL)),
                      session_id=fixed_ulid(T0 + 1900, 8), start_s=T0 + 1900)
        write_session(store, scan_events(), session_id=fixed_ulid(T0 + 2000, 9),
                      command="scan", start_s=T0 + 2000, status="failed")
        await wait_until(pilot, lambda: len(app.history.snapshot.rows) == 6, "six sessions")
        assert table_keys(app) == [new_failed, failed]
        assert title(app).startswith("History · 2 of 6 sessions · failed")
        await pilot.press("escape")  # the text filter only
        assert table_keys(app)[:2] == [fixed_ulid(T0 + 2000, 9), new_failed]


async def test_mark_then_c_opens_the_diff_the_cli_prints(store: EventStore,
                                                         make_app: AppFactory) -> None:
    a = write_session(store, generation_events(tree_plan(**SMALL)),
                      session_id=fixed_ulid(T0, 1))
    reused = ["pkg0", *(f"pkg0/module_{index:02d}.py" for index in range(3))]
    b = write_session(store, generation_events(tree_plan(**SMALL, skipped=reused,
                                                         fail=frozenset({"pkg1/module_01.py"}))),
                      session_id=fixed_ulid(T0 + 60, 2), start_s=T0 + 60, status="failed")
    app = make_app(view="history")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: len(table_keys(app)) == 2, "two rows")
        await pilot.press("down", "m")  # the older one: A
        table = app.history.query_one("#sessions", DataTable)
        assert str(table.get_row(a)[0]).startswith("◆ ")
        assert not str(table.get_row(b)[0]).startswith("◆")
        short_a = str(table.get_row(a)[0]).removeprefix("◆ ")
        assert a.startswith(short_a) and title(app) == f"History · 2 sessions · ◆ {short_a}"
        await pilot.press("up", "c")
        await wait_until(pilot, lambda: isinstance(app.screen, DiffScreen), "the diff")
        screen: Any = app.screen
        expected = rolled_up(diff_sessions(store, a, b))
        assert screen.entries == expected and len(expected) > 1
        nodes = screen.query_one("#diff-nodes", DataTable)
        rows = [[str(cell) for cell in nodes.get_row_at(index)] for index in
                range(nodes.row_count)]
        assert [row.key.value for row in nodes.ordered_rows] == [e.path for e in expected]
        assert [row[1] for row in rows] == [entry.change for entry in expected]
        pkg0 = rows[[e.path for e in expected].index("pkg0")]
        assert pkg0[:2] == ["pkg0/  all 4", "generated → up to date"]
        assert pkg0[2] == format_figure("tokens", rolled_tokens(expected, "pkg0"), signed=True)
        assert f"A {a}  →  B {b}" in str(screen.query_one("#diff-summary", Static).render())
        await pilot.press("escape")
        assert app.screen is not screen and app.current_view == "history"
        await pilot.press("down", "m")  # again on the marked one: unmarked
        assert app.history.marked_id is None and "◆" not in title(app)


async def test_c_without_a_mark_or_against_a_scan_says_why(store: EventStore,
                                                           make_app: AppFactory) -> None:
    failed, scan, _ = three_sessions(store)
    app = make_app(view="history")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: len(table_keys(app)) == 3, "three rows")
        await pilot.press("c")
        assert any("mark a session with m first" in str(n.message)
                   for n in app._notifications)
        await pilot.press("down", "m", "down", "c")  # the scan against the failed generation
        await wait_until(pilot, lambda: any(f"session {scan} is a `scan` session"
                                            in str(n.message) for n in app._notifications),
                         "the refusal")
        assert not isinstance(app.screen, DiffScreen)
        assert failed in table_keys(app)


async def test_the_new_keys_are_in_the_footer_and_the_help(store: EventStore,
                                                           make_app: AppFactory) -> None:
    three_sessions(store)
    app = make_app(view="history")
    async with app.run_test(size=(200, 40)) as pilot:
        await wait_until(pilot, lambda: len(table_keys(app)) == 3, "three rows")
        await wait_until(pilot, lambda: "Diff" in
                         [key.description for key in app.query(FooterKey)], "the footer")
        footer = [key.description for key in app.query(FooterKey)]
        assert {"Status", "Date", "Mark", "Diff"} <= set(footer)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        history_rows = dict(next(rows for section, rows in app.screen.sections  # type: ignore[attr-defined]
                                 if section.startswith("History (4) — this view")))
        assert history_rows["m"] == "Mark" and history_rows["c"] == "Diff"
        assert history_rows["s"] == "Status" and history_rows["t"] == "Date"
