"""The stations' listeners as the entry's options describe them: ws:// on the entry's port, wss:// when set.

Starting one binds its port (a repair and a retry later when it cannot); the wss:// listener's TLS context comes
from the generated or the user's certificates (a repair when they cannot be used). The password verifier and the
failure throttle are kept for the whole Home Assistant run, across reloads and listener moves.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
import ssl
from typing import Any

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import issue_registry as ir
from homeassistant.util.hass_dict import HassKey

from .const import (
    CERTIFICATE_DIR,
    CERTIFICATES_FILES,
    CONF_CERTIFICATES,
    CONF_PORT,
    CONF_TLS_PORT,
    DOMAIN,
)
from .csms.central_system import CentralSystem
from .csms.listener import OcppListener
from .csms.passwords import PasswordVerifier
from .csms.throttle import AdmissionPace, FailureThrottle
from .tls_setup import CertificateError, build_server_context, server_hosts

DATA_AUTH: HassKey[tuple[PasswordVerifier, FailureThrottle]] = HassKey(f"{DOMAIN}_auth")
#: The pace of new connections of this Home Assistant run (a reconnection storm spread over seconds).
DATA_PACE: HassKey[AdmissionPace] = HassKey(f"{DOMAIN}_pace")
CERTIFICATES_ISSUE = "tls_certificates"

type Ports = list[tuple[int, ssl.SSLContext | None]]


async def async_listener_ports(hass: HomeAssistant, data: Mapping[str, Any], options: Mapping[str, Any]) -> Ports:
    """The ports to listen on: the entry's ws:// port, and the wss:// port with its TLS context when set."""
    ports: Ports = [(int(data[CONF_PORT]), None)]
    if tls_port := int(options.get(CONF_TLS_PORT, 0)):
        ports.append((tls_port, await async_tls_context(hass, options)))
    return ports


def tls_url(options: Mapping[str, Any]) -> str | None:
    """The wss:// listener as stations reach it (its first host name), None without one."""
    if not (tls_port := int(options.get(CONF_TLS_PORT, 0))):
        return None
    return f"wss://{server_hosts(options)[0]}:{tls_port}"


def uses_own_ca(options: Mapping[str, Any]) -> bool:
    """Whether the integration's own CA signs (False when the listener runs on the user's certificate files)."""
    return options.get(CONF_CERTIFICATES) != CERTIFICATES_FILES


async def async_start_listeners(hass: HomeAssistant, central: CentralSystem, ports: Ports) -> list[OcppListener]:
    """A listener per port; a repair and a retry later when a port cannot be bound (none is left running)."""
    # Kept across reloads: after a reload every station reconnects, and a verified password costs no new scrypt
    # run; failures counted before the reload still count.
    verifier, throttle = hass.data.get(DATA_AUTH) or _async_create_auth(hass)
    # One pace for every port: a storm comes in through all of them.
    pace = hass.data.setdefault(DATA_PACE, AdmissionPace())
    listeners: list[OcppListener] = []
    for port, ssl_context in ports:
        listener = OcppListener(central, verifier=verifier, throttle=throttle, pace=pace)
        try:
            await listener.start(port, ssl_context=ssl_context)
        except OSError as err:
            for started in listeners:
                await started.stop()
            placeholders = {"port": str(port), "error": err.strerror or str(err)}
            ir.async_create_issue(
                hass,
                DOMAIN,
                f"port_unavailable_{port}",
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="port_unavailable",
                translation_placeholders=placeholders,
            )
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN, translation_key="port_unavailable", translation_placeholders=placeholders
            ) from err
        ir.async_delete_issue(hass, DOMAIN, f"port_unavailable_{port}")
        listeners.append(listener)
    return listeners


async def async_tls_context(hass: HomeAssistant, options: Mapping[str, Any]) -> ssl.SSLContext:
    """The wss:// listener's TLS context; a repair and a retry later when its certificates cannot be used."""
    try:
        context = await hass.async_add_executor_job(
            build_server_context, dict(options), Path(hass.config.path(CERTIFICATE_DIR))
        )
    except CertificateError as err:
        placeholders = {"files": err.files}
        ir.async_create_issue(
            hass,
            DOMAIN,
            CERTIFICATES_ISSUE,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=f"certificates_{err.reason}",
            translation_placeholders=placeholders,
        )
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key=f"certificates_{err.reason}",
            translation_placeholders=placeholders,
        ) from err
    ir.async_delete_issue(hass, DOMAIN, CERTIFICATES_ISSUE)
    return context


@callback
def _async_create_auth(hass: HomeAssistant) -> tuple[PasswordVerifier, FailureThrottle]:
    """The password verifier and failure throttle of this Home Assistant run; the scrypt threads stop with it."""
    verifier = PasswordVerifier()
    hass.data[DATA_AUTH] = (verifier, FailureThrottle())

    async def stop_threads(_event: Event) -> None:
        await hass.async_add_executor_job(verifier.close)

    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, stop_threads)
    return hass.data[DATA_AUTH]
