"""Country referential: any spelling of a country -> ISO 3166-1 alpha-3 + INSEE French label.

Roadmap action A10. Silo extracts spell countries in every way ("Côte d'Ivoire", "COTE D IVOIRE",
"CI", "Ivory Coast", "RDC", "Royaume-Uni"...); :meth:`CountryReferential.match` normalises one
value to a :class:`CountryMatch`. The places come from the INSEE COG 2025 list, ISO 3166-1 and
ISO 3166-3 through ``pycountry`` and a short curated alias file, all shipped with the code
(:mod:`ingestion.country_sources`, which also writes down how statuses and labels are decided);
spellings become keys in :mod:`ingestion.country_names`.

Matching, first hit wins:

1. the value itself, upper-cased, when it is an ISO 3166-1 alpha-2 (2 letters) or alpha-3
   (3 letters) code, an INSEE code (``99xxx``), or the alpha-3 code of an ISO 3166-3 entry that
   ISO has not reused (YUG, SUN, DDR...);
2. :func:`country_key` of the value against the keys of the names above, in three tiers:
   full names (INSEE name and official name, pycountry names in English and French, curated
   aliases), then derived forms (ISO's inverted names read both ways, "Corée, République de" ->
   "République de Corée" and "Corée"; names without a leading article), then ISO 3166-3 names;
3. the same with a leading article of the value removed ("la", "le", "les", "l'", "the").

A key that leads to more than one place within the first tier that knows it is ``ambiguous``; a
later tier never overrides an earlier one, so a heuristic form cannot contradict a full name.

Decisions, from the data:

- "Congo" is the exact short name of the Republic of the Congo in INSEE (99324) and in ISO 3166-1,
  and France Diplomatie uses it the same way: it matches COG with status ``ok``. The Democratic
  Republic is reached by its full name and by "RDC", "Congo (Rép. dém.)", "Congo-Kinshasa"...
- "Guinée" is Guinea (GIN) in both INSEE and ISO; Guinea-Bissau and Equatorial Guinea always carry
  their qualifier, so they never collide with it.
- "Corée"/"Korea" come out ``ambiguous`` (ISO's "Corée, République de" and "Corée, République
  populaire démocratique de"); "Îles Vierges" and "Saint-Martin" are declared ambiguous in the
  curated aliases.
- ``iso3`` is None exactly when the status is ``no_iso_code``, ``unknown`` or ``ambiguous``.

Stdlib and pycountry only: the Spark side joins on the small lookup built from
:meth:`CountryReferential.match_many` or :meth:`CountryReferential.rows`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from ingestion.country_names import country_key, without_article
from ingestion.country_sources import (
    ALIASES_FILE,
    INSEE_CODE,
    INSEE_FILE,
    Place,
    Status,
    build_places,
)

__all__ = ["CountryMatch", "CountryReferential", "Status", "country_key"]


@dataclass(frozen=True)
class CountryMatch:
    """The referential's answer for one delivered value.

    Attributes:
        raw: The value as delivered.
        iso3: ISO 3166-1 alpha-3, None when the place has none or the value is not recognised.
        iso2: ISO 3166-1 alpha-2, same rule.
        label_fr: The INSEE French name (e.g. "Côte d’Ivoire"), None if unknown.
        insee_code: The INSEE COG code (e.g. "99326"), None when INSEE has none.
        status: ``ok``, ``territory``, ``no_iso_code``, ``unknown`` or ``ambiguous``.
        reason_fr: Plain French for business units when the status is not ``ok``.
    """

    raw: str
    iso3: str | None
    iso2: str | None
    label_fr: str | None
    insee_code: str | None
    status: Status
    reason_fr: str | None


class CountryReferential:
    """ISO 3166 + INSEE COG country referential; build it with :meth:`load`."""

    source_note: str

    def __init__(
        self,
        places: dict[str, Place],
        codes: dict[str, str],
        tiers: tuple[dict[str, set[str]], ...],
        source_note: str,
    ) -> None:
        self._places = places
        self._codes = codes
        self._tiers = tiers
        self.source_note = source_note

    @classmethod
    def load(cls) -> CountryReferential:
        """The referential built from the packaged files, loaded once per process.

        Returns:
            The shared instance (the same object on every call).
        """
        return _load_packaged()

    @classmethod
    def _from_text(cls, insee_csv: str, aliases_csv: str) -> CountryReferential:
        """Build from the text of the INSEE file and of the alias file (tests use it directly).

        Raises:
            ValueError: An alias contradicts the sources, is an ISO code, or names a code the
                referential does not know.
        """
        tables = build_places(insee_csv, aliases_csv)
        return cls(tables.places, tables.codes, tables.tiers, tables.source_note)

    def match(self, raw: str) -> CountryMatch:
        """Match one delivered value.

        Args:
            raw: The value as delivered (surrounding spaces are ignored).

        Returns:
            The match; ``status`` tells whether ``iso3`` can be used as is.
        """
        text = raw.strip()
        if not text:
            return CountryMatch(
                raw, None, None, None, None, "unknown", "valeur vide : aucun pays indiqué"
            )
        code = text.upper()
        is_iso = len(code) in (2, 3) and code.isascii() and code.isalpha()
        if (is_iso or INSEE_CODE.fullmatch(code)) and code in self._codes:
            return self._answer(raw, self._places[self._codes[code]])
        key = country_key(text)
        idents = self._lookup(key)
        bare = without_article(key)
        if idents is None and bare:
            idents = self._lookup(bare)
        if idents is None:
            return CountryMatch(
                raw,
                None,
                None,
                None,
                None,
                "unknown",
                f"« {text} » ne correspond à aucun pays du référentiel INSEE/ISO",
            )
        if len(idents) > 1:
            candidates = sorted((self._places[i] for i in idents), key=lambda p: p.label_fr)
            names = ", ".join(f"{p.label_fr} ({p.iso3 or p.insee_code})" for p in candidates)
            return CountryMatch(
                raw,
                None,
                None,
                None,
                None,
                "ambiguous",
                f"« {text} » peut désigner plusieurs pays : {names} ; préciser lequel",
            )
        return self._answer(raw, self._places[next(iter(idents))])

    def match_many(self, values: Iterable[str]) -> dict[str, CountryMatch]:
        """Match the distinct values of a batch.

        Args:
            values: Delivered values, duplicates allowed.

        Returns:
            Each distinct value mapped to its match, in first-seen order.
        """
        return {raw: self.match(raw) for raw in dict.fromkeys(values)}

    def rows(self) -> list[tuple[str, str | None, str | None, str]]:
        """Every place with an ISO 3166-1 code, once per code, for building a lookup table.

        Returns:
            ``(iso3, iso2, label_fr, status)`` sorted by iso3; status is ``ok`` or ``territory``.
        """
        return sorted(
            (p.iso3, p.iso2, p.label_fr, p.status)
            for p in self._places.values()
            if p.iso3 is not None and p.ident == p.iso3
        )

    def _lookup(self, key: str) -> set[str] | None:
        for tier in self._tiers:
            idents = tier.get(key)
            if idents:
                return idents
        return None

    @staticmethod
    def _answer(raw: str, place: Place) -> CountryMatch:
        return CountryMatch(
            raw,
            place.iso3,
            place.iso2,
            place.label_fr,
            place.insee_code,
            place.status,
            place.reason_fr,
        )


@functools.lru_cache(maxsize=1)
def _load_packaged() -> CountryReferential:
    data = resources.files("ingestion") / "data"
    return CountryReferential._from_text(
        (data / INSEE_FILE).read_text(encoding="utf-8"),
        (data / ALIASES_FILE).read_text(encoding="utf-8"),
    )
