"""RFC 3161 trusted timestamps of checkpoints: the request, and the checks of the answer.

LEDGER-SPEC §9. What is stamped is a checkpoint's *body* (its text lines with their
newlines, without the empty line and the signature lines; `checkpoint.checkpoint_body`):
the TimeStampReq (RFC 3161 §2.4.1) carries `messageImprint` = SHA-256 of that body, a
random nonce and `certReq` true. The TSA's TimeStampResp (§2.4.2) is kept as it came, in
DER; its `genTime` proves that the tree of that size existed no later than that instant.

`open_token` checks an answer: status granted, the imprint is SHA-256 of the body, the
nonce is the one sent (when known), and the token's CMS signature chains to one of the
trusted certificates given (with a TSA certificate whose extendedKeyUsage is critical
and only timeStamping, RFC 3161 §2.3). The ASN.1 and CMS work is rfc3161-client's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import cryptography.x509
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    TimeStampResponse,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from ropa.errors import TimestampError
from ropa.ledger.canonical import format_ts

__all__ = [
    "MEDIA_TYPE_QUERY",
    "MEDIA_TYPE_REPLY",
    "StampRequest",
    "Token",
    "check_imprint",
    "decode",
    "load_trusted",
    "open_token",
    "stamp_request",
    "token_gen_time",
]

MEDIA_TYPE_QUERY = "application/timestamp-query"
MEDIA_TYPE_REPLY = "application/timestamp-reply"
SHA256_OID = cryptography.x509.ObjectIdentifier("2.16.840.1.101.3.4.2.1")


@dataclass(frozen=True)
class StampRequest:
    """A DER TimeStampReq and the nonce it carries (to check the answer against)."""

    der: bytes
    nonce: int
    imprint: bytes


@dataclass(frozen=True)
class Token:
    """A checked TimeStampResp: its DER as received and the TSA's `genTime`."""

    der: bytes
    gen_time: datetime
    imprint: bytes

    @property
    def gen_time_text(self) -> str:
        """genTime as the ledger writes instants (RFC 3339 UTC, microseconds)."""
        return format_ts(self.gen_time)


def stamp_request(body: bytes) -> StampRequest:
    """The TimeStampReq for a checkpoint body: SHA-256 imprint, random nonce, certReq."""
    request = (
        TimestampRequestBuilder()
        .data(body)
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    nonce = request.nonce
    assert nonce is not None
    return StampRequest(request.as_bytes(), nonce, hashlib.sha256(body).digest())


def load_trusted(path: str | Path) -> list[cryptography.x509.Certificate]:
    """The certificates in a PEM (one or more) or DER file; ValueError if there are none."""
    data = Path(path).read_bytes()
    if b"-----BEGIN CERTIFICATE-----" in data:
        certificates = cryptography.x509.load_pem_x509_certificates(data)
    else:
        certificates = [cryptography.x509.load_der_x509_certificate(data)]
    if not certificates:
        raise ValueError(f"{path} holds no certificate")
    return certificates


def decode(der: bytes) -> TimeStampResponse:
    """The parsed TimeStampResp; TimestampError("response") if it is not one with a token."""
    try:
        return decode_timestamp_response(der)
    except Exception as err:  # noqa: BLE001  (the parser raises several types on garbage)
        raise TimestampError("response", f"not a DER TimeStampResp with a token: {err}") from None


def check_imprint(der: bytes, body: bytes) -> TimeStampResponse:
    """A granted TimeStampResp whose imprint is SHA-256 of `body` (its signature unchecked)."""
    response = decode(der)
    if PKIStatus(response.status) not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TimestampError("status", f"the TSA did not grant the request ({response.status})")
    imprint = response.tst_info.message_imprint
    if imprint.hash_algorithm != SHA256_OID:
        raise TimestampError("imprint", f"the imprint is not SHA-256 ({imprint.hash_algorithm})")
    if imprint.message != hashlib.sha256(body).digest():
        raise TimestampError(
            "imprint", "the token stamps another checkpoint body (imprint mismatch)"
        )
    return response


def open_token(
    der: bytes,
    body: bytes,
    trusted: list[cryptography.x509.Certificate],
    *,
    nonce: int | None = None,
) -> Token:
    """Check a TimeStampResp for `body`; the token, or TimestampError naming what failed."""
    response = check_imprint(der, body)
    digest = hashlib.sha256(body).digest()
    if nonce is not None and response.tst_info.nonce != nonce:
        raise TimestampError("nonce", "the token's nonce is not the request's")
    if not trusted:
        raise TimestampError("chain", "no trusted TSA certificate given")
    builder = VerifierBuilder()
    for certificate in trusted:
        builder = builder.add_root_certificate(certificate)
    try:
        builder.build().verify(response, digest)
    except (VerificationError, ValueError) as err:
        reason = str(err)
        if "Verify error:" in reason:  # OpenSSL's own words, without its error stack
            reason = reason.split("Verify error:", 1)[1].split('"', 1)[0].strip()
        elif len(reason) > 160:
            reason = reason[:160] + "..."
        raise TimestampError("chain", f"the token's signature does not verify: {reason}") from None
    gen_time = response.tst_info.gen_time
    if gen_time.tzinfo is None:
        gen_time = gen_time.replace(tzinfo=UTC)
    return Token(der, gen_time.astimezone(UTC), digest)


def token_gen_time(der: bytes) -> datetime:
    """genTime of a stored token, unchecked (the token was checked before it was stored)."""
    gen_time = decode(der).tst_info.gen_time
    return (gen_time if gen_time.tzinfo else gen_time.replace(tzinfo=UTC)).astimezone(UTC)
