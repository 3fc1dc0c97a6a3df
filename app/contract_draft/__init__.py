"""Drafting a source contract from one delivered file, and trying a contract on a file.

- ``sniff``: the file read as a contract will describe it (format, encoding with the bytes that
  decided, delimiter through frictionless' sniffer, header row, sheet), as rows of text;
- ``columns``: pure rules on a column's values (name, null markers, type, nullability, allowed
  values, range) and candidate keys;
- ``draft``: the composition (country referential of ``ingestion``, PII scanner of
  ``governance``), hence its place in ``app/``;
- ``render``: the contract and rules YAML, every inferred value with its reason, TODO for what a
  person decides;
- ``check``: ``lake contract check``, the contract run in a scratch bucket then removed.
"""
