"""Where usage comes from: the OpenAI organization API, or the built-in demo.

A source answers with pages shaped exactly as the Usage and Costs APIs shape them,
so one parser turns every source's pages into usage rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

Page = dict[str, Any]
"""One page as the API returns it: ``data`` (buckets), ``has_more``, ``next_page``."""


class SyncError(Exception):
    """A sync could not finish; the message is for the user and holds no secret."""


class Source(Protocol):
    """Anything that answers usage and cost queries with API-shaped pages."""

    origin: str
    """The ``origin`` of the rows this source produces."""

    def usage_pages(
        self,
        endpoint: str,
        width: str,
        start: int,
        end: int,
        group_by: Sequence[str],
    ) -> Iterator[Page]:
        """Yield every page of one usage endpoint for [start, end)."""
        ...

    def cost_pages(
        self, start: int, end: int, group_by: Sequence[str]
    ) -> Iterator[Page]:
        """Yield every page of daily costs for [start, end)."""
        ...

    def close(self) -> None:
        """Release what the source holds, such as connections."""
        ...
