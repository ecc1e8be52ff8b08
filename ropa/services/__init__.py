"""Use cases: one function per change (one transaction through the write path), and reads."""
