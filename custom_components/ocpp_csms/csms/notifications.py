"""Notifications a station sends that need nothing but an acknowledgement from this central system.

Status reports of features Home Assistant does not drive yet (firmware, logs, monitoring reports, display
messages, customer information, charging profile reports) are answered with their empty response,
so that a station does not retry them or count them as failures. Security events (A04) are logged: as warnings,
except the reboot a station reports after Home Assistant had it reset.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
import logging
from typing import Final

from ..protocol.model import OcppModel
from ..protocol.session import RpcSession
from ..protocol.v201.messages import (
    FirmwareStatusNotificationRequest,
    FirmwareStatusNotificationResponse,
    LogStatusNotificationRequest,
    LogStatusNotificationResponse,
    NotifyCustomerInformationRequest,
    NotifyCustomerInformationResponse,
    NotifyDisplayMessagesRequest,
    NotifyDisplayMessagesResponse,
    NotifyMonitoringReportRequest,
    NotifyMonitoringReportResponse,
    PublishFirmwareStatusNotificationRequest,
    PublishFirmwareStatusNotificationResponse,
    ReportChargingProfilesRequest,
    ReportChargingProfilesResponse,
    SecurityEventNotificationRequest,
    SecurityEventNotificationResponse,
)
from .station import Station

_LOGGER = logging.getLogger(__name__)

#: The security event a station sends after it rebooted (Part 2 appendix, security events: critical).
REBOOT_EVENT: Final = "ResetOrReboot"
#: A reboot reported this soon after Home Assistant had the station reset is the one it asked for.
REBOOT_WINDOW: Final = timedelta(minutes=15)

#: Request model → the (empty) response that acknowledges it.
ACKNOWLEDGED: Final[dict[type[OcppModel], type[OcppModel]]] = {
    FirmwareStatusNotificationRequest: FirmwareStatusNotificationResponse,
    LogStatusNotificationRequest: LogStatusNotificationResponse,
    NotifyCustomerInformationRequest: NotifyCustomerInformationResponse,
    NotifyDisplayMessagesRequest: NotifyDisplayMessagesResponse,
    NotifyMonitoringReportRequest: NotifyMonitoringReportResponse,
    PublishFirmwareStatusNotificationRequest: PublishFirmwareStatusNotificationResponse,
    ReportChargingProfilesRequest: ReportChargingProfilesResponse,
}


def _acknowledge(station_id: str, response: type[OcppModel]) -> Callable[[OcppModel], Awaitable[OcppModel]]:
    async def handler(request: OcppModel) -> OcppModel:
        _LOGGER.debug("%s: %s acknowledged", station_id, type(request).__name__)
        return response()

    return handler


def register_acknowledgements(session: RpcSession, station: Station) -> None:
    """Serve the notifications that need only an acknowledgement, and log security events."""
    station_id = station.station_id
    for request, response in ACKNOWLEDGED.items():
        session.on(request, _acknowledge(station_id, response))

    async def security_event(request: SecurityEventNotificationRequest) -> SecurityEventNotificationResponse:
        requested = station.reboot_requested
        if request.type == REBOOT_EVENT and requested is not None and datetime.now(UTC) - requested < REBOOT_WINDOW:
            station.reboot_requested = None
            _LOGGER.info("%s: rebooted as Home Assistant asked (security event %s)", station_id, request.type)
        else:
            _LOGGER.warning(
                "%s: security event %s at %s, tech info %r",
                station_id,
                request.type,
                request.timestamp.isoformat(),
                request.tech_info,
            )
        return SecurityEventNotificationResponse()

    session.on(SecurityEventNotificationRequest, security_event)
