"""The home page of the lake's reports: one French page linking every document the lake produces.

The quality reviews (A13), the opportunity study (A15), the cloud-usage framework (A09), the
roadmap dashboard (A03/A06) and the lineage picture are written by different commands, at
different times, into the reports folder. This page lists them all and says plainly which ones
are not produced yet, instead of linking to a file that does not exist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from governance.errors import GovernanceError
from governance.pages import environment
from lake.pages.french import format_date_fr

__all__ = ["render_reports_index", "resolve_entry"]

_WEB_SCHEMES = frozenset({"http", "https"})


def resolve_entry(out_dir: Path, href: str) -> str | None:
    """The link to show for ``href`` on a page in ``out_dir``; None when its file is missing.

    A relative address is looked up from ``out_dir`` (query and fragment ignored; a folder
    means its ``index.html``). A web address (``http``, ``https``) is kept as is: it cannot be
    checked offline.

    Args:
        out_dir: The folder of the index page.
        href: The entry's address.

    Returns:
        ``href`` unchanged, or None when the file it names does not exist.

    Raises:
        GovernanceError: ``href`` is empty, absolute, or of another scheme (``file:``,
            ``javascript:``...).
    """
    text = href.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if parts is not None and parts.scheme.lower() in _WEB_SCHEMES and parts.netloc:
        return text
    if not text or parts is None or parts.scheme or parts.netloc or parts.path.startswith("/"):
        raise GovernanceError(
            f"A report address must be a path relative to the reports folder or an http(s) "
            f"address; found {href!r}.",
            fix="Give the path from the index page, e.g. 'quality/index.html'.",
        )
    target = out_dir / unquote(parts.path) if parts.path else out_dir
    if target.is_dir():
        target = target / "index.html"
    return text if target.is_file() else None


def render_reports_index(
    out_dir: Path,
    entries: Sequence[tuple[str, str, str]],
    *,
    generated_at: dt.datetime | None = None,
) -> Path:
    """Write ``<out_dir>/index.html``, linking each report that exists.

    Args:
        out_dir: The reports folder (created if needed); an existing index is overwritten.
        entries: ``(title_fr, href, description_fr)`` in the order to show; ``href`` is
            relative to ``out_dir`` (see `resolve_entry`). An entry whose file does not exist
            is shown as "pas encore produit", without a link.
        generated_at: Time printed on the page (default: now, UTC).

    Returns:
        The index page.

    Raises:
        GovernanceError: An entry's address is neither relative nor http(s).
    """
    rows = [
        {"title": title, "href": resolve_entry(out_dir, href), "description": description}
        for title, href, description in entries
    ]
    html = (
        environment()
        .get_template("reports_index.html")
        .render(
            entries=rows,
            generated=format_date_fr(generated_at or dt.datetime.now(dt.UTC), time=True),
        )
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    index = out_dir / "index.html"
    index.write_text(html, encoding="utf-8")
    return index
