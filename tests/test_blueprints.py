"""The automation blueprints end to end: real Home Assistant automations driving a station through set_charging_limit.

Each blueprint is copied into the test config dir and instantiated with `use_blueprint`; its input sensors are plain
states; the station is the `ocpp` package's ChargePoint, and what it receives (SetChargingProfile) is the check.
Time moves with freezegun and `async_fire_time_changed`, never with real sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from datetime import datetime, timedelta
from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.blueprint import models, schemas
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util.yaml import load_yaml_dict
from ocpp.v201 import call
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from websockets.asyncio.client import connect

from custom_components.ocpp_csms.const import DOMAIN
from custom_components.ocpp_csms.devices import evse_identifier

from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, ws_url
from .station_peer import SUBPROTOCOL, StationPeer, basic_auth_header

BLUEPRINT_DIR = Path(__file__).parent.parent / "blueprints" / "automation" / "ocpp_csms"
BLUEPRINTS = ("solar_surplus_charging.yaml", "cheapest_hours_charging.yaml", "main_fuse_protection.yaml")
SOURCE_URL = "https://github.com/ocpp-csms/ocpp_csms/blob/main/blueprints/automation/ocpp_csms/"
EVSE_POWER = "sensor.cp_1_evse_1_power"
EVSE_CURRENTS = [f"sensor.cp_1_evse_1_current_{phase}" for phase in ("l1", "l2", "l3")]
CURRENT_LIMIT = "number.cp_1_evse_1_charging_current_limit"
POWER = {"device_class": "power", "unit_of_measurement": "W"}
CURRENT = {"device_class": "current", "unit_of_measurement": "A"}


# ---- blueprints ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BLUEPRINTS)
def test_blueprint_is_valid(name: str) -> None:
    """Each file is an automation blueprint Home Assistant accepts, every `!input` declared, with its source URL."""
    blueprint = models.Blueprint(
        load_yaml_dict(str(BLUEPRINT_DIR / name)), expected_domain="automation", schema=schemas.BLUEPRINT_SCHEMA
    )
    assert blueprint.validate() is None
    assert blueprint.metadata["source_url"] == SOURCE_URL + name
    assert "charger" in blueprint.inputs
    charger = blueprint.inputs["charger"]["selector"]["device"]
    assert charger["filter"] == [{"integration": DOMAIN}]


async def use_blueprint(hass: HomeAssistant, name: str, inputs: dict[str, Any]) -> str:
    """Install the blueprint in the config dir and set up an automation from it; its entity id."""
    target = Path(hass.config.path("blueprints", "automation", "ocpp_csms", name))
    await hass.async_add_executor_job(lambda: target.parent.mkdir(parents=True, exist_ok=True))
    await hass.async_add_executor_job(shutil.copy, BLUEPRINT_DIR / name, target)
    alias = name.removesuffix(".yaml")
    config = {"id": alias, "alias": alias, "use_blueprint": {"path": f"ocpp_csms/{name}", "input": inputs}}
    assert await async_setup_component(hass, "automation", {"automation": [config]})
    await hass.async_block_till_done()
    entity_id = f"automation.{alias}"
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.state == "on", state
    return entity_id


async def stop_automations(hass: HomeAssistant) -> None:
    """Turn every automation off: their pending `for` timers and delays go with them."""
    await hass.services.async_call("automation", "turn_off", {"entity_id": "all"}, blocking=True)
    await hass.async_block_till_done()


# ---- the station ---------------------------------------------------------------------------------------------


def limit_sent(request: dict[str, Any]) -> dict[str, Any]:
    """The parts of a SetChargingProfile that a blueprint decides."""
    profile = request["charging_profile"]
    schedule = profile["charging_schedule"][0]
    period = schedule["charging_schedule_period"][0]
    return {
        "evse_id": request["evse_id"],
        "purpose": profile["charging_profile_purpose"],
        "unit": schedule["charging_rate_unit"],
        "limit": period["limit"],
        "phases": period.get("number_phases"),
    }


def limits_received(station: StationPeer) -> list[dict[str, Any]]:
    """Every SetChargingProfile the station got since the last call (other requests are dropped)."""
    sent = []
    while not station.received.empty():
        action, payload = station.received.get_nowait()
        if action == "SetChargingProfile":
            sent.append(limit_sent(payload))
    return sent


def limit_values(station: StationPeer) -> list[float]:
    """The limits of the TxDefaultProfiles the station got since the last call."""
    return [sent["limit"] for sent in limits_received(station) if sent["purpose"] == "TxDefaultProfile"]


def meter(at: datetime, power_w: float, current_a: float) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": at.isoformat(),
            "sampled_value": [
                {"value": power_w, "measurand": "Power.Active.Import", "unit_of_measure": {"unit": "W"}},
                *({"value": current_a, "measurand": "Current.Import", "phase": phase} for phase in ("L1", "L2", "L3")),
            ],
        }
    ]


class Session:
    """A transaction on EVSE 1 whose meter values the test sets."""

    def __init__(self, station: StationPeer) -> None:
        """No transaction yet."""
        self.station = station
        self.seq_no = 0

    async def start(self, hass: HomeAssistant) -> None:
        """TransactionEvent Started: transaction T1, charging, nothing metered yet."""
        await self.station.call(
            call.TransactionEvent(
                event_type="Started",
                timestamp=dt_util.utcnow().isoformat(),
                trigger_reason="Authorized",
                seq_no=self.seq_no,
                transaction_info={"transaction_id": "T1", "charging_state": "Charging"},
                evse={"id": 1, "connector_id": 1},
                id_token={"id_token": "CARD-1", "type": "ISO14443"},
                meter_value=meter(dt_util.utcnow(), 0, 0),
            )
        )
        await hass.async_block_till_done()

    async def metered(self, hass: HomeAssistant, power_w: float, current_a: float) -> None:
        """TransactionEvent Updated with the power and the same current on every phase."""
        self.seq_no += 1
        await self.station.call(
            call.TransactionEvent(
                event_type="Updated",
                timestamp=dt_util.utcnow().isoformat(),
                trigger_reason="MeterValuePeriodic",
                seq_no=self.seq_no,
                transaction_info={"transaction_id": "T1", "charging_state": "Charging"},
                evse={"id": 1, "connector_id": 1},
                meter_value=meter(dt_util.utcnow(), power_w, current_a),
            )
        )
        await hass.async_block_till_done()


@contextlib.asynccontextmanager
async def station_connection(url: str, station_id: str) -> AsyncIterator[StationPeer]:
    """Like `station_peer.station_connection`, but without the client's keepalive pings.

    The tests move the clock by minutes and hours: a ping sent before a jump would time out after it.
    """
    connection = await connect(
        f"{url}/{station_id}",
        subprotocols=[SUBPROTOCOL],
        additional_headers=basic_auth_header(station_id, STATION_PASSWORD),
        open_timeout=5,
        ping_interval=None,
    )
    peer = StationPeer(station_id, connection)
    task = asyncio.create_task(peer.start())
    try:
        yield peer
    finally:
        tasks = [task, *peer.background]
        for pending in tasks:
            pending.cancel()
        await connection.close()
        await asyncio.gather(*tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def evse_station(hass: HomeAssistant, entry: MockConfigEntry) -> AsyncIterator[tuple[StationPeer, str]]:
    """CP-1 booted with EVSE 1 reported: the station and the EVSE's device id."""
    async with station_connection(ws_url(entry), "CP-1") as station:
        await station.boot()
        await station.call(
            call.StatusNotification(
                timestamp=dt_util.utcnow().isoformat(), connector_status="Occupied", evse_id=1, connector_id=1
            )
        )
        await hass.async_block_till_done()
        device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, evse_identifier("CP-1", 1)), entry.entry_id)
        assert device is not None
        assert hass.states.get(CURRENT_LIMIT) is not None
        limits_received(station)  # whatever the boot brought
        try:
            yield station, device.id
        finally:
            await stop_automations(hass)


async def move_clock(hass: HomeAssistant, station: StationPeer) -> None:
    """Run what became due after the clock moved; then two round trips to the central system.

    The second Heartbeat is queued behind the station's answer to a keepalive ping the central system sent after
    the jump: once it is answered, that pong was read and the next jump cannot time the ping out.
    """
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    for _ in range(2):
        await station.call(call.Heartbeat())
    await hass.async_block_till_done()


async def later(hass: HomeAssistant, freezer: FrozenDateTimeFactory, station: StationPeer, seconds: float) -> None:
    """Move the clock on and run what became due."""
    freezer.tick(timedelta(seconds=seconds))
    await move_clock(hass, station)


async def state(hass: HomeAssistant, entity_id: str, value: float, attributes: dict[str, Any]) -> None:
    hass.states.async_set(entity_id, str(value), attributes)
    await hass.async_block_till_done()


# ---- solar surplus -------------------------------------------------------------------------------------------


async def test_solar_surplus_charging(
    hass: HomeAssistant, setup_integration: SetupIntegration, freezer: FrozenDateTimeFactory
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with evse_station(hass, entry) as (station, evse):
        session = Session(station)
        await session.start(hass)
        await state(hass, "sensor.grid", 1000, POWER)  # importing 1 kW, nothing to spare
        await use_blueprint(
            hass,
            "solar_surplus_charging.yaml",
            {
                "charger": evse,
                "evse_power": EVSE_POWER,
                "grid_power": "sensor.grid",
                "grid_sign": "import_positive",
                "min_current": 6,
                "max_current": 16,
                "phases": "3",
                "voltage": 230,
                "start_threshold": 0,  # the minimum current's power: 6 A * 230 V * 3 = 4140 W
                "stop_threshold": 500,
                "start_delay": {"seconds": 60},
                "stop_delay": {"seconds": 120},
            },
        )
        # No limit is known yet and there is no surplus: pause at once.
        await state(hass, "sensor.grid", 1100, POWER)
        assert limits_received(station) == [
            {"evse_id": 1, "purpose": "TxDefaultProfile", "unit": "A", "limit": 0, "phases": None},
            {"evse_id": 1, "purpose": "TxProfile", "unit": "A", "limit": 0, "phases": None},
        ]
        assert hass.states.get(CURRENT_LIMIT).state == "0.0"  # type: ignore[union-attr]

        # 5 kW export: above the start threshold, but only after the start delay; then 5000 / 690 -> 7 A.
        await state(hass, "sensor.grid", -5000, POWER)
        await later(hass, freezer, station, 30)
        assert limit_values(station) == []
        await later(hass, freezer, station, 31)
        assert limits_received(station) == [
            {"evse_id": 1, "purpose": "TxDefaultProfile", "unit": "A", "limit": 7, "phases": 3},
            {"evse_id": 1, "purpose": "TxProfile", "unit": "A", "limit": 7, "phases": 3},
        ]

        # The car draws 7 A (4830 W) and 2 kW are still exported: 6830 W -> 9 A, an increase the integration sends
        # 30 s after the last limit.
        await session.metered(hass, 4830, 7)
        await state(hass, "sensor.grid", -2000, POWER)
        assert limit_values(station) == []
        await later(hass, freezer, station, 31)
        assert limit_values(station) == [9]

        # A cloud: 3 kW import while drawing 9 A (6210 W): 3210 W fit 4 A, so the minimum (6 A) goes out at once;
        # the import beyond the stop threshold pauses charging after the stop delay.
        await session.metered(hass, 6210, 9)
        await state(hass, "sensor.grid", 3000, POWER)
        assert limit_values(station) == [6]
        await session.metered(hass, 4140, 6)
        await state(hass, "sensor.grid", 3500, POWER)
        await later(hass, freezer, station, 60)
        assert limit_values(station) == []
        await later(hass, freezer, station, 61)
        assert limit_values(station) == [0]
        assert hass.states.get(CURRENT_LIMIT).state == "0.0"  # type: ignore[union-attr]

        # Paused, the old charging power no longer counts as surplus: a small export changes nothing.
        await state(hass, "sensor.grid", -1000, POWER)
        await later(hass, freezer, station, 120)
        assert limit_values(station) == []


async def test_solar_surplus_export_positive_in_kw(
    hass: HomeAssistant, setup_integration: SetupIntegration, freezer: FrozenDateTimeFactory
) -> None:
    """A grid sensor in kW, positive when exporting; one phase; the limit never exceeds the maximum."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with evse_station(hass, entry) as (station, evse):
        kilowatts = {"device_class": "power", "unit_of_measurement": "kW"}
        await state(hass, "sensor.grid", 0, kilowatts)
        await state(hass, "sensor.charger_power", 0, POWER)
        await use_blueprint(
            hass,
            "solar_surplus_charging.yaml",
            {
                "charger": evse,
                "evse_power": "sensor.charger_power",
                "grid_power": "sensor.grid",
                "grid_sign": "export_positive",
                "phases": "1",
                "start_threshold": 2000,
            },
        )
        # 9.2 kW export on one phase would be 40 A: the maximum (16 A) goes out, no limit having been known.
        await state(hass, "sensor.grid", 9.2, kilowatts)
        assert limits_received(station) == [
            {"evse_id": 1, "purpose": "TxDefaultProfile", "unit": "A", "limit": 16, "phases": 1}
        ]


# ---- cheapest hours ------------------------------------------------------------------------------------------


async def test_cheapest_hours_charging(
    hass: HomeAssistant, setup_integration: SetupIntegration, freezer: FrozenDateTimeFactory
) -> None:
    local = dt_util.get_default_time_zone()
    evening = datetime(2026, 11, 21, 18, 5, tzinfo=local)
    freezer.move_to(evening)
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with evse_station(hass, entry) as (station, evse):
        # Hourly prices from 18:00 to 07:00 tomorrow; 02:00 and 03:00 are the cheapest, 05:00 the next.
        first_hour = evening.replace(minute=0)
        prices = [0.30, 0.32, 0.28, 0.25, 0.22, 0.20, 0.18, 0.15, 0.05, 0.04, 0.12, 0.08, 0.20]
        forecast = [
            {"start": (first_hour + timedelta(hours=n)).isoformat(), "price": price} for n, price in enumerate(prices)
        ]
        hass.states.async_set("sensor.price", "0.30", {"unit_of_measurement": "EUR/kWh", "forecast": forecast})
        await use_blueprint(
            hass,
            "cheapest_hours_charging.yaml",
            {
                "charger": evse,
                "price_sensor": "sensor.price",
                "energy_wanted": 20,  # at 16 A * 230 V * 3 = 11.04 kW: 1.8 h, the two cheapest hours
                "ready_by": "07:00:00",
                "charging_current": 16,
                "phases": "3",
            },
        )
        # The prices change: re-planned, outside the cheap hours -> paused.
        hass.states.async_set("sensor.price", "0.31", {"unit_of_measurement": "EUR/kWh", "forecast": forecast})
        await hass.async_block_till_done()
        assert limits_received(station) == [
            {"evse_id": 1, "purpose": "TxDefaultProfile", "unit": "A", "limit": 0, "phases": None}
        ]

        async def at(hour: int, minute: int) -> list[float]:
            moment = (evening + timedelta(days=1 if hour < 18 else 0)).replace(hour=hour, minute=minute)
            freezer.move_to(moment)
            await move_clock(hass, station)
            return limit_values(station)

        assert await at(23, 0) == []
        assert await at(1, 45) == []
        sent = await at(2, 0)
        assert sent == [16]
        assert await at(2, 30) == []
        assert await at(3, 15) == []  # still 16 A: nothing new to send
        assert await at(4, 0) == [0]
        assert await at(5, 0) == []  # 05:00 is cheap, but two hours were enough
        assert await at(6, 45) == []


async def test_cheapest_hours_nord_pool_and_charged_energy(
    hass: HomeAssistant, setup_integration: SetupIntegration, freezer: FrozenDateTimeFactory
) -> None:
    """Nord Pool style raw_today/raw_tomorrow (start, end, value), with the energy already charged tracked."""
    local = dt_util.get_default_time_zone()
    now = datetime(2026, 11, 21, 22, 0, tzinfo=local)
    freezer.move_to(now)
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with evse_station(hass, entry) as (station, evse):
        quarter = timedelta(minutes=15)
        slots = [now + quarter * n for n in range(8 * 4)]  # 22:00 to 06:00 in quarters
        cheap = {now + timedelta(hours=1), now + timedelta(hours=1, minutes=15)}  # 23:00 and 23:15
        raw = [
            {"start": start, "end": start + quarter, "value": 0.05 if start in cheap else 0.25 + n / 1000}
            for n, start in enumerate(slots)
        ]
        today = [item for start, item in zip(slots, raw, strict=True) if start.date() == now.date()]
        tomorrow = [item for start, item in zip(slots, raw, strict=True) if start.date() != now.date()]
        hass.states.async_set("sensor.nord_pool", "0.25", {"raw_today": today, "raw_tomorrow": tomorrow})
        hass.states.async_set("sensor.charged", "8.2", {"device_class": "energy", "unit_of_measurement": "kWh"})
        await use_blueprint(
            hass,
            "cheapest_hours_charging.yaml",
            {
                "charger": evse,
                "price_sensor": "sensor.nord_pool",
                "energy_wanted": 10,  # 1.8 kWh missing at 16 A on one phase (3.68 kW): 29 minutes, two quarters
                "charged_energy": "sensor.charged",
                "ready_by": "06:00:00",
                "charging_current": 16,
                "phases": "1",
            },
        )
        freezer.move_to(now + timedelta(minutes=45))
        await move_clock(hass, station)
        assert limit_values(station) == [0]
        freezer.move_to(now + timedelta(hours=1))
        await move_clock(hass, station)
        assert limits_received(station) == [
            {"evse_id": 1, "purpose": "TxDefaultProfile", "unit": "A", "limit": 16, "phases": 1}
        ]
        # Charged what was missing: nothing left to plan.
        hass.states.async_set("sensor.charged", "10.0", {"device_class": "energy", "unit_of_measurement": "kWh"})
        freezer.move_to(now + timedelta(hours=1, minutes=30))
        await move_clock(hass, station)
        assert limit_values(station) == [0]


# ---- main fuse -----------------------------------------------------------------------------------------------


async def test_main_fuse_protection(
    hass: HomeAssistant, setup_integration: SetupIntegration, freezer: FrozenDateTimeFactory
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with evse_station(hass, entry) as (station, evse):
        session = Session(station)
        await session.start(hass)
        grid = [f"sensor.grid_{phase}" for phase in ("l1", "l2", "l3")]
        for sensor in grid:
            await state(hass, sensor, 20, CURRENT)
        # The EVSE charges at 16 A (its limit) on three phases.
        await hass.services.async_call(DOMAIN, "set_charging_limit", {"device_id": evse, "current": 16}, blocking=True)
        await session.metered(hass, 11040, 16)
        limits_received(station)
        await use_blueprint(
            hass,
            "main_fuse_protection.yaml",
            {
                "grid_current_l1": grid[0],
                "grid_current_l2": grid[1],
                "grid_current_l3": grid[2],
                "fuse_rating": 25,
                "safety_margin": 2,  # threshold 23 A
                "charger": evse,
                "charger_currents": EVSE_CURRENTS,
                "max_current": 16,
                "raise_delay": 60,
            },
        )
        # Below the threshold: nothing happens.
        await state(hass, grid[1], 22.5, CURRENT)
        assert limit_values(station) == []

        # L2 at 27 A is 4 A over: the charger (16 A) goes down to 12 A at once (a decrease is not deferred).
        await state(hass, grid[1], 27, CURRENT)
        assert limits_received(station) == [
            {"evse_id": 1, "purpose": "TxDefaultProfile", "unit": "A", "limit": 12, "phases": None},
            {"evse_id": 1, "purpose": "TxProfile", "unit": "A", "limit": 12, "phases": None},
        ]
        assert hass.states.get(CURRENT_LIMIT).state == "12.0"  # type: ignore[union-attr]

        # Still over while the car ramps down (it draws 14 A, L2 is 25.5 A): lowered again from what it draws.
        await session.metered(hass, 9660, 14)
        await state(hass, grid[1], 25.5, CURRENT)
        assert limit_values(station) == [11]  # 14 - 2.5 = 11.5 -> 11

        # A big load on L1 (20 A over): below 6 A the charger pauses.
        await state(hass, grid[0], 43, CURRENT)
        assert limit_values(station) == [0]

        # The load goes away: 60 s after the last change the limit goes back up by the headroom, step by step.
        await session.metered(hass, 0, 0)
        await state(hass, grid[0], 12, CURRENT)
        await state(hass, grid[1], 12, CURRENT)
        await state(hass, grid[2], 12, CURRENT)
        await later(hass, freezer, station, 30)
        assert limit_values(station) == []
        await later(hass, freezer, station, 31)
        assert limit_values(station) == [11]  # 0 drawn + (23 - 12) headroom
        await session.metered(hass, 7590, 11)
        await state(hass, grid[0], 19, CURRENT)
        await state(hass, grid[1], 19, CURRENT)
        await state(hass, grid[2], 19, CURRENT)
        await later(hass, freezer, station, 61)
        assert limit_values(station) == [15]  # 11 drawn + (23 - 19) headroom
        await session.metered(hass, 10350, 15)
        await state(hass, grid[0], 20, CURRENT)
        await later(hass, freezer, station, 61)
        assert limit_values(station) == [16]  # 15 + 3, at most the maximum
        await later(hass, freezer, station, 61)
        assert limit_values(station) == []  # at the maximum: done
