"""Project and API key names: read with the real SDK from the local server's list
endpoints, kept in the store, refreshed on schedule, never failing a sync, and
shown in place of ids in the report, exports and the Analytics tab."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from textual.widgets import DataTable

from monitor_tui.analytics import period_range
from monitor_tui.config import Settings
from monitor_tui.export.csv_file import to_csv
from monitor_tui.export.table import build_table
from monitor_tui.names import (
    REFRESH_AFTER_SECONDS,
    RETRY_AFTER_SECONDS,
    Directory,
    KeyName,
    ProjectName,
    read_names,
    refresh_names,
)
from monitor_tui.period import billing_period
from monitor_tui.report import build_report
from monitor_tui.report_text import format_report, format_sync
from monitor_tui.sources.openai_api import OpenAISource
from monitor_tui.store import Store
from monitor_tui.sync import Syncer, open_syncer
from tests.conftest import ADMIN_KEY, NOW, NOW_EPOCH
from tests.test_analytics_view import AnalyticsApp, computed
from tests.usage_api import directory_for, redacted_value

HOUR = NOW_EPOCH - NOW_EPOCH % 3600
MARKUP_NAME = "[b]Ops[/b] & [red]team"
"""A project name Textual would read as markup if it were given as a string."""


def completion(time: int, project: str, key: str, tokens: int = 1_000_000) -> dict:
    """A gpt-4o-mini record: 1M input tokens cost $0.15 at list price."""
    return {
        "endpoint": "completions",
        "time": time,
        "model": "gpt-4o-mini-2024-07-18",
        "project_id": project,
        "api_key_id": key,
        "batch": False,
        "service_tier": "default",
        "input_tokens": tokens,
        "output_tokens": 0,
        "num_model_requests": 1,
    }


RECORDS = [
    completion(HOUR - 5 * 3600, "proj_ops", "key_ops_ci", 2_000_000),
    completion(HOUR - 4 * 3600, "proj_search", "key_search_prod"),
    completion(HOUR - 3 * 3600, "proj_unnamed", "key_unnamed"),
]
PROJECTS = [
    {
        "id": "proj_ops",
        "name": MARKUP_NAME,
        "api_keys": [
            {"id": "key_ops_ci", "name": "ci-bot", "redacted_value": "sk-abc...def"}
        ],
    },
    {
        "id": "proj_search",
        "name": "Search",
        "api_keys": [
            {
                "id": "key_search_prod",
                "name": "prod-server",
                "redacted_value": "sk-pro...x9z",
            }
        ],
    },
]
"""Names for two of the three projects in ``RECORDS``; proj_unnamed has none."""


def syncer(store: Store, server, at: int = NOW_EPOCH) -> Syncer:
    source = OpenAISource(ADMIN_KEY, server.base_url, max_retries=0, timeout=5)
    return Syncer(store, source, history_days=3, clock=lambda: at)


def list_requests(server) -> list[str]:
    return [
        urlsplit(path).path
        for path, _, _ in server.requests
        if "/organization/projects" in path
    ]


def sync_at(store: Store, server, at: int):
    server.now = at
    result = syncer(store, server, at).sync()
    assert result.ok, result.error
    return result


# Reading names through the SDK


def test_a_sync_stores_every_project_and_key_across_several_pages(store, api_server):
    many = [
        completion(HOUR - 3600, f"proj_{p:02d}", f"key_{p:02d}_{k}", 1000)
        for p in range(5)
        for k in range(3)
    ]
    api_server.set_records(many)
    api_server.projects = directory_for(many, archived=["proj_04"])
    # An owner who left the project: the key is listed only with access "any".
    api_server.projects[0]["api_keys"][0]["owner_project_access"] = "inactive"
    api_server.list_page_cap = 2

    result = sync_at(store, api_server, NOW_EPOCH)

    names = read_names(store, "openai")
    assert result.names is not None and result.names.read
    assert "names: 5 projects, 15 API keys" in format_sync(result)
    assert set(names.projects) == {f"proj_{p:02d}" for p in range(5)}
    assert names.projects["proj_04"].archived
    assert names.projects["proj_00"].name == "Customer support"
    assert set(names.keys) == {f"key_{p:02d}_{k}" for p in range(5) for k in range(3)}
    for project in api_server.projects:
        for key in project["api_keys"]:
            stored = names.keys[key["id"]]
            assert stored.redacted_value == redacted_value(key["id"])
            assert stored.project_id == project["id"]
    # 5 projects at 2 a page: 3 pages; 3 keys a project: 2 pages each.
    requests = list_requests(api_server)
    assert requests.count("/v1/organization/projects") == 3
    assert len(requests) == 3 + 5 * 2
    # Each list's first page has no cursor; every later one continues it.
    with_cursor = [p for path, p, _ in api_server.requests if "after" in p]
    assert len(with_cursor) == 2 + 5


def test_the_list_endpoints_refuse_a_wrong_admin_key(api_server):
    api_server.projects = PROJECTS
    source = OpenAISource("sk-admin-wrong-key-000000000000", api_server.base_url)
    with pytest.raises(Exception, match="refused to list projects") as caught:
        source.read_names()
    assert "sk-admin-wrong" not in str(caught.value)
    assert [status for _, _, status in api_server.requests] == [401]


# A failed read never fails the sync


@pytest.mark.parametrize("status", [403, 500])
def test_a_refused_or_failed_names_read_keeps_the_sync_ok_and_the_old_names(
    store, api_server, status, caplog
):
    api_server.set_records(RECORDS)
    api_server.projects = PROJECTS
    sync_at(store, api_server, NOW_EPOCH)
    before = read_names(store, "openai")
    assert before.project_name("proj_search") == "Search"

    caplog.set_level(logging.INFO)
    later = NOW_EPOCH + REFRESH_AFTER_SECONDS
    api_server.add_fault(status, retry_after=None, path_contains="/projects", count=9)
    result = sync_at(store, api_server, later)

    assert result.ok and result.error is None
    assert result.names is not None and not result.names.read
    assert str(status) in (result.names.error or "")
    assert "names not read (ids are shown)" in format_sync(result)
    assert read_names(store, "openai") == before
    warnings = [r for r in caplog.records if r.name == "monitor_tui.names"]
    assert len([r for r in warnings if r.levelno == logging.WARNING]) == 1

    # The same failure an hour later is tried again but not logged again.
    caplog.clear()
    result = sync_at(store, api_server, later + RETRY_AFTER_SECONDS)
    assert result.ok and result.names is not None and not result.names.read
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert ADMIN_KEY not in caplog.text
    assert read_names(store, "openai") == before


def test_a_failed_usage_sync_does_not_read_names(store, api_server):
    api_server.projects = PROJECTS
    api_server.add_fault(500, retry_after=None, path_contains="/usage/", count=9)
    result = syncer(store, api_server).sync()
    assert not result.ok and result.names is None
    assert list_requests(api_server) == []


# When names are read again


def test_names_are_read_again_after_six_hours_and_not_before(store, api_server):
    api_server.set_records(RECORDS)
    api_server.projects = PROJECTS
    sync_at(store, api_server, NOW_EPOCH)
    assert read_names(store, "openai").project_name("proj_search") == "Search"

    api_server.projects = [
        {**PROJECTS[0]},
        {**PROJECTS[1], "name": "Search (renamed)"},
    ]
    api_server.clear_requests()
    result = sync_at(store, api_server, NOW_EPOCH + REFRESH_AFTER_SECONDS - 60)
    assert result.names is None and list_requests(api_server) == []
    assert read_names(store, "openai").project_name("proj_search") == "Search"

    result = sync_at(store, api_server, NOW_EPOCH + REFRESH_AFTER_SECONDS)
    assert result.names is not None and result.names.read
    names = read_names(store, "openai")
    assert names.project_name("proj_search") == "Search (renamed)"
    assert names.read_at == NOW_EPOCH + REFRESH_AFTER_SECONDS


def test_an_unknown_project_reads_names_early_but_at_most_once_an_hour(
    store, api_server
):
    api_server.set_records(RECORDS)
    api_server.projects = PROJECTS
    sync_at(store, api_server, NOW_EPOCH)
    assert list_requests(api_server)

    # A project created after the names were read starts using the API.
    api_server.add_records([completion(NOW_EPOCH + 600, "proj_new", "key_new")])
    api_server.projects = [
        *PROJECTS,
        {"id": "proj_new", "name": "New project", "api_keys": []},
    ]
    api_server.clear_requests()
    result = sync_at(store, api_server, NOW_EPOCH + 1800)
    assert result.names is None and list_requests(api_server) == []

    # An hour after the last read, long before 6 hours, it is read.
    result = sync_at(store, api_server, NOW_EPOCH + RETRY_AFTER_SECONDS)
    assert result.names is not None and result.names.read
    assert read_names(store, "openai").project_name("proj_new") == "New project"

    # A project no list knows asks again at most once an hour.
    ghost = "proj_not_listed"
    api_server.add_records([completion(NOW_EPOCH + 3900, ghost, "key_ghost")])
    api_server.clear_requests()
    sync_at(store, api_server, NOW_EPOCH + 4500)
    assert list_requests(api_server) == []
    result = sync_at(store, api_server, NOW_EPOCH + 2 * RETRY_AFTER_SECONDS)
    assert result.names is not None and result.names.read
    assert read_names(store, "openai").project_name(ghost) is None

    api_server.add_records([completion(NOW_EPOCH + 7500, ghost, "key_ghost")])
    api_server.clear_requests()
    sync_at(store, api_server, NOW_EPOCH + 9000)
    assert list_requests(api_server) == []


# No full key anywhere


class _Lists:
    """A source whose lists are given; only the store's guard is under test."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    def read_names(self) -> Directory:
        return self.directory


def test_a_key_value_that_is_not_redacted_is_never_stored(store, tmp_path):
    whole = "sk-proj-" + "Q" * 40
    lists = _Lists(
        Directory(
            (ProjectName("proj_a", "A"),),
            (
                KeyName("key_whole", "leaky", whole, "proj_a"),
                KeyName("key_fine", "fine", "sk-abc...def", "proj_a"),
                KeyName("key_long", "long", "sk-" + "Q" * 40 + "...abc", "proj_a"),
            ),
        )
    )
    outcome = refresh_names(store, "openai", lists, NOW_EPOCH)

    assert outcome is not None and outcome.read
    names = read_names(store, "openai")
    assert names.key_label("key_whole") == "leaky"
    assert names.key_label("key_fine") == "fine · sk-abc...def"
    assert names.key_label("key_long") == "long"
    for path in Path(tmp_path).rglob("*"):
        if path.is_file():
            assert b"QQQQQQQQ" not in path.read_bytes(), path

    def unredacted(record):
        return {"api_keys": {"key_x": {"name": "x", "redacted_value": whole}}}

    with pytest.raises(ValueError, match="not redacted"):
        store.update_names("openai", unredacted)
    assert b"QQQQQQQQ" not in (store.data_dir / "names.json").read_bytes()


# Names where ids were shown


@pytest.fixture
def named_store(api_server, tmp_path) -> Store:
    """RECORDS synced through the SDK, with names for two of three projects."""
    api_server.set_records(RECORDS)
    api_server.projects = PROJECTS
    store = Store(tmp_path / "data")
    sync_at(store, api_server, NOW_EPOCH)
    return store


def test_the_report_json_and_text_name_projects_and_show_unknown_ids(named_store):
    report = build_report(
        named_store, "openai", billing_period(NOW, 1, ZoneInfo("UTC")), NOW
    )
    # gpt-4o-mini at $0.15 per 1M input tokens: 2M $0.30, 1M $0.15 each.
    assert report.to_json()["projects"] == [
        {"project_id": "proj_ops", "name": MARKUP_NAME, "spend_usd": "0.300000"},
        {"project_id": "proj_search", "name": "Search", "spend_usd": "0.150000"},
        {"project_id": "proj_unnamed", "name": None, "spend_usd": "0.150000"},
    ]
    text = format_report(report)
    assert "[b]Ops[/b] & [red]team" in text
    assert "Search" in text and "proj_unnamed" in text


def test_an_export_has_names_beside_ids(named_store):
    span = period_range(billing_period(NOW, 1, ZoneInfo("UTC")), NOW)
    zone = ZoneInfo("UTC")
    by_key = build_table(named_store, "openai", span, zone, "api_key", NOW)
    lines = to_csv(by_key).splitlines()
    assert lines[0].startswith("api_key_id,api_key_name,")
    assert lines[1].startswith('"key_ops_ci","ci-bot · sk-abc...def",2000000,')
    assert lines[2].startswith('"key_search_prod","prod-server · sk-pro...x9z",')
    assert lines[3].startswith('"key_unnamed",,')

    by_project = build_table(named_store, "openai", span, zone, "project", NOW)
    cells = [to_csv(by_project).splitlines()[i].split(",")[:2] for i in (1, 2, 3)]
    assert cells == [
        ['"proj_ops"', f'"{MARKUP_NAME}"'],
        ['"proj_search"', '"Search"'],
        ['"proj_unnamed"', ""],
    ]


async def test_the_analytics_breakdowns_show_names_literally(named_store):
    settings = Settings(
        admin_key=ADMIN_KEY,
        data_dir=named_store.data_dir,
        timezone="UTC",
        history_days=35,
    )
    app = AnalyticsApp(named_store.data_dir, settings=settings)
    async with app.run_here() as pilot:
        await computed(pilot, app)
        table = app.query_one("#breakdown", DataTable)

        await pilot.press("b")  # by project
        names = [table.get_row_at(i)[0] for i in range(table.row_count)]
        assert [name.plain for name in names] == [
            MARKUP_NAME,
            "Search",
            "proj_unnamed",
        ]
        # Shown as typed: no markup was read into styles.
        assert not names[0].spans
        screen = app.export_screenshot().replace("&#160;", " ")
        assert "[b]Ops[/b] &amp; [red]team" in screen

        await pilot.press("b")  # by API key
        assert [table.get_row_at(i)[0].plain for i in range(table.row_count)] == [
            "ci-bot · sk-abc...def",
            "prod-server · sk-pro...x9z",
            "key_unnamed",
        ]


def test_the_demo_names_its_projects_and_keys(tmp_path):
    settings = Settings(data_dir=tmp_path, timezone="UTC", history_days=2)
    result = open_syncer(settings, lambda: NOW_EPOCH).sync()
    assert result.ok and result.names is not None and result.names.read
    names = read_names(Store(settings.store_dir), "demo")
    assert names.project_label("proj_demo_webapp") == "Web app"
    assert names.key_label("key_demo_web") == "web-backend · sk-proj-...W3bq"


def test_an_archived_project_whose_keys_cannot_be_listed_keeps_the_other_names(
    store, api_server
):
    api_server.projects = [
        *PROJECTS,
        {
            "id": "proj_old",
            "name": "Old prototype",
            "archived": True,
            "api_keys": [
                {"id": "key_old", "name": "old", "redacted_value": "sk-o...d"}
            ],
        },
    ]
    # Some project endpoints answer 400 for archived projects.
    api_server.add_fault(400, retry_after=None, path_contains="proj_old/api_keys")
    result = syncer(store, api_server).sync()

    assert result.ok and result.names is not None and result.names.read
    names = read_names(store, "openai")
    assert names.project_label("proj_old") == "Old prototype"
    assert names.key_label("key_ops_ci") == "ci-bot · sk-abc...def"
    assert names.key_label("key_old") == "key_old"
