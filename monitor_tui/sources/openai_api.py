"""Reads the organization Usage and Costs APIs through the official openai SDK.

The SDK's typed admin methods are called with ``with_raw_response`` so that cost
amounts are read from the response's own digits rather than through a float.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import orjson

from monitor_tui.names import Directory, KeyName, ProjectName
from monitor_tui.sources import Page, SyncError

log = logging.getLogger(__name__)

PAGE_LIMITS = {"1m": 1440, "1h": 168, "1d": 31}
"""The most buckets the API returns per page, per width."""
COSTS_PAGE_LIMIT = 180
LIST_PAGE_LIMIT = 100
"""The most projects or API keys the list endpoints return per page."""

ADMIN_KEY_HELP = (
    "an organization admin key with the api.usage.read scope is needed; an "
    "organization owner creates one at "
    "https://platform.openai.com/settings/organization/admin-keys"
)

NAMES_KEY_HELP = (
    "project and key names need an admin key that may read projects and their "
    "API keys; ids are shown until then"
)


class OpenAISource:
    """Pages of the organization Usage and Costs APIs, via ``openai.OpenAI``."""

    origin = "openai"

    def __init__(
        self,
        admin_key: str,
        base_url: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 2,
    ) -> None:
        # Imported here: the SDK takes most of a cold start, and commands that
        # only read the store never need it.
        import openai

        self._openai = openai
        self._admin_key = admin_key
        self._client = openai.OpenAI(
            admin_api_key=admin_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
        )
        self.requests = 0
        """How many pages were requested, for the sync's report."""

    def close(self) -> None:
        """Close the SDK's HTTP connections."""
        self._client.close()

    def _scrub(self, text: str) -> str:
        return text.replace(self._admin_key, "[admin key]") if self._admin_key else text

    def _pages(
        self,
        call: Callable[..., Any],
        params: dict[str, Any],
        parse: Callable[[bytes], Page],
    ) -> Iterator[Page]:
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page_params = {**params, "page": cursor} if cursor else params
            raw = self._request(call, page_params)
            page = parse(raw)
            if not isinstance(page, dict):
                raise SyncError("the API answered with something that is not a page")
            yield page
            cursor = page.get("next_page")
            if not page.get("has_more"):
                return
            if not isinstance(cursor, str) or not cursor:
                raise SyncError("the API said more pages follow but gave no cursor")
            if cursor in seen:
                raise SyncError(
                    "the API returned the same page cursor twice; stopped to avoid "
                    "reading the same buckets forever"
                )
            seen.add(cursor)

    def _request(self, call: Callable[..., Any], params: dict[str, Any]) -> bytes:
        self.requests += 1
        with self._api_errors():
            return call(**params).http_response.content

    @contextmanager
    def _api_errors(self) -> Iterator[None]:
        """Turn the SDK's errors into a ``SyncError`` whose message holds no key."""
        openai = self._openai
        try:
            yield
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise SyncError(
                f"the API refused the key ({exc.status_code}): {ADMIN_KEY_HELP}"
            ) from None
        except openai.APIStatusError as exc:
            message = self._scrub(_error_message(exc))
            raise SyncError(f"the API answered {exc.status_code}: {message}") from None
        except openai.APITimeoutError:
            raise SyncError(f"the API at {self._client.base_url} timed out") from None
        except openai.APIConnectionError:
            raise SyncError(
                f"cannot reach the API at {self._client.base_url}"
            ) from None

    def usage_pages(
        self,
        endpoint: str,
        width: str,
        start: int,
        end: int,
        group_by: Sequence[str],
    ) -> Iterator[Page]:
        """Yield every page of one usage endpoint for [start, end)."""
        call = getattr(
            self._client.admin.organization.usage.with_raw_response, endpoint
        )
        params = {
            "start_time": start,
            "end_time": end,
            "bucket_width": width,
            "group_by": list(group_by),
            "limit": PAGE_LIMITS[width],
        }
        yield from self._pages(call, params, orjson.loads)

    def cost_pages(
        self, start: int, end: int, group_by: Sequence[str]
    ) -> Iterator[Page]:
        """Yield every page of daily costs for [start, end)."""
        call = self._client.admin.organization.usage.with_raw_response.costs
        params = {
            "start_time": start,
            "end_time": end,
            "bucket_width": "1d",
            "group_by": list(group_by),
            "limit": COSTS_PAGE_LIMIT,
        }
        # Decimal keeps every digit of an amount sent as a JSON number.
        yield from self._pages(
            call, params, lambda raw: json.loads(raw, parse_float=Decimal)
        )

    def read_names(self) -> Directory:
        """Every project, archived ones too, and every key of each project.

        The SDK's list pages follow ``after`` cursors by themselves. Keys are
        asked for whatever their owner's access (``any``): otherwise the API
        leaves out keys of owners who left the project, whose past usage still
        names them.
        """
        openai = self._openai
        admin = self._client.admin.organization
        projects: list[ProjectName] = []
        keys: list[KeyName] = []
        with self._api_errors():
            try:
                for project in admin.projects.list(
                    limit=LIST_PAGE_LIMIT, include_archived=True
                ):
                    archived = project.status == "archived" or bool(project.archived_at)
                    projects.append(
                        ProjectName(project.id, project.name or "", archived)
                    )
                for project in projects:
                    keys.extend(self._project_keys(project))
            except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
                raise SyncError(
                    f"the API refused to list projects and API keys "
                    f"({exc.status_code}): {NAMES_KEY_HELP}"
                ) from None
        return Directory(tuple(projects), tuple(keys))

    def _project_keys(self, project: ProjectName) -> list[KeyName]:
        try:
            pages = self._client.admin.organization.projects.api_keys.list(
                project_id=project.id,
                limit=LIST_PAGE_LIMIT,
                owner_project_access="any",
            )
            return [
                KeyName(key.id, key.name, key.redacted_value, project.id)
                for key in pages
            ]
        except self._openai.BadRequestError:
            if not project.archived:
                raise
            # Some project endpoints answer 400 for an archived project; its
            # keys then keep showing as ids rather than failing every name.
            log.info("no API keys listed for archived project %s", project.id)
            return []


def _error_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return str(getattr(exc, "message", "")) or "no message"
