"""Replication core: the original's reported figures, verdict rules, rows and their rendering."""
