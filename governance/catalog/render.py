"""The catalogue as an aligned terminal table, then its A08/A11 indicators in French."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lake.pages.french import NNBSP
from lake.pages.french import format_int_fr as _grouped

if TYPE_CHECKING:
    from governance.catalog.entries import Catalog

__all__ = ["format_int_fr", "format_size_fr", "render_text"]

_HEADER = (
    "couche",
    "table",
    "domaine",
    "responsable",
    "lignes",
    "taille",
    "version",
    "mise à jour",
    "niveau",
    "RGPD",
    "qualité",
)
_RIGHT = frozenset({"lignes", "taille", "version", "qualité"})
_CELL_WIDTH = 30


def render_text(catalog: Catalog) -> str:
    """One line per table (layer, table, domain, owner, rows, size, version, last update,
    exposure level, personal data, quality score), then the indicators in French.

    Long domains and owners are cut to 30 characters with ``…``; ``—`` marks an unknown value.
    """
    rows = [_HEADER]
    for t in catalog.tables:
        rows.append(
            (
                t.layer,
                t.name,
                _cut(t.domain or "—"),
                _cut(t.owner or "—"),
                format_int_fr(t.rows) if t.rows is not None else "—",
                format_size_fr(t.size_bytes),
                str(t.version),
                t.updated_at.strftime("%Y-%m-%d %H:%M") if t.updated_at else "—",
                str(t.level) if t.level else "non classé",
                "oui" if t.personal else "non",
                "—" if t.quality_score is None else f"{t.quality_score:.1f}".replace(".", ","),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADER))]
    lines = [
        "  ".join(
            cell.rjust(width) if head in _RIGHT else cell.ljust(width)
            for head, cell, width in zip(_HEADER, row, widths, strict=True)
        ).rstrip()
        for row in rows
    ]
    s = catalog.summary
    per_level = ", ".join(f"{n} → {count}" for n, count in s.per_level.items())
    if s.unclassified:
        per_level += f", non classés → {s.unclassified}"
    per_layer = ", ".join(f"{layer} → {count}" for layer, count in s.per_layer.items())
    lines += [
        "",
        f"Tables par couche : {per_layer}",
        f"Domaines métier couverts : {len(s.domains)}",
        f"Jeux exposés par niveau : {per_level}",
        f"Jeux contenant des données personnelles : {s.personal}",
        f"Volume total : {format_int_fr(s.rows)} lignes, {format_size_fr(s.size_bytes)}",
    ]
    lines += [f"Avertissement : {w}" for w in catalog.warnings]
    return "\n".join(lines) + "\n"


def format_int_fr(value: int) -> str:
    """``12 345``: French thousands, with the plain spaces the terminal table has always shown."""
    return _grouped(value).replace(NNBSP, " ")


def format_size_fr(size: int) -> str:
    """``512 o``, ``5,6 Ko``, ``1,2 Mo``...: powers of 1024, French units, one decimal."""
    if size < 1024:
        return f"{size} o"
    value = size / 1024
    for unit in ("Ko", "Mo", "Go"):
        if value < 1024:
            return f"{value:.1f} {unit}".replace(".", ",")
        value /= 1024
    return f"{value:.1f} To".replace(".", ",")


def _cut(text: str) -> str:
    return text if len(text) <= _CELL_WIDTH else text[: _CELL_WIDTH - 1] + "…"
