"""Lineage: the OpenLineage events the lake emits (`emit`), reads back (`events`), checks against
the official schemas (`ol_schema`), and the graph to column level built from them (`model`,
`completion`, `graph`, `render`)."""
