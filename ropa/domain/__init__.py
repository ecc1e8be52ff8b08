"""The GDPR vocabulary and rules: pure Python, imports nothing of ropa but `ropa.errors`."""
