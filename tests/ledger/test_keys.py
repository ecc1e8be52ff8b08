"""Signing keys: signed-note names and ids, Go's private key line, files only the owner reads."""

from __future__ import annotations

import base64
import os
import pickle
import re
import stat
from datetime import date
from pathlib import Path

import pytest

from ropa.errors import ConfigurationError
from ropa.ledger.keys import ENTRY_CONTEXT, SigningKey, Verifier, default_name, generate

SEED = bytes.fromhex("ee9a84f7c71d5db1b076a038afd882f98a75ce7eeea720c043d2c2bf9ddd8e83")
NAME = "ropa.local-20261101"
VKEY = "ropa.local-20261101+b439fbc3+AX7TBodCWYQ7UC06iv+ZtqBDEbTX8xbVwnm5sL05ji/e"


@pytest.fixture
def key() -> SigningKey:
    return SigningKey(NAME, SEED)


def test_key_id_and_verifier_key_follow_c2sp_signed_note(key: SigningKey) -> None:
    assert key.key_id_hex == "b439fbc3"
    assert key.key_id == bytes.fromhex("b439fbc3")
    assert key.verifier_key == VKEY


def test_entry_signatures_cover_the_context_string_and_the_leaf_hash(key: SigningKey) -> None:
    leaf = bytes(range(32))
    signature = key.sign_entry(leaf)
    assert len(signature) == 64
    assert key.verifier.verify(ENTRY_CONTEXT + leaf, signature)
    assert key.verifier.verify_entry(leaf, signature)
    assert not key.verifier.verify(leaf, signature)  # a bare hash is not what was signed
    assert not key.verifier.verify_entry(bytes(32), signature)


def test_sign_entry_refuses_anything_but_a_32_byte_hash(key: SigningKey) -> None:
    with pytest.raises(ValueError):
        key.sign_entry(b"short")


def test_verifier_parse_round_trips() -> None:
    verifier = Verifier.parse(VKEY)
    assert (verifier.name, verifier.key_id_hex, verifier.verifier_key) == (NAME, "b439fbc3", VKEY)
    assert verifier == SigningKey(NAME, SEED).verifier


@pytest.mark.parametrize(
    "vkey",
    [
        "",
        "no-plus-signs",
        "name+b439fbc3",
        VKEY.replace("ropa.local-20261101", "ropa local"),  # space in the name
        VKEY.replace("b439fbc3", "b439fbc4"),  # key id does not match
        VKEY.replace("b439fbc3", "B439FBC3"),  # key id not lowercase
        VKEY.replace("+AX7T", "+AH7T"),  # algorithm byte is not 0x01
        VKEY[:-4],  # truncated key data
        VKEY + "!",  # not base64
    ],
)
def test_verifier_parse_refuses_malformed_keys(vkey: str) -> None:
    with pytest.raises(ValueError):
        Verifier.parse(vkey)


@pytest.mark.parametrize("name", ["", "has space", "has+plus", "tab\there", "new\nline"])
def test_key_names_with_spaces_or_plus_signs_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        SigningKey(name, SEED)


def test_repr_and_str_never_show_the_seed(key: SigningKey) -> None:
    private = key.to_private_text()
    encoded_seed = private.split("+", 4)[-1]
    for shown in (repr(key), str(key), f"{key}", f"{key!r}", repr([key])):
        assert SEED.hex() not in shown
        assert encoded_seed not in shown
        assert base64.b64encode(SEED).decode() not in shown
        assert "b439fbc3" in shown


def test_signing_keys_cannot_be_pickled(key: SigningKey) -> None:
    with pytest.raises(TypeError):
        pickle.dumps(key)


def test_private_text_is_gos_note_private_key_line(key: SigningKey) -> None:
    text = key.to_private_text()
    assert re.fullmatch(r"PRIVATE\+KEY\+ropa\.local-20261101\+b439fbc3\+[A-Za-z0-9+/]+=*", text)
    assert base64.b64decode(text.split("+", 4)[-1]) == b"\x01" + SEED
    assert SigningKey.from_private_text(text + "\n").verifier_key == VKEY


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t.replace("PRIVATE+KEY+", "PUBLIC+KEY+"),
        lambda t: t.replace("b439fbc3", "00000000"),
        lambda t: t[:-6],
        lambda t: t.replace("PRIVATE+KEY+ropa.local-20261101", "PRIVATE+KEY+other"),
    ],
)
def test_malformed_private_text_is_refused_without_quoting_it(
    key: SigningKey, mangle: object
) -> None:
    assert callable(mangle)
    text = mangle(key.to_private_text())
    with pytest.raises(ValueError) as caught:
        SigningKey.from_private_text(text)
    assert text.split("+", 4)[-1] not in str(caught.value)


def test_write_to_file_creates_an_owner_only_file(key: SigningKey, tmp_path: Path) -> None:
    path = tmp_path / "ledger.key"
    key.write_to_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SigningKey.load_from_file(path).verifier_key == VKEY


def test_write_to_file_never_overwrites_an_existing_file(key: SigningKey, tmp_path: Path) -> None:
    path = tmp_path / "ledger.key"
    path.write_text("precious")
    with pytest.raises(FileExistsError):
        key.write_to_file(path)
    assert path.read_text() == "precious"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o700])
def test_load_from_file_refuses_a_file_others_may_read_and_says_to_chmod(
    key: SigningKey, tmp_path: Path, mode: int
) -> None:
    path = tmp_path / "ledger.key"
    key.write_to_file(path)
    os.chmod(path, mode)
    with pytest.raises(ConfigurationError, match="chmod 600") as caught:
        SigningKey.load_from_file(path)
    assert key.to_private_text() not in str(caught.value)


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_load_from_file_accepts_owner_only_modes(
    key: SigningKey, tmp_path: Path, mode: int
) -> None:
    path = tmp_path / "ledger.key"
    key.write_to_file(path)
    os.chmod(path, mode)
    assert SigningKey.load_from_file(path).key_id == key.key_id


def test_load_from_file_reports_a_missing_file_as_configuration(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot open"):
        SigningKey.load_from_file(tmp_path / "absent.key")


def test_load_from_file_reports_garbage_without_echoing_it(tmp_path: Path) -> None:
    path = tmp_path / "ledger.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"PRIVATE+KEY+x+00000000+c2VjcmV0c2VjcmV0")
    os.close(fd)
    with pytest.raises(ConfigurationError, match="malformed") as caught:
        SigningKey.load_from_file(path)
    assert "c2VjcmV0c2VjcmV0" not in str(caught.value)


def test_load_from_env_reads_the_private_key_line(key: SigningKey) -> None:
    assert SigningKey.load_from_env(key.to_private_text()).verifier_key == VKEY
    with pytest.raises(ConfigurationError):
        SigningKey.load_from_env("not a key")


def test_default_name_is_prefix_and_date() -> None:
    assert default_name("ropa.local", date(2026, 11, 22)) == "ropa.local-20261122"
    assert re.fullmatch(r"acme-\d{8}", default_name("acme"))


def test_generate_makes_distinct_working_keys() -> None:
    first, second = generate("ropa.local-20261122"), generate("ropa.local-20261122")
    assert first.key_id != second.key_id
    signature = first.sign_entry(bytes(32))
    assert Verifier.parse(first.verifier_key).verify_entry(bytes(32), signature)
    assert not Verifier.parse(second.verifier_key).verify_entry(bytes(32), signature)
