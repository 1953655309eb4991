"""Station passwords: salted scrypt hashes (A01.FR.08), generation and validity (A00.FR.205, A01.FR.07)."""

from __future__ import annotations

import asyncio
import base64
import string
import time

import pytest

from custom_components.ocpp_csms.csms.passwords import (
    PASSWORD_PORTABLE_MAX_LENGTH,
    SCRYPT_N,
    SCRYPT_P,
    SCRYPT_R,
    SCRYPT_WORKERS,
    PasswordVerifier,
    generate_password,
    hash_password,
    is_password_hash,
    is_valid_password,
    verify_password,
)

PASSWORD = "Zq8dLr2Vx0bT9mKc4HwJ"
STORED = hash_password(PASSWORD)


def test_a01_fr_08_hash_is_salted_and_self_describing() -> None:
    scheme, n, r, p, salt, digest = STORED.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", SCRYPT_N, SCRYPT_R, SCRYPT_P)
    assert len(base64.b64decode(salt)) == 16
    assert len(base64.b64decode(digest)) == 32
    assert PASSWORD not in STORED  # A01.FR.09: nothing of the password is kept in clear
    assert is_password_hash(STORED)


def test_same_password_hashes_differently_each_time() -> None:
    other = hash_password(PASSWORD)
    assert other != STORED
    assert other.split("$")[4] != STORED.split("$")[4]  # the salts differ
    assert verify_password(PASSWORD, other)


def test_verify_accepts_the_password_and_nothing_else() -> None:
    assert verify_password(PASSWORD, STORED)
    assert not verify_password(PASSWORD + "x", STORED)
    assert not verify_password(PASSWORD.lower(), STORED)  # passwordString is case-sensitive
    assert not verify_password("", STORED)


def test_non_ascii_password_round_trips() -> None:
    # A00.FR.205: the password travels as UTF-8.
    password = "pässwörd-ñ-0123456789"
    assert verify_password(password, hash_password(password))


def _with_field(index: int, value: str) -> str:
    parts = STORED.split("$")
    parts[index] = value
    return "$".join(parts)


def _flip_last_byte(b64: str) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[-1] ^= 1
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param(_with_field(5, _flip_last_byte(STORED.split("$")[5])), id="digest-altered"),
        pytest.param(_with_field(4, _flip_last_byte(STORED.split("$")[4])), id="salt-altered"),
        pytest.param(_with_field(1, str(SCRYPT_N // 2)), id="cost-lowered"),
        pytest.param(_with_field(2, str(SCRYPT_R + 1)), id="block-size-changed"),
    ],
)
def test_tampered_hash_does_not_verify(stored: str) -> None:
    assert is_password_hash(stored)
    assert not verify_password(PASSWORD, stored)


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param("", id="empty"),
        pytest.param(PASSWORD, id="plain-password"),
        pytest.param(STORED.replace("scrypt", "pbkdf2", 1), id="unknown-scheme"),
        pytest.param(STORED + "$extra", id="too-many-fields"),
        pytest.param(STORED.rsplit("$", 1)[0], id="digest-missing"),
        pytest.param(_with_field(1, "8191"), id="n-not-power-of-two"),
        pytest.param(_with_field(1, str(2**30)), id="n-huge"),
        pytest.param(_with_field(1, "-8192"), id="n-negative"),
        pytest.param(_with_field(1, "٨١٩٢"), id="n-non-ascii-digits"),
        pytest.param(_with_field(3, "0"), id="p-zero"),
        pytest.param(_with_field(2, "100000"), id="r-huge"),
        pytest.param(_with_field(4, "not base64!"), id="salt-not-base64"),
        pytest.param(_with_field(5, STORED.split("$")[5][:-2]), id="digest-bad-padding"),
        pytest.param(_with_field(5, base64.b64encode(b"short").decode()), id="digest-too-short"),
        pytest.param(_with_field(4, base64.b64encode(b"salt").decode()), id="salt-too-short"),
    ],
)
def test_malformed_hash_is_rejected_without_hashing(stored: str) -> None:
    # Refused before any scrypt run: a huge n or r would otherwise raise or allocate gigabytes.
    assert not is_password_hash(stored)
    assert not verify_password(PASSWORD, stored)


def test_hash_cost_is_bounded() -> None:
    # About 20 ms on the reference machine; the bound only catches a parameter slip (e.g. n=2**17).
    start = time.perf_counter()
    hash_password(PASSWORD)
    assert time.perf_counter() - start < 0.5


# --- PasswordVerifier ---


def test_verifier_remembers_a_success_and_answers_repeats_in_microseconds() -> None:
    verifier = PasswordVerifier()
    assert not verifier.check_cached("CS001", PASSWORD, STORED)
    assert verifier.verify("CS001", PASSWORD, STORED)
    assert verifier.check_cached("CS001", PASSWORD, STORED)
    start = time.perf_counter()
    for _ in range(200):
        assert verifier.verify("CS001", PASSWORD, STORED)
    # 200 scrypt runs would take about 4 s: these are served by the HMAC memory.
    assert time.perf_counter() - start < 0.2


def test_verifier_cache_does_not_accept_another_password_or_station() -> None:
    verifier = PasswordVerifier()
    assert verifier.verify("CS001", PASSWORD, STORED)
    assert not verifier.check_cached("CS001", PASSWORD + "x", STORED)
    assert not verifier.verify("CS001", PASSWORD + "x", STORED)
    assert not verifier.check_cached("CS002", PASSWORD, STORED)
    # The failure did not displace the remembered success.
    assert verifier.check_cached("CS001", PASSWORD, STORED)


def test_verifier_does_not_cache_failures() -> None:
    verifier = PasswordVerifier()
    assert not verifier.verify("CS001", "wrong-password-123", STORED)
    assert len(verifier) == 0


def test_a01_fr_03_new_hash_invalidates_the_cache() -> None:
    verifier = PasswordVerifier()
    assert verifier.verify("CS001", PASSWORD, STORED)
    new_password = generate_password()
    new_stored = hash_password(new_password)
    # The station's password changed: the old one is no longer accepted, and the memory of it is dropped.
    assert not verifier.check_cached("CS001", PASSWORD, new_stored)
    assert len(verifier) == 0
    assert not verifier.verify("CS001", PASSWORD, new_stored)
    assert verifier.verify("CS001", new_password, new_stored)
    assert verifier.check_cached("CS001", new_password, new_stored)


def test_a01_fr_04_old_and_new_hash_both_accepted_until_the_change_is_confirmed() -> None:
    verifier = PasswordVerifier()
    new_password = generate_password()
    new_stored = hash_password(new_password)
    assert verifier.verify("CS001", PASSWORD, [new_stored, STORED])
    assert verifier.check_cached("CS001", PASSWORD, [new_stored, STORED])
    assert verifier.verify("CS001", new_password, [new_stored, STORED])
    assert not verifier.check_cached("CS001", new_password, [STORED])


def test_verifier_memory_is_bounded_and_forgettable() -> None:
    verifier = PasswordVerifier(max_entries=2)
    for station in ("CS001", "CS002", "CS003"):
        assert verifier.verify(station, PASSWORD, STORED)
    assert len(verifier) == 2
    assert not verifier.check_cached("CS001", PASSWORD, STORED)  # least recently verified, dropped
    assert verifier.check_cached("CS003", PASSWORD, STORED)
    verifier.forget("CS003")
    assert not verifier.check_cached("CS003", PASSWORD, STORED)
    verifier.clear()
    assert len(verifier) == 0
    with pytest.raises(ValueError, match="positive"):
        PasswordVerifier(max_entries=0)


def test_verifier_keys_are_per_process_random() -> None:
    first, second = PasswordVerifier(), PasswordVerifier()
    assert first.verify("CS001", PASSWORD, STORED)
    assert second.verify("CS001", PASSWORD, STORED)
    assert first._entries["CS001"][1] != second._entries["CS001"][1]


# --- generation and validity ---


def test_a01_fr_07_generated_passwords_are_random_valid_and_alphanumeric() -> None:
    passwords = {generate_password() for _ in range(200)}
    assert len(passwords) == 200
    for password in passwords:
        assert len(password) == 32
        assert set(password) <= set(string.ascii_letters + string.digits)
        assert is_valid_password(password, max_length=PASSWORD_PORTABLE_MAX_LENGTH)


@pytest.mark.parametrize("length", [16, 40, 64])
def test_generated_password_lengths(length: int) -> None:
    assert len(generate_password(length)) == length


@pytest.mark.parametrize("length", [0, 15, 65])
def test_a00_fr_205_generated_length_out_of_range_is_refused(length: int) -> None:
    with pytest.raises(ValueError, match="length"):
        generate_password(length)


@pytest.mark.parametrize(
    ("password", "valid", "portable"),
    [
        pytest.param("a" * 16, True, True, id="16-minimum"),
        pytest.param("a" * 15, False, False, id="15-too-short"),
        pytest.param("a" * 40, True, True, id="40-original-maximum"),
        pytest.param("a" * 41, True, False, id="41-errata-only"),
        pytest.param("a" * 64, True, False, id="64-errata-maximum"),
        pytest.param("a" * 65, False, False, id="65-too-long"),
        pytest.param("Abc123*-_=:+|@.xyz", True, True, id="every-symbol"),
        pytest.param("abcdefgh ijklmnop", False, False, id="space"),
        pytest.param("abcdefghijklmnop!", False, False, id="exclamation"),
        pytest.param("abcdefghijklmnopé", False, False, id="non-ascii"),
        pytest.param("", False, False, id="empty"),
    ],
)
def test_a00_fr_205_password_string_rules(password: str, valid: bool, portable: bool) -> None:
    assert is_valid_password(password) is valid
    assert is_valid_password(password, max_length=PASSWORD_PORTABLE_MAX_LENGTH) is portable


async def test_async_hash_and_verify_run_scrypt_on_the_verifiers_own_threads() -> None:
    """A reconnect storm keeps off the host's shared executor: at most SCRYPT_WORKERS threads of our own."""
    verifier = PasswordVerifier()
    hashes = await asyncio.gather(*(verifier.async_hash(PASSWORD) for _ in range(4)))
    assert len(set(hashes)) == 4  # salted
    results = await asyncio.gather(*(verifier.async_verify(f"CP-{n}", PASSWORD, hashes[n]) for n in range(4)))
    assert results == [True] * 4
    assert not await verifier.async_verify("CP-0", PASSWORD + "x", hashes[0])
    threads = verifier.executor._threads
    assert 1 <= len(threads) <= SCRYPT_WORKERS
    assert all(thread.name.startswith("ocpp_csms_scrypt") for thread in threads)
    # Remembered: the next check needs no thread at all.
    assert verifier.check_cached("CP-1", PASSWORD, hashes[1])
    verifier.executor.shutdown()
