"""Notifications a station sends that need nothing but an acknowledgement from this central system.

Status reports of features Home Assistant does not drive yet (firmware, logs, monitoring reports, display
messages, customer information, charging profile reports) are answered with their empty response,
so that a station does not retry them or count them as failures. Requests of features this central system does not
offer get the refusal the spec names for that case, never a CALLERROR: every station-initiated action of OCPP 2.0.1
is answered. Security events (A04) are logged: as warnings, except the reboot a station reports after Home
Assistant had it reset.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
import logging
from typing import Final

from ..protocol.model import OcppModel
from ..protocol.session import Handler
from ..protocol.v201.datatypes import StatusInfo
from ..protocol.v201.enums import (
    GenericStatus,
    GetCertificateStatus,
    Iso15118EVCertificateStatus,
    NotifyEVChargingNeedsStatus,
)
from ..protocol.v201.messages import (
    FirmwareStatusNotificationRequest,
    FirmwareStatusNotificationResponse,
    Get15118EVCertificateRequest,
    Get15118EVCertificateResponse,
    GetCertificateStatusRequest,
    GetCertificateStatusResponse,
    LogStatusNotificationRequest,
    LogStatusNotificationResponse,
    NotifyCustomerInformationRequest,
    NotifyCustomerInformationResponse,
    NotifyDisplayMessagesRequest,
    NotifyDisplayMessagesResponse,
    NotifyEVChargingNeedsRequest,
    NotifyEVChargingNeedsResponse,
    NotifyEVChargingScheduleRequest,
    NotifyEVChargingScheduleResponse,
    NotifyMonitoringReportRequest,
    NotifyMonitoringReportResponse,
    PublishFirmwareStatusNotificationRequest,
    PublishFirmwareStatusNotificationResponse,
    ReportChargingProfilesRequest,
    ReportChargingProfilesResponse,
    SecurityEventNotificationRequest,
    SecurityEventNotificationResponse,
    SignCertificateRequest,
    SignCertificateResponse,
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


#: A refusal's reason: the request is not supported (appendix, reason codes: UnsupportedRequest, generic).
NOT_OFFERED: Final = StatusInfo(reason_code="UnsupportedRequest", additional_info="Not offered by this central system")

#: Request model → the answer for a feature this central system does not offer.
REFUSED: Final[dict[type[OcppModel], OcppModel]] = {
    # K15.FR.04 / K17.FR.04: the CSMS cannot provide a charging schedule for the EV's needs.
    NotifyEVChargingNeedsRequest: NotifyEVChargingNeedsResponse(
        status=NotifyEVChargingNeedsStatus.REJECTED, status_info=NOT_OFFERED
    ),
    # K15.FR.11: no schedule of ours was given, so the EV's is within what we asked.
    NotifyEVChargingScheduleRequest: NotifyEVChargingScheduleResponse(status=GenericStatus.ACCEPTED),
    # A02/A03: no CA signs station certificates here.
    SignCertificateRequest: SignCertificateResponse(status=GenericStatus.REJECTED, status_info=NOT_OFFERED),
    # M06: no OCSP responder is asked.
    GetCertificateStatusRequest: GetCertificateStatusResponse(
        status=GetCertificateStatus.FAILED, status_info=NOT_OFFERED
    ),
    # M01/M02: no ISO 15118 contract certificates are provided.
    Get15118EVCertificateRequest: Get15118EVCertificateResponse(
        status=Iso15118EVCertificateStatus.FAILED, exi_response="", status_info=NOT_OFFERED
    ),
}


def _refuse(station_id: str, answer: OcppModel) -> Callable[[OcppModel], Awaitable[OcppModel]]:
    async def handler(request: OcppModel) -> OcppModel:
        _LOGGER.debug("%s: %s refused: not offered", station_id, type(request).__name__)
        return answer

    return handler


def _acknowledge(station_id: str, response: type[OcppModel]) -> Callable[[OcppModel], Awaitable[OcppModel]]:
    async def handler(request: OcppModel) -> OcppModel:
        _LOGGER.debug("%s: %s acknowledged", station_id, type(request).__name__)
        return response()

    return handler


def notification_handler(station: Station, request: type[OcppModel]) -> Handler[OcppModel, OcppModel] | None:
    """The handler of a notification that needs only an acknowledgement (or a refusal), or of a security event.

    Made when such a CALL arrives: a thousand sessions do not each hold a few dozen handlers.
    """
    station_id = station.station_id
    if (response := ACKNOWLEDGED.get(request)) is not None:
        return _acknowledge(station_id, response)
    if (answer := REFUSED.get(request)) is not None:
        return _refuse(station_id, answer)
    if request is SecurityEventNotificationRequest:
        return partial(_security_event, station)
    return None


async def _security_event(
    station: Station, request: SecurityEventNotificationRequest
) -> SecurityEventNotificationResponse:
    """Log a security event; a reboot Home Assistant asked for (shortly before) only at info level."""
    station_id = station.station_id
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
