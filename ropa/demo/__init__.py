"""Demo organisations modelled on five published privacy policies (see data/README.md)."""
