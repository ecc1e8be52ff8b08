"""ropa: GDPR Art. 30 Records of Processing Activities with a signed, append-only ledger."""

__version__ = "0.1.0"
