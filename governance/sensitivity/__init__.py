"""Sensitivity: declared and derived tags (`tags`, `propagation`), the PII scan and its review
(`pii`, `suggestions`, `contract_edit`), and what may leave the lake for whom (`export`)."""
