"""Entities follow their signals through one dispatcher connection per signal (issue 19: memory per station)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.util.signal_type import SignalType
import pytest

from custom_components.ocpp_csms.entity_signals import EntitySignals

SIGNAL: SignalType[()] = SignalType("ocpp_csms_test_station_CP-1")


class Follower:
    """Counts its updates; a broken one raises."""

    def __init__(self, *, broken: bool = False) -> None:
        """No update yet."""
        self.updates = 0
        self.broken = broken

    def async_update_if_changed(self) -> None:
        """One more update."""
        self.updates += 1
        if self.broken:
            raise RuntimeError("broken entity")


async def test_one_connection_fans_out_and_a_broken_follower_keeps_no_other_from_its_update(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    signals = EntitySignals()
    broken, healthy = Follower(broken=True), Follower()
    signals.follow(hass, SIGNAL, broken)
    signals.follow(hass, SIGNAL, healthy)
    assert len(signals) == 1
    async_dispatcher_send(hass, SIGNAL)
    assert (broken.updates, healthy.updates) == (1, 1)
    assert "Error updating" in caplog.text

    signals.unfollow(SIGNAL, broken)
    signals.unfollow(SIGNAL, healthy)
    assert len(signals) == 0  # the last follower gone: disconnected
    signals.unfollow(SIGNAL, healthy)  # twice: nothing to do
    async_dispatcher_send(hass, SIGNAL)
    assert healthy.updates == 1
