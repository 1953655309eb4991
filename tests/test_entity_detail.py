"""The entity detail option: every device-model variable as an entity, or the essential few per station."""

from __future__ import annotations

from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ocpp_csms import entity_detail
from custom_components.ocpp_csms.const import CONF_ENTITY_DETAIL, DOMAIN
from custom_components.ocpp_csms.entity_detail import ENTITY_LIMIT_ISSUE, EntityDetail

from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, ws_url
from .station_peer import station_connection
from .test_device_model_entities import boot_with_inventory

ESSENTIAL = {CONF_ENTITY_DETAIL: EntityDetail.ESSENTIAL.value}
#: What `essential` keeps: the station's connectivity, and per EVSE what charging and the Energy dashboard need.
ESSENTIAL_EVSE_KEYS = (
    "charging_state",
    "connector_status",
    "power",
    "energy",
    "session_energy",
    "charging_current_limit",
    "charging",
    "charging_mode",
)


def essential_unique_ids(station_id: str, evse_ids: list[int]) -> set[str]:
    """The unique ids of a station's entities under `essential` (the same as under `full`)."""
    return {f"{station_id}_connectivity"} | {
        f"{station_id}_evse_{evse_id}_{key}" for evse_id in evse_ids for key in ESSENTIAL_EVSE_KEYS
    }


def unique_ids(hass: HomeAssistant, entry: MockConfigEntry) -> set[str]:
    """The unique ids of the entry's registered entities."""
    return {item.unique_id for item in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)}


async def test_essential_gives_each_station_its_essential_entities_only(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_client: ClientSessionGenerator
) -> None:
    entry = await setup_integration(options=ESSENTIAL, stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await boot_with_inventory(hass, entry, station)  # 181 variables, two EVSEs
        runtime = entry.runtime_data.runtimes["CP-1"]
        assert runtime.known_evses == {1, 2}
        # The device model is read and kept (capabilities, actions, diagnostics) but brings no entity.
        assert len(runtime.device_model) >= 150
        assert unique_ids(hass, entry) == essential_unique_ids("CP-1", [1, 2])
        assert len(essential_unique_ids("CP-1", [1, 2])) == 1 + 2 * len(ESSENTIAL_EVSE_KEYS)
        for item in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
            assert item.disabled_by is None, item.entity_id
            assert hass.states.get(item.entity_id) is not None, item.entity_id

        # The essential controls work: the current limit goes out as a charging profile.
        await hass.services.async_call(
            "number",
            "set_value",
            {ATTR_ENTITY_ID: "number.cp_1_evse_1_charging_current_limit", "value": 10},
            blocking=True,
        )
        _, request = await station.next_received("SetChargingProfile")
        period = request["charging_profile"]["charging_schedule"][0]["charging_schedule_period"][0]
        assert period["limit"] == 10

        # The energy manager's state, left out of the entities, is in the diagnostics.
        diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
        manager = diagnostics["stations"]["CP-1"]["evses"]["1"]["energy_manager"]
        assert manager["mode"] == hass.states.get("select.cp_1_evse_1_charging_mode").state
        assert manager["state"] == entry.runtime_data.energy.state("CP-1", 1).value
        assert set(manager) == {"mode", "state", "decision"}


async def test_switching_to_essential_removes_the_other_entities(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await boot_with_inventory(hass, entry, station)
    full = unique_ids(hass, entry)
    assert len(full) > 200
    registry = er.async_get(hass)
    power_entity = registry.async_get_entity_id("sensor", DOMAIN, "CP-1_evse_1_power")

    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "settings"})
    suggested = {str(key): key.description["suggested_value"] for key in result["data_schema"].schema}
    assert suggested[CONF_ENTITY_DETAIL] == "full"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "unknown_stations": "approve",
            "unknown_tokens": "reject",
            "heartbeat_interval": 300,
            CONF_ENTITY_DETAIL: "essential",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()

    assert unique_ids(hass, entry) == essential_unique_ids("CP-1", [1, 2])
    # Kept entities keep their entity ids (and the history behind them).
    assert registry.async_get_entity_id("sensor", DOMAIN, "CP-1_evse_1_power") == power_entity

    # And back: the full set returns.
    hass.config_entries.async_update_entry(entry, options={**entry.options, CONF_ENTITY_DETAIL: "full"})
    await hass.async_block_till_done()
    assert unique_ids(hass, entry) == full


async def test_near_the_entity_limit_a_repair_offers_essential(
    hass: HomeAssistant, setup_integration: SetupIntegration, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(entity_detail, "ENTITY_LIMIT_WARNING", 20)
    monkeypatch.setattr(entity_detail, "CHECK_DELAY", 0.0)
    assert await async_setup_component(hass, "repairs", {})
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    issues = ir.async_get(hass)
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await boot_with_inventory(hass, entry, station)
        await hass.async_block_till_done()
    issue = issues.async_get_issue(DOMAIN, ENTITY_LIMIT_ISSUE)
    assert issue is not None
    assert issue.is_fixable
    # (132: the availability states, EVSE power and external limit sensors that repeat others are disabled; the
    # station status, firmware, firmware status, display, monitoring level, problem, local list, reservation,
    # certificate expiry and refresh inventory entities, and per EVSE an ISO 15118 car's requested energy and
    # departure time, are in, and each EVSE's energy manager entities: charging mode, state, minimum and maximum
    # current, priority; and its departure planning entities: departure, energy to add, target state of charge,
    # plan, session cost)
    assert issue.translation_placeholders == {"enabled": "132", "limit": "10000"}

    flows = repairs_flow_manager(hass)
    assert flows is not None
    result = await flows.async_init(DOMAIN, data={"issue_id": ENTITY_LIMIT_ISSUE})
    assert (result["type"], result["step_id"]) == (FlowResultType.FORM, "confirm")
    result = await flows.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()

    assert entry.options[CONF_ENTITY_DETAIL] == "essential"
    assert unique_ids(hass, entry) == essential_unique_ids("CP-1", [1, 2])
    assert issues.async_get_issue(DOMAIN, ENTITY_LIMIT_ISSUE) is None


async def test_entity_limit_repair_without_its_entry_aborts(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    entry = await setup_integration()
    ir.async_create_issue(
        hass,
        DOMAIN,
        ENTITY_LIMIT_ISSUE,
        is_fixable=True,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ENTITY_LIMIT_ISSUE,
        translation_placeholders={"enabled": "9000", "limit": "10000"},
        data={"entry_id": "gone"},
    )
    flows = repairs_flow_manager(hass)
    assert flows is not None
    result = await flows.async_init(DOMAIN, data={"issue_id": ENTITY_LIMIT_ISSUE})
    result = await flows.async_configure(result["flow_id"], {})
    assert (result["type"], result["reason"]) == (FlowResultType.ABORT, "not_loaded")
    assert CONF_ENTITY_DETAIL not in entry.options


async def test_an_unknown_option_value_means_full(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(domain=DOMAIN, options={CONF_ENTITY_DETAIL: "everything"})
    assert entity_detail.entity_detail_from(entry.options) is EntityDetail.FULL
