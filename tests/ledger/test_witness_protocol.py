"""The C2SP tlog-witness wire format: the spec's add-checkpoint example and round trips."""

from __future__ import annotations

import base64

import pytest

from ropa.ledger.witness_protocol import (
    MAX_PROOF_LINES,
    format_add_checkpoint,
    format_size,
    parse_add_checkpoint,
    parse_cosignature_lines,
    parse_size,
)

SPEC_REQUEST = (
    "old 20852014\n"
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
    "\n"
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5"
    "/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "\u2014 example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks"
    "+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n"
)


def test_the_spec_example_request_parses_and_formats_back_byte_for_byte() -> None:
    request = parse_add_checkpoint(SPEC_REQUEST.encode())
    assert request.old_size == 20852014
    assert len(request.proof) == 4 and all(len(h) == 32 for h in request.proof)
    assert request.proof[0] == base64.b64decode("PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=")
    assert request.checkpoint.startswith("example.com/behind-the-sofa\n20852163\n")
    assert format_add_checkpoint(*request) == SPEC_REQUEST.encode()


def test_a_request_from_size_zero_has_no_proof_lines() -> None:
    body = format_add_checkpoint(0, [], "o\n1\nAAAA\n\n\u2014 k AAAA\n")
    assert body.startswith(b"old 0\n\no\n1\n")
    assert parse_add_checkpoint(body).proof == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"old 1\n",  # no empty line, no checkpoint
        b"old 01\n\ncheckpoint\n",  # leading zero
        b"old -1\n\ncheckpoint\n",
        b"new 1\n\ncheckpoint\n",
        b"old 1\nnot base64!\n\ncheckpoint\n",
        b"old 1\n\n",
        b"old 1\n" + b"AAAA\n" * (MAX_PROOF_LINES + 1) + b"\ncheckpoint\n",
        b"old 1\n\n\xff\xfe\n",
    ],
)
def test_malformed_requests_are_refused(body: bytes) -> None:
    with pytest.raises(ValueError):
        parse_add_checkpoint(body)


def test_the_409_size_body_is_decimal_and_newline() -> None:
    assert format_size(42) == b"42\n"
    assert parse_size(b"42\n") == 42
    for bad in (b"42", b"042\n", b"x\n", b"\n"):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_cosignature_answers_are_signature_lines() -> None:
    lines = parse_cosignature_lines("\u2014 w1 AAAA\n\u2014 w2 BBBB\n".encode())
    assert lines == ["\u2014 w1 AAAA\n", "\u2014 w2 BBBB\n"]
    for bad in (b"", b"hello\n", "\u2014 w1 AAAA".encode(), b"<html></html>\n"):
        with pytest.raises(ValueError):
            parse_cosignature_lines(bad)
