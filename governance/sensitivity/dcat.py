"""The DCAT-AP 3.0.1 catalogue record of an open-data export.

:func:`catalogue_record` builds the JSON-LD record: absolute IRIs under the publication URL,
file types, languages, themes, access rights and availability from the EU vocabularies
(``http://publications.europa.eu/resource/authority/...``), IANA media types, the Etalab 2.0
licence by its SPDX IRI, a publisher (``foaf:Agent``) and a contact point (``vcard:Kind``). Each
vocabulary concept carries its type, label and scheme, so the record validates on its own,
without downloading the vocabularies; :mod:`governance.sensitivity.dcat_shapes` validates it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from governance.errors import GovernanceError

EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
ETALAB_2 = "Licence Ouverte / Open Licence version 2.0"
ETALAB_2_URI = "http://spdx.org/licenses/etalab-2.0"
ETALAB_2_PAGE = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "dcatap": "http://data.europa.eu/r5r/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}

# EU data themes (http://publications.europa.eu/resource/authority/data-theme), French labels.
THEMES_FR = {
    "AGRI": "Agriculture, pêche, sylviculture et alimentation",
    "ECON": "Économie et finances",
    "EDUC": "Éducation, culture et sport",
    "ENER": "Énergie",
    "ENVI": "Environnement",
    "GOVE": "Gouvernement et secteur public",
    "HEAL": "Santé",
    "INTR": "Questions internationales",
    "JUST": "Justice, système juridique et sécurité publique",
    "REGI": "Régions et villes",
    "SOCI": "Population et société",
    "TECH": "Science et technologie",
    "TRAN": "Transports",
}
# Business domain of the contracts -> EU themes; a domain not listed is GOVE.
THEMES_BY_DOMAIN = {
    "Adoption internationale": ("SOCI", "INTR"),
    "État civil": ("SOCI", "GOVE"),
    "Administration consulaire": ("GOVE", "INTR"),
    "Aide publique au développement": ("INTR", "ECON"),
    "Ressources humaines": ("GOVE",),
    "Mobilité internationale": ("INTR", "SOCI"),
    "Sécurité des Français à l'étranger": ("INTR", "JUST"),
}

# Titles of the concept schemes the record uses (a skos:ConceptScheme needs a dct:title).
SCHEMES = {
    f"{EU}access-right": "Access right",
    f"{EU}data-theme": "Data theme",
    f"{EU}file-type": "File type",
    f"{EU}language": "Language",
    f"{EU}planned-availability": "Planned availability",
    "http://purl.org/adms/licencetype/1.0": "ADMS licence type",
    "http://purl.org/adms/publishertype/1.0": "ADMS publisher type",
}


def themes_for_domain(domain: str) -> tuple[str, ...]:
    """The EU data themes of a business domain (``GOVE`` when the domain is not mapped)."""
    return THEMES_BY_DOMAIN.get(domain, ("GOVE",))


def catalogue_record(
    name: str,
    *,
    identifier: str,
    base_url: str,
    title: str,
    description: str,
    publisher: str,
    contact_name: str,
    contact_email: str,
    themes: Sequence[str],
    keywords: Sequence[str],
    license: str,
    issued: date,
    modified: datetime,
    byte_size: int,
) -> dict[str, Any]:
    """The DCAT-AP JSON-LD record of ``<base_url>/<name>.csv`` and its Table Schema.

    Args:
        name: The file stem of the export (``<name>.csv``, ``<name>.schema.json``).
        identifier: ``dct:identifier`` (the lake table, ``gold/<indicator>``).
        base_url: Absolute URL of the folder where the files are published.
        title: ``dct:title`` (French).
        description: ``dct:description`` (French).
        publisher: ``foaf:name`` of the publisher.
        contact_name: ``vcard:fn`` of the contact point.
        contact_email: E-mail of the contact point.
        themes: EU data-theme codes (``GOVE``, ``INTR``...).
        keywords: ``dcat:keyword`` values (French).
        license: Licence name or IRI; the Etalab 2.0 name maps to its SPDX IRI.
        issued: ``dct:issued``.
        modified: ``dct:modified``.
        byte_size: Size of the CSV in bytes.

    Returns:
        The record, a JSON-LD document (check it with :func:`check_record`).

    Raises:
        GovernanceError: A theme is not an EU data-theme code.
    """
    unknown = [t for t in themes if t not in THEMES_FR]
    if unknown:
        raise GovernanceError(
            f"Themes {unknown} are not EU data themes; expected among {sorted(THEMES_FR)}.",
            fix="pick the themes from the EU data-theme vocabulary",
        )
    base = base_url.rstrip("/")
    record_url = f"{base}/{name}.dcat.jsonld"
    licence = _licence(license)
    issued_type = "xsd:dateTime" if isinstance(issued, datetime) else "xsd:date"
    when = {
        "dct:issued": {"@value": issued.isoformat(), "@type": issued_type},
        "dct:modified": {"@value": modified.isoformat(), "@type": "xsd:dateTime"},
    }
    return {
        "@context": CONTEXT,
        "@id": f"{record_url}#dataset",
        "@type": "dcat:Dataset",
        "dct:identifier": identifier,
        "dct:title": _fr(title),
        "dct:description": _fr(description),
        "dct:publisher": {
            "@type": ["foaf:Agent", "foaf:Organization"],
            "foaf:name": publisher,
            "dct:type": _concept(
                "http://purl.org/adms/publishertype/NationalAuthority",
                "Autorité nationale",
                "http://purl.org/adms/publishertype/1.0",
            ),
        },
        "dcat:contactPoint": {
            "@type": ["vcard:Kind", "vcard:Organization"],
            "vcard:fn": contact_name,
            "vcard:hasEmail": {"@id": f"mailto:{contact_email}"},
        },
        "dcat:theme": [
            _concept(f"{EU}data-theme/{t}", THEMES_FR[t], f"{EU}data-theme") for t in themes
        ],
        "dct:accessRights": _concept(
            f"{EU}access-right/PUBLIC", "public", f"{EU}access-right", "dct:RightsStatement"
        ),
        "dct:language": _concept(
            f"{EU}language/FRA", "français", f"{EU}language", "dct:LinguisticSystem"
        ),
        **when,
        "dcat:keyword": [_fr(k) for k in keywords],
        "dcat:landingPage": {"@id": record_url, "@type": "foaf:Document"},
        "dcat:distribution": [
            {
                "@id": f"{record_url}#csv",
                "@type": "dcat:Distribution",
                "dct:title": _fr(f"{title} (CSV)"),
                "dct:description": _fr(
                    "Fichier CSV (UTF-8, virgule, RFC 4180) décrit par son Table Schema."
                ),
                "dcat:accessURL": {"@id": f"{base}/{name}.csv"},
                "dcat:downloadURL": {"@id": f"{base}/{name}.csv"},
                "dct:format": _concept(
                    f"{EU}file-type/CSV", "CSV", f"{EU}file-type", "dct:MediaTypeOrExtent"
                ),
                "dcat:mediaType": {"@id": f"{IANA}text/csv", "@type": "dct:MediaType"},
                "dcat:byteSize": {"@value": str(byte_size), "@type": "xsd:nonNegativeInteger"},
                "dct:conformsTo": {
                    "@id": f"{base}/{name}.schema.json",
                    "@type": "dct:Standard",
                    "dct:title": _fr(f"Table Schema de {name}.csv"),
                    "dct:format": _concept(
                        f"{EU}file-type/JSON", "JSON", f"{EU}file-type", "dct:MediaTypeOrExtent"
                    ),
                },
                "dcatap:availability": _concept(
                    f"{EU}planned-availability/STABLE", "stable", f"{EU}planned-availability"
                ),
                "dct:license": licence,
                **when,
            }
        ],
    }


def _fr(text: str) -> dict[str, str]:
    return {"@value": text, "@language": "fr"}


def _concept(iri: str, label: str, scheme: str, *types: str) -> dict[str, Any]:
    """A vocabulary concept, typed, labelled and in its scheme, as the shapes check it."""
    return {
        "@id": iri,
        "@type": [*types, "skos:Concept"],
        "skos:prefLabel": _fr(label),
        "skos:inScheme": {
            "@id": scheme,
            "@type": "skos:ConceptScheme",
            "dct:title": {"@value": SCHEMES[scheme], "@language": "en"},
        },
    }


def _licence(license: str) -> dict[str, Any]:
    licence: dict[str, Any] = {
        "@type": "dct:LicenseDocument",
        "dct:title": license,
        "dct:type": _concept(
            "http://purl.org/adms/licencetype/Attribution",
            "Attribution",
            "http://purl.org/adms/licencetype/1.0",
        ),
    }
    if license == ETALAB_2:
        licence.update({"@id": ETALAB_2_URI, "rdfs:seeAlso": {"@id": ETALAB_2_PAGE}})
    elif "://" in license:
        licence["@id"] = license
    return licence
