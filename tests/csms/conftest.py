"""A throwaway PKI for the certificate and TLS tests, generated once per test session (per xdist worker)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from custom_components.ocpp_csms.csms.certificates import (
    generate_ca,
    generate_client_certificate,
    generate_server_certificate,
    write_key_pair,
)

ORGANIZATION = "Test CSO"
STATION_SERIAL = "SN-0001"


@dataclass(frozen=True)
class KeyPair:
    """A certificate and its key, as PEM and as files."""

    cert_pem: bytes
    key_pem: bytes
    cert_file: Path
    key_file: Path


@dataclass(frozen=True)
class Pki:
    """An EC CA with server and station certificates, an RSA CA with a server certificate, and a stranger CA."""

    ca: KeyPair
    server: KeyPair
    station: KeyPair
    rsa_ca: KeyPair
    rsa_server: KeyPair
    other_ca: KeyPair
    other_station: KeyPair
    #: Both our CAs (EC and RSA) in one file, for clients that must trust either server certificate.
    trust_bundle: Path


def _pair(directory: Path, name: str, pems: tuple[bytes, bytes]) -> KeyPair:
    cert_file, key_file = write_key_pair(directory, name, *pems)
    return KeyPair(pems[0], pems[1], cert_file, key_file)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca = _pair(directory, "ca", generate_ca("Test CSMS Root", organization=ORGANIZATION))
    rsa_ca = _pair(directory, "rsa-ca", generate_ca("Test CSMS RSA Root", organization=ORGANIZATION, key_type="rsa"))
    other_ca = _pair(directory, "other-ca", generate_ca("Somebody Else", organization="Other CSO"))
    hosts = ["localhost", "127.0.0.1"]
    server = _pair(
        directory, "server", generate_server_certificate(ca.cert_pem, ca.key_pem, hosts, organization=ORGANIZATION)
    )
    rsa_server = _pair(
        directory,
        "rsa-server",
        generate_server_certificate(rsa_ca.cert_pem, rsa_ca.key_pem, hosts, organization=ORGANIZATION, key_type="rsa"),
    )
    station = _pair(
        directory,
        "station",
        generate_client_certificate(ca.cert_pem, ca.key_pem, STATION_SERIAL, organization=ORGANIZATION),
    )
    other_station = _pair(
        directory,
        "other-station",
        generate_client_certificate(other_ca.cert_pem, other_ca.key_pem, STATION_SERIAL, organization="Other CSO"),
    )
    trust_bundle = directory / "trust.pem"
    trust_bundle.write_bytes(ca.cert_pem + rsa_ca.cert_pem)
    return Pki(ca, server, station, rsa_ca, rsa_server, other_ca, other_station, trust_bundle)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the suite-wide fixture: these HA-free tests need no Home Assistant instance (saves ~0.1 s each).

    A test here that does need Home Assistant requests `hass` and `enable_custom_integrations` itself.
    """
