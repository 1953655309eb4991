"""The central system's own answers to notifications (without Home Assistant): made when such a CALL arrives.

Issue 19: a session holds no handler per notification kind; the central system makes the handler of an
acknowledged notification or of a refused feature when the station sends it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ocpp.exceptions import OCPPError
from ocpp.v201 import call
import pytest

from custom_components.ocpp_csms.csms.central_system import CentralSystem
from custom_components.ocpp_csms.csms.station import Station
from custom_components.ocpp_csms.protocol.v201.messages import (
    LogStatusNotificationRequest,
    LogStatusNotificationResponse,
)

from .test_no_secrets_in_logs import PASSWORD, running_central, station_session

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_acknowledged_refused_and_security_event_answers_of_the_bare_central_system(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with running_central() as (central, url), station_session(url, PASSWORD) as peer:
        assert (await peer.boot()).status == "Accepted"
        assert await peer.call(call.FirmwareStatusNotification(status="Downloaded")) is not None  # acknowledged
        refused = await peer.call(call.SignCertificate(csr="-----BEGIN CERTIFICATE REQUEST-----"))
        assert refused.status == "Rejected"  # not offered without Home Assistant's CA
        station = central.stations["CP-1"]
        station.reboot_requested = datetime.now(UTC) - timedelta(minutes=1)
        await peer.call(call.SecurityEventNotification(type="ResetOrReboot", timestamp=_now()))
        assert station.reboot_requested is None  # the reboot Home Assistant asked for
        await peer.call(call.SecurityEventNotification(type="InvalidFirmwareSignature", timestamp=_now()))
        assert "security event InvalidFirmwareSignature" in caplog.text
        with pytest.raises(OCPPError) as unserved:  # no handler of any kind: NotSupported
            await peer.call(
                call.MeterValues(evse_id=1, meter_value=[{"timestamp": _now(), "sampled_value": [{"value": 1.0}]}]),
                suppress=False,
            )
        assert unserved.value.code == "NotSupported"


async def test_an_extra_handler_wins_over_the_acknowledgement() -> None:
    async with running_central() as (central, url), station_session(url, PASSWORD) as peer:
        seen: list[str] = []

        async def log_status(station: Station, request: LogStatusNotificationRequest) -> LogStatusNotificationResponse:
            seen.append(f"{station.station_id} {request.status}")
            return LogStatusNotificationResponse()

        central.handle(LogStatusNotificationRequest, log_status)
        assert (await peer.boot()).status == "Accepted"
        await peer.call(call.LogStatusNotification(status="Uploaded"))
        assert seen == ["CP-1 Uploaded"]
        assert isinstance(central, CentralSystem)


def _now() -> str:
    return datetime.now(UTC).isoformat()
