"""Ingestion: silo extracts -> bronze -> silver -> gold Delta tables.

Owns the source contracts of the business silos (consular register, adoptions, working-holiday
visas, civil status, travel advice, development aid, HR...), the parsing of their extracts, the
landing -> bronze copy with provenance, the bronze -> silver cleaning (casts, country referential,
pseudonymisation, MERGE on business keys) and the silver -> gold aggregates. Stands on `lake`.
"""
