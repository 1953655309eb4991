"""ISO 15118 against the real integration, with an OCSP responder and a contract provider on 127.0.0.1.

OCSP for GetCertificateStatus (M06) and Authorize with a contract certificate (C07), contract certificates through
a provider (M01/M02), and the EV's charging needs from the simulator (K15-K17).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from ocpp.v201 import call
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ocpp_csms.const import CONF_CONTRACT_PROVIDER_URL, DOMAIN
from custom_components.ocpp_csms.csms.certificate_authority import hash_data
from custom_components.ocpp_csms.csms.certificates import generate_ca, load_ca
from custom_components.ocpp_csms.protocol.v201.enums import IdTokenEnum
from custom_components.ocpp_csms.station.id_tokens import IdTokenEntry
from tools.simulator import SimStation, StationConfig
from tools.simulator.meter import Car

from .conftest import STATION_PASSWORD, SetupIntegration, free_port, trusted_station, wait_for, ws_url
from .ocsp_responder import OcspResponder, ocsp_responder
from .station_peer import StationPeer, station_connection

EMAID = "DE8AAA1B2C3D4E5"


@pytest.fixture
def mo_ca() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A mobility operator's CA, which issues contract certificates and answers OCSP about them."""
    certificate, key = load_ca(*generate_ca("Test MO Sub-CA", organization="Test MO"))
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return certificate, key


def contract_certificate(
    ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey], ocsp_url: str, *, expired: bool = False
) -> x509.Certificate:
    """A contract certificate for the eMAID, naming the responder (AIA), as an MO issues it."""
    issuer, issuer_key = ca
    now = datetime.now(UTC) - (timedelta(days=400) if expired else timedelta(0))
    key = ec.generate_private_key(ec.SECP256R1())
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, EMAID)]))
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(
            x509.AuthorityInformationAccess(
                [x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))]
            ),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )


def request_data(certificate: x509.Certificate, issuer: x509.Certificate, url: str) -> dict[str, str]:
    data = hash_data(certificate, issuer)
    return {
        "hash_algorithm": "SHA256",
        "issuer_name_hash": data.issuer_name_hash,
        "issuer_key_hash": data.issuer_key_hash,
        "serial_number": data.serial_number,
        "responder_url": url,
    }


@contextlib.asynccontextmanager
async def running(
    hass: HomeAssistant, setup_integration: SetupIntegration, options: dict[str, Any] | None = None
) -> AsyncIterator[tuple[MockConfigEntry, StationPeer]]:
    entry = await setup_integration(options=options, stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        assert (await station.boot()).status == "Accepted"
        yield entry, station


# ---- M06: GetCertificateStatus -------------------------------------------------------------------------------


async def test_m06_certificate_status_good_revoked_and_unreachable(
    hass: HomeAssistant, setup_integration: SetupIntegration, mo_ca: tuple[x509.Certificate, Any]
) -> None:
    async with ocsp_responder(*mo_ca) as responder, running(hass, setup_integration) as (entry, station):
        good = contract_certificate(mo_ca, responder.url)
        revoked = contract_certificate(mo_ca, responder.url)
        responder.statuses = {good.serial_number: "good", revoked.serial_number: "revoked"}
        answer = await station.call(
            call.GetCertificateStatus(ocsp_request_data=request_data(good, mo_ca[0], responder.url))
        )
        assert answer.status == "Accepted"  # M06.FR.02-03: the DER response, base64
        import base64  # noqa: PLC0415

        from cryptography.x509 import ocsp  # noqa: PLC0415

        assert ocsp.load_der_ocsp_response(base64.b64decode(answer.ocsp_result)).certificate_status.name == "GOOD"
        # Kept per validity: the same question again costs no request.
        again = await station.call(
            call.GetCertificateStatus(ocsp_request_data=request_data(good, mo_ca[0], responder.url))
        )
        assert again.ocsp_result == answer.ocsp_result
        assert responder.requests == 1
        # Revoked is still a status retrieved: Accepted (M06 remark), the response says revoked.
        answer = await station.call(
            call.GetCertificateStatus(ocsp_request_data=request_data(revoked, mo_ca[0], responder.url))
        )
        assert answer.status == "Accepted"
        assert ocsp.load_der_ocsp_response(base64.b64decode(answer.ocsp_result)).certificate_status.name == "REVOKED"
        unreachable = f"http://127.0.0.1:{free_port()}/"
        answer = await station.call(
            call.GetCertificateStatus(ocsp_request_data=request_data(good, mo_ca[0], unreachable))
        )
        assert answer.status == "Failed"  # M06.FR.04
        assert "cannot be reached" in answer.status_info["additional_info"]
        answer = await station.call(
            call.GetCertificateStatus(ocsp_request_data=request_data(good, mo_ca[0], "ftp://127.0.0.1/"))
        )
        assert answer.status == "Failed"
    assert len(entry.runtime_data.iso15118.cache) == 2


# ---- C07: Authorize with a contract certificate ----------------------------------------------------------------


async def test_c07_authorize_with_contract_certificate_hash_data(
    hass: HomeAssistant, setup_integration: SetupIntegration, mo_ca: tuple[x509.Certificate, Any]
) -> None:
    async with ocsp_responder(*mo_ca) as responder, running(hass, setup_integration) as (entry, station):
        good = contract_certificate(mo_ca, responder.url)
        revoked = contract_certificate(mo_ca, responder.url)
        responder.statuses = {good.serial_number: "good", revoked.serial_number: "revoked"}
        token = {"id_token": EMAID, "type": "eMAID"}

        async def authorize(certificate: x509.Certificate, url: str | None = None) -> Any:
            data = [request_data(certificate, mo_ca[0], url or responder.url)]
            return await station.call(call.Authorize(id_token=token, iso15118_certificate_hash_data=data))

        # A valid contract whose eMAID is not on the list: ContractCancelled (C07.FR.13).
        answer = await authorize(good)
        assert (answer.certificate_status, answer.id_token_info["status"]) == ("ContractCancelled", "Unknown")
        # On the list: accepted as such (C07.FR.14).
        entry.runtime_data.authorization.tokens.add(IdTokenEntry(id_token=EMAID, type=IdTokenEnum.E_MAID))
        answer = await authorize(good)
        assert (answer.certificate_status, answer.id_token_info["status"]) == ("Accepted", "Accepted")
        answer = await authorize(revoked)  # C07.FR.16
        assert (answer.certificate_status, answer.id_token_info["status"]) == ("CertificateRevoked", "Invalid")
        answer = await authorize(good, f"http://127.0.0.1:{free_port()}/")  # C07.FR.17: cannot be verified
        assert (answer.certificate_status, answer.id_token_info["status"]) == ("CertChainError", "Invalid")
        # A plain RFID Authorize is untouched by all this.
        answer = await station.call(call.Authorize(id_token={"id_token": "CARD-1", "type": "ISO14443"}))
        assert answer.certificate_status is None


async def test_c07_fr_06_contract_chain_given_as_pem(
    hass: HomeAssistant, setup_integration: SetupIntegration, mo_ca: tuple[x509.Certificate, Any]
) -> None:
    async with ocsp_responder(*mo_ca) as responder, running(hass, setup_integration) as (entry, station):
        entry.runtime_data.authorization.tokens.add(IdTokenEntry(id_token=EMAID, type=IdTokenEnum.E_MAID))
        token = {"id_token": EMAID, "type": "eMAID"}

        def chain(*certificates: x509.Certificate) -> str:
            return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certificates)

        good = contract_certificate(mo_ca, responder.url)
        responder.statuses = {good.serial_number: "good"}
        answer = await station.call(call.Authorize(id_token=token, certificate=chain(good, mo_ca[0])))
        assert (answer.certificate_status, answer.id_token_info["status"]) == ("Accepted", "Accepted")
        expired = contract_certificate(mo_ca, responder.url, expired=True)
        answer = await station.call(call.Authorize(id_token=token, certificate=chain(expired, mo_ca[0])))
        assert (answer.certificate_status, answer.id_token_info["status"]) == ("CertificateExpired", "Expired")
        for broken in (chain(good), chain(good, contract_certificate(mo_ca, responder.url)), "garbage"):
            answer = await station.call(call.Authorize(id_token=token, certificate=broken))
            assert (answer.certificate_status, answer.id_token_info["status"]) == ("CertChainError", "Invalid")


# ---- M01/M02: contract certificates through a provider --------------------------------------------------------


async def test_m01_contract_certificate_without_provider_fails_with_a_reason(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    async with running(hass, setup_integration) as (_entry, station):
        answer = await station.call(
            call.Get15118EVCertificate(
                iso15118_schema_version="urn:iso:15118:2:2013:MsgDef", action="Install", exi_request="AAEC"
            )
        )
    assert answer.status == "Failed"
    assert "No contract certificate provider" in answer.status_info["additional_info"]


async def test_m01_m02_contract_certificate_through_the_configured_provider(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    seen: list[dict[str, Any]] = []
    failing = {"now": False}

    async def provider(request: web.Request) -> web.Response:
        seen.append(await request.json())
        if failing["now"]:
            return web.Response(status=500)
        return web.json_response({"status": "Accepted", "exiResponse": "RVhJLXJlc3BvbnNl"})

    app = web.Application()
    app.router.add_post("/pnc", provider)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        options = {CONF_CONTRACT_PROVIDER_URL: f"http://127.0.0.1:{port}/pnc"}
        async with running(hass, setup_integration, options) as (_entry, station):
            request = call.Get15118EVCertificate(
                iso15118_schema_version="urn:iso:15118:2:2013:MsgDef", action="Update", exi_request="AAEC"
            )
            answer = await station.call(request)
            assert (answer.status, answer.exi_response) == ("Accepted", "RVhJLXJlc3BvbnNl")
            assert seen == [
                {
                    "stationId": "CP-1",
                    "iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef",
                    "action": "Update",
                    "exiRequest": "AAEC",
                }
            ]
            failing["now"] = True
            answer = await station.call(request)
            assert answer.status == "Failed"
            assert "HTTP 500" in answer.status_info["additional_info"]
    finally:
        await runner.cleanup()
    # Nothing listens any more: Failed again, with the reason.
    assert answer.exi_response == ""


# ---- K15-K17: the EV's charging needs, from the simulator ---------------------------------------------------


def _sensor(hass: HomeAssistant, key: str) -> str | None:
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"sim-001_evse_1_{key}")
    state = hass.states.get(entity_id) if entity_id is not None else None  # the EVSE's entities may come later
    return state.state if state is not None else None


async def test_k15_ev_charging_needs_from_the_simulator_reach_the_sensors_and_get_a_schedule(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    car = Car(max_current=10.0, phases=3, battery_wh=60_000.0, soc=40.0, iso15118=True, departure_in=6 * 3600)
    config = StationConfig(
        station_id="sim-001",
        url=ws_url(entry),
        password=STATION_PASSWORD,
        meter_interval=0.2,
        plug_delay=0.05,
        response_timeout=5,
        open_timeout=5,
        car=car,
        variables={"TxCtrlr.StopTxOnInvalidId": "false", "TxCtrlr.MaxEnergyOnInvalidId": "1000000000"},
    )
    station = SimStation(config)
    import asyncio  # noqa: PLC0415

    task = asyncio.create_task(station.run())
    try:
        await wait_for(station.online.is_set)
        await entry.runtime_data.commands.async_start("sim-001", 1)
        await wait_for(lambda: _sensor(hass, "ev_requested_energy") not in (None, "unknown"), timeout=15)
        assert float(str(_sensor(hass, "ev_requested_energy"))) == pytest.approx(36.0)
        departure = datetime.fromisoformat(str(_sensor(hass, "ev_departure_time")))
        assert abs((departure - datetime.now(UTC)) - timedelta(hours=6)) < timedelta(minutes=1)
        # K15.FR.07: a TxProfile for the transaction, within the EV's 10 A.
        await wait_for(lambda: "sim-001" in str(entry.runtime_data.iso15118.sent), timeout=10)
        assert entry.runtime_data.iso15118.sent["sim-001", 1] == (10.0, "A")
        profiles = [p for p in station.profiles.profiles.values() if p.purpose == "TxProfile"]
        assert profiles
        assert profiles[-1].transaction_id
        assert profiles[-1].periods[0].limit <= 10.0
        # K15.FR.11-12: the EV's own schedule, accepted within the limit and shown; refused above it.
        within = await station.send(
            call.NotifyEVChargingSchedule(
                time_base=datetime.now(UTC).isoformat(),
                evse_id=1,
                charging_schedule={
                    "id": 1,
                    "charging_rate_unit": "A",
                    "charging_schedule_period": [{"start_period": 0, "limit": 9.5}],
                },
            )
        )
        assert within.status == "Accepted"
        entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, "sim-001_evse_1_composite_schedule")
        assert entity_id is not None
        await wait_for(lambda: "ev_schedule" in (hass.states.get(entity_id).attributes or {}))  # type: ignore[union-attr]
        above = await station.send(
            call.NotifyEVChargingSchedule(
                time_base=datetime.now(UTC).isoformat(),
                evse_id=1,
                charging_schedule={
                    "id": 1,
                    "charging_rate_unit": "A",
                    "charging_schedule_period": [{"start_period": 0, "limit": 32}],
                },
            )
        )
        assert above.status == "Rejected"
        # Needs on an EVSE without a transaction: Rejected (K15.FR.04).
        refused = await station.send(
            call.NotifyEVChargingNeeds(
                evse_id=2,
                charging_needs={
                    "requested_energy_transfer": "DC",
                    "dc_charging_parameters": {"ev_max_current": 100, "ev_max_voltage": 400, "state_of_charge": 50},
                },
            )
        )
        assert refused.status == "Rejected"
        assert entry.runtime_data.iso15118.needs["sim-001", 2].state_of_charge == 50
        assert entry.runtime_data.iso15118.needs["sim-001", 2].max_power_w == 40_000
    finally:
        await station.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_responder_helper_answers_unknown_for_unlisted_serials(mo_ca: tuple[x509.Certificate, Any]) -> None:
    assert OcspResponder(*mo_ca).statuses == {}
