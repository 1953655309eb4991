"""The reboot-required repair when it cannot reset the station.

The entry is not loaded, the station is away, or it refuses the reset: the repair says why and stays, so the user
can try again.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from ocpp.routing import on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ocpp_csms.const import DOMAIN
from custom_components.ocpp_csms.variable_sync import reboot_issue_id

from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, wait_for, ws_url
from .station_peer import StationPeer, station_connection
from .test_control_surface import device_id


class ResetRefusingStation(StationPeer):
    """Needs a reboot for its settings, and refuses to reset."""

    @on(Action.reset)
    def on_reset(self, type: str, **kwargs: Any) -> Any:  # noqa: A002 - the OCPP field name
        """Rejected."""
        self.received.put_nowait(("Reset", {"type": type, **kwargs}))
        return call_result.Reset(status="Rejected")


async def needs_reboot(hass: HomeAssistant, entry: MockConfigEntry, station: StationPeer) -> None:
    """The station accepts a setting that takes effect after a reboot: the repair opens."""
    await station.boot()
    station.set_variables_status = "RebootRequired"
    await hass.services.async_call(
        DOMAIN,
        "set_variables",
        {
            "device_id": device_id(hass, entry, "CP-1"),
            "variables": [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "value": "120"}],
        },
        blocking=True,
    )
    assert ir.async_get(hass).async_get_issue(DOMAIN, reboot_issue_id("CP-1")) is not None


async def fix(hass: HomeAssistant) -> Any:
    """Open the repair and confirm it."""
    assert await async_setup_component(hass, "repairs", {})
    manager = repairs_flow_manager(hass)
    assert manager is not None
    flow = await manager.async_init(DOMAIN, data={"issue_id": reboot_issue_id("CP-1")})
    assert flow["step_id"] == "confirm"
    return await manager.async_configure(flow["flow_id"], {})


PLACEHOLDERS = {"station": "CP-1", "variable": "OCPPCommCtrlr.HeartbeatInterval"}


@pytest.mark.parametrize("situation", ["entry_unloaded", "station_away"])
async def test_the_reboot_repair_cannot_reset_a_station_it_cannot_reach(
    hass: HomeAssistant, setup_integration: SetupIntegration, situation: str
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await needs_reboot(hass, entry, station)
    await wait_for(lambda: not entry.runtime_data.context.is_connected("CP-1"))
    if situation == "entry_unloaded":
        assert await hass.config_entries.async_unload(entry.entry_id)
    result = await fix(hass)
    assert result["type"] is FlowResultType.ABORT
    if situation == "entry_unloaded":
        assert result["reason"] == "not_loaded"
    else:
        assert result["reason"] == "station_not_connected"
        assert result["description_placeholders"] == PLACEHOLDERS
    assert ir.async_get(hass).async_get_issue(DOMAIN, reboot_issue_id("CP-1")) is not None


async def test_the_reboot_repair_says_when_the_station_refuses_the_reset(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(
        ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=ResetRefusingStation
    ) as station:
        await needs_reboot(hass, entry, station)
        result = await fix(hass)
        _, request = await station.next_received("Reset")
    assert request["type"] == "OnIdle"
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reset_failed"
    assert result["description_placeholders"] == PLACEHOLDERS
    assert ir.async_get(hass).async_get_issue(DOMAIN, reboot_issue_id("CP-1")) is not None
