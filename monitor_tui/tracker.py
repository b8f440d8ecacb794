"""Record what each call made through an OpenAI client costs: ``track(client)``.

The client's class is swapped for a subclass whose ``request`` (the one method
every SDK call goes through) notes the usage of each answer and appends it to this
program's spool file; monitor-tui ingests it from there. Nothing is imported here
that a program calling the API would not load anyway.
"""

from __future__ import annotations

import copy
import logging
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, TypeVar

from monitor_tui.spool import SpoolWriter, writer_for

log = logging.getLogger(__name__)

Client = TypeVar("Client")

RECORD_VERSION = 1
"""The version of the spool records written here; readers accept any later one."""

TRACKED_PATHS = {
    "/chat/completions": "chat.completions",
    "/responses": "responses",
    "/embeddings": "embeddings",
}
"""The POST paths whose answers carry the usage of a call, and their SDK method."""

FINAL_RESPONSE_EVENTS = ("response.completed", "response.incomplete", "response.failed")
"""Stream events of the Responses API that carry the whole response and its usage
(an incomplete or failed response is billed for what it used)."""

_clock = time.time
"""When a call is made; tests replace it."""


def track(
    client: Client,
    *,
    label: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> Client:
    """Record the usage of every call made through ``client``, for monitor-tui.

    Chat completions, responses and embeddings are recorded, streamed or not:
    model, tokens (input, cached input, output, reasoning), service tier, latency
    and ``label``. A chat completion stream is asked for its usage when the caller
    did not ask, and the extra chunk that carries it is not passed on. Recording
    never fails a call: if a record cannot be written, one warning is logged.

    Copies made with ``client.with_options(...)`` are tracked with the same label;
    ``track(client.with_options(), label="other")`` gives a copy its own.

    Args:
        client: An ``openai.OpenAI`` or ``openai.AsyncOpenAI`` (or a subclass,
            such as ``AzureOpenAI``); it is changed in place and returned.
        label: What these calls are for (a feature, an environment), shown with
            each call and in the breakdown by label.
        data_dir: monitor-tui's data directory; by default
            ``$MONITOR_TUI_DATA_DIR`` or the platform's user data directory,
            where monitor-tui looks.

    Returns:
        The same client.

    Raises:
        TypeError: ``client`` is not an OpenAI client, or ``label`` not text.
    """
    import openai

    if label is not None and not isinstance(label, str):
        raise TypeError(f"label must be text, not {type(label).__name__}")
    if isinstance(client, openai.AsyncOpenAI):
        is_async = True
    elif isinstance(client, openai.OpenAI):
        is_async = False
    else:
        raise TypeError(
            "track() wraps an openai.OpenAI or openai.AsyncOpenAI client, not "
            f"{type(client).__name__}"
        )
    folder = Path(data_dir) if data_dir is not None else _default_data_dir()
    base = getattr(type(client), "_monitor_tui_base", type(client))
    client.__class__ = _tracked_class(base, label, writer_for(folder), is_async)
    return client


def _default_data_dir() -> Path:
    """monitor-tui's data directory, found as the app finds it without a flag."""
    from_env = os.environ.get("MONITOR_TUI_DATA_DIR", "").strip()
    if from_env:
        return Path(from_env).expanduser()
    from monitor_tui.config import default_data_dir

    return default_data_dir()


_CLASSES: dict[tuple[type, str | None, int, bool], type] = {}
_CLASSES_LOCK = threading.Lock()


def _tracked_class(
    base: type, label: str | None, writer: SpoolWriter, is_async: bool
) -> type:
    """The subclass of ``base`` that records its calls; one per label and spool,
    so that tracking clients in a loop does not make a class per client."""
    key = (base, label, id(writer), is_async)
    with _CLASSES_LOCK:
        found = _CLASSES.get(key)
        if found is not None:
            return found
        recorder = _Recorder(label, writer)

        if is_async:

            async def request(self: Any, cast_to: Any, options: Any, **kw: Any) -> Any:
                call = recorder.begin(options, kw.get("stream", False))
                if call is None:
                    return await base.request(self, cast_to, options, **kw)
                result = await base.request(self, cast_to, call.options, **kw)
                return call.observe(result)

        else:

            def request(self: Any, cast_to: Any, options: Any, **kw: Any) -> Any:
                call = recorder.begin(options, kw.get("stream", False))
                if call is None:
                    return base.request(self, cast_to, options, **kw)
                result = base.request(self, cast_to, call.options, **kw)
                return call.observe(result)

        tracked = type(
            f"Tracked{base.__name__}",
            (base,),
            {
                "__module__": __name__,
                "__doc__": base.__doc__,
                "_monitor_tui_base": base,
                "request": request,
            },
        )
        _CLASSES[key] = tracked
        return tracked


class _Recorder:
    """Starts the observation of each call a tracked client makes."""

    def __init__(self, label: str | None, writer: SpoolWriter) -> None:
        self.label = label
        self.writer = writer
        self.warned = False

    def begin(self, options: Any, stream: bool) -> _Call | None:
        """The observation of a call about to be made, or None for a call that
        is not recorded (another endpoint) or when anything is unexpected."""
        try:
            api = TRACKED_PATHS.get(options.url)
            if api is None or str(options.method).lower() != "post":
                return None
            call = _Call(self, api, options, bool(stream))
            if api == "chat.completions" and stream:
                call.ask_for_usage()
            return call
        except Exception as exc:  # never fail the user's call
            self.warn_once(exc)
            return None

    def warn_once(self, exc: Exception) -> None:
        if self.warned:
            log.debug("a call's usage was not recorded: %r", exc)
            return
        self.warned = True
        log.warning(
            "monitor-tui could not read the usage of a call (%r); the call itself "
            "is not affected",
            exc,
        )


class _Call:
    """One call being observed, from its request to the usage in its answer."""

    def __init__(self, recorder: _Recorder, api: str, options: Any, stream: bool):
        self.recorder = recorder
        self.api = api
        self.options = options
        self.stream = stream
        self.hide_usage_chunk = False
        """The usage was asked for by the tracker, not the caller."""
        self.made_at = _clock()
        self.started = time.perf_counter()
        self.recorded = False
        self.observed = False
        self.model: str | None = None
        self.service_tier: str | None = None

    def ask_for_usage(self) -> None:
        """Ask a chat completion stream to end with a usage chunk, on a copy of
        the request options; the caller's own choice is kept if it asked."""
        body = self.options.extra_json
        field = "extra_json"
        if not isinstance(body, dict) or "stream_options" not in body:
            body, field = self.options.json_data, "json_data"
        if not isinstance(body, dict):
            return
        asked = body.get("stream_options")
        if isinstance(asked, dict) and asked.get("include_usage"):
            return
        stream_options = dict(asked) if isinstance(asked, dict) else {}
        stream_options["include_usage"] = True
        # The SDK copies the options itself before each attempt; this copy keeps
        # the caller's dicts as they were.
        self.options = copy.copy(self.options)
        setattr(self.options, field, {**body, "stream_options": stream_options})
        self.hide_usage_chunk = True

    # What the SDK returned

    def observe(self, result: Any) -> Any:
        """Note the usage of ``result`` (or arrange to, as a stream is read) and
        return it, the same object."""
        try:
            self._observe(result)
        except Exception as exc:  # never fail the user's call
            self.recorder.warn_once(exc)
        return result

    def _observe(self, result: Any) -> None:
        import openai
        from openai._legacy_response import LegacyAPIResponse
        from openai._response import BaseAPIResponse

        if self.observed:
            return
        if isinstance(result, LegacyAPIResponse | BaseAPIResponse):
            # with_raw_response / with_streaming_response: seen once parsed.
            # TODO: record a raw answer the caller reads without parse() too.
            self._observe_when_parsed(result)
            return
        self.observed = True
        if isinstance(result, openai.Stream):
            result._iterator = self._watch(result._iterator)
            self._record_on_close(result)
        elif isinstance(result, openai.AsyncStream):
            result._iterator = self._awatch(result._iterator)
            self._record_on_aclose(result)
        else:
            self._see_final(result)

    def _observe_when_parsed(self, response: Any) -> None:
        parse = response.parse

        def parse_and_observe(*args: Any, **kwargs: Any) -> Any:
            parsed = parse(*args, **kwargs)
            if args or kwargs.get("to") is not None:
                return parsed
            if hasattr(parsed, "__await__"):
                return self._observe_awaited(parsed)
            return self.observe(parsed)

        response.parse = parse_and_observe

    async def _observe_awaited(self, parsed: Any) -> Any:
        return self.observe(await parsed)

    # A stream's usage comes last, so one the caller stops reading early (or
    # that fails, or whose server sends no usage) is recorded without it when
    # it ends: when the caller closes it, or when it is garbage collected.

    def _watch(self, chunks: Iterator[Any]) -> Iterator[Any]:
        try:
            for chunk in chunks:
                if self._see_chunk(chunk):
                    yield chunk
        finally:
            self._record_unfinished()
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    async def _awatch(self, chunks: AsyncIterator[Any]) -> AsyncIterator[Any]:
        try:
            async for chunk in chunks:
                if self._see_chunk(chunk):
                    yield chunk
        finally:
            self._record_unfinished()
            close = getattr(chunks, "aclose", None)
            if close is not None:
                await close()

    def _record_on_close(self, stream: Any) -> None:
        """Record a stream closed before its usage came (``with`` does that)."""
        close = stream.close

        def close_and_record() -> None:
            try:
                close()
            finally:
                self._record_unfinished()

        stream.close = close_and_record

    def _record_on_aclose(self, stream: Any) -> None:
        close = stream.close

        async def close_and_record() -> None:
            try:
                await close()
            finally:
                self._record_unfinished()

        stream.close = close_and_record

    def _record_unfinished(self) -> None:
        """Record a call whose usage never came: its model, latency and label,
        its tokens unknown (never guessed), so it is counted as unpriced."""
        if self.recorded:
            return
        try:
            self._record(None)
        except Exception as exc:  # never fail the user's call
            self.recorder.warn_once(exc)

    def _see_chunk(self, chunk: Any) -> bool:
        """Note what a chunk or event says; False for the usage chunk the caller
        did not ask for."""
        try:
            if self.api == "responses":
                if getattr(chunk, "type", None) in FINAL_RESPONSE_EVENTS:
                    self._see_final(chunk.response)
                else:  # the first events name the model, for a stream cut short
                    answer = getattr(chunk, "response", None)
                    self.model = getattr(answer, "model", None) or self.model
                return True
            self.model = getattr(chunk, "model", None) or self.model
            self.service_tier = getattr(chunk, "service_tier", None) or (
                self.service_tier
            )
            usage = getattr(chunk, "usage", None)
            if usage is not None:
                self._record(usage)
                return not (self.hide_usage_chunk and not chunk.choices)
            if self.hide_usage_chunk:
                # The API sends "usage": null in every chunk once asked for
                # usage; the caller's chunks must not show it as set either.
                chunk.model_fields_set.discard("usage")
        except Exception as exc:  # never fail the user's call
            self.recorder.warn_once(exc)
        return True

    def _see_final(self, answer: Any) -> None:
        self.model = getattr(answer, "model", None) or self.model
        self.service_tier = getattr(answer, "service_tier", None)
        usage = getattr(answer, "usage", None)
        if usage is not None:
            self._record(usage)

    # The record

    def _record(self, usage: Any) -> None:
        """Append the call's record; ``usage`` None when it never came."""
        if self.recorded:
            return
        self.recorded = True
        latency_ms = (time.perf_counter() - self.started) * 1000
        counts = {} if usage is None else _usage_counts(self.api, usage)
        record = {
            "v": RECORD_VERSION,
            "call_id": str(uuid.uuid4()),
            "time": round(self.made_at, 3),
            "api": self.api,
            "model": self.model if isinstance(self.model, str) else None,
            **counts,
            "usage_known": usage is not None,
            "service_tier": _text_or_none(self.service_tier),
            "latency_ms": round(latency_ms, 1),
            "label": self.recorder.label,
            "stream": self.stream,
        }
        self.recorder.writer.append(record)


def _count(obj: Any, *path: str) -> int:
    """A count inside a usage object, 0 when absent."""
    for name in path:
        if obj is None:
            return 0
        obj = getattr(obj, name, None)
    return obj if type(obj) is int and obj >= 0 else 0


def _text_or_none(value: Any) -> str | None:
    # Service tiers are enums in some SDK versions, plain text in others.
    value = getattr(value, "value", value)
    return value if isinstance(value, str) else None


def _usage_counts(api: str, usage: Any) -> dict[str, int]:
    """The token counts of a usage object, in the spool record's names."""
    if api == "responses":
        return {
            "input_tokens": _count(usage, "input_tokens"),
            "cached_input_tokens": _count(
                usage, "input_tokens_details", "cached_tokens"
            ),
            "output_tokens": _count(usage, "output_tokens"),
            "reasoning_tokens": _count(
                usage, "output_tokens_details", "reasoning_tokens"
            ),
        }
    if api == "embeddings":
        return {"input_tokens": _count(usage, "prompt_tokens")}
    return {
        "input_tokens": _count(usage, "prompt_tokens"),
        "cached_input_tokens": _count(usage, "prompt_tokens_details", "cached_tokens"),
        "output_tokens": _count(usage, "completion_tokens"),
        "reasoning_tokens": _count(
            usage, "completion_tokens_details", "reasoning_tokens"
        ),
        "input_audio_tokens": _count(usage, "prompt_tokens_details", "audio_tokens"),
        "output_audio_tokens": _count(
            usage, "completion_tokens_details", "audio_tokens"
        ),
    }
