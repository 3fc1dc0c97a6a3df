"""Table Schema (schema.data.gouv.fr) to and from source contracts.

Import (`importer`): a Frictionless Table Schema becomes the YAML text of a lake contract, with
what could only be approximated listed for the reviewer. Export (`exporter`): a silver table (from
its contract) or a gold table (from its Spark columns) described as a Table Schema, ready to
publish next to the data. Both share the mapping between type systems (`field_types`). Pure
Python: no Spark, no frictionless at run time.
"""

from __future__ import annotations

from quality.tableschema.exporter import (
    COUNTRY_STATUSES,
    HEX64,
    PROVENANCE,
    ROW_HASH,
    TABLE_SCHEMA,
    schema_for_contract,
    schema_for_fields,
)
from quality.tableschema.field_types import (
    FIELD_TYPES,
    LAKE_FALSE,
    LAKE_TRUE,
    snake_case,
    spark_date_format,
)
from quality.tableschema.importer import ImportedSchema, import_schema, write_contract

__all__ = [
    "COUNTRY_STATUSES",
    "FIELD_TYPES",
    "HEX64",
    "LAKE_FALSE",
    "LAKE_TRUE",
    "PROVENANCE",
    "ROW_HASH",
    "TABLE_SCHEMA",
    "ImportedSchema",
    "import_schema",
    "schema_for_contract",
    "schema_for_fields",
    "snake_case",
    "spark_date_format",
    "write_contract",
]
