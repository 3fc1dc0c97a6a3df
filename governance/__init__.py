"""Governance: lineage, sensitivity and the products built on them.

Owns OpenLineage events (job, dataset and column level), sensitivity tags and their propagation
along lineage, enforcement by exposure level, the catalogue, the A09 cloud-usage framework and the
generated A15 data-lake opportunity study. Stands on `lake`.
"""
