"""What the station management tests share: Home Assistant's HTTP server for real, signed firmware, devices."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ocpp_csms.const import DOMAIN

from .conftest import wait_for


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """A config folder of the test's own: firmware files and logs are real files there."""
    return hass_tmp_config_dir


async def serve_http(hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator) -> TestClient:
    """Home Assistant's HTTP app on a real port of 127.0.0.1, and Home Assistant's internal URL set to it."""
    client = await hass_client_no_auth()
    await hass.config.async_update(internal_url=str(client.make_url("")).rstrip("/"))
    return client


def device_id(hass: HomeAssistant, entry: MockConfigEntry, station_id: str) -> str:
    """The device of a station."""
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, station_id), entry.entry_id)
    assert device is not None
    return device.id


def signing_certificate() -> tuple[ec.EllipticCurvePrivateKey, str]:
    """A firmware signing key and its self-signed certificate (PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Firmware Signing")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, certificate.public_bytes(serialization.Encoding.PEM).decode()


def sign(key: ec.EllipticCurvePrivateKey, content: bytes) -> str:
    """The base64 ECDSA-SHA256 signature of a firmware image (L01.FR.04)."""
    return base64.b64encode(key.sign(content, ec.ECDSA(hashes.SHA256()))).decode()


async def states_of(hass: HomeAssistant, entity_id: str, seen: list[dict[str, Any]]) -> None:
    """Wait until the entity exists; `seen` then collects its states (attributes included) as they change."""
    await wait_for(lambda: hass.states.get(entity_id) is not None)

    def changed(event: Any) -> None:
        if event.data["entity_id"] == entity_id and (state := event.data["new_state"]) is not None:
            seen.append({"state": state.state, **state.attributes})

    hass.bus.async_listen("state_changed", changed)
