"""docs/ledger.md specifies the ledger format for auditors who write their own verifier:
its worked examples must be the test vectors' bytes, and its algorithms must verify them.

The checks here use only hashlib and PyNaCl, as an auditor's verifier would, never ropa's
own ledger code: the page, not the implementation, is under test.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
from pathlib import Path

import nacl.signing

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "ledger.md").read_text(encoding="utf-8")
VECTORS = REPO / "tests" / "assets" / "ledger-vectors"
BLOCKS = re.findall(r"```[a-z]*\n(.*?)```", DOC, re.DOTALL)
DASH = "\u2014 "


def H(data: bytes) -> bytes:  # the page's name for SHA-256
    return hashlib.sha256(data).digest()


def verifier(vkey: str) -> tuple[str, bytes, int, bytes]:
    """(name, key id, signature type, public key) of `<name>+<id>+<base64(type ‖ key)>`."""
    name, key_id, data = vkey.split("+", 2)
    raw = base64.b64decode(data)
    assert H(name.encode() + b"\n" + raw)[:4].hex() == key_id, vkey
    return name, bytes.fromhex(key_id), raw[0], raw[1:]


def vectors_keys() -> dict[str, tuple[str, bytes, int, bytes]]:
    keys = json.loads((VECTORS / "keys-private.json").read_text())["keys"]
    return {k["name"]: verifier(k["verifierKey"]) for k in keys}


def notes() -> list[str]:
    return [b for b in BLOCKS if b.startswith("ropa.local/") and f"\n\n{DASH}" in b]


def test_the_key_ids_and_verifier_keys_of_the_page_follow_its_rule() -> None:
    for vkey in re.findall(r"`([\w.-]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]{44})`", DOC):
        verifier(vkey)  # raises on a key id that is not H(name ‖ 0x0A ‖ type ‖ key)[:4]
    keys = json.loads((VECTORS / "keys-private.json").read_text())["keys"]
    for key in keys:
        assert key["seedHex"] in DOC and key["verifierKey"] in DOC
        seed = nacl.signing.SigningKey(bytes.fromhex(key["seedHex"]))
        assert verifier(key["verifierKey"])[3] == bytes(seed.verify_key)


def test_the_entry_example_is_the_first_vector_line_with_its_hash_and_signature() -> None:
    first = (VECTORS / "entries.jsonl").read_bytes().split(b"\n")[0]
    assert first.decode() + "\n" in BLOCKS
    assert f"({len(first)} bytes without its newline)" in DOC
    leaf = H(b"\x00" + first)
    assert f"H(0x00 ‖ those {len(first)} bytes) =\n`{leaf.hex()}`" in DOC
    signed = (VECTORS / "signatures.jsonl").read_text().splitlines()[0]
    assert signed + "\n" in BLOCKS
    _, _, _, public = vectors_keys()["ropa.local-20261101"]
    signature = base64.b64decode(json.loads(signed)["signature"])
    message = b"ropa-ledger/v1 entry\n" + leaf
    assert len(message) == 53
    nacl.signing.VerifyKey(public).verify(message, signature)


def test_every_checkpoint_example_is_a_vector_and_every_known_signature_verifies() -> None:
    keys = {(name, kid): public for name, kid, _, public in vectors_keys().values()}
    found = notes()
    assert len(found) >= 2
    for note in found:
        text, block = note.split("\n\n", 1)
        text += "\n"
        _, size, root = text.splitlines()
        expected = (VECTORS / "checkpoints" / size).read_text().split("\n\n")[0] + "\n"
        assert text == expected, size
        roots = json.loads((VECTORS / "proofs.json").read_text())["roots"]
        assert base64.b64decode(root).hex() == roots[size]
        signers = []
        for line in block.splitlines():
            name, blob = line.removeprefix(DASH).split(" ")
            raw = base64.b64decode(blob)
            public = keys[(name, raw[:4])]
            nacl.signing.VerifyKey(public).verify(text.encode(), raw[4:])
            signers.append(name)
        if size == "7":  # the rotation's checkpoint: both keys, the old one first (v1.1)
            assert signers == ["ropa.local-20261101", "ropa.local-20261122"]


def _verify_inclusion(i: int, n: int, leaf: bytes, path: list[bytes], root: bytes) -> bool:
    if i >= n:
        return False
    fn, sn, r = i, n - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = H(b"\x01" + p + r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = H(b"\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def _verify_consistency(m: int, n: int, old: bytes, new: bytes, path: list[bytes]) -> bool:
    if m == n:
        return not path and old == new
    if m == 0 or m > n or not path:
        return False
    if m & (m - 1) == 0:
        path = [old, *path]
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = H(b"\x01" + c + fr), H(b"\x01" + c + sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = H(b"\x01" + sr + c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old and sr == new and sn == 0


def test_the_pages_proof_algorithms_verify_every_vector_proof_and_its_examples() -> None:
    proofs = json.loads((VECTORS / "proofs.json").read_text())
    roots = {int(k): bytes.fromhex(v) for k, v in proofs["roots"].items()}
    lines = (VECTORS / "entries.jsonl").read_bytes().split(b"\n")[:-1]
    leaves = [H(b"\x00" + line) for line in lines]
    for p in proofs["inclusion"]:
        path = [bytes.fromhex(h) for h in p["path"]]
        assert _verify_inclusion(
            p["seq"], p["treeSize"], leaves[p["seq"]], path, roots[p["treeSize"]]
        )
        if path:
            assert not _verify_inclusion(
                p["seq"], p["treeSize"], leaves[p["seq"]], path[:-1], roots[p["treeSize"]]
            )
    for p in proofs["consistency"]:
        path = [bytes.fromhex(h) for h in p["path"]]
        m, n = p["fromSize"], p["toSize"]
        assert _verify_consistency(m, n, roots[m], roots[n], path)
        if m != n:
            assert not _verify_consistency(m, n, roots[m], H(b"forged"), path)
    examples = [b.split() for b in BLOCKS if re.fullmatch(r"(?:[0-9a-f]{64}\n){4}", b)]
    assert [bytes.fromhex(h) for h in examples[0]] == [
        bytes.fromhex(h)
        for h in next(
            p["path"] for p in proofs["inclusion"] if (p["seq"], p["treeSize"]) == (6, 10)
        )
    ]
    assert _verify_consistency(6, 10, roots[6], roots[10], [bytes.fromhex(h) for h in examples[1]])
    assert roots[10].hex() in DOC and roots[2].hex() in DOC


def test_the_timestamp_request_example_imprints_the_checkpoint_body() -> None:
    block = next(b for b in BLOCKS if b.startswith("30 43"))
    hexes = []
    for line in block.splitlines():  # the bytes lead each line; a comment may follow
        for token in line.split():
            if not re.fullmatch(r"[0-9a-f]{2}", token):
                break
            hexes.append(token)
    der = bytes.fromhex("".join(hexes))
    assert len(der) == 69 and der[:2] == b"\x30\x43"
    body = (VECTORS / "checkpoint").read_text().split("\n\n")[0] + "\n"
    assert f"lines, {len(body.encode())} bytes; H(body) =" in DOC
    sha256 = bytes.fromhex("300d06096086480165030402010500")
    imprint = b"\x30\x31" + sha256 + b"\x04\x20" + H(body.encode())
    assert der == (
        b"\x30\x43\x02\x01\x01" + imprint + bytes.fromhex("02080123456789abcdef") + b"\x01\x01\xff"
    )


def test_the_cosignature_example_verifies_under_the_witness_key_of_the_page() -> None:
    vkey = re.search(r"`(witness\.example\+[0-9a-f]{8}\+\S+?)`", DOC)
    assert vkey is not None
    name, key_id, kind, public = verifier(vkey.group(1))
    assert kind == 0x04
    line = next(b for b in BLOCKS if b.startswith(f"{DASH}{name} ")).strip()
    raw = base64.b64decode(line.split(" ")[2])
    assert len(raw) == 76 and raw[:4] == key_id
    (timestamp,) = struct.unpack(">Q", raw[4:12])
    body = (VECTORS / "checkpoint").read_text().split("\n\n")[0] + "\n"
    message = f"cosignature/v1\ntime {timestamp}\n{body}"
    assert message in BLOCKS
    nacl.signing.VerifyKey(public).verify(message.encode(), raw[12:])
