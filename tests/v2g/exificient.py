"""The oracle: EXIficient (the EXICodec.jar of the iso15118 wheel, driven through py4j), and JSON for it.

`scripts/setup --interop` provides it: Java (Debian's default-jre-headless when missing and run as root), and the
iso15118 wheel, downloaded once from PyPI into tools/interop/iso15118 (ignored by git), whose jar and XSDs are
unpacked there. OCPP_CSMS_EXI_JAR names another jar. The oracle encodes and decodes the JSON shape the iso15118
package writes (element names as keys, binary values base64, SessionID hex, simple content with attributes as
{"Id": ..., "value": ...}); `to_json` turns the codec's element trees into it.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from pathlib import Path
import shutil
from typing import Any

from custom_components.ocpp_csms.v2g.exi import ExiElement

ROOT = Path(__file__).parents[2]
WHEEL_DIR = ROOT / "tools" / "interop" / "iso15118"
JAR = Path(os.environ.get("OCPP_CSMS_EXI_JAR", WHEEL_DIR / "EXICodec.jar"))
SCHEMAS = WHEEL_DIR / "schemas"
MSG_DEF = "urn:iso:15118:2:2013:MsgDef"
XMLDSIG = "http://www.w3.org/2000/09/xmldsig#"
#: Elements the iso15118 JSON writes as lists whatever their count.
LISTS = frozenset({"Reference", "Transform", "RootCertificateID"})
ATTRIBUTES = frozenset({"Id", "URI", "Type", "Algorithm"})


def unavailable_reason() -> str | None:
    """Why the oracle cannot run here (None: it can)."""
    if shutil.which("java") is None:
        return (
            "EXI oracle skipped: no Java (scripts/setup --interop installs Debian's default-jre-headless when run as "
            "root; or install a Java runtime)"
        )
    if not JAR.is_file():
        return f"EXI oracle skipped: {JAR} is missing (scripts/setup --interop downloads the iso15118 wheel there)"
    try:
        import py4j  # noqa: F401, PLC0415
    except ImportError:
        return "EXI oracle skipped: py4j is not installed (requirements_test.txt; scripts/setup installs it)"
    return None


class Oracle:
    """EXIficient in a JVM: encode the iso15118 JSON of a message or fragment, decode a stream to that JSON."""

    def __init__(self) -> None:
        """Start the JVM."""
        from py4j.java_gateway import JavaGateway  # noqa: PLC0415

        logging.getLogger("py4j").setLevel(logging.CRITICAL)
        self._gateway = JavaGateway.launch_gateway(
            classpath=str(JAR), die_on_exit=True, javaopts=["--add-opens", "java.base/java.lang=ALL-UNNAMED"]
        )
        self._codec = self._gateway.jvm.com.siemens.ct.exi.main.cmd.EXICodec()

    def encode(self, document: dict[str, Any], namespace: str = MSG_DEF) -> bytes:
        """The oracle's EXI of a JSON document (a V2G_Message, or one element as a fragment)."""
        result = self._codec.encode(json.dumps(document), namespace)
        if result is None:
            raise ValueError(self._codec.get_last_encoding_error())
        return bytes(result)

    def decode(self, data: bytes, namespace: str = MSG_DEF) -> dict[str, Any]:
        """The oracle's JSON of a stream."""
        result = self._codec.decode(data, namespace)
        if result is None:
            raise ValueError(self._codec.get_last_decoding_error())
        decoded: dict[str, Any] = json.loads(result)
        return decoded

    def close(self) -> None:
        """Stop the JVM."""
        self._gateway.shutdown()


def _value(element: ExiElement) -> Any:
    value = element.value
    if isinstance(value, bytes):
        return value.hex().upper() if element.name == "SessionID" else base64.b64encode(value).decode()
    return value


def to_json(element: ExiElement) -> dict[str, Any]:
    """The iso15118 JSON of an element tree: {name: content}."""
    return {element.name: _content(element)}


def _content(element: ExiElement) -> Any:
    if not element.children and element.value is None:
        return dict(element.attributes)
    if not element.children:
        return {**element.attributes, "value": _value(element)} if element.attributes else _value(element)
    content: dict[str, Any] = dict(element.attributes)
    for child in element.children:
        listed = child.name in LISTS or (element.name == "SubCertificates")
        if listed:
            content.setdefault(child.name, []).append(_content(child))
        else:
            content[child.name] = _content(child)
    return content
