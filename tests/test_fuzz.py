"""A bounded fuzzing run against the real listener (issue 19); `scripts/bench fuzz` runs 100,000 frames and more.

Frames from the 128 official schemas and a seed corpus of real stations' frames, mutated (tools/fuzz_frames.py):
every CALL is answered with a result or a CALLERROR whose code Part 4 names, no handler fails (InternalError),
nothing escapes to the event loop, the fuzzed station's own session stays usable and a second station is served.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from homeassistant.core import HomeAssistant
import orjson
import pytest
from websockets.asyncio.client import connect

from custom_components.ocpp_csms.csms import listener
from tools.fuzz_frames import FrameFuzzer, fuzz_station

from .conftest import SetupIntegration, trusted_station, ws_url
from .station_peer import SUBPROTOCOL, station_connection

FRAMES = 600
BOOT = {"reason": "PowerUp", "chargingStation": {"model": "Fuzz", "vendorName": "ACME"}}


@pytest.mark.parametrize("seed", [19, 2026])
async def test_fuzzed_frames_get_part4_answers_and_harm_nobody(
    hass: HomeAssistant,
    setup_integration: SetupIntegration,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    seed: int,
) -> None:
    monkeypatch.setattr(listener, "MESSAGE_RATE", 1e9)  # the fuzzer sends as fast as it is answered
    escaped: list[dict[str, Any]] = []
    hass.loop.set_exception_handler(lambda _loop, context: escaped.append(context))
    entry = await setup_integration(
        stations=[trusted_station("FUZZ", password=None), trusted_station("CP-OK", password=None)]
    )
    async with connect(f"{ws_url(entry)}/FUZZ", subprotocols=[SUBPROTOCOL], open_timeout=5) as client:
        await client.send(orjson.dumps([2, "boot", "BootNotification", BOOT]).decode())
        assert orjson.loads(await client.recv())[2]["status"] == "Accepted"
        with caplog.at_level(logging.WARNING):
            totals = await asyncio.wait_for(fuzz_station(client, FrameFuzzer(seed), FRAMES), 120)
        await hass.async_block_till_done()
        # The fuzzed station's own session still works.
        await client.send(orjson.dumps([2, "after", "Heartbeat", {}]).decode())
        while (answer := orjson.loads(await client.recv()))[0] != 3:
            pass
        assert answer[1] == "after"
    async with station_connection(ws_url(entry), "CP-OK") as station:  # a second station is served as usual
        assert (await station.boot()).status == "Accepted"

    assert totals.frames == FRAMES
    assert totals.bad_codes == 0, totals.answers
    assert totals.answers["InternalError"] == 0, [r.message for r in caplog.records if r.levelno >= logging.ERROR]
    assert sum(totals.answers.values()) > FRAMES // 2
    assert escaped == []
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("custom_components")]
    assert errors == []
