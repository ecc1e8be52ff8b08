"""Use cases: one function per change (each one transaction through the write path) and the reads."""
