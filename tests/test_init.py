"""Setting up and unloading the config entry."""

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ocpp_csms.const import CONF_PORT, DOMAIN

from .conftest import free_port


async def test_setup_and_unload_entry(hass: HomeAssistant, socket_enabled: None) -> None:
    """verify_cleanup (autouse in the test plugin) checks that nothing lingers after unload."""
    port = free_port()
    entry = MockConfigEntry(domain=DOMAIN, unique_id=DOMAIN, data={CONF_PORT: port})
    entry.add_to_hass(hass)

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert [listener.port for listener in entry.runtime_data.listeners] == [port]

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
