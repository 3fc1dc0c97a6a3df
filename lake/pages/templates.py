"""The Jinja2 environment of the lake's static pages, and what may become a link on them.

One factory serves every stage: it loads the shared templates of this package (``base.html``,
the house stylesheet ``pages.css``, the charts) and the caller's own template folder, so a stage
template starts with ``{% extends "base.html" %}``. HTML and SVG are autoescaped, every template
and every value, so whatever the data holds is shown as text. Markdown pages get their own
environment, in which each printed value goes through `markdown_escape` instead.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import jinja2

__all__ = ["SHARED_TEMPLATES", "Output", "environment", "markdown_escape", "safe_link"]

SHARED_TEMPLATES = Path(__file__).with_name("templates")
Output = Literal["html", "markdown"]
_OUTPUTS: tuple[Output, ...] = ("html", "markdown")
_LINK_SCHEMES = frozenset({"", "http", "https", "file"})
_MD_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}|#!])")


@functools.cache
def environment(folder: Path | None = None, *, output: Output = "html") -> jinja2.Environment:
    """The Jinja2 environment for the templates of ``folder`` and the shared ones.

    The shared folder is searched first: a stage cannot replace ``base.html`` (and with it the
    Content-Security-Policy every page carries) by a template of the same name by mistake.

    Args:
        folder: The caller's template folder; None for the shared templates only.
        output: ``"html"`` (HTML and SVG, autoescaped) or ``"markdown"`` (every printed value
            escaped with `markdown_escape`, no HTML escaping).

    Returns:
        A cached environment: strict about undefined names, blocks trimmed.

    Raises:
        ValueError: ``output`` is not one of the two kinds.
    """
    if output not in _OUTPUTS:
        raise ValueError(
            f"output must be one of {', '.join(map(repr, _OUTPUTS))}; found {output!r}."
        )
    folders = [SHARED_TEMPLATES] if folder is None else [SHARED_TEMPLATES, Path(folder)]
    markdown = output == "markdown"
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        autoescape=not markdown,  # every template, SVG included: data never becomes markup
        finalize=markdown_escape if markdown else None,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def markdown_escape(value: Any) -> str:
    """A value as Markdown text: never markup, never a link, never a table break."""
    # Only ASCII white space: the narrow no-break spaces of French numbers must stay.
    text = _MD_SPACES.sub(" ", str(value)).strip(" ")
    text = _MD_SPECIAL.sub(r"\\\1", text.replace("&", "&amp;"))
    return text.replace("<", "&lt;").replace(">", "&gt;")


def safe_link(target: object) -> str | None:
    """``target`` if it is a web, file or relative address; None otherwise (``javascript:``...).

    A page shows an address it refuses as text instead, so nothing is lost for the reader.
    """
    if not target:
        return None
    text = str(target).strip()
    try:
        scheme = urlsplit(text).scheme.lower()
    except ValueError:
        return None
    return text if text and scheme in _LINK_SCHEMES else None
