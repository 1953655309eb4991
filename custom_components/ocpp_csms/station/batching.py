"""Splitting a request's items to what a station takes per message (ItemsPerMessage / BytesPerMessage).

B05.FR.11, B06.FR.05, N04.FR.09, N06.FR.04: the central system never puts more items or bytes in one request than
the station's DeviceDataCtrlr / MonitoringCtrlr limits allow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from ..protocol.model import OcppModel

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
