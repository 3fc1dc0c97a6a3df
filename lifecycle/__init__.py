"""Information lifecycle (A12) and data-subject rights (RGPD).

- :mod:`lifecycle.retention`: each contract's DUA enforced in every layer (``lake lifecycle``);
- :mod:`lifecycle.erasure`: one person's rows erased everywhere lineage says they went, old
  versions purged, a certificate written (``lake rgpd erase``);
- :mod:`lifecycle.access_request`: everything held on one person (``lake rgpd export``).

The Delta operations that rewrite history live in :mod:`lifecycle.tables`, the landing-file
rewrites in :mod:`lifecycle.landing_files`, the action journal in :mod:`lifecycle.journal`.

Stands on `lake` and composes the stages through their public functions; the quality gates and
the lineage sink a gold rebuild needs are given by the caller (``gates=``, ``lineage=``).
"""
