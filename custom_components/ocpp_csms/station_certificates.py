"""The stations' certificates managed from Home Assistant (A02-A03, M03-M05).

- SignCertificate: the station's CSR is checked and signed by the integration's CA (a ChargingStationCertificate,
  for security profile 3) or by its V2G CPO sub-CA (a V2GCertificate, the ISO 15118 SECC certificate), and sent
  back with CertificateSigned (A02.FR.11, A03.FR.11, A02.FR.14: with its type). An unacceptable CSR is Rejected
  with the reason (A02.FR.12). The certificates issued are remembered.
- Renewal: twice a day and whenever a station connects, a certificate that ends within 30 days (the one issued,
  or the TLS client certificate the station presents) is renewed by triggering SignChargingStationCertificate or
  SignV2GCertificate (A02). A failure at any step (the trigger, the CSR, CertificateSigned, no CSR within an hour)
  opens a repair naming the step and the station's answer; a renewal that succeeds closes it.
- InstallCertificate (M05), GetInstalledCertificateIds (M03) and DeleteCertificate (M04) for the actions. The
  listing is kept: each certificate with the subject and expiry the integration knows of it (those it installed
  or issued), for diagnostics and the station's *Certificate expiry* sensor (the nearest one).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
import logging
from pathlib import Path
from typing import Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.storage import Store

from .const import DOMAIN, STORAGE_VERSION
from .context import StationContext
from .csms.central_system import StationListener
from .csms.certificate_authority import (
    RENEWAL_DAYS,
    CsrRejectedError,
    HashData,
    Issuer,
    check_csr,
    ensure_v2g_issuer,
    summarize,
)
from .csms.certificates import DEFAULT_ORGANIZATION
from .csms.station import Station
from .helpers import refused, user_error
from .protocol.v201.datatypes import CertificateHashData, StatusInfo
from .protocol.v201.enums import (
    CertificateSignedStatus,
    CertificateSigningUse,
    DeleteCertificateStatus,
    GenericStatus,
    GetCertificateIdUse,
    GetInstalledCertificateStatus,
    HashAlgorithm,
    InstallCertificateStatus,
    InstallCertificateUse,
    MessageTrigger,
    TriggerMessageStatus,
)
from .protocol.v201.messages import (
    CertificateSignedRequest,
    CertificateSignedResponse,
    DeleteCertificateRequest,
    DeleteCertificateResponse,
    GetInstalledCertificateIdsRequest,
    GetInstalledCertificateIdsResponse,
    InstallCertificateRequest,
    InstallCertificateResponse,
    SignCertificateRequest,
    SignCertificateResponse,
)
from .signals import station_signal
from .tls_setup import ensure_ca
from .v2g.issuers import ensure_mo_issuer

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = f"{DOMAIN}.certificates"
SAVE_DELAY: Final = 1.0
#: How often certificates are checked for renewal (besides at each connection).
RENEWAL_CHECK: Final = timedelta(hours=12)
#: How long a triggered renewal may take before it counts as failed.
RENEWAL_TIMEOUT: Final = timedelta(hours=1)
RENEWAL_WINDOW: Final = timedelta(days=RENEWAL_DAYS)

CS: Final = CertificateSigningUse.CHARGING_STATION_CERTIFICATE
V2G: Final = CertificateSigningUse.V2G_CERTIFICATE
#: What TriggerMessage makes a station send a CSR of each type (A02).
RENEWAL_TRIGGERS: Final = {
    CS: MessageTrigger.SIGN_CHARGING_STATION_CERTIFICATE,
    V2G: MessageTrigger.SIGN_V2G_CERTIFICATE,
}
INVALID_CSR: Final = "InvalidCSR"


def renewal_issue_id(station_id: str, use: CertificateSigningUse) -> str:
    """Repair issue id: a certificate of the station could not be renewed (or signed)."""
    return f"certificate_renewal_{station_id}_{use.value}"


def _hash_dict(data: CertificateHashData) -> dict[str, str]:
    return {
        "hash_algorithm": data.hash_algorithm.value,
        "issuer_name_hash": data.issuer_name_hash,
        "issuer_key_hash": data.issuer_key_hash,
        "serial_number": data.serial_number,
    }


def _key(data: CertificateHashData | HashData) -> str:
    return "|".join(
        HashData(data.hash_algorithm, data.issuer_name_hash, data.issuer_key_hash, data.serial_number).key()
    )


class StationCertificates(StationListener):
    """Signing, renewing, installing, listing and deleting the certificates of one config entry's stations."""

    def __init__(
        self,
        context: StationContext,
        store: Store[dict[str, Any]],
        data: dict[str, Any],
        *,
        certificate_dir: Path,
        own_ca: bool,
    ) -> None:
        """Serve SignCertificate; `own_ca` False when the listener runs on the user's files (no CA key here)."""
        self.context = context
        self.store = store
        self.certificate_dir = certificate_dir
        self.own_ca = own_ca
        self._stations: dict[str, dict[str, Any]] = data.get("stations", {})
        #: Renewals triggered and not done yet: (station, type) -> when.
        self._renewing: dict[tuple[str, CertificateSigningUse], datetime] = {}
        self._sign_lock = asyncio.Lock()
        #: When (loop time) each station last accepted a station certificate from us.
        self._accepted_at: dict[tuple[str, CertificateSigningUse], float] = {}
        context.central.handle(SignCertificateRequest, self._sign_certificate)

    @staticmethod
    def storage(hass: HomeAssistant) -> Store[dict[str, Any]]:
        """Where what is known of the stations' certificates is kept (no key is ever stored here)."""
        return Store(hass, STORAGE_VERSION, STORAGE_KEY, private=True, atomic_writes=True)

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Check for renewals twice a day; the returned callable stops it."""
        return async_track_time_interval(self.context.hass, self._async_periodic_check, RENEWAL_CHECK)

    async def _async_periodic_check(self, now: datetime) -> None:
        await self.async_check_renewals(now)

    def _station(self, station_id: str) -> dict[str, Any]:
        return self._stations.setdefault(station_id, {"known": {}, "issued": {}, "installed": None})

    @callback
    def _changed(self, station_id: str) -> None:
        self.store.async_delay_save(lambda: {"stations": self._stations}, SAVE_DELAY)
        self.context.signal(station_signal(self.context.entry_id, station_id))

    async def async_save_now(self) -> None:
        """Write at once (on unload)."""
        await self.store.async_save({"stations": self._stations})

    @callback
    def forget(self, station_id: str) -> None:
        """A forgotten station's certificates are forgotten too."""
        if self._stations.pop(station_id, None) is not None:
            self.store.async_delay_save(lambda: {"stations": self._stations}, SAVE_DELAY)
        for key in [key for key in self._renewing if key[0] == station_id]:
            del self._renewing[key]

    # ---- SignCertificate (A02, A03) -------------------------------------------------------------------------

    def _issuer(self, use: CertificateSigningUse) -> Issuer:
        """The CA that signs this type of certificate (files made when missing). Blocking: in an executor."""
        if use is V2G:
            return ensure_v2g_issuer(self.certificate_dir)[0]
        if not self.own_ca:
            raise CsrRejectedError("the central system runs on certificates it did not make and holds no CA key")
        return Issuer.load(*ensure_ca(self.certificate_dir))

    def _organization(self, station_id: str, use: CertificateSigningUse) -> str:
        """The O a station's CSR must carry: its OrganizationName as reported, else the integration's (A00.FR.404)."""
        runtime = self.context.runtimes.get(station_id)
        if runtime is not None:
            components = ("ISO15118Ctrlr", "SecurityCtrlr") if use is V2G else ("SecurityCtrlr",)
            for component in components:
                info = runtime.device_model.find(component, "OrganizationName")
                if info is not None and info.value:
                    return info.value
        return DEFAULT_ORGANIZATION

    async def _sign_certificate(self, station: Station, request: SignCertificateRequest) -> SignCertificateResponse:
        station_id = station.station_id
        use = request.certificate_type or CS
        serial = station.boot.serial_number if station.boot else None
        try:
            csr = check_csr(
                request.csr, use=use, organization=self._organization(station_id, use), serial_number=serial
            )
            issuer = await self.context.hass.async_add_executor_job(self._issuer, use)
        except CsrRejectedError as err:
            _LOGGER.warning("%s: %s CSR refused: %s", station_id, use.value, err.reason)
            self._failed(station_id, use, "SignCertificate", GenericStatus.REJECTED.value)
            return SignCertificateResponse(
                status=GenericStatus.REJECTED,
                status_info=StatusInfo(reason_code=INVALID_CSR, additional_info=err.reason[:512]),
            )
        _LOGGER.info("%s: %s CSR accepted; signing it", station_id, use.value)
        self.context.background(self._send_signed(station_id, issuer, csr, use), f"{DOMAIN} CertificateSigned")
        return SignCertificateResponse(status=GenericStatus.ACCEPTED)

    async def _send_signed(self, station_id: str, issuer: Issuer, csr: Any, use: CertificateSigningUse) -> None:
        """Sign (in an executor) and send CertificateSigned once the SignCertificate response went out."""
        await asyncio.sleep(0)
        async with self._sign_lock:
            chain = await self.context.hass.async_add_executor_job(issuer.sign, csr, use)
        try:
            response = await self.context.call(
                station_id,
                CertificateSignedRequest(certificate_chain=chain, certificate_type=use),
                CertificateSignedResponse,
            )
        except HomeAssistantError:
            _LOGGER.warning("%s: CertificateSigned (%s) not answered", station_id, use.value)
            self._failed(station_id, use, "CertificateSigned", "NoAnswer")
            return
        if response.status is not CertificateSignedStatus.ACCEPTED:
            reason = response.status_info.reason_code if response.status_info else "-"
            _LOGGER.warning("%s: the station refused its new %s (%s)", station_id, use.value, reason)
            self._failed(station_id, use, "CertificateSigned", response.status.value)
            return
        summary = summarize(chain, issuer.certificate)
        record = {
            "certificate_type": use.value,
            "subject": summary.subject,
            "issuer": summary.issuer,
            "not_valid_after": summary.not_valid_after.isoformat(),
        }
        station = self._station(station_id)
        station["issued"][use.value] = record
        station["known"]["|".join(summary.hash_data.key())] = record
        self._renewing.pop((station_id, use), None)
        self._accepted_at[station_id, use] = asyncio.get_running_loop().time()
        ir.async_delete_issue(self.context.hass, DOMAIN, renewal_issue_id(station_id, use))
        _LOGGER.info("%s: new %s installed, valid until %s", station_id, use.value, record["not_valid_after"])
        self._changed(station_id)

    @callback
    def _failed(self, station_id: str, use: CertificateSigningUse, step: str, status: str) -> None:
        """A certificate could not be renewed or signed: a repair names the step and the station's answer."""
        self._renewing.pop((station_id, use), None)
        ir.async_create_issue(
            self.context.hass,
            DOMAIN,
            renewal_issue_id(station_id, use),
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="certificate_renewal_failed",
            translation_placeholders={"station": station_id, "certificate": use.value, "step": step, "status": status},
            data={"station_id": station_id},
        )

    def has_new_certificate(self, station_id: str, since: float) -> bool:
        """Whether the station accepted a station certificate from us after `since` (loop time)."""
        return self._accepted_at.get((station_id, CS), float("-inf")) > since

    # ---- renewal ---------------------------------------------------------------------------------------------

    @callback
    def station_connected(self, station: Station) -> None:
        """A station's certificates are checked as soon as it connects."""
        self.context.background(self.async_check_renewals(station_ids=[station.station_id]), f"{DOMAIN} renewal")

    def expiries(self, station_id: str) -> dict[CertificateSigningUse, datetime]:
        """When the station's certificates of each type end: the newest issued, or the TLS one it presents."""
        found: dict[CertificateSigningUse, datetime] = {}
        for use in (CS, V2G):
            issued = self._stations.get(station_id, {}).get("issued", {}).get(use.value)
            if issued is not None:
                found[use] = datetime.fromisoformat(issued["not_valid_after"])
        station = self.context.central.stations.get(station_id)
        presented = station.credentials.certificate_not_after if station and station.credentials else None
        if presented is not None:
            found[CS] = max(found.get(CS, presented), presented)
        return found

    async def async_check_renewals(self, now: datetime | None = None, station_ids: list[str] | None = None) -> None:
        """Trigger the renewal of certificates that end within 30 days (A02); count overdue renewals as failed."""
        now = now or datetime.now(UTC)
        for (station_id, use), since in list(self._renewing.items()):
            if now - since > RENEWAL_TIMEOUT:
                _LOGGER.warning("%s: no CSR for the %s renewal within %s", station_id, use.value, RENEWAL_TIMEOUT)
                self._failed(station_id, use, "SignCertificate", "Timeout")
        targets = station_ids if station_ids is not None else list(self.context.central.stations)
        for station_id in targets:
            if not self.context.is_connected(station_id) or station_id not in self.context.central.registry:
                continue
            for use, ends in self.expiries(station_id).items():
                if ends - now > RENEWAL_WINDOW or (station_id, use) in self._renewing:
                    continue
                _LOGGER.info("%s: %s ends %s; asking for a new CSR", station_id, use.value, ends.isoformat())
                self._renewing[station_id, use] = now
                status = await self.context.central.trigger(station_id, RENEWAL_TRIGGERS[use])
                if status is not TriggerMessageStatus.ACCEPTED:
                    self._failed(station_id, use, "TriggerMessage", status.value if status else "NoAnswer")

    # ---- actions: M03, M04, M05 ------------------------------------------------------------------------------

    def _own_root(self, use: InstallCertificateUse) -> str:
        """The integration's own root of this type (PEM). Blocking: an executor.

        The CSMS CA, the V2G root, or the home mobility operator's MO root (what checks the contracts it issues).
        """
        if use is InstallCertificateUse.CSMS_ROOT_CERTIFICATE and self.own_ca:
            return ensure_ca(self.certificate_dir)[0].read_text(encoding="utf-8")
        if use is InstallCertificateUse.V2G_ROOT_CERTIFICATE:
            return ensure_v2g_issuer(self.certificate_dir)[1].decode()
        if use is InstallCertificateUse.MO_ROOT_CERTIFICATE:
            return ensure_mo_issuer(self.certificate_dir)[1].decode()
        raise user_error("certificate_required", certificate_type=use.value)

    async def async_install(self, station_id: str, use: InstallCertificateUse, pem: str | None = None) -> str:
        """InstallCertificate (M05): the given PEM, or the integration's own root of that type; Accepted or raises."""
        self.context.connected(station_id)
        if pem is None:
            pem = await self.context.hass.async_add_executor_job(self._own_root, use)
        try:
            summary = summarize(pem)
        except ValueError as err:
            raise user_error("certificate_invalid", certificate_type=use.value) from err
        response = await self.context.call(
            station_id, InstallCertificateRequest(certificate_type=use, certificate=pem), InstallCertificateResponse
        )
        if response.status is not InstallCertificateStatus.ACCEPTED:
            raise refused(station_id, "InstallCertificate", response.status.value)
        self._station(station_id)["known"]["|".join(summary.hash_data.key())] = {
            "certificate_type": use.value,
            "subject": summary.subject,
            "issuer": summary.issuer,
            "not_valid_after": summary.not_valid_after.isoformat(),
        }
        self._changed(station_id)
        return response.status.value

    def _describe(self, station_id: str, data: CertificateHashData) -> dict[str, Any]:
        known = self._stations.get(station_id, {}).get("known", {}).get(_key(data))
        described: dict[str, Any] = {**_hash_dict(data), "subject": None, "not_valid_after": None}
        if known is not None:
            described |= {"subject": known["subject"], "not_valid_after": known["not_valid_after"]}
        return described

    async def async_list(self, station_id: str, types: list[GetCertificateIdUse] | None = None) -> list[dict[str, Any]]:
        """GetInstalledCertificateIds (M03): each certificate's hash data, with subject and expiry where known."""
        response = await self.context.call(
            station_id,
            GetInstalledCertificateIdsRequest(certificate_type=types or None),
            GetInstalledCertificateIdsResponse,
        )
        listed: list[dict[str, Any]] = []
        if response.status is GetInstalledCertificateStatus.ACCEPTED:
            for chain in response.certificate_hash_data_chain or ():
                entry = self._describe(station_id, chain.certificate_hash_data)
                entry["certificate_type"] = chain.certificate_type.value
                entry["children"] = [
                    self._describe(station_id, child) for child in chain.child_certificate_hash_data or ()
                ]
                listed.append(entry)
        if types is None:  # the whole listing: what the sensor and diagnostics show
            self._station(station_id)["installed"] = listed
            self._changed(station_id)
        return listed

    async def async_delete(self, station_id: str, serial_number: str) -> str:
        """DeleteCertificate (M04) of a listed certificate, by serial number, with the hash data it was listed with.

        M04.FR.07: the same hash algorithm as the station reported. Accepted, or raises.
        """
        self.context.connected(station_id)
        wanted = serial_number.lower().lstrip("0")
        listed = self._stations.get(station_id, {}).get("installed") or []
        entries = [*listed, *(child for entry in listed for child in entry["children"])]
        match = next((e for e in entries if e["serial_number"].lower().lstrip("0") == wanted), None)
        if match is None:
            raise user_error("certificate_not_listed", serial_number=serial_number)
        data = CertificateHashData(
            hash_algorithm=HashAlgorithm(match["hash_algorithm"]),
            issuer_name_hash=match["issuer_name_hash"],
            issuer_key_hash=match["issuer_key_hash"],
            serial_number=match["serial_number"],
        )
        response = await self.context.call(
            station_id, DeleteCertificateRequest(certificate_hash_data=data), DeleteCertificateResponse
        )
        if response.status is not DeleteCertificateStatus.ACCEPTED:
            raise refused(station_id, "DeleteCertificate", response.status.value)
        station = self._station(station_id)
        station["installed"] = [
            {**entry, "children": [c for c in entry["children"] if c is not match]}
            for entry in listed
            if entry is not match
        ]
        self._changed(station_id)
        return response.status.value

    # ---- what entities and diagnostics show -------------------------------------------------------------------

    def nearest_expiry(self, station_id: str) -> tuple[datetime, str] | None:
        """The certificate of the station that ends first, of those whose end is known: (when, which)."""
        candidates: list[tuple[datetime, str]] = [(ends, use.value) for use, ends in self.expiries(station_id).items()]
        candidates.extend(
            (datetime.fromisoformat(listed["not_valid_after"]), entry["certificate_type"])
            for entry in self._stations.get(station_id, {}).get("installed") or ()
            for listed in (entry, *entry["children"])
            if listed["not_valid_after"]
        )
        return min(candidates) if candidates else None

    def diagnostics(self, station_id: str) -> dict[str, Any]:
        """What is known of the station's certificates: public data only (no key is ever held for a station)."""
        station = self._stations.get(station_id, {})
        expiries = self.expiries(station_id)
        return {
            "issued": station.get("issued", {}),
            "installed": station.get("installed"),
            "expiries": {use.value: ends.isoformat() for use, ends in expiries.items()},
            "renewing": [use.value for (sid, use) in self._renewing if sid == station_id],
        }


async def async_load_certificates(store: Store[dict[str, Any]]) -> dict[str, Any]:
    """What was kept of the stations' certificates."""
    return await store.async_load() or {}
