"""ISO 15118 from the central system's side: certificate status, contract certificates, the EV's charging needs.

- GetCertificateStatus (M06): the OCSP responder the station names is asked through Home Assistant's shared HTTP
  session (OCSP_TIMEOUT), the answer kept until its nextUpdate (`csms/ocsp.py`); Accepted with the DER response
  (base64), or Failed with the reason when none could be had (M06.FR.02-04).
- Authorize with iso15118CertificateHashData (C07): each certificate of the contract chain is checked with OCSP;
  revoked: CertificateRevoked and Invalid (C07.FR.16); not verifiable: CertChainError and Invalid (C07.FR.17);
  good: the eMAID's own decision from the allowed tokens, Accepted, or ContractCancelled when the token is
  blocked, expired, invalid or unknown (C07.FR.13-14). A contract chain given as `certificate` (C07.FR.06) is
  checked for its validity period (C07.FR.15) and its leaf with OCSP at the URL it names.
- Get15118EVCertificate (M01, M02): a household car with an eMAID assigned gets its contract from the home mobility
  operator (`home_mobility`); any other request is forwarded to the contract certificate provider the user
  configured (a proxy that takes the request as OCPP's JSON and answers with Get15118EVCertificateResponse's JSON).
  Failed with the reason when neither answers (with the EXI answer carrying the FAILED_* code, when there is one).
- A contract the home mobility operator issued is decided by it (it is its own responder), not by OCSP.
- NotifyEVChargingNeeds: the needs are kept per EVSE for its sensors (requested energy, departure time, maximum
  current and power, SoC) and answered Accepted with a TxProfile within the EV's limits sent within 60 seconds
  (K15.FR.03, K15.FR.07-08, K17), or Rejected when no transaction runs there (K15.FR.04).
- NotifyEVChargingSchedule: the EV's schedule is kept (an attribute of the charging-limit sensor) and Accepted
  when within the limit sent, Rejected otherwise (K15.FR.11-12).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
import logging
from typing import Any, Final, Protocol
from urllib.parse import urlparse

import aiohttp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import AuthorityInformationAccessOID
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from pydantic import ValidationError

from .const import DOMAIN
from .context import StationContext
from .csms.certificate_authority import hash_data, split_chain
from .csms.ocsp import (
    REQUEST_CONTENT_TYPE,
    CertId,
    CertStatus,
    OcspAnswer,
    OcspCache,
    OcspError,
    ocsp_request,
    parse_response,
)
from .csms.station import Station
from .protocol.v201.datatypes import IdTokenInfo, StatusInfo
from .protocol.v201.enums import (
    AuthorizationStatus,
    AuthorizeCertificateStatus,
    ChargingRateUnit,
    EnergyTransferMode,
    GenericStatus,
    GetCertificateStatus,
    HashAlgorithm,
    Iso15118EVCertificateStatus,
    NotifyEVChargingNeedsStatus,
)
from .protocol.v201.messages import (
    AuthorizeRequest,
    AuthorizeResponse,
    Get15118EVCertificateRequest,
    Get15118EVCertificateResponse,
    GetCertificateStatusRequest,
    GetCertificateStatusResponse,
    NotifyEVChargingNeedsRequest,
    NotifyEVChargingNeedsResponse,
    NotifyEVChargingScheduleRequest,
    NotifyEVChargingScheduleResponse,
)
from .signals import evse_signal
from .v2g.contract import ContractOutcome

_LOGGER = logging.getLogger(__name__)

#: How long an OCSP responder or the contract provider may take (ISO 15118-2 gives the EV 5 s for a certificate
#: installation; Authorize may take longer, C07 remark).
OCSP_TIMEOUT: Final = 5.0
PROVIDER_TIMEOUT: Final = 4.5
#: GetCertificateStatusResponse.ocspResult: at most 5500 characters.
MAX_OCSP_RESULT: Final = 5500
#: Token decisions that make a valid contract "cancelled" (C07.FR.13).
NOT_ALLOWED: Final = frozenset(
    {
        AuthorizationStatus.BLOCKED,
        AuthorizationStatus.EXPIRED,
        AuthorizationStatus.INVALID,
        AuthorizationStatus.UNKNOWN,
    }
)

type HomeContract = Callable[[str, Get15118EVCertificateRequest], Awaitable[ContractOutcome | None]]
"""The home mobility operator's answer for a station's request (None: no car has an eMAID assigned)."""
type OwnContractStatus = Callable[[AuthorizeRequest], Awaitable[AuthorizeCertificateStatus | None]]
"""The status of a contract the home mobility operator issued (None: not one of its contracts)."""

type EvScheduleSender = Callable[[str, int, float, ChargingRateUnit], Awaitable[float]]
"""Sends a TxProfile for the EVSE's transaction of at most this limit (EV's maximum); the limit sent."""


@dataclass(frozen=True, slots=True)
class EvNeeds:
    """What an EV said it needs (NotifyEVChargingNeeds), in Home Assistant's units."""

    transfer_mode: str
    requested_energy_wh: float | None
    departure_time: datetime | None
    max_current_a: float | None
    max_power_w: float | None
    state_of_charge: float | None
    received_at: datetime


@dataclass(frozen=True, slots=True)
class EvChosenSchedule:
    """The schedule an EV chose (NotifyEVChargingSchedule), and whether it kept within the limit sent."""

    time_base: datetime
    unit: str
    periods: tuple[tuple[int, float], ...]
    accepted: bool

    def attributes(self) -> dict[str, Any]:
        """For the charging-limit sensor's attributes."""
        return {
            "time_base": self.time_base.isoformat(),
            "unit": self.unit,
            "periods": [{"start": start, "limit": limit} for start, limit in self.periods],
            "within_limit": self.accepted,
        }


def _needs(request: NotifyEVChargingNeedsRequest, now: datetime) -> EvNeeds:
    needs = request.charging_needs
    energy = current = power = soc = None
    if (ac := needs.ac_charging_parameters) is not None:
        energy, current = float(ac.energy_amount), float(ac.ev_max_current)
        phases = {"AC_single_phase": 1, "AC_two_phase": 2}.get(needs.requested_energy_transfer.value, 3)
        power = float(ac.ev_max_current * ac.ev_max_voltage * phases)
    if (dc := needs.dc_charging_parameters) is not None:
        energy = float(dc.energy_amount) if dc.energy_amount is not None else None
        current = float(dc.ev_max_current)
        power = float(dc.ev_max_power) if dc.ev_max_power is not None else float(dc.ev_max_current * dc.ev_max_voltage)
        soc = float(dc.state_of_charge) if dc.state_of_charge is not None else None
    return EvNeeds(
        transfer_mode=needs.requested_energy_transfer.value,
        requested_energy_wh=energy,
        departure_time=needs.departure_time,
        max_current_a=current,
        max_power_w=power,
        state_of_charge=soc,
        received_at=now,
    )


class EvNeedsListener(Protocol):
    """The departure planner's `ev_needs_changed`: whether it takes what the EV needs."""

    def __call__(  # noqa: D102 - the protocol says it
        self,
        station_id: str,
        evse_id: int,
        *,
        energy_wh: float | None,
        departure: datetime | None,
        max_current: float | None,
    ) -> bool: ...


class Iso15118:
    """ISO 15118 for one config entry's stations: OCSP, contract certificates, EV charging needs."""

    def __init__(
        self,
        context: StationContext,
        *,
        provider_url: str | None,
        ev_schedule: EvScheduleSender,
        has_transaction: Callable[[str, int], bool],
        needs_changed: EvNeedsListener,
        home_contract: HomeContract | None = None,
        own_contract_status: OwnContractStatus | None = None,
    ) -> None:
        """Serve M06, M01/M02 and K15-K17; `ev_schedule` sends the TxProfile for an EV's needs.

        `home_contract` and `own_contract_status` are the home mobility operator's (contracts for the household's
        cars).

        `needs_changed` gives the departure planner what an EV needs; when it takes them (the smart mode), its
        plan is the EV's schedule and `ev_schedule` is not used.
        """
        self.context = context
        self.provider_url = provider_url or None
        self._ev_schedule = ev_schedule
        self._has_transaction = has_transaction
        self._needs_changed = needs_changed
        self._home_contract = home_contract
        self._own_contract_status = own_contract_status
        self.cache = OcspCache()
        self.needs: dict[tuple[str, int], EvNeeds] = {}
        self.schedules: dict[tuple[str, int], EvChosenSchedule] = {}
        #: The limit of the TxProfile last sent for an EV's needs, per EVSE (and its unit).
        self.sent: dict[tuple[str, int], tuple[float, ChargingRateUnit]] = {}
        central = context.central
        central.handle(GetCertificateStatusRequest, self._get_certificate_status)
        central.handle(Get15118EVCertificateRequest, self._get_15118_ev_certificate)
        central.handle(NotifyEVChargingNeedsRequest, self._notify_ev_charging_needs)
        central.handle(NotifyEVChargingScheduleRequest, self._notify_ev_charging_schedule)

    # ---- OCSP (M06, C07) -----------------------------------------------------------------------------------

    async def async_ocsp(self, cert_id: CertId) -> OcspAnswer:
        """The responder's answer about a certificate (kept per validity); OcspError when there is none."""
        now = datetime.now(UTC)
        if (kept := self.cache.get(cert_id, now)) is not None:
            return kept
        if urlparse(cert_id.responder_url).scheme not in ("http", "https"):
            raise OcspError(f"responder URL {cert_id.responder_url!r} is not http(s)")
        body = ocsp_request(cert_id)
        session = async_get_clientsession(self.context.hass)
        try:
            async with (
                asyncio.timeout(OCSP_TIMEOUT),
                session.post(
                    cert_id.responder_url, data=body, headers={"Content-Type": REQUEST_CONTENT_TYPE}
                ) as response,
            ):
                if response.status != 200:
                    raise OcspError(f"the responder answered HTTP {response.status}")
                der = await response.read()
        except (aiohttp.ClientError, TimeoutError) as err:
            raise OcspError(f"the responder cannot be reached ({type(err).__name__})") from err
        answer = parse_response(der, cert_id, datetime.now(UTC))
        self.cache.put(cert_id, answer, datetime.now(UTC))
        return answer

    async def _get_certificate_status(
        self, station: Station, request: GetCertificateStatusRequest
    ) -> GetCertificateStatusResponse:
        data = request.ocsp_request_data
        cert_id = CertId(
            data.hash_algorithm, data.issuer_name_hash, data.issuer_key_hash, data.serial_number, data.responder_url
        )
        try:
            result = _result(await self.async_ocsp(cert_id))
        except OcspError as err:
            _LOGGER.info("%s: OCSP status of %s not available: %s", station.station_id, data.serial_number, err)
            return GetCertificateStatusResponse(
                status=GetCertificateStatus.FAILED,
                status_info=StatusInfo(reason_code="Unspecified", additional_info=str(err)[:512]),
            )
        return GetCertificateStatusResponse(status=GetCertificateStatus.ACCEPTED, ocsp_result=result)

    async def _chain_status(self, cert_ids: list[CertId]) -> AuthorizeCertificateStatus:
        """The contract chain's status from OCSP: revoked beats unverifiable beats good (C07.FR.14-17)."""
        results: list[AuthorizeCertificateStatus] = []
        for cert_id in cert_ids:
            try:
                answer = await self.async_ocsp(cert_id)
            except OcspError as err:
                _LOGGER.info("Contract certificate %s cannot be verified: %s", cert_id.serial_number, err)
                results.append(AuthorizeCertificateStatus.CERT_CHAIN_ERROR)
                continue
            results.append(
                {
                    CertStatus.GOOD: AuthorizeCertificateStatus.ACCEPTED,
                    CertStatus.REVOKED: AuthorizeCertificateStatus.CERTIFICATE_REVOKED,
                    CertStatus.UNKNOWN: AuthorizeCertificateStatus.CERT_CHAIN_ERROR,
                }[answer.status]
            )
        for worst in (AuthorizeCertificateStatus.CERTIFICATE_REVOKED, AuthorizeCertificateStatus.CERT_CHAIN_ERROR):
            if worst in results:
                return worst
        return AuthorizeCertificateStatus.ACCEPTED

    @staticmethod
    def _chain_ids(pem: str, now: datetime) -> list[CertId] | AuthorizeCertificateStatus:
        """The OCSP ids of a contract chain given as PEM (C07.FR.06), or its status when it is already decided."""
        try:
            chain = split_chain(pem)
        except ValueError:
            return AuthorizeCertificateStatus.CERT_CHAIN_ERROR
        leaf = chain[0]
        if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
            return AuthorizeCertificateStatus.CERTIFICATE_EXPIRED
        if len(chain) < 2:
            return AuthorizeCertificateStatus.CERT_CHAIN_ERROR
        try:
            leaf.verify_directly_issued_by(chain[1])
            access = leaf.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
        except ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound:
            return AuthorizeCertificateStatus.CERT_CHAIN_ERROR
        urls = [
            str(item.access_location.value)
            for item in access
            if item.access_method == AuthorityInformationAccessOID.OCSP
        ]
        if not urls:
            return AuthorizeCertificateStatus.CERT_CHAIN_ERROR
        data = hash_data(leaf, chain[1], HashAlgorithm.SHA256)
        return [CertId(data.hash_algorithm, data.issuer_name_hash, data.issuer_key_hash, data.serial_number, urls[0])]

    async def check_contract(self, station_id: str, request: AuthorizeRequest, info: IdTokenInfo) -> AuthorizeResponse:
        """Authorize with a contract certificate (C07): the certificate status and the eMAID's decision."""
        now = datetime.now(UTC)
        hashes = request.iso15118_certificate_hash_data
        own = await self._own_contract_status(request) if self._own_contract_status is not None else None
        ids: list[CertId] | AuthorizeCertificateStatus
        if own is not None:
            ids = own
        elif hashes:
            ids = [
                CertId(d.hash_algorithm, d.issuer_name_hash, d.issuer_key_hash, d.serial_number, d.responder_url)
                for d in hashes
            ]
        else:
            ids = self._chain_ids(request.certificate or "", now)
        status = ids if isinstance(ids, AuthorizeCertificateStatus) else await self._chain_status(ids)
        if status is AuthorizeCertificateStatus.CERTIFICATE_EXPIRED:
            info = IdTokenInfo(status=AuthorizationStatus.EXPIRED)  # C07.FR.15
        elif status is not AuthorizeCertificateStatus.ACCEPTED:
            info = IdTokenInfo(status=AuthorizationStatus.INVALID)  # C07.FR.16, C07.FR.17
        elif info.status in NOT_ALLOWED:
            status = AuthorizeCertificateStatus.CONTRACT_CANCELLED  # C07.FR.13
        _LOGGER.info(
            "%s: contract %s: certificate %s, token %s", station_id, request.id_token.id_token, status, info.status
        )
        return AuthorizeResponse(id_token_info=info, certificate_status=status)

    # ---- contract certificates (M01, M02) --------------------------------------------------------------------

    async def _get_15118_ev_certificate(
        self, station: Station, request: Get15118EVCertificateRequest
    ) -> Get15118EVCertificateResponse:
        home = await self._home_contract(station.station_id, request) if self._home_contract is not None else None
        if home is not None and (home.accepted or self.provider_url is None):
            exi = base64.b64encode(home.exi_response).decode() if home.exi_response else ""
            if home.accepted:
                return Get15118EVCertificateResponse(status=Iso15118EVCertificateStatus.ACCEPTED, exi_response=exi)
            return _ev_certificate_failed(f"Home mobility operator: {home.reason}", exi)
        if self.provider_url is None:
            return _ev_certificate_failed(
                "No contract certificate provider is configured and no car has an eMAID assigned"
            )
        payload = {"stationId": station.station_id, **request.to_payload()}
        session = async_get_clientsession(self.context.hass)
        try:
            async with (
                asyncio.timeout(PROVIDER_TIMEOUT),
                session.post(self.provider_url, json=payload) as response,
            ):
                if response.status != 200:
                    return _ev_certificate_failed(f"The contract certificate provider answered HTTP {response.status}")
                answer = Get15118EVCertificateResponse.model_validate_json(await response.read())
        except (aiohttp.ClientError, TimeoutError, ValueError, ValidationError) as err:
            _LOGGER.warning("%s: contract certificate provider failed: %s", station.station_id, type(err).__name__)
            return _ev_certificate_failed(f"The contract certificate provider failed ({type(err).__name__})")
        _LOGGER.info("%s: contract certificate %s: %s", station.station_id, request.action, answer.status)
        return answer

    # ---- EV charging needs and schedule (K15-K17) ------------------------------------------------------------

    async def _notify_ev_charging_needs(
        self, station: Station, request: NotifyEVChargingNeedsRequest
    ) -> NotifyEVChargingNeedsResponse:
        station_id, evse_id = station.station_id, request.evse_id
        needs = _needs(request, datetime.now(UTC))
        self.needs[station_id, evse_id] = needs
        self.schedules.pop((station_id, evse_id), None)
        self.context.signal(evse_signal(self.context.entry_id, station_id, evse_id))
        _LOGGER.info(
            "%s EVSE %d: the EV needs %s Wh by %s, at most %s A / %s W",
            station_id,
            evse_id,
            needs.requested_energy_wh,
            needs.departure_time,
            needs.max_current_a,
            needs.max_power_w,
        )
        if not self._has_transaction(station_id, evse_id):
            return NotifyEVChargingNeedsResponse(
                status=NotifyEVChargingNeedsStatus.REJECTED,
                status_info=StatusInfo(reason_code="TxNotFound", additional_info="No transaction runs on this EVSE"),
            )
        if self._needs_changed(
            station_id,
            evse_id,
            energy_wh=needs.requested_energy_wh,
            departure=needs.departure_time,
            max_current=needs.max_current_a,
        ):
            return NotifyEVChargingNeedsResponse(
                status=NotifyEVChargingNeedsStatus.ACCEPTED
            )  # the plan is its schedule
        if needs.transfer_mode == EnergyTransferMode.DC.value and needs.max_power_w is not None:
            limit, unit = needs.max_power_w, ChargingRateUnit.W
        elif needs.max_current_a is not None:
            limit, unit = needs.max_current_a, ChargingRateUnit.A
        else:  # pragma: no cover - ACChargingParameters or DCChargingParameters is required (K15.FR.06)
            return NotifyEVChargingNeedsResponse(status=NotifyEVChargingNeedsStatus.REJECTED)
        self.context.background(self._send_schedule(station_id, evse_id, limit, unit), f"{DOMAIN} EV schedule")
        return NotifyEVChargingNeedsResponse(status=NotifyEVChargingNeedsStatus.ACCEPTED)

    async def _send_schedule(self, station_id: str, evse_id: int, limit: float, unit: ChargingRateUnit) -> None:
        """The TxProfile for the EV's needs, after the response went out (K15.FR.07-08: within 60 s)."""
        await asyncio.sleep(0)
        try:
            sent = await self._ev_schedule(station_id, evse_id, limit, unit)
        except Exception as err:  # noqa: BLE001 - any failure is logged; the station falls back on its own (K15)
            _LOGGER.warning("%s EVSE %d: no schedule for the EV's needs: %s", station_id, evse_id, err)
            return
        self.sent[station_id, evse_id] = (sent, unit)

    async def _notify_ev_charging_schedule(
        self, station: Station, request: NotifyEVChargingScheduleRequest
    ) -> NotifyEVChargingScheduleResponse:
        station_id, evse_id = station.station_id, request.evse_id
        schedule = request.charging_schedule
        sent = self.sent.get((station_id, evse_id))
        within = sent is None or (
            schedule.charging_rate_unit is sent[1]
            and all(period.limit <= sent[0] + 0.05 for period in schedule.charging_schedule_period)
        )
        self.schedules[station_id, evse_id] = EvChosenSchedule(
            time_base=request.time_base,
            unit=schedule.charging_rate_unit.value,
            periods=tuple((p.start_period, p.limit) for p in schedule.charging_schedule_period),
            accepted=within,
        )
        self.context.signal(evse_signal(self.context.entry_id, station_id, evse_id))
        if not within:
            _LOGGER.warning("%s EVSE %d: the EV's schedule exceeds the limit sent", station_id, evse_id)
        return NotifyEVChargingScheduleResponse(status=GenericStatus.ACCEPTED if within else GenericStatus.REJECTED)


def _result(answer: OcspAnswer) -> str:
    """GetCertificateStatusResponse.ocspResult: the DER response in base64, if OCPP can carry it."""
    result = answer.base64()
    if len(result) > MAX_OCSP_RESULT:
        raise OcspError(f"the OCSP response is {len(result)} characters long, more than OCPP carries")
    return result


def _ev_certificate_failed(reason: str, exi_response: str = "") -> Get15118EVCertificateResponse:
    return Get15118EVCertificateResponse(
        status=Iso15118EVCertificateStatus.FAILED,
        exi_response=exi_response,
        status_info=StatusInfo(reason_code="Unspecified", additional_info=reason[:512]),
    )
