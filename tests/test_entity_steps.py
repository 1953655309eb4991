"""A fleet's entities are added and removed in steps (issue 19: an entry reload must not stall the event loop)."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.ocpp_csms.const import DOMAIN
from custom_components.ocpp_csms.csms.registry import SecurityProfile
from custom_components.ocpp_csms.entity_steps import ENTITY_STEP

from .conftest import SetupIntegration, trusted_station

#: More stations than one step holds: each platform adds their station entities in several steps.
FLEET = ENTITY_STEP + 25


def _states(hass: HomeAssistant) -> list[str]:
    registry = er.async_get(hass)
    return [
        state.entity_id
        for state in hass.states.async_all()
        if (entry := registry.async_get(state.entity_id)) is not None and entry.platform == DOMAIN
    ]


async def test_fleet_entities_added_removed_and_added_again_in_steps(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """Every trusted station's entities exist after setup, go on unload, and are all back after a reload."""
    stations = [trusted_station(f"CP-{number:03d}", SecurityProfile.NONE, None) for number in range(FLEET)]
    entry = await setup_integration(stations=stations)
    added = _states(hass)
    per_station = len(added) // FLEET
    assert per_station >= 1
    assert len(added) == per_station * FLEET
    assert len({entity_id.split("_", 1)[0] for entity_id in added}) >= 1

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert sorted(_states(hass)) == sorted(added)

    signals = entry.runtime_data.entity_signals
    assert 0 < len(signals) <= 2 * FLEET  # a station's entities share its signals' connections
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert len(signals) == 0
    assert all(hass.states.get(entity_id).state == "unavailable" for entity_id in added)  # type: ignore[union-attr]


async def test_unload_while_entities_wait_for_their_step(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """An unload right after setup, steps still pending, adds nothing after: no entity outlives its platform."""
    stations = [trusted_station(f"CP-{number:03d}", SecurityProfile.NONE, None) for number in range(FLEET)]
    entry = await setup_integration(stations=stations)
    registry = er.async_get(hass)
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert entry.runtime_data.entity_steps.waiting > 0  # setup returned with entities waiting for their turn
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    for registry_entry in er.async_entries_for_config_entry(registry, entry.entry_id):
        state = hass.states.get(registry_entry.entity_id)
        assert state is None or state.state == "unavailable"
