"""Home Assistant restarts in the middle of a session: killed, stopped cleanly, or the entry reloaded (issue 19).

The station keeps charging while Home Assistant is away, queues its events and replays them when it is back, out
of seqNo order and each stamped when sent. Session energy, lifetime energy and the Energy dashboard's statistics
end exactly where the register says, with no dip and no double count.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from homeassistant.const import EVENT_HOMEASSISTANT_STOP, EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)
from pytest_homeassistant_custom_component.typing import RecorderInstanceContextManager

from custom_components.ocpp_csms import station_runtime
from custom_components.ocpp_csms.listener_setup import DATA_AUTH
from custom_components.ocpp_csms.station_runtime import StationRuntime

from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, wait_for, ws_url
from .station_peer import station_connection
from .test_transactions import LIFETIME, SESSION, START, event, send

STEP_WH = 100.0
FIRST_WH = 1_000.0  # a young meter: what is lost in a kill is more than 10 % of it (a "reset" to the recorder)


@pytest.fixture(autouse=True)
def mock_recorder_before_hass(async_test_recorder: RecorderInstanceContextManager) -> None:
    """The recorder runs, so the Energy dashboard's statistics can be compiled."""


def _forget_unsaved(store: Store[Any]) -> None:
    """What a killed process loses: the store's delayed write never happens."""
    store._async_cleanup_delay_listener()
    store._async_cleanup_final_write_listener()
    store._data = None


async def _process_ends(hass: HomeAssistant, entry: MockConfigEntry, monkeypatch: pytest.MonkeyPatch) -> None:
    """The process ends here: nothing more is written (the entry is unloaded only to free the port)."""
    for runtime in entry.runtime_data.runtimes.values():
        _forget_unsaved(runtime.session_store)
        _forget_unsaved(runtime.inventory_store)
    with monkeypatch.context() as patch:

        async def nothing(_runtime: StationRuntime) -> None:
            return None

        patch.setattr(StationRuntime, "async_save_now", nothing)
        assert await hass.config_entries.async_unload(entry.entry_id)
    hass.data.pop(DATA_AUTH, None)  # a new process has new password threads


def _numbers(values: list[str]) -> list[float]:
    return [float(value) for value in values if value not in {"unknown", "unavailable"}]


async def _compile_statistics(hass: HomeAssistant, since: datetime) -> dict[str, Any]:
    """Compile every five-minute period from `since` to now, as the recorder does; the lifetime's last statistic."""
    from homeassistant.components.recorder.statistics import get_last_short_term_statistics  # noqa: PLC0415

    await async_wait_recording_done(hass)
    start = since.replace(minute=since.minute - since.minute % 5, second=0, microsecond=0)
    while start <= dt_util.utcnow():
        do_adhoc_statistics(hass, start=start)
        await async_wait_recording_done(hass)
        start += timedelta(minutes=5)
    from homeassistant.components.recorder import get_instance  # noqa: PLC0415

    last = await get_instance(hass).async_add_executor_job(
        get_last_short_term_statistics, hass, 1, LIFETIME, True, {"state", "sum"}
    )
    return dict(last[LIFETIME][0])


@pytest.mark.parametrize("restart", ["killed", "stopped", "reloaded"])
async def test_restart_mid_session_ends_exactly_at_the_register(  # noqa: PLR0917 - fixtures
    hass: HomeAssistant,
    recorder_mock: Any,
    setup_integration: SetupIntegration,
    monkeypatch: pytest.MonkeyPatch,
    restart: str,
    hass_storage: dict[str, Any],
) -> None:
    began = dt_util.utcnow()
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    shown: dict[str, list[str]] = {LIFETIME: [], SESSION: []}

    def record(changed: Event[Any]) -> None:
        if (new := changed.data["new_state"]) is not None and new.entity_id in shown:
            shown[new.entity_id].append(new.state)

    hass.bus.async_listen(EVENT_STATE_CHANGED, record)
    monkeypatch.setattr(station_runtime, "SESSION_SAVE_DELAY", 0.0)  # saved at once until seqNo 4
    register = FIRST_WH
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await send(station, event("A", 0, "Started", START, register, 0))
        for seq_no in range(1, 11):
            register += STEP_WH
            await send(station, event("A", seq_no, "Updated", START + timedelta(minutes=seq_no), register, 11_000))
            if seq_no == 4:  # 1.4 kWh saved; from here on only shown (the coalesced save is not due yet)
                await hass.async_block_till_done()
                saved = next(value["data"] for key, value in hass_storage.items() if ".sessions." in key)
                assert saved["clean"] is False
                monkeypatch.setattr(station_runtime, "SESSION_SAVE_DELAY", 3600.0)
        await hass.async_block_till_done()
        assert float(hass.states.get(LIFETIME).state) == 2.0  # type: ignore[union-attr]

        if restart == "reloaded":
            assert await hass.config_entries.async_reload(entry.entry_id)
        elif restart == "stopped":
            hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
            await hass.async_block_till_done()
    if restart != "reloaded":
        await _process_ends(hass, entry, monkeypatch)
        assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    # Away, the station charged on and queued seqNo 11-20; it replays them out of order, stamped when sent.
    sent_from = START + timedelta(hours=1)
    replay = [14, 12, 13, 11, 15, 16, 17, 18, 19, 20]
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await wait_for(lambda: hass.states.get(LIFETIME).state != "unavailable")  # type: ignore[union-attr]
        before_replay = hass.states.get(LIFETIME).state  # type: ignore[union-attr]
        # Killed, what was saved lags what was shown: unknown (not a dip) until the register is read again.
        assert before_replay == ("unknown" if restart == "killed" else "2.0")
        for sent, seq_no in enumerate(replay):
            payload = event("A", seq_no, "Updated", sent_from + timedelta(minutes=sent), FIRST_WH + STEP_WH * seq_no, 0)
            payload["offline"] = True
            await send(station, payload)
            await hass.async_block_till_done()
        register = FIRST_WH + STEP_WH * 20
        await send(station, event("A", 21, "Ended", sent_from + timedelta(minutes=11), register, 0))
        await hass.async_block_till_done()

    lifetime, session = _numbers(shown[LIFETIME]), _numbers(shown[SESSION])
    assert lifetime == sorted(lifetime), f"the lifetime energy dipped: {lifetime}"
    assert session == sorted(session), f"the session energy dipped: {session}"
    assert lifetime[-1] == register / 1000  # 3.0 kWh, the register
    assert session[-1] == (register - FIRST_WH) / 1000  # 2.0 kWh, no double count
    statistic = await _compile_statistics(hass, began)
    assert statistic["state"] == pytest.approx(3.0)
    assert statistic["sum"] == pytest.approx(2.0)  # the Energy dashboard: what the register rose, once


async def test_an_unload_writes_the_inventory_only_when_it_changed(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_storage: dict[str, Any]
) -> None:
    """An entry reload with many stations does not serialize every device model again (issue 19's reload lag)."""
    from custom_components.ocpp_csms.protocol.v201.enums import Attribute  # noqa: PLC0415
    from custom_components.ocpp_csms.station.device_model import VariableKey  # noqa: PLC0415

    from .test_control_surface import ready_station  # noqa: PLC0415

    key = station_runtime._store_key("inventory", "CP-1")
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await ready_station(hass, entry, station)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert key in hass_storage  # a new inventory: written
    written = hass_storage[key]

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    runtime = await entry.runtime_data.runtimes.async_get("CP-1")
    assert runtime.has_inventory
    hass_storage.pop(key)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert key not in hass_storage  # read at setup and not changed since: not written again

    hass_storage[key] = written
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    runtime = await entry.runtime_data.runtimes.async_get("CP-1")
    heartbeat = VariableKey("OCPPCommCtrlr", "HeartbeatInterval")
    assert runtime.device_model.update_value(heartbeat, Attribute.ACTUAL, "123")
    hass_storage.pop(key)
    assert await hass.config_entries.async_unload(entry.entry_id)
    stored = hass_storage[key]["data"]["device_model"]["variables"]  # changed: written at the unload
    assert any(
        item["key"]["variable"] == "HeartbeatInterval" and item["attributes"][0]["value"] == "123" for item in stored
    )
