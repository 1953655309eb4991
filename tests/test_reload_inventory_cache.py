"""An entry reload keeps the stations' parsed inventories instead of reading them again (issue 19's reload lag).

A thousand inventories parsed again allocate millions of objects, whose full garbage collections stall the event
loop. The unload keeps each saved device model; the next setup takes it. Never stale: a model changed after its
save, a forgotten station's, an expired cache's and a removed entry's are not served.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ocpp_csms import station_runtime
from custom_components.ocpp_csms.protocol.v201.enums import Attribute, Data, Mutability
from custom_components.ocpp_csms.station.device_model import (
    AttributeInfo,
    Characteristics,
    DeviceModel,
    VariableInfo,
    VariableKey,
)
from custom_components.ocpp_csms.station_runtime import (
    INVENTORY_CACHE_TTL,
    InventoryCache,
    async_remove_station_stores,
)

from .conftest import SetupIntegration, trusted_station

HEARTBEAT = VariableKey("OCPPCommCtrlr", "HeartbeatInterval")


def _stored_inventory(hass_storage: dict[str, Any], station_id: str, heartbeat: str) -> str:
    """Put an inventory for the station into storage, as an earlier run wrote it; its storage key."""
    model = DeviceModel(
        {
            HEARTBEAT: VariableInfo(
                attributes={Attribute.ACTUAL: AttributeInfo(value=heartbeat, mutability=Mutability.READ_WRITE)},
                characteristics=Characteristics(data_type=Data.INTEGER),
            )
        }
    )
    key = station_runtime._store_key("inventory", station_id)
    hass_storage[key] = {
        "version": station_runtime.STORAGE_VERSION,
        "key": key,
        "data": {"device_model": model.to_dict(), "firmware": "1.0"},
    }
    return key


async def _setup_again(hass: HomeAssistant, entry: MockConfigEntry) -> DeviceModel:
    """Set the entry up again; CP-1's device model."""
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    runtime = entry.runtime_data.runtimes["CP-1"]
    assert runtime.has_inventory
    assert runtime.inventory_firmware == "1.0"
    return runtime.device_model


async def test_a_reload_takes_the_inventories_the_unload_kept(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_storage: dict[str, Any]
) -> None:
    """The setup after an unload takes the saved model itself: the store is not read again."""
    key = _stored_inventory(hass_storage, "CP-1", "60")
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    model = entry.runtime_data.runtimes["CP-1"].device_model
    assert model.value(HEARTBEAT) == "60"

    assert await hass.config_entries.async_unload(entry.entry_id)
    _stored_inventory(hass_storage, "CP-1", "999")  # not read: the kept model is what was stored last
    assert await _setup_again(hass, entry) is model
    assert entry.entry_id not in hass.data.get(InventoryCache.KEY, {})  # taken: gone

    # Unloaded again and reloaded after the cache expired: read from storage.
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert hass_storage[key]["data"]["device_model"]["variables"][0]["attributes"][0]["value"] == "999"
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=INVENTORY_CACHE_TTL + 1))
    await hass.async_block_till_done()
    assert entry.entry_id not in hass.data[InventoryCache.KEY]
    again = await _setup_again(hass, entry)
    assert again is not model
    assert again.value(HEARTBEAT) == "999"


async def test_a_model_changed_after_the_unload_is_read_from_storage(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_storage: dict[str, Any]
) -> None:
    """A kept model that moved after its save is not what is stored: the store is read."""
    _stored_inventory(hass_storage, "CP-1", "60")
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    model = entry.runtime_data.runtimes["CP-1"].device_model
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert model.update_value(HEARTBEAT, Attribute.ACTUAL, "30")  # after its save: the store still says 60
    again = await _setup_again(hass, entry)
    assert again is not model
    assert again.value(HEARTBEAT) == "60"


async def test_a_forgotten_stations_inventory_is_not_kept(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_storage: dict[str, Any]
) -> None:
    """A station whose stores were deleted while the entry was unloaded starts with no inventory."""
    key = _stored_inventory(hass_storage, "CP-1", "60")
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    assert await hass.config_entries.async_unload(entry.entry_id)
    await async_remove_station_stores(hass, "CP-1")
    assert key not in hass_storage
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert not entry.runtime_data.runtimes["CP-1"].has_inventory


async def test_a_removed_entry_leaves_nothing_kept(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_storage: dict[str, Any]
) -> None:
    """Deleting the integration drops what its unload kept (and cancels the expiry)."""
    _stored_inventory(hass_storage, "CP-1", "60")
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.entry_id in hass.data[InventoryCache.KEY]
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.entry_id not in hass.data[InventoryCache.KEY]
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=INVENTORY_CACHE_TTL + 1))
    await hass.async_block_till_done()


async def test_nothing_is_kept_past_home_assistants_stop(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_storage: dict[str, Any]
) -> None:
    """Kept models go when Home Assistant stops; an unload while it stops keeps none (no setup follows)."""
    from homeassistant.const import EVENT_HOMEASSISTANT_STOP  # noqa: PLC0415
    from homeassistant.core import CoreState  # noqa: PLC0415

    _stored_inventory(hass_storage, "CP-1", "60")
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.entry_id in hass.data[InventoryCache.KEY]
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert entry.entry_id not in hass.data[InventoryCache.KEY]

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    hass.set_state(CoreState.stopping)
    try:
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        hass.set_state(CoreState.running)
    assert entry.entry_id not in hass.data[InventoryCache.KEY]
