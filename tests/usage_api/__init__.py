"""A local stand-in for OpenAI's organization Usage and Costs API, for tests: the
real paths, parameters, buckets, pages and errors (as described in
shared/reference/openai-usage-api.md), answered from fine-grained usage records.
"""

from .directory import directory_for, redacted_value
from .queries import ENDPOINTS, ApiError, Endpoint
from .scenarios import busy_org, costs_from_usage, small_org
from .server import UsageApiServer

__all__ = [
    "ENDPOINTS",
    "ApiError",
    "Endpoint",
    "UsageApiServer",
    "busy_org",
    "costs_from_usage",
    "directory_for",
    "redacted_value",
    "small_org",
]
