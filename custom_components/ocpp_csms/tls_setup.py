"""The TLS context of the `wss://` listener, from the user's files or from a CA the integration generates.

A00.FR.318 / A00.FR.421: the CSMS offers the ECDHE-ECDSA suites and the TLS_RSA ones, which takes two server
certificates, one with an EC key and one with an RSA key. The integration generates both (signed by its one CA,
so a station installs a single CSMS root); with the user's own files, a second certificate and key of the other
key type can be given beside the first.

Certificate trouble (a file missing, or one that is not a usable certificate or key) raises `CertificateError`,
which the integration shows as a repair of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
import ssl
from typing import Any, Literal

from .const import (
    CERTIFICATES_FILES,
    CONF_CA_FILE,
    CONF_CERT_FILE,
    CONF_CERTIFICATES,
    CONF_KEY_FILE,
    CONF_SECOND_CERT_FILE,
    CONF_SECOND_KEY_FILE,
    CONF_TLS_HOSTS,
)
from .csms.certificates import generate_ca, generate_server_certificate, write_key_pair
from .csms.tls import server_context

CA_NAME = "ca"
SERVER_NAME = "server"
RSA_SERVER_NAME = "server-rsa"
HOSTS_FILE = "server-hosts.txt"
#: The files the integration generates in its certificate folder (and deletes with the integration); the
#: station certificate authority's own files (`certificate_authority.GENERATED_FILES`) are deleted too.
GENERATED_FILES = (
    f"{CA_NAME}.crt",
    f"{CA_NAME}.key",
    f"{SERVER_NAME}.crt",
    f"{SERVER_NAME}.key",
    f"{RSA_SERVER_NAME}.crt",
    f"{RSA_SERVER_NAME}.key",
    HOSTS_FILE,
)


class CertificateError(Exception):
    """The listener's certificates cannot be used: `reason` is "missing" or "invalid", `files` which ones."""

    def __init__(self, reason: Literal["missing", "invalid"], files: str) -> None:
        """Say what is wrong with which files."""
        super().__init__(f"certificate files {reason}: {files}")
        self.reason = reason
        self.files = files


def server_hosts(options: Mapping[str, Any]) -> list[str]:
    """The host names the generated server certificate is made for (the first is how stations reach it)."""
    return parse_hosts(options.get(CONF_TLS_HOSTS, "")) or ["homeassistant.local"]


def parse_hosts(text: str) -> list[str]:
    """Host names and addresses from a comma- or space-separated list."""
    return [host for host in text.replace(",", " ").split() if host]


def ensure_ca(directory: Path) -> tuple[Path, Path]:
    """The integration's private CA in `directory` (certificate, key), made once and kept: stations trust it.

    CPU and file work: run in an executor.
    """
    ca_cert, ca_key = directory / f"{CA_NAME}.crt", directory / f"{CA_NAME}.key"
    if not (ca_cert.exists() and ca_key.exists()):
        ca_cert, ca_key = write_key_pair(directory, CA_NAME, *generate_ca("OCPP central system CA"))
    return ca_cert, ca_key


def ensure_generated_certificates(directory: Path, hosts: list[str]) -> tuple[Path, Path, Path, Path, Path]:
    """A private CA and two server certificates for `hosts` in `directory`, generated when missing or stale.

    The CA is made once and kept (stations trust it); the server certificates (EC P-256 and RSA 2048, both signed
    by the CA) are re-issued when the host list changes. Returns (CA certificate, EC server certificate, its key,
    RSA server certificate, its key). CPU and file work: run in an executor.
    """
    ca_cert, ca_key = ensure_ca(directory)
    server_cert, server_key = directory / f"{SERVER_NAME}.crt", directory / f"{SERVER_NAME}.key"
    rsa_cert, rsa_key = directory / f"{RSA_SERVER_NAME}.crt", directory / f"{RSA_SERVER_NAME}.key"
    hosts_file = directory / HOSTS_FILE
    wanted = "\n".join(hosts)
    stale = not hosts_file.exists() or hosts_file.read_text(encoding="utf-8") != wanted
    if stale or not (server_cert.exists() and server_key.exists()):
        pair = generate_server_certificate(ca_cert.read_bytes(), ca_key.read_bytes(), hosts)
        server_cert, server_key = write_key_pair(directory, SERVER_NAME, *pair)
    if stale or not (rsa_cert.exists() and rsa_key.exists()):
        pair = generate_server_certificate(ca_cert.read_bytes(), ca_key.read_bytes(), hosts, key_type="rsa")
        rsa_cert, rsa_key = write_key_pair(directory, RSA_SERVER_NAME, *pair)
    if stale:
        hosts_file.write_text(wanted, encoding="utf-8")
    return ca_cert, server_cert, server_key, rsa_cert, rsa_key


def build_server_context(options: Mapping[str, Any], certificate_dir: Path) -> ssl.SSLContext:
    """The listener's TLS context, for profile 2 and 3 stations alike. Run in an executor.

    Profile 2 stations (Basic auth) and profile 3 stations (client certificate) share the port; client
    certificates are checked against the CA when one is known. Raises CertificateError.
    """
    if options.get(CONF_CERTIFICATES) == CERTIFICATES_FILES:
        ca_file = options.get(CONF_CA_FILE) or None
        second = (options.get(CONF_SECOND_CERT_FILE) or None, options.get(CONF_SECOND_KEY_FILE) or None)
        files = [path for path in (options.get(CONF_CERT_FILE), options.get(CONF_KEY_FILE), ca_file, *second) if path]
        if missing := [path for path in files if not Path(path).is_file()]:
            raise CertificateError("missing", ", ".join(missing))
        try:
            return server_context(
                options[CONF_CERT_FILE],
                options[CONF_KEY_FILE],
                ca_file=ca_file,
                client_certs="optional" if ca_file else "none",
                extra_certificates=[(second[0], second[1])] if second[0] and second[1] else (),
            )
        except (ssl.SSLError, ValueError, OSError) as err:
            raise CertificateError("invalid", ", ".join(files)) from err
    hosts = server_hosts(options)
    try:
        ca_cert, server_cert, server_key, rsa_cert, rsa_key = ensure_generated_certificates(certificate_dir, hosts)
        return server_context(
            server_cert,
            server_key,
            ca_file=ca_cert,
            client_certs="optional",
            extra_certificates=[(rsa_cert, rsa_key)],
        )
    except (ssl.SSLError, ValueError, OSError) as err:
        raise CertificateError("invalid", str(certificate_dir)) from err


def remove_generated_certificates(certificate_dir: Path, also: tuple[str, ...] = ()) -> None:
    """Delete the CA and server certificates the integration generated, and the files named in `also`.

    The user's own files stay. Blocking.
    """
    for name in (*GENERATED_FILES, *also):
        (certificate_dir / name).unlink(missing_ok=True)
    if certificate_dir.is_dir() and not any(certificate_dir.iterdir()):
        certificate_dir.rmdir()
