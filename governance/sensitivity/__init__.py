"""Sensitivity: declared and derived tags (`tags`, `propagation`), the PII scan and its review
(`detectors`, `pii`, `suggestions`, `contract_edit`), and what may leave the lake for whom
(`audience`, `safe_csv`, `export`)."""
