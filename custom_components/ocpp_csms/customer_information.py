"""What a station holds about a customer (N09, N10): reported, cleared, or both.

CustomerInformation names the customer by ID token or by a customer identifier (N09.FR.04: exactly one); the
station answers in NotifyCustomerInformation parts (seqNo, tbc), also when it holds nothing (N09.FR.06) or only
cleared the data (N10.FR.06). The parts' texts are joined into the action's response.
"""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.core import callback

from .context import StationContext
from .csms.central_system import StationListener
from .csms.station import Station
from .helpers import refused, user_error
from .protocol.v201.datatypes import IdToken
from .protocol.v201.enums import CustomerInformationStatus
from .protocol.v201.messages import (
    CustomerInformationRequest,
    CustomerInformationResponse,
    NotifyCustomerInformationRequest,
    NotifyCustomerInformationResponse,
)
from .station.report_parts import ReportParts

_LOGGER = logging.getLogger(__name__)


class CustomerInformation(StationListener):
    """Customer information requests of one config entry's stations."""

    def __init__(self, context: StationContext) -> None:
        """Serve NotifyCustomerInformation."""
        self.context = context
        self._reports: ReportParts[str] = ReportParts()
        context.central.handle(NotifyCustomerInformationRequest, self._notify_customer_information)

    @callback
    def station_disconnected(self, station: Station) -> None:
        """No more report parts will come."""
        self._reports.discard_station(station.station_id)

    async def async_request(
        self,
        station_id: str,
        *,
        id_token: IdToken | None = None,
        customer_identifier: str | None = None,
        report: bool = True,
        clear: bool = False,
    ) -> dict[str, Any]:
        """CustomerInformation: the station's answer and what it reported (or that it cleared the data)."""
        if (id_token is None) == (customer_identifier is None):
            raise user_error("customer_reference_required")
        if not report and not clear:
            raise user_error("customer_report_or_clear")
        self.context.connected(station_id)
        runtime = await self.context.runtimes.async_get(station_id)
        request_id = runtime.request_id()
        response, parts = await self.context.call_for_report(
            station_id,
            CustomerInformationRequest(
                request_id=request_id,
                report=report,
                clear=clear,
                id_token=id_token,
                customer_identifier=customer_identifier,
            ),
            CustomerInformationResponse,
            parts=self._reports,
            request_id=request_id,
            accepted=lambda answer: answer.status is CustomerInformationStatus.ACCEPTED,
        )
        if parts is None:
            raise refused(station_id, "CustomerInformation", response.status.value)
        return {"status": response.status.value, "request_id": request_id, "data": "".join(parts)}

    async def _notify_customer_information(
        self, station: Station, request: NotifyCustomerInformationRequest
    ) -> NotifyCustomerInformationResponse:
        """A part of the customer information (seqNo from 0, tbc on all but the last)."""
        if not self._reports.feed(
            station.station_id, request.request_id, [request.data], tbc=bool(request.tbc), seq_no=request.seq_no
        ):
            _LOGGER.debug("%s: NotifyCustomerInformation %d not asked for", station.station_id, request.request_id)
        return NotifyCustomerInformationResponse()
