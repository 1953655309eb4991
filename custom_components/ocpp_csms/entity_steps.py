"""The entity platforms' additions spread over event-loop turns: at most ENTITY_STEP entities per turn.

Home Assistant adds a platform's entities without yielding, and the platforms add a fleet's entities station by
station in one go (setup, an entry reload, the entity detail changed): a thousand stations' ten thousand
entities would stall every station's messages for seconds. Additions within the turn's budget happen at once (a
station's few entities, as tests and single stations see them); the rest wait for the next turns, in order. A
platform setting up makes the entities (and devices) of STATION_STEP stations per turn the same way.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback

#: Entities added (or removed) per event-loop turn (a fraction of a millisecond each).
ENTITY_STEP: Final = 40
#: Stations whose entities (and devices) are made per event-loop turn when a platform sets up.
STATION_STEP: Final = 25

type AddEntities = Callable[[list[Any]], None]


class EntitySteps:
    """A budget of ENTITY_STEP entities per event-loop turn, shared by the config entry's platforms."""

    def __init__(self) -> None:
        """Nothing added or waiting yet."""
        self._used = 0
        self._waiting: deque[tuple[AddEntities, list[Any]]] = deque()
        #: Stations whose entities are still to be made, with what makes them.
        self._stations: deque[tuple[Callable[[str], None], deque[str]]] = deque()
        self._task: asyncio.Task[None] | None = None
        #: Called once the waiting entities are in (the entity limit check).
        self.done: Callable[[], None] = lambda: None

    @property
    def waiting(self) -> int:
        """Entities waiting for their turn."""
        return sum(len(entities) for _add, entities in self._waiting)

    @callback
    def add(self, hass: HomeAssistant, add: AddEntities, entities: Sequence[Any]) -> None:
        """Add the entities with `add` now if the turn's budget allows, else in the next turns (in order)."""
        if not self._waiting and self._used + len(entities) <= ENTITY_STEP:
            if not self._used:
                hass.loop.call_soon(self._new_turn)
            self._used += len(entities)
            add(list(entities))
            return
        self._waiting.append((add, list(entities)))
        self._start(hass)

    @callback
    def each_station(self, hass: HomeAssistant, make: Callable[[str], None], station_ids: list[str]) -> None:
        """Call `make` for each station, STATION_STEP per event-loop turn (the first ones at once)."""
        for station_id in station_ids[:STATION_STEP]:
            make(station_id)
        if rest := station_ids[STATION_STEP:]:
            self._stations.append((make, deque(rest)))
            self._start(hass)

    @callback
    def _start(self, hass: HomeAssistant) -> None:
        if self._task is None:
            self._task = hass.async_create_task(self._add_waiting(), "ocpp_csms entities in steps", eager_start=False)

    @callback
    def _new_turn(self) -> None:
        self._used = 0

    async def _add_waiting(self) -> None:
        """ENTITY_STEP of the waiting entities per event-loop turn."""
        try:
            while self._waiting or self._stations:
                await asyncio.sleep(0)
                if self._stations:  # the entities of the stations made now wait for the next turns
                    if not self._used:
                        asyncio.get_running_loop().call_soon(self._new_turn)
                    self._used = ENTITY_STEP
                for _ in range(STATION_STEP):
                    if not self._stations:
                        break
                    make, station_ids = self._stations[0]
                    make(station_ids.popleft())
                    if not station_ids:
                        self._stations.popleft()
                budget = ENTITY_STEP
                while self._waiting and budget > 0:
                    add, entities = self._waiting[0]
                    step, rest = entities[:budget], entities[budget:]
                    if rest:
                        self._waiting[0] = (add, rest)
                    else:
                        self._waiting.popleft()
                    budget -= len(step)
                    add(step)
        finally:
            self._task = None
        self.done()

    @callback
    def clear(self) -> None:
        """The platforms unload: the waiting entities are not added, nor the waiting stations' made."""
        self._waiting.clear()
        self._stations.clear()
