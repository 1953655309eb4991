"""One dispatcher connection per signal, fanning out to the entities that follow it.

A station's ten entities follow the same station signal, and those of an EVSE the same EVSE signal: connected
each on its own, a thousand stations hold some twenty thousand dispatcher connections (each a job, its name and
a remover). Here each signal is connected once while any entity follows it.
"""

from __future__ import annotations

from collections.abc import Callable
import logging

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util.signal_type import SignalType

_LOGGER = logging.getLogger(__name__)


class _Followers:
    """The callbacks following one signal, and the dispatcher connection that calls them."""

    __slots__ = ("callbacks", "disconnect")

    def __init__(self) -> None:
        self.callbacks: dict[Callable[[], None], None] = {}
        self.disconnect: CALLBACK_TYPE = lambda: None

    @callback
    def send(self) -> None:
        """Call every follower (an error in one does not keep the others from their update)."""
        for follower in list(self.callbacks):
            try:
                follower()
            except Exception:
                _LOGGER.exception("Error updating an entity after its signal")


class EntitySignals:
    """The entities' signals of a config entry, each connected to the dispatcher once."""

    def __init__(self) -> None:
        """No signal followed yet."""
        self._signals: dict[SignalType[()], _Followers] = {}

    @callback
    def follow(self, hass: HomeAssistant, signal: SignalType[()], target: Callable[[], None]) -> CALLBACK_TYPE:
        """Call `target` on each `signal` until the returned callable is called."""
        followers = self._signals.get(signal)
        if followers is None:
            followers = self._signals[signal] = _Followers()
            followers.disconnect = async_dispatcher_connect(hass, signal, followers.send)
        followers.callbacks[target] = None

        @callback
        def unfollow() -> None:
            followers.callbacks.pop(target, None)
            if not followers.callbacks and self._signals.get(signal) is followers:
                del self._signals[signal]
                followers.disconnect()

        return unfollow

    def __len__(self) -> int:
        """How many signals are connected."""
        return len(self._signals)
