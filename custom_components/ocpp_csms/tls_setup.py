"""The TLS context of the `wss://` listener, from the user's files or from a CA the integration generates.

Certificate trouble (a file missing, or one that is not a usable certificate or key) raises `CertificateError`,
which the integration shows as a repair of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
import ssl
from typing import Any, Literal

from .const import CERTIFICATES_FILES, CONF_CA_FILE, CONF_CERT_FILE, CONF_CERTIFICATES, CONF_KEY_FILE, CONF_TLS_HOSTS
from .csms.certificates import generate_ca, generate_server_certificate, write_key_pair
from .csms.tls import server_context

CA_NAME = "ca"
SERVER_NAME = "server"
HOSTS_FILE = "server-hosts.txt"
#: The files the integration generates in its certificate folder (and deletes with the integration).
GENERATED_FILES = (f"{CA_NAME}.crt", f"{CA_NAME}.key", f"{SERVER_NAME}.crt", f"{SERVER_NAME}.key", HOSTS_FILE)


class CertificateError(Exception):
    """The listener's certificates cannot be used: `reason` is "missing" or "invalid", `files` which ones."""

    def __init__(self, reason: Literal["missing", "invalid"], files: str) -> None:
        """Say what is wrong with which files."""
        super().__init__(f"certificate files {reason}: {files}")
        self.reason = reason
        self.files = files


def parse_hosts(text: str) -> list[str]:
    """Host names and addresses from a comma- or space-separated list."""
    return [host for host in text.replace(",", " ").split() if host]


def ensure_generated_certificates(directory: Path, hosts: list[str]) -> tuple[Path, Path, Path]:
    """A private CA and a server certificate for `hosts` in `directory`, generated when missing or stale.

    The CA is made once and kept (stations trust it); the server certificate is re-issued when the host list
    changes. Returns (CA certificate, server certificate, server key). CPU and file work: run in an executor.
    """
    ca_cert, ca_key = directory / f"{CA_NAME}.crt", directory / f"{CA_NAME}.key"
    if not (ca_cert.exists() and ca_key.exists()):
        ca_cert, ca_key = write_key_pair(directory, CA_NAME, *generate_ca("OCPP central system CA"))
    server_cert, server_key = directory / f"{SERVER_NAME}.crt", directory / f"{SERVER_NAME}.key"
    hosts_file = directory / HOSTS_FILE
    wanted = "\n".join(hosts)
    if not (server_cert.exists() and server_key.exists()) or hosts_file.read_text(encoding="utf-8") != wanted:
        pair = generate_server_certificate(ca_cert.read_bytes(), ca_key.read_bytes(), hosts)
        server_cert, server_key = write_key_pair(directory, SERVER_NAME, *pair)
        hosts_file.write_text(wanted, encoding="utf-8")
    return ca_cert, server_cert, server_key


def build_server_context(options: Mapping[str, Any], certificate_dir: Path) -> ssl.SSLContext:
    """The listener's TLS context, for profile 2 and 3 stations alike. Run in an executor.

    Profile 2 stations (Basic auth) and profile 3 stations (client certificate) share the port; client
    certificates are checked against the CA when one is known. Raises CertificateError.
    """
    if options.get(CONF_CERTIFICATES) == CERTIFICATES_FILES:
        ca_file = options.get(CONF_CA_FILE) or None
        files = [path for path in (options.get(CONF_CERT_FILE), options.get(CONF_KEY_FILE), ca_file) if path]
        if missing := [path for path in files if not Path(path).is_file()]:
            raise CertificateError("missing", ", ".join(missing))
        try:
            return server_context(
                options[CONF_CERT_FILE],
                options[CONF_KEY_FILE],
                ca_file=ca_file,
                client_certs="optional" if ca_file else "none",
            )
        except (ssl.SSLError, ValueError, OSError) as err:
            raise CertificateError("invalid", ", ".join(files)) from err
    hosts = parse_hosts(options.get(CONF_TLS_HOSTS, "")) or ["homeassistant.local"]
    try:
        ca_cert, server_cert, server_key = ensure_generated_certificates(certificate_dir, hosts)
        return server_context(server_cert, server_key, ca_file=ca_cert, client_certs="optional")
    except (ssl.SSLError, ValueError, OSError) as err:
        raise CertificateError("invalid", str(certificate_dir)) from err


def remove_generated_certificates(certificate_dir: Path) -> None:
    """Delete the CA and server certificate the integration generated (the user's own files stay). Blocking."""
    for name in GENERATED_FILES:
        (certificate_dir / name).unlink(missing_ok=True)
    if certificate_dir.is_dir() and not any(certificate_dir.iterdir()):
        certificate_dir.rmdir()
