"""Quality reviews (roadmap action A13).

Owns the Great Expectations suites generated from source contracts and Table Schemas
(schema.data.gouv.fr), the validation gates between layers, the per-row quarantine with reasons,
the quality history and the French reports read by business units. Stands on `lake`.
"""
