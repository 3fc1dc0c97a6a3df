"""The check of a DCAT-AP record against the official SHACL shapes, in plain words.

:func:`check_record` validates a JSON-LD record with pyshacl against the official DCAT-AP 3.0.1
shapes vendored in ``reference/dcat-ap-3.0.1/shacl`` (``shapes.ttl``, ``shapes_recommended.ttl``,
``range.ttl`` and ``mdr-vocabularies.shape.ttl``, as that folder's README says), plus the lake's
own rules (:data:`LAKE_SHAPES`: a contact point with an e-mail, a theme, absolute http(s) URLs, a
format and a media type), loaded once per process. Violations refuse the record
(:func:`require_valid`); warnings (recommended properties the lake cannot fill yet, such as
``dct:spatial``) are reported, not refused.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.errors import CatalogueRecordInvalid, GovernanceError

if TYPE_CHECKING:
    from rdflib import Graph

SHAPES_DIR = Path(__file__).resolve().parents[2] / "reference" / "dcat-ap-3.0.1" / "shacl"
OFFICIAL_SHAPES = (
    "shapes.ttl",
    "shapes_recommended.ttl",
    "range.ttl",
    "mdr-vocabularies.shape.ttl",
)
# A relative IRI in the record is resolved against this (never against the working directory),
# so it stays recognisable in a violation.
RELATIVE_BASE = "urn:relative:"

# The lake's own rules, on top of the official shapes: what issue 17 promised every record has.
LAKE_SHAPES = r"""
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
@prefix lake: <urn:meae-datalake:shapes#> .

lake:Dataset a sh:NodeShape ;
    sh:targetClass dcat:Dataset ;
    sh:nodeKind sh:IRI ;
    sh:pattern "^https?://" ;
    sh:message "the dataset must be named by an absolute http(s) IRI" ;
    sh:property [ sh:path dcat:contactPoint ; sh:minCount 1 ;
        sh:message "a contact point (vcard:Kind with an e-mail) is required" ] ,
      [ sh:path dcat:theme ; sh:minCount 1 ;
        sh:pattern "^http://publications\\.europa\\.eu/resource/authority/data-theme/" ;
        sh:message "at least one theme from the EU data-theme vocabulary is required" ] ,
      [ sh:path dct:publisher ; sh:minCount 1 ; sh:message "a publisher is required" ] ,
      [ sh:path dcat:distribution ; sh:minCount 1 ; sh:message "a distribution is required" ] .

lake:Distribution a sh:NodeShape ;
    sh:targetClass dcat:Distribution ;
    sh:property [ sh:path dcat:accessURL ; sh:minCount 1 ; sh:pattern "^https?://" ;
        sh:message "the access URL must be an absolute http(s) URL" ] ,
      [ sh:path dcat:downloadURL ; sh:minCount 1 ; sh:pattern "^https?://" ;
        sh:message "the download URL must be an absolute http(s) URL" ] ,
      [ sh:path dct:format ; sh:minCount 1 ;
        sh:message "a file type from the EU file-type vocabulary is required" ] ,
      [ sh:path dcat:mediaType ; sh:minCount 1 ;
        sh:pattern "^https://www\\.iana\\.org/assignments/media-types/" ;
        sh:message "an IANA media type IRI is required" ] ,
      [ sh:path dct:license ; sh:minCount 1 ; sh:message "a licence is required" ] .

lake:ContactPoint a sh:NodeShape ;
    sh:targetClass vcard:Kind ;
    sh:property [ sh:path vcard:hasEmail ; sh:minCount 1 ; sh:pattern "^mailto:[^@]+@" ;
        sh:message "the contact point needs an e-mail (mailto: IRI)" ] .
"""

_PREFIXES = {
    "http://www.w3.org/ns/dcat#": "dcat:",
    "http://purl.org/dc/terms/": "dct:",
    "http://data.europa.eu/r5r/": "dcatap:",
    "http://xmlns.com/foaf/0.1/": "foaf:",
    "http://www.w3.org/2004/02/skos/core#": "skos:",
    "http://www.w3.org/2006/vcard/ns#": "vcard:",
}
_SH = "http://www.w3.org/ns/shacl#"
_NODE_KINDS = {
    "IRI": "an IRI",
    "BlankNodeOrIRI": "a resource (IRI or blank node), not a literal",
    "Literal": "a literal",
}


@dataclass(frozen=True)
class RecordCheck:
    """What the SHACL validation of a record found, one plain line per result."""

    violations: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def conforms(self) -> bool:
        """True when nothing is a violation (warnings do not refuse a record)."""
        return not self.violations


def check_record(record: Mapping[str, Any]) -> RecordCheck:
    """Validate a JSON-LD record against the DCAT-AP 3.0.1 shapes and the lake's rules.

    Args:
        record: A JSON-LD document (as :func:`catalogue_record` builds it).

    Returns:
        The violations and warnings, each as one plain line.

    Raises:
        GovernanceError: pyshacl is not installed.
    """
    from rdflib import Graph

    validate = _pyshacl_validate()
    with warnings.catch_warnings():
        # rdflib 7's JSON-LD parser uses its own deprecated ConjunctiveGraph internally.
        warnings.simplefilter("ignore", DeprecationWarning)
        data = Graph().parse(data=json.dumps(record), format="json-ld", base=RELATIVE_BASE)
    _conforms, results, _text = validate(
        data, shacl_graph=_shapes(), inference="none", advanced=False, allow_warnings=True
    )
    violations: list[str] = []
    recommendations: list[str] = []
    for line, severity in _results(results, data):
        (violations if severity == "Violation" else recommendations).append(line)
    return RecordCheck(tuple(sorted(set(violations))), tuple(sorted(set(recommendations))))


def require_valid(record: Mapping[str, Any], *, table: str) -> RecordCheck:
    """:func:`check_record`, raising when the record has a violation.

    Raises:
        CatalogueRecordInvalid: The record does not validate; each violation is named.
    """
    check = check_record(record)
    if not check.conforms:
        raise CatalogueRecordInvalid(
            f"The DCAT-AP record of {table} does not validate against the DCAT-AP 3.0.1 shapes: "
            f"{len(check.violations)} violation(s) — " + " ; ".join(check.violations),
            violations=list(check.violations),
            fix="Correct the record's inputs ([export] base_url and contact_email in lake.toml, "
            "themes, licence); nothing was published.",
            table=table,
        )
    return check


@cache
def _shapes() -> Graph:
    """The official shapes and the lake's, parsed once per process."""
    from rdflib import Graph

    shapes = Graph()
    for name in OFFICIAL_SHAPES:
        path = SHAPES_DIR / name
        if not path.is_file():
            raise GovernanceError(
                f"DCAT-AP shapes file {path} is missing; expected the vendored official shapes.",
                fix="restore reference/dcat-ap-3.0.1/ from ../shared/reference "
                "(reference/README.md)",
            )
        shapes.parse(path, format="turtle")
    shapes.parse(data=LAKE_SHAPES, format="turtle")
    return shapes


def _pyshacl_validate() -> Any:
    try:
        from pyshacl import validate
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise GovernanceError(
            "pyshacl is not installed; it validates the open-data catalogue record.",
            fix="pip install pyshacl==0.40.1",
        ) from exc
    return validate


def _results(results: Graph, data: Graph) -> list[tuple[str, str]]:
    """One plain line and the severity (``Violation``, ``Warning``, ``Info``) per result."""
    from rdflib import RDF, Namespace

    sh = Namespace(_SH)
    lines = []
    # Top-level results only: the nested sh:detail results explain a failed sh:node.
    for result in results.objects(None, sh.result):
        severity = str(results.value(result, sh.resultSeverity)).removeprefix(_SH)
        focus = results.value(result, sh.focusNode)
        path = results.value(result, sh.resultPath)
        value = results.value(result, sh.value)
        message = _words(results, result)
        kinds = sorted(_short(str(t)) for t in data.objects(focus, RDF.type))
        where = f"{'/'.join(kinds) or 'node'} {_show(focus)}"
        prop = f" {_short(str(path))}" if path is not None else ""
        found = f" (found {_show(value)})" if value not in (None, focus) else ""
        lines.append((f"{where}{prop}: {message}{found}", severity))
    return lines


def _words(results: Graph, result: Any) -> str:
    """What is wrong, in plain words: the shape's own message, else one made from its
    constraint, followed by the shape's description when it has one."""
    from rdflib import Namespace

    sh = Namespace(_SH)
    shape = results.value(result, sh.sourceShape)
    shapes = _shapes()

    def param(name: str) -> Any:
        found = results.value(shape, sh[name])
        return found if found is not None else shapes.value(shape, sh[name])

    own = param("message")
    if own is not None:
        return str(own)
    component = str(results.value(result, sh.sourceConstraintComponent))
    component = component.removeprefix(_SH).removesuffix("ConstraintComponent")
    if component == "MinCount":
        text = "is missing"
    elif component == "MaxCount":
        text = f"has more than {param('maxCount')} value(s)"
    elif component == "NodeKind":
        kind = str(param("nodeKind")).removeprefix(_SH)
        text = f"must be {_NODE_KINDS.get(kind, kind)}"
    elif component == "Class":
        text = f"must be a {_short(str(param('class')))}"
    elif component == "Datatype":
        text = f"must be typed {_short(str(param('datatype')))}"
    elif component == "Pattern":
        text = f"must match {param('pattern')}"
    elif component in ("Node", "And"):
        text = "is not an entry of the expected controlled vocabulary"
    elif component == "HasValue":
        text = f"must include {_show(param('hasValue'))}"
    else:
        text = str(results.value(result, sh.resultMessage) or "does not conform")
    description = param("description")
    return f"{text} ({description})" if description is not None else text


def _show(node: Any) -> str:
    text = str(node)
    if text.startswith(RELATIVE_BASE):
        return f"relative IRI {text.removeprefix(RELATIVE_BASE).lstrip('/')!r}"
    kind = type(node).__name__
    if kind == "BNode":
        return "(blank node)"
    if kind == "Literal":
        return f"literal {text!r}"
    return f"<{text}>"


def _short(iri: str) -> str:
    for namespace, prefix in _PREFIXES.items():
        if iri.startswith(namespace):
            return prefix + iri.removeprefix(namespace)
    return iri
