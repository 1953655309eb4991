"""Display messages (O01-O06): the station's notify entity and the display actions, against the simulator.

The simulator keeps the messages it is sent (the same id replaces, O04), reports them in NotifyDisplayMessages
parts, refuses what its DisplayMessageCtrlr does not support, and holds at most DisplayMessages.maxLimit of them.
"""

from __future__ import annotations

from typing import Any

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest

from custom_components.ocpp_csms.const import DOMAIN
from custom_components.ocpp_csms.display_messages import NOTIFY_MESSAGE_ID

from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, wait_for, ws_url
from .management import device_id
from .station_peer import station_connection
from .test_simulator import fast_config, sent, simulated

DISPLAY = "notify.sim_001_display"


async def ready(hass: HomeAssistant, entry: Any, station: Any) -> str:
    await wait_for(station.online.is_set)
    await wait_for(lambda: entry.runtime_data.runtimes["sim-001"].has_inventory)
    await hass.async_block_till_done()
    return device_id(hass, entry, "sim-001")


async def call_action(hass: HomeAssistant, action: str, data: dict[str, Any]) -> Any:
    return await hass.services.async_call(DOMAIN, action, data, blocking=True, return_response=True)


async def test_o01_o04_the_notify_entity_shows_text_on_the_display_and_replaces_its_last_message(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    async with simulated(fast_config(ws_url(entry))) as station:
        await ready(hass, entry, station)
        assert hass.states.get(DISPLAY).state == "unknown"  # type: ignore[union-attr]
        await hass.services.async_call(
            "notify",
            "send_message",
            {"entity_id": DISPLAY, "message": "Solar charging", "title": "Home"},
            blocking=True,
        )
        message = station.display_messages[NOTIFY_MESSAGE_ID]
        assert message["priority"] == "InFront"  # the display's defaults
        assert message["message"] == {"format": "UTF8", "content": "Home: Solar charging"}
        assert hass.states.get(DISPLAY).state not in ("unknown", STATE_UNAVAILABLE)  # type: ignore[union-attr]
        # Before its first message the integration asked which messages the station holds (O03).
        assert station.stats.received["GetDisplayMessages"] == 1
        await hass.services.async_call(
            "notify", "send_message", {"entity_id": DISPLAY, "message": "x" * 600}, blocking=True
        )
        assert list(station.display_messages) == [NOTIFY_MESSAGE_ID]  # replaced (O04)
        assert station.display_messages[NOTIFY_MESSAGE_ID]["message"]["content"] == "x" * 512  # cut to fit
        assert station.stats.received["GetDisplayMessages"] == 1


async def test_o01_o03_o05_messages_set_read_back_in_parts_and_cleared(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    async with simulated(fast_config(ws_url(entry), display_part_size=2)) as station:
        device = await ready(hass, entry, station)
        station.display_messages[2] = {
            "id": 2,
            "priority": "NormalCycle",
            "message": {"format": "ASCII", "content": "old"},
        }
        first = await call_action(
            hass,
            "set_display_message",
            {
                "device_id": device,
                "message": "Charging with solar power",
                "priority": "normal_cycle",
                "state": "charging",
                "language": "en-US",
                "start": "2026-11-21T08:00:00+00:00",
                "end": "2026-11-21T18:00:00",
            },
        )
        assert first == {"message_id": 3}  # 1 is the notify entity's, 2 is in use at the station
        message = station.display_messages[3]
        assert (message["priority"], message["state"], message["message"]["language"]) == (
            "NormalCycle",
            "Charging",
            "en-US",
        )
        assert message["start_date_time"].startswith("2026-11-21T08:00:00")
        second = await call_action(
            hass, "set_display_message", {"device_id": device, "message": "Idle", "state": "idle"}
        )
        assert second == {"message_id": 4}
        replaced = await call_action(
            hass, "set_display_message", {"device_id": device, "message": "Replaced", "message_id": 2}
        )
        assert replaced == {"message_id": 2}
        assert station.display_messages[2]["message"]["content"] == "Replaced"

        everything = await call_action(hass, "get_display_messages", {"device_id": device})
        assert sorted(item["id"] for item in everything["messages"]) == [2, 3, 4]  # from 2 parts (O03.FR.03)
        await wait_for(lambda: len(sent(station, "NotifyDisplayMessages")) >= 3)
        charging = await call_action(hass, "get_display_messages", {"device_id": device, "state": "charging"})
        assert [item["message"]["content"] for item in charging["messages"]] == ["Charging with solar power"]
        none = await call_action(hass, "get_display_messages", {"device_id": device, "ids": [99]})
        assert none == {"messages": []}  # Unknown (O03.FR.06)

        assert await call_action(hass, "clear_display_message", {"device_id": device, "message_id": 3}) == {
            "status": "Accepted"
        }
        assert await call_action(hass, "clear_display_message", {"device_id": device, "message_id": 3}) == {
            "status": "Unknown"
        }
        assert sorted(station.display_messages) == [2, 4]
        assert station.device_model.value("DisplayMessageCtrlr", "DisplayMessages") == "2"


async def test_o01_what_the_display_cannot_do_is_refused_before_it_is_sent(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    async with simulated(fast_config(ws_url(entry))) as station:
        device = await ready(hass, entry, station)
        before = station.stats.received["SetDisplayMessage"]
        cases = {
            "display_format_unsupported": {"format": "html"},
            "display_priority_unsupported": {"priority": "always_front"},
            "display_not_ascii": {"format": "ascii", "message": "Caf\u00e9"},
        }
        for key, extra in cases.items():
            with pytest.raises(ServiceValidationError) as raised:
                await call_action(hass, "set_display_message", {"device_id": device, "message": "Hello", **extra})
            assert raised.value.translation_key == key
        assert station.stats.received["SetDisplayMessage"] == before
        assert raised.value.translation_placeholders == {"station": "sim-001"}
        # The station's own refusals are translated errors naming its answer.
        for extra, status in (
            ({"state": "faulted"}, "NotSupportedState"),
            ({"transaction_id": "T-9"}, "UnknownTransaction"),
        ):
            with pytest.raises(HomeAssistantError) as refused:
                await call_action(hass, "set_display_message", {"device_id": device, "message": "Hello", **extra})
            assert refused.value.translation_placeholders == {
                "station": "sim-001",
                "command": "SetDisplayMessage",
                "status": status,
            }
        # At most DisplayMessages.maxLimit (10) messages (O01.FR.11).
        for _ in range(10):
            await call_action(hass, "set_display_message", {"device_id": device, "message": "Hello"})
        with pytest.raises(HomeAssistantError) as full:
            await call_action(hass, "set_display_message", {"device_id": device, "message": "One too many"})
        assert full.value.translation_key == "display_full"
        assert full.value.translation_placeholders == {"station": "sim-001", "messages": "10"}
        assert len(station.display_messages) == 10


async def test_an_ascii_display_gets_readable_ascii_from_the_notify_entity(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    config = fast_config(ws_url(entry), variables={"DisplayMessageCtrlr.SupportedFormats": "ASCII"})
    async with simulated(config) as station:
        await ready(hass, entry, station)
        await hass.services.async_call(
            "notify", "send_message", {"entity_id": DISPLAY, "message": "Caf\u00e9 \u00fcber 11 kW"}, blocking=True
        )
        assert station.display_messages[NOTIFY_MESSAGE_ID]["message"] == {
            "format": "ASCII",
            "content": "Cafe uber 11 kW",
        }


async def test_a_station_without_a_display_says_so(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001"), trusted_station("CP-1")])
    async with simulated(fast_config(ws_url(entry), display=False)) as station:
        device = await ready(hass, entry, station)
        # Its inventory has no DisplayMessageCtrlr: the display entity is unavailable, and the actions say why.
        await wait_for(lambda: hass.states.get(DISPLAY).state == STATE_UNAVAILABLE)  # type: ignore[union-attr]
        for action, data in (
            ("set_display_message", {"message": "Hello"}),
            ("get_display_messages", {}),
        ):
            with pytest.raises(HomeAssistantError) as raised:
                await call_action(hass, action, {"device_id": device, **data})
            assert raised.value.translation_key == "no_display"
        with pytest.raises(HomeAssistantError) as raised:
            await entry.runtime_data.display.async_notify("sim-001", "Hello")
        assert raised.value.translation_key == "no_display"
        # Before an inventory, the station's CALLERROR NotImplemented says the same.
        entry.runtime_data.runtimes["sim-001"].has_inventory = False
        with pytest.raises(HomeAssistantError) as raised:
            await call_action(hass, "clear_display_message", {"device_id": device, "message_id": 1})
        assert raised.value.translation_key == "no_display"
        assert station.stats.received["ClearDisplayMessage"] == 1

    # An independent station that knows nothing of display messages, and has no inventory.
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as peer:
        await peer.boot()
        await hass.async_block_till_done()
        with pytest.raises(HomeAssistantError) as raised:
            await hass.services.async_call(
                "notify", "send_message", {"entity_id": "notify.cp_1_display", "message": "Hello"}, blocking=True
            )
        assert raised.value.translation_key == "no_display"
