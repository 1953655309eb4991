"""The contract private key sent to the EV, encrypted as ISO 15118-2 says.

ECDH between a fresh ephemeral key and the EV's key (the OEM provisioning certificate's for an installation, the
current contract certificate's for an update), the NIST SP 800-56A concatenation KDF with SHA-256 (OtherInfo:
AlgorithmID 0x01, PartyUInfo 0x55, PartyVInfo 0x56; a 128-bit key), and AES-128-CBC over the 32-byte private key
with a random IV, sent first: ContractSignatureEncryptedPrivateKey = IV || ciphertext (48 bytes), DHpublickey =
the ephemeral public key as an uncompressed point (65 bytes). 32 bytes fill two AES blocks: no padding.
"""

from __future__ import annotations

import os
from typing import Final

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash

OTHER_INFO: Final = bytes((0x01, 0x55, 0x56))
IV_LENGTH: Final = 16
PRIVATE_KEY_LENGTH: Final = 32


def _session_key(private: ec.EllipticCurvePrivateKey, peer: ec.EllipticCurvePublicKey) -> bytes:
    shared = private.exchange(ec.ECDH(), peer)
    return ConcatKDFHash(algorithm=hashes.SHA256(), length=16, otherinfo=OTHER_INFO).derive(shared)


def encrypt_private_key(
    contract_key: ec.EllipticCurvePrivateKey, ev_public_key: ec.EllipticCurvePublicKey
) -> tuple[bytes, bytes]:
    """(ContractSignatureEncryptedPrivateKey, DHpublickey) for the EV whose key is `ev_public_key`."""
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    iv = os.urandom(IV_LENGTH)
    encryptor = Cipher(algorithms.AES(_session_key(ephemeral, ev_public_key)), modes.CBC(iv)).encryptor()
    secret = contract_key.private_numbers().private_value.to_bytes(PRIVATE_KEY_LENGTH, "big")
    encrypted = iv + encryptor.update(secret) + encryptor.finalize()
    dh_public = ephemeral.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return encrypted, dh_public


def decrypt_private_key(
    encrypted: bytes, dh_public_key: bytes, ev_key: ec.EllipticCurvePrivateKey
) -> ec.EllipticCurvePrivateKey:
    """What the EV does with them: the contract private key (ValueError when they are malformed)."""
    if len(encrypted) != IV_LENGTH + PRIVATE_KEY_LENGTH:
        raise ValueError("the encrypted private key is not 48 bytes")
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), dh_public_key)
    decryptor = Cipher(algorithms.AES(_session_key(ev_key, peer)), modes.CBC(encrypted[:IV_LENGTH])).decryptor()
    secret = decryptor.update(encrypted[IV_LENGTH:]) + decryptor.finalize()
    return ec.derive_private_key(int.from_bytes(secret, "big"), ec.SECP256R1())
