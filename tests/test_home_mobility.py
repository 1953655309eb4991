"""Plug & Charge for the household's own cars: the home mobility operator in the real integration (M01, M02, C07).

A station on the real listener forwards an EV's signed CertificateInstallationReq / CertificateUpdateReq (made by
the test EV of tests/v2g, with a real key and OEM provisioning certificate) as Get15118EVCertificate; the answer is
checked as the EV checks it. The contract is then authorized (C07) and revoked by removing the car in the options.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from ocpp.v201 import call

from custom_components.ocpp_csms import async_remove_entry
from custom_components.ocpp_csms.const import CERTIFICATE_DIR, CONF_CONTRACT_PROVIDER_URL, CONF_HOME_CONTRACTS
from custom_components.ocpp_csms.csms.certificate_authority import hash_data
from custom_components.ocpp_csms.home_mobility import format_contracts, parse_contracts
from custom_components.ocpp_csms.v2g.contract import ContractOutcome
from custom_components.ocpp_csms.v2g.issuers import GENERATED_FILES
from custom_components.ocpp_csms.v2g.messages import (
    CertificateChain,
    CertificateUpdateRes,
    ResponseCode,
    decode_message,
    encode_message,
)
from custom_components.ocpp_csms.v2g.schema import MSG_DEF

from .conftest import STATION_PASSWORD, SetupIntegration, free_port, trusted_station, ws_url
from .station_peer import StationPeer, station_connection
from .v2g.ev import PCID, Ev, signed_message, update_req
from .v2g.test_contract import EMAID, check_answer

OTHER_PCID = "WMIV0000000000ZZZZ"


def certificate_dir(hass: HomeAssistant) -> Path:
    return Path(hass.config.path(CERTIFICATE_DIR))


def ev_request(action: str, message_exi: bytes) -> call.Get15118EVCertificate:
    return call.Get15118EVCertificate(
        iso15118_schema_version=MSG_DEF, action=action, exi_request=base64.b64encode(message_exi).decode()
    )


def chain_pem(chain: CertificateChain) -> str:
    return "".join(
        x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode()
        for der in (chain.certificate, *chain.sub_certificates)
    )


async def install_contract(station: StationPeer, ev: Ev, hass: HomeAssistant) -> CertificateChain:
    """M01 through the station: Accepted, and everything the EV checks holds; the contract chain."""
    answer = await station.call(ev_request("Install", encode_message(signed_message(ev.installation_req(), ev.key))))
    assert answer.status == "Accepted"
    exi = base64.b64decode(answer.exi_response)
    check_answer(ContractOutcome(True, exi, None, response_code=ResponseCode.OK), ev.key, certificate_dir(hass))
    body = decode_message(exi).body
    assert body is not None
    chain: CertificateChain = body.contract_signature_cert_chain  # type: ignore[union-attr]
    return chain


async def authorize(station: StationPeer, **kwargs: Any) -> Any:
    return await station.call(call.Authorize(id_token={"id_token": EMAID, "type": "eMAID"}, **kwargs))


async def set_contracts(hass: HomeAssistant, entry_id: str, text: str) -> None:
    result = await hass.config_entries.options.async_init(entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "iso15118"})
    result = await hass.config_entries.options.async_configure(result["flow_id"], {CONF_HOME_CONTRACTS: text})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


def test_assignments_are_read_and_written_one_car_per_line() -> None:
    contracts = parse_contracts(f"{PCID.lower()}\t{EMAID.lower()}\n\n  {OTHER_PCID},DE8AAA1B2C3D4E5  \n")
    assert contracts == {PCID: EMAID, OTHER_PCID: "DE8AAA1B2C3D4E5"}
    assert parse_contracts(format_contracts(contracts)) == contracts
    assert format_contracts(parse_contracts(f"{PCID} {EMAID}")) == f"{PCID} {EMAID}"
    assert parse_contracts("") == {}


async def test_m01_m02_c07_a_household_car_gets_renews_and_loses_its_contract(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(options={CONF_HOME_CONTRACTS: {PCID: EMAID}}, stations=[trusted_station("CP-1")])
    ev = Ev.make()
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        assert (await station.boot()).status == "Accepted"
        chain = await install_contract(station, ev, hass)

        # C07: the contract, as a PEM chain (C07.FR.06) and as hash data (C07.FR.02): the operator decides.
        answer = await authorize(station, certificate=chain_pem(chain))
        assert answer.certificate_status == "Accepted"
        assert answer.id_token_info["status"] == "Accepted"  # an assigned eMAID needs no listed token
        contract = x509.load_der_x509_certificate(chain.certificate)
        mo_sub = x509.load_der_x509_certificate(chain.sub_certificates[0])
        data = hash_data(contract, mo_sub)
        hashes = [
            {
                "hash_algorithm": "SHA256",
                "issuer_name_hash": data.issuer_name_hash,
                "issuer_key_hash": data.issuer_key_hash,
                "serial_number": data.serial_number,
                "responder_url": "http://127.0.0.1:9/none",
            }
        ]
        answer = await authorize(station, iso15118_certificate_hash_data=hashes)
        assert (answer.certificate_status, answer.id_token_info["status"]) == ("Accepted", "Accepted")
        # The token on its own (a TransactionEvent's, or Authorize without a certificate) is accepted too.
        answer = await authorize(station)
        assert answer.id_token_info["status"] == "Accepted"

        # The car is removed in the options: its contract is revoked, its token no longer accepted.
        await set_contracts(hass, entry.entry_id, f"{OTHER_PCID} DE8AAA1B2C3D4E6")
        answer = await authorize(station, certificate=chain_pem(chain))
        assert (answer.certificate_status, answer.id_token_info["status"]) == ("CertificateRevoked", "Invalid")
        answer = await authorize(station)
        assert answer.id_token_info["status"] != "Accepted"

        # A car without an assignment: Failed with the reason, and the EV's FAILED answer.
        answer = await station.call(
            ev_request("Install", encode_message(signed_message(ev.installation_req(), ev.key)))
        )
        assert answer.status == "Failed"
        assert f"no eMAID is assigned to the car {PCID}" in answer.status_info["additional_info"]
        failed = decode_message(base64.b64decode(answer.exi_response)).body
        assert failed is not None
        assert failed.response_code is ResponseCode.FAILED_NO_CERTIFICATE_AVAILABLE  # type: ignore[union-attr]

        # Not base64, or not EXI: Failed, saying why.
        answer = await station.call(
            call.Get15118EVCertificate(iso15118_schema_version=MSG_DEF, action="Install", exi_request="%%%")
        )
        assert (answer.status, answer.exi_response) == ("Failed", "")
        assert "not base64" in answer.status_info["additional_info"]


async def test_m02_a_contract_is_renewed_while_its_emaid_is_assigned(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(options={CONF_HOME_CONTRACTS: {PCID: EMAID}}, stations=[trusted_station("CP-1")])
    ev = Ev.make()
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        assert (await station.boot()).status == "Accepted"
        answer = await station.call(
            ev_request("Install", encode_message(signed_message(ev.installation_req(), ev.key)))
        )
        from custom_components.ocpp_csms.v2g.keytransport import decrypt_private_key  # noqa: PLC0415

        res = decode_message(base64.b64decode(answer.exi_response)).body
        contract_key = decrypt_private_key(
            res.contract_signature_encrypted_private_key.value,  # type: ignore[union-attr]
            res.dh_public_key.value,  # type: ignore[union-attr]
            ev.key,
        )
        chain = res.contract_signature_cert_chain  # type: ignore[union-attr]
        renewal = encode_message(signed_message(update_req(chain, EMAID, ev.roots), contract_key))
        answer = await station.call(ev_request("Update", renewal))
        assert answer.status == "Accepted"
        renewed = decode_message(base64.b64decode(answer.exi_response)).body
        assert isinstance(renewed, CertificateUpdateRes)
        assert renewed.response_code is ResponseCode.OK
        assert renewed.emaid.value == EMAID
        new_contract = x509.load_der_x509_certificate(renewed.contract_signature_cert_chain.certificate)
        assert new_contract.serial_number != x509.load_der_x509_certificate(chain.certificate).serial_number

        await set_contracts(hass, entry.entry_id, "")
        answer = await station.call(ev_request("Update", renewal))
        assert answer.status == "Failed"
        assert "No contract certificate provider" in answer.status_info["additional_info"]


async def test_m01_other_cars_go_to_the_provider_and_removal_deletes_the_operator(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    seen: list[dict[str, Any]] = []

    async def provider(request: web.Request) -> web.Response:
        seen.append(await request.json())
        return web.json_response({"status": "Accepted", "exiResponse": "RVhJLXJlc3BvbnNl"})

    app = web.Application()
    app.router.add_post("/pnc", provider)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    options = {CONF_HOME_CONTRACTS: {PCID: EMAID}, CONF_CONTRACT_PROVIDER_URL: f"http://127.0.0.1:{port}/pnc"}
    try:
        entry = await setup_integration(options=options, stations=[trusted_station("CP-1")])
        async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
            assert (await station.boot()).status == "Accepted"
            await install_contract(station, Ev.make(), hass)  # the household's car: the home operator
            assert seen == []
            stranger = Ev.make(OTHER_PCID)
            request = ev_request("Install", encode_message(signed_message(stranger.installation_req(), stranger.key)))
            answer = await station.call(request)
            assert (answer.status, answer.exi_response) == ("Accepted", "RVhJLXJlc3BvbnNl")
            assert [item["exiRequest"] for item in seen] == [request.exi_request]
    finally:
        await runner.cleanup()
    directory = certificate_dir(hass)
    assert all((directory / name).exists() for name in GENERATED_FILES)
    await hass.config_entries.async_unload(entry.entry_id)
    await async_remove_entry(hass, entry)
    assert not any((directory / name).exists() for name in GENERATED_FILES)


async def test_c07_a_blocked_token_stays_blocked_and_other_contracts_still_use_ocsp(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    from custom_components.ocpp_csms.protocol.v201.enums import AuthorizationStatus, IdTokenEnum  # noqa: PLC0415
    from custom_components.ocpp_csms.station.id_tokens import IdTokenEntry  # noqa: PLC0415

    entry = await setup_integration(options={CONF_HOME_CONTRACTS: {PCID: EMAID}}, stations=[trusted_station("CP-1")])
    entry.runtime_data.authorization.add(
        IdTokenEntry(id_token=EMAID, type=IdTokenEnum.E_MAID, status=AuthorizationStatus.BLOCKED)
    )
    ev = Ev.make()
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        assert (await station.boot()).status == "Accepted"
        chain = await install_contract(station, ev, hass)
        answer = await authorize(station, certificate=chain_pem(chain))
        assert (answer.certificate_status, answer.id_token_info["status"]) == ("ContractCancelled", "Blocked")
        # A contract another operator issued is not the home operator's: it goes to OCSP (none reachable here).
        other = replace(chain, certificate=Ev.make().oem_certificate)
        answer = await authorize(station, certificate=chain_pem(other))
        assert answer.certificate_status == "CertChainError"
