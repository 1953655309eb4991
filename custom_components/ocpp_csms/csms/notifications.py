"""Notifications a station sends that need nothing but an acknowledgement from this central system.

Status reports of features Home Assistant does not drive yet (firmware, logs, monitoring reports, display
messages, customer information, reservations, charging profile reports) are answered with their empty response,
so that a station does not retry them or count them as failures. Security events (A04) are logged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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
    ReservationStatusUpdateRequest,
    ReservationStatusUpdateResponse,
    SecurityEventNotificationRequest,
    SecurityEventNotificationResponse,
)

_LOGGER = logging.getLogger(__name__)

#: Request model → the (empty) response that acknowledges it.
ACKNOWLEDGED: Final[dict[type[OcppModel], type[OcppModel]]] = {
    FirmwareStatusNotificationRequest: FirmwareStatusNotificationResponse,
    LogStatusNotificationRequest: LogStatusNotificationResponse,
    NotifyCustomerInformationRequest: NotifyCustomerInformationResponse,
    NotifyDisplayMessagesRequest: NotifyDisplayMessagesResponse,
    NotifyMonitoringReportRequest: NotifyMonitoringReportResponse,
    PublishFirmwareStatusNotificationRequest: PublishFirmwareStatusNotificationResponse,
    ReportChargingProfilesRequest: ReportChargingProfilesResponse,
    ReservationStatusUpdateRequest: ReservationStatusUpdateResponse,
}


def _acknowledge(station_id: str, response: type[OcppModel]) -> Callable[[OcppModel], Awaitable[OcppModel]]:
    async def handler(request: OcppModel) -> OcppModel:
        _LOGGER.debug("%s: %s acknowledged", station_id, type(request).__name__)
        return response()

    return handler


def register_acknowledgements(session: RpcSession, station_id: str) -> None:
    """Serve the notifications that need only an acknowledgement, and log security events."""
    for request, response in ACKNOWLEDGED.items():
        session.on(request, _acknowledge(station_id, response))

    async def security_event(request: SecurityEventNotificationRequest) -> SecurityEventNotificationResponse:
        _LOGGER.warning(
            "%s: security event %s at %s%s",
            station_id,
            request.type,
            request.timestamp.isoformat(),
            f" ({request.tech_info})" if request.tech_info else "",
        )
        return SecurityEventNotificationResponse()

    session.on(SecurityEventNotificationRequest, security_event)
