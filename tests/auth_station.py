"""A station peer with the station side of authorization (C11, D01, D02, H01, H02), and its device model.

`AuthStation` is the `ocpp` package's ChargePoint (`StationPeer`) that also keeps a local authorization list and
answers ClearCache, ReserveNow and CancelReservation as the test says; `auth_inventory()` is the test inventory
with the settings authorization depends on.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
import time
from typing import Any

from homeassistant.core import HomeAssistant
from ocpp.routing import on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .station.inventory import inventory
from .station_peer import StationPeer


def auth_inventory(
    *,
    items_per_message: int = 50,
    max_entries: int | None = None,
    master_pass_group: str = "",
    local_list: bool = True,
    reservations: bool = True,
    reservations_enabled: bool = True,
) -> list[dict[str, Any]]:
    """The test inventory, with the local list's limits, the master pass group and reservations as given."""
    items = []
    for item in inventory():
        component, variable = item["component"]["name"], item["variable"]["name"]
        if component == "ReservationCtrlr" and not reservations:
            continue
        if (component, variable) == ("LocalAuthListCtrlr", "ItemsPerMessage"):
            item["variableAttribute"][0]["value"] = str(items_per_message)
        elif (component, variable) == ("LocalAuthListCtrlr", "Entries") and max_entries is not None:
            item["variableCharacteristics"]["maxLimit"] = max_entries
        elif (component, variable) == ("LocalAuthListCtrlr", "Enabled"):
            item["variableAttribute"][0]["value"] = "true" if local_list else "false"
        elif (component, variable) == ("ReservationCtrlr", "Enabled"):
            item["variableAttribute"][0]["value"] = "true" if reservations_enabled else "false"
        elif (component, variable) == ("AuthCtrlr", "MasterPassGroupId"):
            item["variableAttribute"][0]["value"] = master_pass_group
        items.append(item)
    return items


class AuthStation(StationPeer):
    """A StationPeer that holds a local list and answers ClearCache and reservations as told."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """An empty list (version 0); every request Accepted unless the test queues other answers."""
        super().__init__(*args, **kwargs)
        self.local_list_version = 0
        self.local_list: dict[str, dict[str, Any]] = {}
        #: Answers for the next SendLocalList requests (Accepted once they are used up).
        self.send_local_list_answers: deque[str] = deque()
        self.clear_cache_status = "Accepted"
        self.reserve_now_status = "Accepted"
        #: A CALLERROR to answer ReserveNow with instead (an OCPPError class of the `ocpp` package).
        self.reserve_now_error: type[Exception] | None = None
        self.cancel_reservation_status = "Accepted"
        #: Report the reservation Removed before answering CancelReservation (a station that was quicker).
        self.removed_before_cancel = False

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, **kwargs: Any) -> Any:
        """The version of the list (D02)."""
        self.received.put_nowait(("GetLocalListVersion", kwargs))
        return call_result.GetLocalListVersion(version_number=self.local_list_version)

    @on(Action.send_local_list)
    def on_send_local_list(self, version_number: int, update_type: str, **kwargs: Any) -> Any:
        """Apply the update (D01) unless the test queued another answer."""
        entries = kwargs.get("local_authorization_list") or []
        self.received.put_nowait(
            ("SendLocalList", {"version_number": version_number, "update_type": update_type, "entries": entries})
        )
        status = self.send_local_list_answers.popleft() if self.send_local_list_answers else "Accepted"
        if status == "Accepted":
            if update_type == "Full":
                self.local_list = {}
            for entry in entries:
                if entry.get("id_token_info") is None:
                    self.local_list.pop(entry["id_token"]["id_token"], None)
                else:
                    self.local_list[entry["id_token"]["id_token"]] = entry["id_token_info"]
            self.local_list_version = version_number
        return call_result.SendLocalList(status=status)

    @on(Action.clear_cache)
    def on_clear_cache(self, **kwargs: Any) -> Any:
        """ClearCache (C11)."""
        self.received.put_nowait(("ClearCache", kwargs))
        return call_result.ClearCache(status=self.clear_cache_status)

    @on(Action.reserve_now)
    def on_reserve_now(self, **kwargs: Any) -> Any:
        """ReserveNow (H01)."""
        self.received.put_nowait(("ReserveNow", kwargs))
        if self.reserve_now_error is not None:
            raise self.reserve_now_error
        return call_result.ReserveNow(status=self.reserve_now_status)

    @on(Action.cancel_reservation)
    async def on_cancel_reservation(self, reservation_id: int, **kwargs: Any) -> Any:
        """CancelReservation (H02)."""
        self.received.put_nowait(("CancelReservation", {"reservation_id": reservation_id}))
        if self.removed_before_cancel:  # sent first; its answer is read once this one is answered
            update = call.ReservationStatusUpdate(reservation_id=reservation_id, reservation_update_status="Removed")
            task = asyncio.ensure_future(self.call(update))
            self.background.add(task)
            task.add_done_callback(self.background.discard)
            await asyncio.sleep(0.05)
        return call_result.CancelReservation(status=self.cancel_reservation_status)

    async def all_received(self, action: str) -> list[dict[str, Any]]:
        """Every request of `action` served so far (the others stay queued)."""
        await asyncio.sleep(0)
        found, kept = [], []
        while not self.received.empty():
            name, payload = self.received.get_nowait()
            (found if name == action else kept).append((name, payload))
        for item in kept:
            self.received.put_nowait(item)
        return [payload for _, payload in found]


async def wait_until(condition: Callable[[], object], seconds: float = 20.0) -> None:
    """Let the loop run until `condition()` holds, within `seconds` (of CPU time when the clock is frozen).

    Under a frozen clock (the `freezer` fixture) the loop's timers stand still: then it only yields, else it
    sleeps a little between looks, leaving the CPU to the other test worker.
    """
    frozen = getattr(time.monotonic, "__module__", "").startswith("freezegun")
    clock = time.process_time if frozen else time.monotonic
    deadline = clock() + seconds
    while not condition():
        if clock() > deadline:
            raise AssertionError("condition never held")
        await asyncio.sleep(0 if frozen else 0.005)


async def ready(
    hass: HomeAssistant, entry: MockConfigEntry, station: StationPeer, items: list[dict[str, Any]] | None = None
) -> None:
    """Boot with the inventory (the auth inventory by default; read unless known) and report EVSEs 1 and 2."""
    station.load_inventory(items if items is not None else auth_inventory())
    known = entry.runtime_data.runtimes[station.id].has_inventory  # read before: not again (same firmware)
    await station.boot()
    if not known:
        await station.next_received("GetBaseReport")
        await wait_until(lambda: entry.runtime_data.runtimes[station.id].has_inventory)
    for evse_id in (1, 2):
        await station.call(
            call.StatusNotification(
                timestamp="2026-11-21T10:00:00Z", connector_status="Available", evse_id=evse_id, connector_id=1
            )
        )
    await hass.async_block_till_done()
