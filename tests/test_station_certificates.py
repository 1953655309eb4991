"""Station certificates from Home Assistant, with real keys, CSRs and TLS.

SignCertificate and CertificateSigned (A02, A03), renewal near expiry, InstallCertificate, GetInstalledCertificateIds
and DeleteCertificate (M03-M05).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
import ssl
from typing import Any

from cryptography import x509
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ocpp_csms.const import (
    CERTIFICATE_DIR,
    CERTIFICATES_GENERATE,
    CONF_CERTIFICATES,
    CONF_TLS_HOSTS,
    CONF_TLS_PORT,
    DOMAIN,
)
from custom_components.ocpp_csms.csms.registry import SecurityProfile
from custom_components.ocpp_csms.diagnostics import async_get_device_diagnostics

from .certificate_station import CertificateStation
from .conftest import STATION_PASSWORD, SetupIntegration, free_port, trusted_station, wait_for
from .station_peer import station_connection

SERIAL = "SN-CERT-1"


def tls_options() -> dict[str, Any]:
    return {CONF_TLS_PORT: free_port(), CONF_CERTIFICATES: CERTIFICATES_GENERATE, CONF_TLS_HOSTS: "localhost"}


def wss_url(entry: MockConfigEntry) -> str:
    return f"wss://localhost:{entry.options[CONF_TLS_PORT]}/ocpp"


def ca_path(hass: HomeAssistant, name: str = "ca.crt") -> Path:
    return Path(hass.config.path(CERTIFICATE_DIR, name))


def tls_client(hass: HomeAssistant, cert: tuple[Path, Path] | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_path(hass))
    if cert is not None:
        context.load_cert_chain(*cert)
    return context


def expiry_state(hass: HomeAssistant) -> str | None:
    """The state of CP-1's Certificate expiry sensor."""
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, "CP-1_certificate_expiry")
    assert entity_id is not None
    state = hass.states.get(entity_id)
    return state.state if state is not None else None


def device_id(hass: HomeAssistant, station_id: str) -> str:
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, station_id), entry.entry_id)
    assert device is not None
    return device.id


async def profile2_station(hass: HomeAssistant, setup_integration: SetupIntegration) -> MockConfigEntry:
    return await setup_integration(
        options=tls_options(), stations=[trusted_station("CP-1", SecurityProfile.TLS_BASIC_AUTH)]
    )


def connect(entry: MockConfigEntry, hass: HomeAssistant, **kwargs: Any) -> Any:
    return station_connection(
        wss_url(entry),
        "CP-1",
        serial_number=SERIAL,
        peer_class=CertificateStation,
        **({"password": STATION_PASSWORD, "ssl_context": tls_client(hass)} | kwargs),
    )


# ---- A02/A03: the CSR is checked and signed ------------------------------------------------------------------


@pytest.mark.parametrize("key_type", ["ec", "rsa"])
async def test_a03_signed_chain_verifies_to_the_ca_and_profile3_connects_with_it(
    hass: HomeAssistant, setup_integration: SetupIntegration, tmp_path: Path, key_type: str
) -> None:
    entry = await profile2_station(hass, setup_integration)
    async with connect(entry, hass) as station:
        assert isinstance(station, CertificateStation)
        station.key_type = key_type
        assert (await station.boot()).status == "Accepted"
        assert (await station.sign_certificate()).status == "Accepted"  # A03.FR.11
        _, signed = await station.next_received("CertificateSigned")
        assert signed["type"] == "ChargingStationCertificate"  # A02.FR.14
        identity = station.write_identity(tmp_path)
    (leaf,) = x509.load_pem_x509_certificates(signed["certificate_chain"].encode())
    leaf.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_path(hass).read_bytes()))
    assert leaf.subject.rfc4514_string().endswith(f"CN={SERIAL}")
    # Security profile 3 with it: the listener verifies the chain, the CN matches the serial number (B01.FR.11).
    async with connect(entry, hass, password=None, ssl_context=tls_client(hass, identity)) as station:
        assert (await station.boot()).status == "Accepted"
    credentials = entry.runtime_data.central.stations["CP-1"].credentials
    assert credentials is not None
    assert credentials.profile is SecurityProfile.TLS_CLIENT_CERTIFICATE
    assert credentials.certificate_not_after == leaf.not_valid_after_utc
    await wait_for(lambda: expiry_state(hass) not in (None, "unknown"))
    assert datetime.fromisoformat(str(expiry_state(hass))) == leaf.not_valid_after_utc


async def test_a02_fr_12_csr_with_the_wrong_common_name_is_rejected_with_a_reason(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await profile2_station(hass, setup_integration)
    async with connect(entry, hass) as station:
        await station.boot()
        station.common_name = "SOMEONE-ELSE"
        response = await station.sign_certificate()
    assert response.status == "Rejected"
    assert response.status_info["reason_code"] == "InvalidCSR"
    assert SERIAL in response.status_info["additional_info"]
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "certificate_renewal_CP-1_ChargingStationCertificate")
    assert issue is not None
    assert issue.translation_placeholders == {
        "station": "CP-1",
        "certificate": "ChargingStationCertificate",
        "step": "SignCertificate",
        "status": "Rejected",
    }
    assert "CP-1" not in entry.runtime_data.certificates.diagnostics("CP-1")["issued"]


async def test_the_organization_is_the_one_the_station_reports(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """A00.FR.404: O is the station's SecurityCtrlr.OrganizationName when its device model says it."""
    from custom_components.ocpp_csms.protocol.v201.datatypes import (  # noqa: PLC0415
        Component,
        ReportData,
        Variable,
        VariableAttribute,
    )

    entry = await profile2_station(hass, setup_integration)
    runtime = await entry.runtime_data.runtimes.async_get("CP-1")
    runtime.device_model.merge_report_data(
        [
            ReportData(
                component=Component(name="SecurityCtrlr"),
                variable=Variable(name="OrganizationName"),
                variable_attribute=[VariableAttribute(value="Home Energy Ltd")],
            )
        ]
    )
    async with connect(entry, hass) as station:
        await station.boot()
        assert (await station.sign_certificate()).status == "Rejected"  # the default organization
        station.organization = "Home Energy Ltd"
        assert (await station.sign_certificate()).status == "Accepted"
        await station.next_received("CertificateSigned")


async def test_v2g_certificate_is_signed_by_the_v2g_sub_ca(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await profile2_station(hass, setup_integration)
    async with connect(entry, hass) as station:
        await station.boot()
        station.common_name = "SECC-0001"
        assert (await station.sign_certificate("V2GCertificate")).status == "Accepted"
        _, signed = await station.next_received("CertificateSigned")
        await wait_for(lambda: entry.runtime_data.certificates.diagnostics("CP-1")["issued"])
    leaf, sub_ca = x509.load_pem_x509_certificates(signed["certificate_chain"].encode())
    leaf.verify_directly_issued_by(sub_ca)
    sub_ca.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_path(hass, "v2g-root.crt").read_bytes()))
    assert signed["type"] == "V2GCertificate"
    assert entry.runtime_data.certificates.diagnostics("CP-1")["issued"]["V2GCertificate"]["subject"].endswith(
        "CN=SECC-0001"
    )


async def test_a_station_that_refuses_its_certificate_opens_a_repair(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await profile2_station(hass, setup_integration)
    async with connect(entry, hass) as station:
        await station.boot()
        station.certificate_signed_status = "Rejected"
        assert (await station.sign_certificate()).status == "Accepted"
        await station.next_received("CertificateSigned")
        await wait_for(
            lambda: ir.async_get(hass).async_get_issue(DOMAIN, "certificate_renewal_CP-1_ChargingStationCertificate")
        )
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "certificate_renewal_CP-1_ChargingStationCertificate")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["step"] == "CertificateSigned"


# ---- renewal near expiry ----------------------------------------------------------------------------------


async def test_a02_certificate_near_expiry_is_renewed_by_trigger(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await profile2_station(hass, setup_integration)
    certificates = entry.runtime_data.certificates
    async with connect(entry, hass) as station:
        await station.boot()
        await station.sign_certificate()
        await station.next_received("CertificateSigned")
        await wait_for(lambda: certificates.expiries("CP-1"))
        first = certificates.expiries("CP-1")
        ends = first[next(iter(first))]
        # The periodic check runs (now: nothing is due); then the clock, frozen at 40 and at 20 days before the end:
        # a month and more before, nothing happens; within 30 days the renewal is triggered (A02).
        async_fire_time_changed(hass, datetime.now(UTC) + timedelta(hours=13))
        await hass.async_block_till_done()
        await certificates.async_check_renewals(ends - timedelta(days=40))
        assert certificates.diagnostics("CP-1")["renewing"] == []
        await certificates.async_check_renewals(ends - timedelta(days=20))
        _, trigger = await station.next_received("TriggerMessage")
        assert trigger["requested_message"] == "SignChargingStationCertificate"
        _, renewed = await station.next_received("CertificateSigned")
    (leaf,) = x509.load_pem_x509_certificates(renewed["certificate_chain"].encode())
    assert leaf.not_valid_after_utc >= ends  # signed now: valid a year from now (the clock was frozen for the check)
    assert station.signed["ChargingStationCertificate"][0] == renewed["certificate_chain"]
    await wait_for(lambda: not certificates.diagnostics("CP-1")["renewing"])
    assert certificates.expiries("CP-1")[next(iter(first))] == leaf.not_valid_after_utc


async def test_a_refused_renewal_trigger_opens_a_repair_and_a_silent_station_times_out(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await profile2_station(hass, setup_integration)
    certificates = entry.runtime_data.certificates
    issue_id = "certificate_renewal_CP-1_ChargingStationCertificate"
    async with connect(entry, hass) as station:
        await station.boot()
        await station.sign_certificate()
        await station.next_received("CertificateSigned")
        await wait_for(lambda: certificates.expiries("CP-1"))
        ends = certificates.expiries("CP-1")[next(iter(certificates.expiries("CP-1")))]
        station.trigger_status = "Rejected"
        soon = ends - timedelta(days=10)
        await certificates.async_check_renewals(soon)
        issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
        assert issue is not None
        assert issue.translation_placeholders is not None
        assert (issue.translation_placeholders["step"], issue.translation_placeholders["status"]) == (
            "TriggerMessage",
            "Rejected",
        )
        # Accepted, but no CSR comes: after an hour the renewal counts as failed.
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        station.trigger_status = "Accepted"
        certificates._renewing.clear()
        station.sign_certificate = _never  # type: ignore[method-assign]
        await certificates.async_check_renewals(soon)
        assert certificates.diagnostics("CP-1")["renewing"] == ["ChargingStationCertificate"]
        await certificates.async_check_renewals(soon + timedelta(hours=2))
        issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
        assert issue is not None
        assert issue.translation_placeholders is not None
        assert issue.translation_placeholders["status"] == "Timeout"


async def _never(*_args: Any) -> None:
    """A station that accepts the trigger and sends nothing."""


# ---- M03-M05 actions --------------------------------------------------------------------------------------


async def test_m05_m03_m04_install_list_and_delete_roots(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_admin_user: Any
) -> None:
    entry = await profile2_station(hass, setup_integration)
    async with connect(entry, hass) as station:
        assert isinstance(station, CertificateStation)
        await station.boot()
        target = device_id(hass, "CP-1")
        answer = await hass.services.async_call(
            DOMAIN,
            "install_certificate",
            {"device_id": target, "certificate_type": "CSMSRootCertificate"},
            blocking=True,
            return_response=True,
        )
        assert answer == {"status": "Accepted"}
        ((kind, pem),) = station.roots.values()
        assert (kind, pem) == ("CSMSRootCertificate", ca_path(hass).read_text())
        await hass.services.async_call(
            DOMAIN,
            "install_certificate",
            {"device_id": target, "certificate_type": "V2GRootCertificate"},
            blocking=True,
        )
        listing = await hass.services.async_call(
            DOMAIN, "get_installed_certificate_ids", {"device_id": target}, blocking=True, return_response=True
        )
        assert listing is not None
        listed = {item["certificate_type"]: item for item in listing["certificates"]}  # type: ignore[union-attr]
        root = x509.load_pem_x509_certificate(ca_path(hass).read_bytes())
        assert listed["CSMSRootCertificate"]["subject"] == root.subject.rfc4514_string()
        assert datetime.fromisoformat(listed["CSMSRootCertificate"]["not_valid_after"]) == root.not_valid_after_utc
        await wait_for(lambda: expiry_state(hass) not in (None, "unknown"))
        only_v2g = await hass.services.async_call(
            DOMAIN,
            "get_installed_certificate_ids",
            {"device_id": target, "certificate_types": ["V2GRootCertificate"]},
            blocking=True,
            return_response=True,
        )
        assert [item["certificate_type"] for item in only_v2g["certificates"]] == ["V2GRootCertificate"]  # type: ignore[index,union-attr]
        serial = listed["CSMSRootCertificate"]["serial_number"]
        answer = await hass.services.async_call(
            DOMAIN,
            "delete_certificate",
            {"device_id": target, "serial_number": serial.upper()},
            blocking=True,
            return_response=True,
        )
        assert answer == {"status": "Accepted"}
        _, deleted = await station.next_received("DeleteCertificate")
        assert deleted["hash_algorithm"] == "SHA256"  # M04.FR.07: as the station listed it
        assert serial not in [f"{s}" for s in station.roots]
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                DOMAIN, "delete_certificate", {"device_id": target, "serial_number": serial}, blocking=True
            )
        assert err.value.translation_key == "certificate_not_listed"
        station.delete_status = "Failed"
        v2g_serial = listed["V2GRootCertificate"]["serial_number"]
        with pytest.raises(HomeAssistantError) as refused:
            await hass.services.async_call(
                DOMAIN, "delete_certificate", {"device_id": target, "serial_number": v2g_serial}, blocking=True
            )
        assert refused.value.translation_key == "command_refused"
        # The home mobility operator's MO root (made on first use): what checks the contracts it issues.
        await hass.services.async_call(
            DOMAIN, "install_certificate", {"device_id": target, "certificate_type": "MORootCertificate"}, blocking=True
        )
        mo_roots = [pem for kind, pem in station.roots.values() if kind == "MORootCertificate"]
        assert mo_roots == [ca_path(hass, "mo-root.crt").read_text()]
        assert mo_roots != [ca_path(hass, "v2g-root.crt").read_text()]
        station.install_status = "Rejected"
        with pytest.raises(HomeAssistantError) as refused:
            await hass.services.async_call(
                DOMAIN,
                "install_certificate",
                {"device_id": target, "certificate_type": "MORootCertificate"},
                blocking=True,
            )
        assert refused.value.translation_key == "command_refused"
        for data, key in (
            ({"certificate_type": "ManufacturerRootCertificate"}, "certificate_required"),
            ({"certificate_type": "ManufacturerRootCertificate", "certificate": "junk"}, "certificate_invalid"),
        ):
            with pytest.raises(ServiceValidationError) as err:
                await hass.services.async_call(
                    DOMAIN, "install_certificate", {"device_id": target, **data}, blocking=True
                )
            assert err.value.translation_key == key
        device = dr.async_get(hass).async_get(target)
        assert device is not None
        diagnostics = await async_get_device_diagnostics(hass, entry, device)
    assert diagnostics["certificates"]["installed"][0]["certificate_type"] == "V2GRootCertificate"
    assert "PRIVATE KEY" not in str(diagnostics)


async def test_certificate_actions_are_for_administrators(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_read_only_user: Any
) -> None:
    from homeassistant.core import Context  # noqa: PLC0415
    from homeassistant.exceptions import Unauthorized  # noqa: PLC0415

    await profile2_station(hass, setup_integration)
    target = device_id(hass, "CP-1")
    for action, data in (
        ("install_certificate", {"certificate_type": "CSMSRootCertificate"}),
        ("delete_certificate", {"serial_number": "1"}),
    ):
        with pytest.raises(Unauthorized):
            await hass.services.async_call(
                DOMAIN,
                action,
                {"device_id": target, **data},
                blocking=True,
                context=Context(user_id=hass_read_only_user.id),
            )


async def test_forgetting_a_station_forgets_its_certificates(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await profile2_station(hass, setup_integration)
    async with connect(entry, hass) as station:
        await station.boot()
        await station.sign_certificate()
        await station.next_received("CertificateSigned")
        certificates = entry.runtime_data.certificates
        await wait_for(lambda: certificates.diagnostics("CP-1")["issued"])
    await entry.runtime_data.trust.async_forget("CP-1")
    entry.runtime_data.devices.remove_station("CP-1")
    await hass.async_block_till_done()
    assert certificates.diagnostics("CP-1")["issued"] == {}
    assert datetime.now(UTC)  # nothing else to check: the store holds no entry for it
