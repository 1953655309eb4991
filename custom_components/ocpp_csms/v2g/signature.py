"""ISO 15118-2 message signatures: xmldsig over EXI fragments, ECDSA P-256 with SHA-256.

Each signed element is referenced by its Id ("#Id"), with the canonical EXI transform and a SHA-256 digest of its
EXI fragment; SignedInfo's own EXI fragment (in the xmldsig schema) is what ECDSA signs, and SignatureValue is r||s
(two 32-byte big-endian integers), not DER.
"""

from __future__ import annotations

import hashlib
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from .messages import CANONICAL_EXI, ECDSA_SHA256, SHA256, Reference, Signature, SignedInfo, fragment

COORDINATE_LENGTH: Final = 32


class SignatureError(Exception):
    """A signature that does not verify: the message says why."""


def sign(fragments: dict[str, bytes], key: ec.EllipticCurvePrivateKey) -> Signature:
    """The signature of the elements whose EXI fragments are given by their Id."""
    references = tuple(
        Reference(uri=f"#{element_id}", digest_value=hashlib.sha256(data).digest())
        for element_id, data in fragments.items()
    )
    info = SignedInfo(references)
    r, s = decode_dss_signature(key.sign(fragment(info), ec.ECDSA(hashes.SHA256())))
    return Signature(info, r.to_bytes(COORDINATE_LENGTH, "big") + s.to_bytes(COORDINATE_LENGTH, "big"))


def verify(signature: Signature, fragments: dict[str, bytes], key: ec.EllipticCurvePublicKey) -> None:
    """Check that `signature` covers exactly the given elements (fragments by Id) and is made with `key`."""
    info = signature.signed_info
    if info.canonicalization_method != CANONICAL_EXI or info.signature_method != ECDSA_SHA256:
        raise SignatureError("the signature does not use canonical EXI and ECDSA with SHA-256")
    referenced = {}
    for reference in info.references:
        if reference.uri is None or not reference.uri.startswith("#"):
            raise SignatureError("a reference without a #Id")
        if reference.digest_method != SHA256 or reference.transforms != (CANONICAL_EXI,):
            raise SignatureError("a reference not digested with canonical EXI and SHA-256")
        referenced[reference.uri[1:]] = reference.digest_value
    if set(referenced) != set(fragments):
        raise SignatureError(f"the signature references {sorted(referenced)}, not {sorted(fragments)}")
    for element_id, data in fragments.items():
        if hashlib.sha256(data).digest() != referenced[element_id]:
            raise SignatureError(f"the digest of #{element_id} does not match")
    value = signature.signature_value
    if len(value) != 2 * COORDINATE_LENGTH:
        raise SignatureError("the signature value is not 64 bytes (r||s)")
    der = encode_dss_signature(
        int.from_bytes(value[:COORDINATE_LENGTH], "big"), int.from_bytes(value[COORDINATE_LENGTH:], "big")
    )
    try:
        key.verify(der, fragment(info), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError) as err:
        raise SignatureError("the signature value does not verify with the signer's key") from err
