"""What a homeowner sees of an EVSE: known values at once, limits that do not wander, readable variables."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from ocpp.routing import after, on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action
import pytest

from custom_components.ocpp_csms.const import DOMAIN

from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, wait_for, ws_url
from .station.inventory import inventory
from .station_peer import StationPeer, station_connection
from .test_transactions import START, event, send

NOW = "2026-11-21T10:00:00Z"
POWER = "sensor.cp_1_evse_1_power"
CURRENT_L1 = "sensor.cp_1_evse_1_current_l1"
CHARGING_STATE = "sensor.cp_1_evse_1_charging_state"
CONNECTOR_STATUS = "sensor.cp_1_evse_1_connector_status"
ENERGY = "sensor.cp_1_evse_1_energy"
CURRENT_LIMIT = "number.cp_1_evse_1_charging_current_limit"


class MeteringStation(StationPeer):
    """Answers triggered StatusNotification and MeterValues (F06) with its state: available, 12.5 kWh."""

    @after(Action.trigger_message)
    async def after_trigger_message(self, requested_message: str, evse: dict[str, Any] | None = None, **_: Any) -> None:
        """Send what was asked for (and a boot, as the base station does)."""
        if (task := asyncio.current_task()) is not None:  # cancelled with the connection, if still waiting then
            self.background.add(task)
            task.add_done_callback(self.background.discard)
        if requested_message == "StatusNotification" and evse is not None:
            await self.call(
                call.StatusNotification(
                    timestamp="2026-11-21T10:00:00Z",
                    connector_status="Available",
                    evse_id=evse["id"],
                    connector_id=evse["connector_id"],
                )
            )
        elif requested_message == "MeterValues":
            await self.call(
                call.MeterValues(
                    evse_id=1,
                    meter_value=[
                        {
                            "timestamp": "2026-11-21T10:00:00Z",
                            "sampled_value": [
                                {"value": 12500, "measurand": "Energy.Active.Import.Register", "context": "Trigger"}
                            ],
                        }
                    ],
                )
            )
        else:
            await super().after_trigger_message(requested_message)

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(self, duration: int, evse_id: int, **kwargs: Any) -> Any:
        """In W, as some stations answer: our lowest limit (A at 230 V on three phases), else its maximum 11040 W."""
        self.received.put_nowait(("GetCompositeSchedule", {"duration": duration, "evse_id": evse_id}))
        limits = [
            period["limit"] * 230 * 3
            for target, profile in self.profiles
            if target in (0, evse_id)
            for period in profile["charging_schedule"][0]["charging_schedule_period"][:1]
        ]
        return call_result.GetCompositeSchedule(
            status="Accepted",
            schedule={
                "evse_id": evse_id,
                "duration": duration,
                "schedule_start": datetime.now(UTC).isoformat(),
                "charging_rate_unit": "W",
                "charging_schedule_period": [{"start_period": 0, "limit": min(limits, default=11040)}],
            },
        )


def state(hass: HomeAssistant, entity_id: str) -> str:
    found = hass.states.get(entity_id)
    assert found is not None, entity_id
    return found.state


async def test_an_idle_evse_shows_idle_zero_power_and_its_energy_at_once(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """After a restart the station reconnects without booting: its connectors and meter are asked for (F06)."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=MeteringStation) as s:
        await s.boot()
        await s.call(call.StatusNotification(timestamp=NOW, connector_status="Available", evse_id=1, connector_id=1))
        await hass.async_block_till_done()
    # Home Assistant restarts (the entry reloads): connector statuses are gone, the EVSE is known from storage.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=MeteringStation) as s:
        await s.call(call.Heartbeat())  # back without a reboot: it says something, and is then asked
        triggers = [(await s.next_received("TriggerMessage"))[1]]
        while triggers[-1]["requested_message"] != "MeterValues":
            triggers.append((await s.next_received("TriggerMessage"))[1])
        assert {"requested_message": "StatusNotification", "evse": {"id": 1, "connector_id": 1}} in triggers
        await wait_for(lambda: state(hass, ENERGY) == "12.5")
        await hass.async_block_till_done()
        assert state(hass, CONNECTOR_STATUS) == "available"
        assert state(hass, CHARGING_STATE) == "idle"
        assert state(hass, POWER) == "0.0"
        assert state(hass, CURRENT_L1) == "0.0"


async def test_power_falls_to_zero_when_the_session_ends(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=MeteringStation) as s:
        await s.boot()
        await send(s, event("T1", 0, "Started", START, 1000, 7000))
        await hass.async_block_till_done()
        assert state(hass, POWER) == "7000.0"
        assert state(hass, CHARGING_STATE) == "charging"
        await send(s, event("T1", 1, "Ended", START + timedelta(minutes=30), 4500, 7000))
        await hass.async_block_till_done()
        assert state(hass, POWER) == "0.0"
        assert state(hass, CHARGING_STATE) == "idle"


async def test_the_limit_in_force_shows_when_a_session_starts_and_does_not_wander(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """K08: read when a session starts; 16 A asked for, read back as 11040 W and measured 226 V, stays 16 A."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=MeteringStation) as s:
        s.load_inventory(inventory())
        await s.boot()
        await wait_for(lambda: entry.runtime_data.runtimes["CP-1"].has_inventory)
        await s.call(call.StatusNotification(timestamp=NOW, connector_status="Occupied", evse_id=1, connector_id=1))
        await hass.async_block_till_done()
        assert state(hass, CURRENT_LIMIT) == "unknown"

        started = event("T1", 0, "Started", START, 1000, 11000)
        started["meter_value"][0]["sampled_value"] += [
            {"value": 226, "measurand": "Voltage", "phase": phase} for phase in ("L1-N", "L2-N", "L3-N")
        ]
        await send(s, started)
        await s.next_received("GetCompositeSchedule")
        await wait_for(lambda: state(hass, CURRENT_LIMIT) != "unknown")
        assert state(hass, CURRENT_LIMIT) == "16.3"  # the station's maximum, 11040 W at the 226 V it measures

        # What the user asked for and the station applies (in W, converted back at 226 V: 16.3 A) shows as asked.
        await hass.services.async_call(
            "number", "set_value", {ATTR_ENTITY_ID: CURRENT_LIMIT, "value": 16}, blocking=True
        )
        await s.next_received("GetCompositeSchedule")
        await hass.async_block_till_done()
        assert state(hass, CURRENT_LIMIT) == "16.0"
        limit_sensor = hass.states.get("sensor.cp_1_evse_1_charging_limit_in_force")
        assert limit_sensor is not None
        assert (limit_sensor.attributes["requested_limit"], limit_sensor.attributes["limit_status"]) == (16, "match")


async def test_a_limit_below_the_minimum_is_refused_with_the_reason(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as s:
        await s.boot()
        await s.call(call.StatusNotification(timestamp=NOW, connector_status="Occupied", evse_id=1, connector_id=1))
        await hass.async_block_till_done()
        with pytest.raises(ServiceValidationError) as refused:
            await hass.services.async_call(
                "number", "set_value", {ATTR_ENTITY_ID: CURRENT_LIMIT, "value": 4}, blocking=True
            )
        assert refused.value.translation_key == "limit_below_minimum"
        assert refused.value.translation_placeholders == {"minimum": "6", "unit": "A"}
        await asyncio.sleep(0.05)
        assert s.received.empty() or all(item[0] != "SetChargingProfile" for item in list(s.received._queue))
        # 0 pauses.
        await hass.services.async_call(
            "number", "set_value", {ATTR_ENTITY_ID: CURRENT_LIMIT, "value": 0}, blocking=True
        )
        _, request = await s.next_received("SetChargingProfile")
        assert request["charging_profile"]["charging_schedule"][0]["charging_schedule_period"][0]["limit"] == 0


async def test_curated_variables_read_well(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    """Translated enum states, readable lists, and one entity (not three) saying what a connector does."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    registry = er.async_get(hass)
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as s:
        s.load_inventory(inventory())
        await s.boot()
        await wait_for(lambda: entry.runtime_data.runtimes["CP-1"].has_inventory)
        await hass.async_block_till_done()

        def entity(domain: str, slug: str) -> er.RegistryEntry:
            entity_id = registry.async_get_entity_id(domain, DOMAIN, f"CP-1_var_{slug}")
            assert entity_id is not None, slug
            found = registry.async_get(entity_id)
            assert found is not None
            return found

        connector_type = entity("sensor", "connector#1.1/connectortype")
        assert connector_type.translation_key == "connector_type"
        assert state(hass, connector_type.entity_id) in connector_type.capabilities["options"]  # type: ignore[index]
        translations = (await _translations(hass))["sensor"]["connector_type"]["state"]
        assert translations[state(hass, connector_type.entity_id)].endswith(("socket", "cable"))

        start_point = entity("text", "txctrlr/txstartpoint")
        assert ", " in state(hass, start_point.entity_id) or " " in state(hass, start_point.entity_id)

        # The availability states repeat the connector status sensor: disabled by default.
        for slug in ("evse#1/availabilitystate", "connector#1.1/availabilitystate"):
            assert entity("sensor", slug).disabled_by is er.RegistryEntryDisabler.INTEGRATION
        assert registry.async_get_entity_id("sensor", DOMAIN, "CP-1_evse_1_connector_status") is not None


async def _translations(hass: HomeAssistant) -> dict[str, Any]:
    import json  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    path = Path(__file__).parent.parent / "custom_components" / "ocpp_csms" / "translations" / "en.json"
    text = await hass.async_add_executor_job(path.read_text, "utf-8")
    entities: dict[str, Any] = json.loads(text)["entity"]
    return entities
