"""The admin list endpoints the monitor reads names from: the organization's
projects and each project's API keys, with cursor pagination (``after`` the last
id, ``limit`` 1 to 100, default 20) as shared/reference/openai-usage-api.md
section 3 describes it.

A project is a plain dict: ``id``, ``name``, optional ``archived`` (bool) and
``api_keys``, a list of dicts with ``id``, ``name``, ``redacted_value`` and
optional ``owner_project_access`` (``active``, the default, or ``inactive``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .queries import ApiError, bad_request

PROJECTS_PATH = "/v1/organization/projects"
_KEYS_PATH = re.compile(r"^/v1/organization/projects/([^/]+)/api_keys$")
_DEFAULT_LIMIT, _MAX_LIMIT = 20, 100
CREATED_AT = 1_735_689_600
"""2025-01-01T00:00Z: when every made-up project and key was created."""

_PROJECT_NAMES = (
    "Customer support",
    "Search",
    "Internal tools",
    "Data pipeline",
    "Mobile app",
    "Research",
)
_KEY_NAMES = ("prod-server", "ci-bot", "staging", "notebooks", "batch-jobs")


def redacted_value(key_id: str) -> str:
    """A redacted value for ``key_id`` as the API shows one: ``sk-abc...def``."""
    digest = hashlib.sha256(key_id.encode()).hexdigest()
    return f"sk-{digest[:3]}...{digest[-3:]}"


def directory_for(
    records: Iterable[Mapping[str, Any]], archived: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Projects and keys with made-up names for every id ``records`` use.

    Args:
        records: Usage records; each key belongs to the project it was used in.
        archived: Project ids to list as archived.

    Returns:
        The projects, ordered by id, each with its keys.
    """
    keys: dict[str, set[str]] = {}
    for record in records:
        project = record.get("project_id")
        if project:
            keys.setdefault(project, set())
            if record.get("api_key_id"):
                keys[project].add(record["api_key_id"])
    projects = []
    for index, (project, key_ids) in enumerate(sorted(keys.items())):
        name = _PROJECT_NAMES[index % len(_PROJECT_NAMES)]
        if index >= len(_PROJECT_NAMES):
            name += f" {index // len(_PROJECT_NAMES) + 1}"
        projects.append(
            {
                "id": project,
                "name": name,
                "archived": project in archived,
                "api_keys": [
                    {
                        "id": key,
                        "name": _KEY_NAMES[number % len(_KEY_NAMES)],
                        "redacted_value": redacted_value(key),
                    }
                    for number, key in enumerate(sorted(key_ids))
                ],
            }
        )
    return projects


def _one(params: Mapping[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise bad_request(f"'{name}' must be given once.", name)
    return values[0]


def _page(
    items: Sequence[Mapping[str, Any]],
    params: Mapping[str, list[str]],
    page_cap: int | None,
) -> str:
    raw_limit = _one(params, "limit")
    limit = _DEFAULT_LIMIT
    if raw_limit is not None:
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= _MAX_LIMIT:
            raise bad_request(
                f"Invalid 'limit': {raw_limit!r}. Expected an integer from 1 to "
                f"{_MAX_LIMIT}.",
                "limit",
            )
        limit = int(raw_limit)
    if page_cap is not None:
        limit = min(limit, page_cap)
    after = _one(params, "after")
    start = 0
    if after is not None:
        ids = [item["id"] for item in items]
        if after not in ids:
            raise bad_request(f"Invalid 'after': no object with id {after!r}.", "after")
        start = ids.index(after) + 1
    data = list(items[start : start + limit])
    return json.dumps(
        {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": start + limit < len(items),
        }
    )


def _project_object(project: Mapping[str, Any]) -> dict[str, Any]:
    archived = bool(project.get("archived"))
    return {
        "object": "organization.project",
        "id": project["id"],
        "name": project["name"],
        "created_at": CREATED_AT,
        "archived_at": CREATED_AT + 86400 if archived else None,
        "status": "archived" if archived else "active",
    }


def _key_object(key: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "object": "organization.project.api_key",
        "id": key["id"],
        "name": key["name"],
        "redacted_value": key["redacted_value"],
        "created_at": CREATED_AT,
        "last_used_at": None,
        "owner_project_access": key.get("owner_project_access", "active"),
        "owner": {
            "type": "service_account",
            "service_account": {
                "id": "svc_acct_" + key["id"].removeprefix("key_"),
                "name": key["name"],
                "role": "member",
                "created_at": CREATED_AT,
            },
        },
    }


def answer_listing(
    path: str,
    params: Mapping[str, list[str]],
    projects: Sequence[Mapping[str, Any]],
    page_cap: int | None,
) -> str | None:
    """The page for a request of a list endpoint; None for any other path.

    Raises:
        ApiError: a bad parameter (400) or an unknown project (404).
    """
    if path == PROJECTS_PATH:
        include = _one(params, "include_archived") or "false"
        if include not in ("true", "false"):
            raise bad_request(
                "Invalid 'include_archived': expected a boolean.", "include_archived"
            )
        listed = [
            _project_object(p)
            for p in projects
            if include == "true" or not p.get("archived")
        ]
        return _page(listed, params, page_cap)
    match = _KEYS_PATH.match(path)
    if match is None:
        return None
    project = next((p for p in projects if p["id"] == match[1]), None)
    if project is None:
        raise ApiError(404, f"No such project: {match[1]}", code="not_found")
    access = _one(params, "owner_project_access")
    if access not in (None, "active", "inactive", "any"):
        raise bad_request(
            "Invalid 'owner_project_access': expected active, inactive or any.",
            "owner_project_access",
        )
    # Without the filter the API applies its own visibility rules, which may
    # leave out keys of owners without access; here that is all of them.
    wanted = {"any": ("active", "inactive"), None: ("active",)}.get(access, (access,))
    keys = [
        _key_object(k)
        for k in project.get("api_keys", ())
        if k.get("owner_project_access", "active") in wanted
    ]
    return _page(keys, params, page_cap)
