"""Abuse against the real listener (issue 19): each one isolated to its connection or address, others unaffected.

Oversized frames, a permessage-deflate bomb, a handshake that never finishes, many connections from one address,
a station flooding CALLs, a station that answers none of ours.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from homeassistant.core import HomeAssistant
import orjson
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from custom_components.ocpp_csms.const import CONF_PORT
from custom_components.ocpp_csms.csms import listener
from custom_components.ocpp_csms.protocol.session import MAX_QUEUED_CALLS, CallQueueFull, CallTimeout
from custom_components.ocpp_csms.protocol.v201.enums import MessageTrigger
from custom_components.ocpp_csms.protocol.v201.messages import TriggerMessageRequest, TriggerMessageResponse

from .conftest import SetupIntegration, trusted_station, wait_for, ws_url
from .station_peer import SUBPROTOCOL, station_connection

BOOT = {"reason": "PowerUp", "chargingStation": {"model": "Flood", "vendorName": "ACME"}}


def open_station(station_id: str) -> dict[str, Any]:
    return trusted_station(station_id, password=None)


async def raw(entry: MockConfigEntry, station_id: str, **kwargs: Any) -> ClientConnection:
    """A raw websocket station (no password), not yet booted."""
    return await connect(f"{ws_url(entry)}/{station_id}", subprotocols=[SUBPROTOCOL], open_timeout=5, **kwargs)


async def exchange(client: ClientConnection, frame: list[Any]) -> list[Any]:
    await client.send(orjson.dumps(frame).decode())
    answer: list[Any] = orjson.loads(await asyncio.wait_for(client.recv(), 5))
    return answer


async def assert_healthy(entry: MockConfigEntry, station_id: str = "CP-OK") -> None:
    """Another station connects, boots and is served as usual."""
    async with station_connection(ws_url(entry), station_id) as station:
        assert (await station.boot()).status == "Accepted"


async def closed_code(client: ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed):
        async with asyncio.timeout(10):
            while True:
                await client.recv()
    return client.close_code


async def test_an_oversized_frame_closes_only_its_connection(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[open_station("CP-BIG"), open_station("CP-OK")])
    client = await raw(entry, "CP-BIG", max_size=None)
    payload = '{"a":"' + "A" * listener.MAX_MESSAGE_SIZE + '"}'
    await client.send(f'[2,"1","Heartbeat",{payload}]')
    assert await closed_code(client) == 1009  # message too big
    await assert_healthy(entry)


async def test_a_permessage_deflate_bomb_is_cut_off_at_the_size_limit(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[open_station("CP-BOMB"), open_station("CP-OK")])
    client = await raw(entry, "CP-BOMB", compression="deflate")
    assert client.protocol.extensions  # permessage-deflate negotiated
    bomb = '[2,"1","Heartbeat",{"a":"' + "0" * (4 * listener.MAX_MESSAGE_SIZE) + '"}]'
    await client.send(bomb)  # 16 MiB that compress to ~16 kB
    assert await closed_code(client) == 1009
    await assert_healthy(entry)


async def test_a_handshake_that_never_finishes_is_dropped(
    hass: HomeAssistant, setup_integration: SetupIntegration, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listener, "OPEN_TIMEOUT", 0.3)
    entry = await setup_integration(stations=[open_station("CP-OK")])
    port = entry.data[CONF_PORT]
    silent = await asyncio.open_connection("127.0.0.1", port)
    slow = await asyncio.open_connection("127.0.0.1", port)
    slow[1].write(b"GET /ocpp/CP-SLOW HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the rest
    await assert_healthy(entry)  # served meanwhile
    async with asyncio.timeout(10):
        for reader, writer in (silent, slow):
            assert await reader.read() == b""  # closed by the listener
            writer.close()


async def test_many_connections_from_one_address_are_refused_beyond_the_limit(
    hass: HomeAssistant, setup_integration: SetupIntegration, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listener, "MAX_CONNECTIONS_PER_ADDRESS", 4)
    ids = [f"CP-{n}" for n in range(6)]
    entry = await setup_integration(stations=[open_station(station_id) for station_id in ids])
    held = [await raw(entry, station_id) for station_id in ids[:4]]
    with pytest.raises(InvalidStatus) as refused:
        await raw(entry, ids[4])
    assert refused.value.response.status_code == 429
    # Another address is not affected (127.0.0.2 is loopback too).
    other = await raw(entry, ids[4], local_addr=("127.0.0.2", 0))
    assert (await exchange(other, [2, "b", "BootNotification", BOOT]))[2]["status"] == "Accepted"
    await held[0].close()
    await wait_for(lambda: entry.runtime_data.listeners[0].refused_connections == 1)
    again = await raw(entry, ids[5])  # a place became free
    assert (await exchange(again, [2, "b", "BootNotification", BOOT]))[2]["status"] == "Accepted"
    for client in (*held[1:], other, again):
        await client.close()


async def test_a_station_flooding_messages_is_read_at_its_rate(
    hass: HomeAssistant,
    setup_integration: SetupIntegration,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(listener, "MESSAGE_RATE", 500.0)
    monkeypatch.setattr(listener, "MESSAGE_BURST", 10.0)
    entry = await setup_integration(stations=[open_station("CP-FLOOD"), open_station("CP-OK")])
    client = await raw(entry, "CP-FLOOD")
    assert (await exchange(client, [2, "b", "BootNotification", BOOT]))[2]["status"] == "Accepted"
    with caplog.at_level(logging.WARNING):
        for number in range(100):  # without waiting for the answers
            await client.send(orjson.dumps([2, f"h{number}", "Heartbeat", {}]).decode())
        await assert_healthy(entry)  # another station is served during the flood
        answers: dict[str, list[Any]] = {}
        async with asyncio.timeout(10):
            while len(answers) < 100:
                frame = orjson.loads(await client.recv())
                if frame[0] in {3, 4} and str(frame[1]).startswith("h"):
                    answers[frame[1]] = frame
    # Every CALL answered (a result, or GenericError beyond the concurrent CALLs), none lost.
    assert {frame[0] if frame[0] == 3 else frame[2] for frame in answers.values()} <= {3, "GenericError"}
    assert entry.runtime_data.listeners[0].rate_limited > 0
    lines = [record.message for record in caplog.records if "messages/s" in record.message]
    assert lines == ["CP-FLOOD: sends more than 500 messages/s: its messages are read at that rate from now on"]
    await client.close()


async def test_answers_to_our_calls_are_not_counted_by_the_rate_limit(
    hass: HomeAssistant, setup_integration: SetupIntegration, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A station that answers a burst of our CALLs at once is no flood; results answering nothing still count."""
    monkeypatch.setattr(listener, "MESSAGE_RATE", 5.0)
    monkeypatch.setattr(listener, "MESSAGE_BURST", 5.0)
    entry = await setup_integration(stations=[open_station("CP-FAST")])
    client = await raw(entry, "CP-FAST")
    assert (await exchange(client, [2, "b", "BootNotification", BOOT]))[2]["status"] == "Accepted"
    central = entry.runtime_data.central
    session = central.stations["CP-FAST"].session
    listening = entry.runtime_data.listeners[0]
    limited_before = listening.rate_limited
    trigger = TriggerMessageRequest(requested_message=MessageTrigger.HEARTBEAT)

    async def answer_ours() -> int:
        answered = 0
        while answered < 30:
            frame = orjson.loads(await asyncio.wait_for(client.recv(), 5))
            if frame[0] == 2 and frame[2] == "TriggerMessage":
                await client.send(orjson.dumps([3, frame[1], {"status": "Accepted"}]).decode())
                answered += 1
            elif frame[0] == 2:
                await client.send(orjson.dumps([4, frame[1], "NotSupported", "", {}]).decode())
        return answered

    answering = asyncio.create_task(answer_ours())
    outcomes = [await session.call(trigger, TriggerMessageResponse) for _ in range(30)]
    assert await answering == 30
    assert all(outcome.status == "Accepted" for outcome in outcomes)
    assert listening.rate_limited == limited_before  # 30 answers within the burst of 5: none counted
    # Results that answer nothing are counted like any other message.
    for number in range(10):
        await client.send(orjson.dumps([3, f"nothing-{number}", {}]).decode())
    await wait_for(lambda: listening.rate_limited > limited_before)
    await client.close()


async def test_a_station_that_never_answers_our_calls(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(stations=[open_station("CP-MUTE"), open_station("CP-OK")])
    client = await raw(entry, "CP-MUTE")
    central = entry.runtime_data.central
    await wait_for(lambda: "CP-MUTE" in central.stations)
    session = central.stations["CP-MUTE"].session
    session.call_timeout = 0.01  # what the integration asks after the boot times out at once too
    assert (await exchange(client, [2, "b", "BootNotification", BOOT]))[2]["status"] == "Accepted"
    trigger = TriggerMessageRequest(requested_message=MessageTrigger.HEARTBEAT)
    outcomes = await asyncio.gather(
        *(session.call_outcome(trigger, TriggerMessageResponse) for _ in range(MAX_QUEUED_CALLS + 20))
    )
    assert all(isinstance(outcome, CallTimeout) for outcome in outcomes)
    assert sum(isinstance(outcome, CallQueueFull) for outcome in outcomes) >= 20
    # Its own CALLs are still served, and another station is not affected.
    heartbeat = await exchange(client, [2, "hb", "Heartbeat", {}])
    while heartbeat[0] != 3:  # skip our CALLs it never answers
        heartbeat = orjson.loads(await asyncio.wait_for(client.recv(), 5))
    assert heartbeat[1] == "hb"
    await assert_healthy(entry)
    await client.close()


async def test_a_station_counting_up_evse_ids_gets_a_bounded_number_of_devices(
    hass: HomeAssistant, setup_integration: SetupIntegration, caplog: pytest.LogCaptureFixture
) -> None:
    from homeassistant.helpers import device_registry as dr  # noqa: PLC0415

    from custom_components.ocpp_csms.station.transactions import MAX_EVSES  # noqa: PLC0415

    entry = await setup_integration(stations=[open_station("CP-MANY")])
    client = await raw(entry, "CP-MANY")
    assert (await exchange(client, [2, "b", "BootNotification", BOOT]))[2]["status"] == "Accepted"
    with caplog.at_level(logging.WARNING):
        for evse_id in range(1, MAX_EVSES + 11):
            status = {
                "timestamp": "2026-12-01T05:00:00Z",
                "connectorStatus": "Available",
                "evseId": evse_id,
                "connectorId": 1,
            }
            answer = await exchange(client, [2, f"s{evse_id}", "StatusNotification", status])
            while answer[0] == 2:  # the CSMS's own CALLs: not answered here
                answer = orjson.loads(await asyncio.wait_for(client.recv(), 5))
        await hass.async_block_till_done()
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert len(devices) == MAX_EVSES + 1  # the station and its first MAX_EVSES EVSEs
    assert sum("get no device" in record.message for record in caplog.records) == 1
    await client.close()
