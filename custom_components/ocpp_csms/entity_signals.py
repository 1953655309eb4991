"""One dispatcher connection per signal, fanning out to the entities that follow it.

A station's ten entities follow the same station signal, and those of an EVSE the same EVSE signal: connected
each on its own, a thousand stations hold some twenty thousand dispatcher connections (each a job, its name and
a remover). Here each signal is connected once while any entity follows it, and an entity is a key in its
signals' sets (no callable, no remover per entity: it unfollows its signals when it is removed).
"""

from __future__ import annotations

import logging
from typing import Protocol

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util.signal_type import SignalType

_LOGGER = logging.getLogger(__name__)


class Follower(Protocol):
    """An entity updated by signals."""

    def async_update_if_changed(self) -> None:
        """Write the state if what the entity shows changed."""


class _Followers:
    """The entities following one signal, and the dispatcher connection that updates them."""

    __slots__ = ("disconnect", "entities")

    def __init__(self) -> None:
        self.entities: dict[Follower, None] = {}
        self.disconnect: CALLBACK_TYPE = lambda: None

    @callback
    def send(self) -> None:
        """Update every follower (an error in one does not keep the others from their update)."""
        for entity in list(self.entities):
            try:
                entity.async_update_if_changed()
            except Exception:
                _LOGGER.exception("Error updating %s after its signal", entity)


class EntitySignals:
    """The entities' signals of a config entry, each connected to the dispatcher once."""

    def __init__(self) -> None:
        """No signal followed yet."""
        self._signals: dict[SignalType[()], _Followers] = {}

    @callback
    def follow(self, hass: HomeAssistant, signal: SignalType[()], entity: Follower) -> None:
        """Update `entity` on each `signal` until it unfollows."""
        followers = self._signals.get(signal)
        if followers is None:
            followers = self._signals[signal] = _Followers()
            followers.disconnect = async_dispatcher_connect(hass, signal, followers.send)
        followers.entities[entity] = None

    @callback
    def unfollow(self, signal: SignalType[()], entity: Follower) -> None:
        """Stop updating `entity` on `signal`; the last follower gone, the signal is disconnected."""
        followers = self._signals.get(signal)
        if followers is None:
            return
        followers.entities.pop(entity, None)
        if not followers.entities:
            del self._signals[signal]
            followers.disconnect()

    def __len__(self) -> int:
        """How many signals are connected."""
        return len(self._signals)
