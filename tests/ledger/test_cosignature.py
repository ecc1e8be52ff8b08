"""C2SP tlog-cosignature v1 (Ed25519): the spec's example, key ids, keys and round trips."""

from __future__ import annotations

import base64
import hashlib
import struct
from pathlib import Path

import pytest

from ropa.errors import ConfigurationError, VerificationError
from ropa.ledger.cosignature import (
    CosignerVerifier,
    CosigningKey,
    cosignature_key_id,
    cosigned_message,
    parse_cosignature,
    verify_cosignatures,
)
from ropa.ledger.note import parse_note

# tlog-cosignature's example: a checkpoint with the log's signature and a cosignature
SPEC_EXAMPLE = (
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5"
    "/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dl"
    "rDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)
BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"


def test_the_spec_example_cosignature_decodes_to_key_id_timestamp_and_signature() -> None:
    _, signatures = parse_note(SPEC_EXAMPLE)
    assert parse_cosignature(signatures[0]) is None  # the log's 64-byte signature is not one
    cosignature = parse_cosignature(signatures[1])
    assert cosignature is not None
    assert cosignature.name == "witness.example.com/w1"
    assert cosignature.key_id.hex() == "8d66cf3f"
    assert cosignature.timestamp == 1679315147  # the spec's `time 1679315147`
    assert len(cosignature.signature) == 64
    assert cosignature.line() == SPEC_EXAMPLE.splitlines(keepends=True)[-1]


def test_the_signed_message_is_header_time_line_and_body_as_in_the_spec() -> None:
    assert cosigned_message(BODY, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n" + BODY.encode()
    )


def test_key_id_is_sha256_of_name_newline_0x04_and_public_key() -> None:
    key = CosigningKey.generate("witness.example/w1")
    expected = hashlib.sha256(b"witness.example/w1\n\x04" + key.verifier.public_key).digest()[:4]
    assert cosignature_key_id(key.name, key.verifier.public_key) == expected == key.key_id
    name, hex_id, data = key.verifier_key.split("+", 2)
    assert (name, hex_id) == ("witness.example/w1", expected.hex())
    assert base64.b64decode(data) == b"\x04" + key.verifier.public_key


def test_line_is_key_id_then_big_endian_timestamp_then_signature() -> None:
    key = CosigningKey.generate("w1")
    line = key.cosign(BODY, 1_700_000_000).line()
    assert line.startswith("\u2014 w1 ") and line.endswith("\n")
    raw = base64.b64decode(line.split(" ")[2])
    assert len(raw) == 4 + 8 + 64
    assert raw[:4] == key.key_id
    assert struct.unpack(">Q", raw[4:12]) == (1_700_000_000,)


def test_a_cosignature_verifies_over_its_checkpoint_and_nothing_else() -> None:
    key = CosigningKey.generate("w1")
    line = key.cosign(BODY, 1_700_000_000).line()
    assert set(verify_cosignatures(BODY + "\n" + line, [key.verifier])) == {"w1"}
    other = BODY.replace("20852163", "20852164")
    with pytest.raises(VerificationError, match="witness w1"):
        verify_cosignatures(other + "\n" + line, [key.verifier])


def test_lines_by_unknown_witnesses_are_ignored() -> None:
    known, stranger = CosigningKey.generate("w1"), CosigningKey.generate("w2")
    note = BODY + "\n" + stranger.cosign(BODY, 5).line()
    assert verify_cosignatures(note, [known.verifier]) == {}
    assert verify_cosignatures(SPEC_EXAMPLE, [known.verifier]) == {}


def test_a_changed_timestamp_breaks_the_signature() -> None:
    key = CosigningKey.generate("w1")
    cosignature = key.cosign(BODY, 1_700_000_000)
    forged = cosignature._replace(timestamp=1_700_000_001)
    assert not key.verifier.verify(BODY, forged)
    with pytest.raises(VerificationError, match="does not verify"):
        verify_cosignatures(BODY + "\n" + forged.line(), [key.verifier])


def test_verifier_key_round_trips_and_malformed_keys_are_refused() -> None:
    key = CosigningKey.generate("auditor.example/w1")
    assert CosignerVerifier.parse(key.verifier_key) == key.verifier
    name, hex_id, data = key.verifier_key.split("+", 2)
    ledger_style = base64.b64encode(b"\x01" + key.verifier.public_key).decode()
    for bad in (
        f"{name}+{hex_id}",
        f"{name}+00000000+{data}",
        f"{name}+{hex_id}+{ledger_style}",  # type 0x01 is a note key, not a cosigner's
        f"other+{hex_id}+{data}",
    ):
        with pytest.raises(ValueError):
            CosignerVerifier.parse(bad)


def test_private_key_file_is_0600_round_trips_and_never_shows_the_seed(tmp_path: Path) -> None:
    key = CosigningKey.generate("w1")
    path = tmp_path / "witness.key"
    key.write_to_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    loaded = CosigningKey.load_from_file(path)
    assert loaded.verifier == key.verifier
    secret = path.read_text().strip().split("+", 4)[-1]
    assert secret not in repr(loaded) and secret not in str(loaded)
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        CosigningKey.load_from_file(path)
    with pytest.raises(FileExistsError):
        key.write_to_file(tmp_path / "witness.key")
