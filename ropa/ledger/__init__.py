"""The signed append-only ledger (LEDGER-SPEC v1): bytes, hashes, signatures, proofs, verification."""  # noqa: E501
