"""Make a few OpenAI calls through a tracked client, to watch them on the Live tab.

    OPENAI_API_KEY=sk-... python examples/tracked_calls.py [label]

The client reads OPENAI_API_KEY and OPENAI_BASE_URL as usual; the calls are
recorded where monitor-tui looks (MONITOR_TUI_DATA_DIR, or its default data dir).
"""

from __future__ import annotations

import sys

import openai

from monitor_tui import track

MODEL = "gpt-4o-mini"
EMBEDDING_MODEL = "text-embedding-3-small"


def main(label: str) -> None:
    client = track(openai.OpenAI(), label=label)

    answer = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Name a colour, in one word."}],
    )
    print("chat:", answer.choices[0].message.content)

    # Streamed: the tracker asks for the usage and keeps that chunk to itself.
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Count from 1 to 5."}],
        stream=True,
    )
    pieces = [chunk.choices[0].delta.content or "" for chunk in stream]
    print("streamed chat:", "".join(pieces))

    response = client.responses.create(model=MODEL, input="Name a fruit, in one word.")
    print("responses:", response.output_text)

    vectors = client.embeddings.create(model=EMBEDDING_MODEL, input=["monitor", "tui"])
    print("embeddings:", len(vectors.data), "vectors")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "example")
