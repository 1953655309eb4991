"""Requests split to a station's ItemsPerMessage / BytesPerMessage (B05.FR.08, B06.FR.05, D01.FR.11, N04)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from .model import OcppModel

#: Room left for the frame around the items when a BytesPerMessage limit applies.
FRAME_OVERHEAD: Final = 128


def batches[T](items: list[T], *, max_items: int, max_bytes: int, payload: Callable[[T], OcppModel]) -> list[list[T]]:
    """Split items into requests of at most `max_items` items and `max_bytes` bytes (`payload` of an item)."""
    result: list[list[T]] = []
    current: list[T] = []
    current_bytes = FRAME_OVERHEAD
    for item in items:
        item_bytes = len(payload(item).to_json()) + 1
        if current and (len(current) >= max_items or current_bytes + item_bytes > max_bytes):
            result.append(current)
            current, current_bytes = [], FRAME_OVERHEAD
        current.append(item)
        current_bytes += item_bytes
    if current:
        result.append(current)
    return result
