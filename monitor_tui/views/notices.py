"""Notifications more than one part of the app raises in the same words."""

from __future__ import annotations

from collections.abc import Iterable

from textual.dom import DOMNode

from monitor_tui.report_text import printable


def tell_repairs(node: DOMNode, repairs: Iterable[str]) -> None:
    """Say which damaged store files were set aside, one notification each."""
    for repair in repairs:
        node.notify(
            printable(repair),
            title="A damaged store file was set aside",
            severity="warning",
            timeout=30,
            markup=False,
        )
