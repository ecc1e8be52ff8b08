"""Persistence: tables, the database connection, the ledger's storage and the one write path."""
