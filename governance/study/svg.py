"""SVG for the A15 study: checking a drawing made elsewhere before the page embeds it.

The study's own charts come from the lake's page toolkit (:mod:`lake.pages.charts`). A drawing
made elsewhere (the lineage SVG) is embedded only if it parses as XML, is an ``<svg>`` root, and
holds no script, event handler, foreign content or external reference.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

__all__ = ["checked_svg"]

_SVG_NS = "{http://www.w3.org/2000/svg}"
_FORBIDDEN = frozenset(
    {"script", "foreignobject", "iframe", "object", "embed", "image", "audio", "video",
     "animate", "animatemotion", "animatetransform", "set", "handler", "use"}
)  # fmt: skip
_EXTERNAL_URL = re.compile(r"url\(\s*['\"]?(?!#)", re.IGNORECASE)


def checked_svg(svg: str | None) -> tuple[str | None, str | None]:
    """The drawing if it is safe to embed in a page, else None and why (in French).

    Safe means: well-formed XML, no DOCTYPE (no entities), an ``<svg>`` root in the SVG
    namespace, no script, foreign content, media, ``<use>`` or animation element, no ``on*``
    attribute, no link or ``url(...)`` other than to an id of the drawing itself.
    """
    if not svg or not svg.strip():
        return None, None
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", svg).strip()
    if "<!DOCTYPE" in text.upper():
        return None, "le SVG contient une déclaration DOCTYPE."
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        return None, f"le SVG est mal formé ({exc})."
    if root.tag != f"{_SVG_NS}svg":
        return None, f"la racine est {root.tag!r}, un élément <svg> était attendu."
    for element in root.iter():
        name = str(element.tag).rsplit("}", 1)[-1].lower()
        if name in _FORBIDDEN:
            return None, f"élément <{name}> refusé."
        css = element.text or ""
        if name == "style" and (_EXTERNAL_URL.search(css) or "@import" in css.lower()):
            return None, "feuille de style avec une ressource externe refusée."
        for attribute, value in element.attrib.items():
            local = attribute.rsplit("}", 1)[-1].lower()
            if local.startswith("on"):
                return None, f"attribut d'événement {local!r} refusé."
            if local == "href" and not value.startswith("#"):
                return None, f"lien externe {value!r} refusé."
            if _EXTERNAL_URL.search(value) or "javascript:" in value.lower():
                return None, f"référence externe dans l'attribut {local!r} refusée."
    return text, None
