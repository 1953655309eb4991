"""Security profiles 2 and 3 on the integration's wss:// listener, with the CA it generates (A00.FR.3xx/4xx)."""

from __future__ import annotations

import asyncio
from pathlib import Path
import ssl
from typing import Any
import warnings

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus

from custom_components.ocpp_csms.const import (
    CERTIFICATE_DIR,
    CERTIFICATES_GENERATE,
    CONF_CERTIFICATES,
    CONF_TLS_HOSTS,
    CONF_TLS_PORT,
)
from custom_components.ocpp_csms.csms.certificates import generate_ca, generate_client_certificate
from custom_components.ocpp_csms.csms.registry import SecurityProfile

from .conftest import STATION_PASSWORD, SetupIntegration, free_port, trusted_station
from .station_peer import SUBPROTOCOL, basic_auth_header, station_connection


@pytest.fixture
def production_loop(hass: HomeAssistant) -> None:
    """Run the loop as in production: asyncio reports failed TLS handshakes to the loop only in debug mode.

    The test loop runs in debug mode, and the test plugin fails a test on anything reported so.
    """
    hass.loop.set_debug(False)


def tls_options() -> dict[str, Any]:
    return {
        CONF_TLS_PORT: free_port(),
        CONF_CERTIFICATES: CERTIFICATES_GENERATE,
        CONF_TLS_HOSTS: "localhost, 127.0.0.1",
    }


def wss_url(entry: MockConfigEntry) -> str:
    return f"wss://127.0.0.1:{entry.options[CONF_TLS_PORT]}/ocpp"


def client_context(
    hass: HomeAssistant,
    *,
    tmp_path: Path,
    certificate: tuple[bytes, bytes] | None = None,
    maximum_version: ssl.TLSVersion | None = None,
) -> ssl.SSLContext:
    """What a station uses: trusts the integration's CA; optionally presents a client certificate."""
    context = ssl.create_default_context(cafile=hass.config.path(CERTIFICATE_DIR, "ca.crt"))
    if maximum_version is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0/1.1 are deprecated: that is the point
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = maximum_version
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    if certificate is not None:
        cert_file, key_file = tmp_path / "station.crt", tmp_path / "station.key"
        cert_file.write_bytes(certificate[0])
        key_file.write_bytes(certificate[1])
        context.load_cert_chain(cert_file, key_file)
    return context


def station_certificate(hass: HomeAssistant, common_name: str) -> tuple[bytes, bytes]:
    """A station certificate issued by the integration's own CA."""
    directory = Path(hass.config.path(CERTIFICATE_DIR))
    return generate_client_certificate(
        (directory / "ca.crt").read_bytes(), (directory / "ca.key").read_bytes(), common_name
    )


# ---- profile 2: TLS + Basic auth ---------------------------------------------------------------------------


async def test_profile2_tls12_with_password(
    hass: HomeAssistant, setup_integration: SetupIntegration, tmp_path: Path
) -> None:
    entry = await setup_integration(
        options=tls_options(), stations=[trusted_station("CP-1", SecurityProfile.TLS_BASIC_AUTH)]
    )
    context = client_context(hass, tmp_path=tmp_path)
    async with station_connection(wss_url(entry), "CP-1", password=STATION_PASSWORD, ssl_context=context) as station:
        assert (await station.boot()).status == "Accepted"
    credentials = entry.runtime_data.central.stations["CP-1"].credentials
    assert credentials is not None
    assert credentials.profile is SecurityProfile.TLS_BASIC_AUTH


async def test_profile2_wrong_password_gets_401(
    hass: HomeAssistant, setup_integration: SetupIntegration, tmp_path: Path
) -> None:
    entry = await setup_integration(
        options=tls_options(), stations=[trusted_station("CP-1", SecurityProfile.TLS_BASIC_AUTH)]
    )
    with pytest.raises(InvalidStatus) as refused:
        await connect(
            f"{wss_url(entry)}/CP-1",
            subprotocols=[SUBPROTOCOL],
            additional_headers=basic_auth_header("CP-1", "not-the-password-0"),
            ssl=client_context(hass, tmp_path=tmp_path),
            open_timeout=5,
        )
    assert refused.value.response.status_code == 401


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1])
async def test_tls_below_1_2_is_refused(
    hass: HomeAssistant,
    setup_integration: SetupIntegration,
    tmp_path: Path,
    version: ssl.TLSVersion,
    production_loop: None,
) -> None:
    """A00.FR.313/315: TLS 1.0 and 1.1 clients fail the handshake."""
    entry = await setup_integration(
        options=tls_options(), stations=[trusted_station("CP-1", SecurityProfile.TLS_BASIC_AUTH)]
    )
    with pytest.raises((ssl.SSLError, ConnectionError)):  # the server aborts the handshake
        await connect(
            f"{wss_url(entry)}/CP-1",
            subprotocols=[SUBPROTOCOL],
            additional_headers=basic_auth_header("CP-1", STATION_PASSWORD),
            ssl=client_context(hass, tmp_path=tmp_path, maximum_version=version),
            open_timeout=5,
        )


async def test_unknown_station_on_tls_must_present_a_password(
    hass: HomeAssistant, setup_integration: SetupIntegration, tmp_path: Path
) -> None:
    entry = await setup_integration(options=tls_options())
    with pytest.raises(InvalidStatus) as refused:
        await connect(
            f"{wss_url(entry)}/CP-5",
            subprotocols=[SUBPROTOCOL],
            ssl=client_context(hass, tmp_path=tmp_path),
            open_timeout=5,
        )
    assert refused.value.response.status_code == 401


# ---- profile 3: mutual TLS ---------------------------------------------------------------------------------


async def test_profile3_good_certificate(
    hass: HomeAssistant, setup_integration: SetupIntegration, tmp_path: Path
) -> None:
    entry = await setup_integration(
        options=tls_options(),
        stations=[trusted_station("CP-3", SecurityProfile.TLS_CLIENT_CERTIFICATE, password=None)],
    )
    context = client_context(hass, tmp_path=tmp_path, certificate=station_certificate(hass, "SER-3"))
    async with station_connection(wss_url(entry), "CP-3", ssl_context=context, serial_number="SER-3") as station:
        assert (await station.boot()).status == "Accepted"
    credentials = entry.runtime_data.central.stations["CP-3"].credentials
    assert credentials is not None
    assert (credentials.profile, credentials.certificate_cn) == (SecurityProfile.TLS_CLIENT_CERTIFICATE, "SER-3")


async def test_profile3_serial_must_match_certificate_cn(
    hass: HomeAssistant, setup_integration: SetupIntegration, tmp_path: Path
) -> None:
    """B01.FR.11-12: the BootNotification serial number is checked against the CN; a mismatch closes."""
    entry = await setup_integration(
        options=tls_options(),
        stations=[trusted_station("CP-3", SecurityProfile.TLS_CLIENT_CERTIFICATE, password=None)],
    )
    context = client_context(hass, tmp_path=tmp_path, certificate=station_certificate(hass, "SER-3"))
    async with station_connection(wss_url(entry), "CP-3", ssl_context=context, serial_number="OTHER") as station:
        with pytest.raises((ConnectionClosed, asyncio.CancelledError, TimeoutError)):
            await station.boot()
        async with asyncio.timeout(5):
            await station._connection.wait_closed()
        assert station._connection.close_code == 1008
    assert entry.runtime_data.central.stations["CP-3"].registration.value == "rejected"


async def test_profile3_certificate_from_another_ca_is_refused(
    hass: HomeAssistant, setup_integration: SetupIntegration, tmp_path: Path, production_loop: None
) -> None:
    entry = await setup_integration(
        options=tls_options(),
        stations=[trusted_station("CP-3", SecurityProfile.TLS_CLIENT_CERTIFICATE, password=None)],
    )
    other_ca = generate_ca("Someone else's CA")
    foreign = generate_client_certificate(*other_ca, "SER-3")
    context = client_context(hass, tmp_path=tmp_path, certificate=foreign)
    # With TLS 1.3 the client learns of the refusal only when it reads the HTTP upgrade response.
    with pytest.raises((ssl.SSLError, ConnectionError, InvalidMessage)):
        await connect(f"{wss_url(entry)}/CP-3", subprotocols=[SUBPROTOCOL], ssl=context, open_timeout=5)
    assert not entry.runtime_data.central.stations["CP-3"].connected


async def test_profile3_station_without_certificate_is_refused(
    hass: HomeAssistant, setup_integration: SetupIntegration, tmp_path: Path
) -> None:
    """No downgrade: a profile-3 station cannot fall back to a password."""
    entry = await setup_integration(
        options=tls_options(),
        stations=[trusted_station("CP-3", SecurityProfile.TLS_CLIENT_CERTIFICATE)],
    )
    with pytest.raises(InvalidStatus) as refused:
        await connect(
            f"{wss_url(entry)}/CP-3",
            subprotocols=[SUBPROTOCOL],
            additional_headers=basic_auth_header("CP-3", STATION_PASSWORD),
            ssl=client_context(hass, tmp_path=tmp_path),
            open_timeout=5,
        )
    assert refused.value.response.status_code == 403


async def test_generated_certificates_are_kept_and_reissued_for_new_hosts(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    options = tls_options()
    entry = await setup_integration(options=options)
    directory = Path(hass.config.path(CERTIFICATE_DIR))
    ca, server = (directory / "ca.crt").read_bytes(), (directory / "server.crt").read_bytes()
    assert (directory / "ca.key").stat().st_mode & 0o777 == 0o600
    hass.config_entries.async_update_entry(entry, options={**options, CONF_TLS_HOSTS: "charger-gw.local"})
    await hass.async_block_till_done()
    assert (directory / "ca.crt").read_bytes() == ca  # stations keep trusting the same CA
    assert (directory / "server.crt").read_bytes() != server


# ---- the four cipher suites of A00.FR.318 / A00.FR.421 on the integration's own listener --------------------


@pytest.mark.parametrize(
    "suite",
    [
        pytest.param("ECDHE-ECDSA-AES128-GCM-SHA256", id="TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
        pytest.param("ECDHE-ECDSA-AES256-GCM-SHA384", id="TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
        pytest.param("AES128-GCM-SHA256", id="TLS_RSA_WITH_AES_128_GCM_SHA256"),
        pytest.param("AES256-GCM-SHA384", id="TLS_RSA_WITH_AES_256_GCM_SHA384"),
    ],
)
async def test_a00_fr_318_each_mandatory_suite_alone_reaches_the_generated_listener(
    hass: HomeAssistant, setup_integration: SetupIntegration, tmp_path: Path, suite: str
) -> None:
    """The generated EC and RSA server certificates side by side: a station limited to any one suite connects."""
    entry = await setup_integration(
        options=tls_options(), stations=[trusted_station("CP-1", SecurityProfile.TLS_BASIC_AUTH)]
    )
    context = client_context(hass, tmp_path=tmp_path)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(suite)
    async with station_connection(wss_url(entry), "CP-1", password=STATION_PASSWORD, ssl_context=context) as station:
        assert (await station.boot()).status == "Accepted"
        ssl_object = station._connection.transport.get_extra_info("ssl_object")
        assert ssl_object.cipher()[0] == suite
    directory = Path(hass.config.path(CERTIFICATE_DIR))
    assert (directory / "server-rsa.key").stat().st_mode & 0o777 == 0o600
