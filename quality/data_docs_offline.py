"""GX Data Docs that load nothing from the network: pinned npm assets, local links, no inline JS.

Great Expectations writes its Data Docs pages with about ten scripts and style sheets from public
CDNs (jQuery, Bootstrap, bootstrap-table, Vega, Font Awesome...) and its logo from S3. On the
ministry's network they render as bare links; online, opening an internal page tells third
parties it was opened. This module

1. fetches, once per machine, the exact files those pages name from the **npm registry** (the
   packages' tarballs at pinned versions, checked against the registry's SHA-512 integrity) into
   the user cache (``~/.cache/meae-datalake/gx-assets/<package>@<version>/``, or
   ``$LAKE_CACHE_DIR``): :func:`ensure_assets`;
2. copies them into the site (``static/vendor/``) and rewrites every page to point to the local
   copies, removes the SRI/CORS attributes that only make sense for a CDN, replaces the S3 logo by
   the one GX already ships in ``static/images``, moves inline scripts to files and ``onclick``
   attributes to a small binder script, so the pages run under a Content-Security-Policy with
   ``script-src 'self'`` and no ``'unsafe-inline'``: :func:`make_offline`.

:func:`remote_assets` lists what a page still loads from elsewhere (the check of the tests).
Links *to* outside pages (GX's documentation) stay links: following one is the reader's choice.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import re
import shutil
import tarfile
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from quality.errors import QualityError

__all__ = [
    "ASSETS",
    "REGISTRY",
    "Asset",
    "assets_dir",
    "ensure_assets",
    "make_offline",
    "remote_assets",
]

log = logging.getLogger(__name__)
REGISTRY = "https://registry.npmjs.org"
VENDOR = "static/vendor"


@dataclass(frozen=True)
class Asset:
    """One npm package at a pinned version and the files of it a Data Docs page loads.

    Attributes:
        package: The npm name (``@fortawesome/fontawesome-free``).
        version: The exact version.
        integrity: The registry's ``dist.integrity`` (``sha512-...``) of the tarball.
        files: Paths inside the package (without the tarball's ``package/`` prefix); a path
            ending in ``/`` is a folder copied whole (Font Awesome's web fonts).
        urls: CDN addresses GX writes -> the file of ``files`` that replaces it.
    """

    package: str
    version: str
    integrity: str
    files: tuple[str, ...]
    urls: Mapping[str, str]

    @property
    def folder(self) -> str:
        """The folder name of this package in the cache and in the site."""
        return f"{self.package.replace('/', '__')}@{self.version}"

    @property
    def tarball(self) -> str:
        """The registry's tarball address (``<registry>/<name>/-/<base>-<version>.tgz``)."""
        base = self.package.rsplit("/", 1)[-1]
        return f"{REGISTRY}/{self.package}/-/{base}-{self.version}.tgz"


# The CDN addresses GX 1.24 writes (great_expectations/render/view/templates/*.j2), and the same
# files from npm. Vega's addresses name only a major version; we pin the newest of that major.
# bootstrap-table's filter-control style sheet is written at 1.19.0 beside the 1.19.1 script:
# both come from 1.19.1, whose extension is the same file apart from its version banner.
ASSETS: tuple[Asset, ...] = (
    Asset(
        "jquery",
        "3.7.1",
        "sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg==",
        ("dist/jquery.min.js",),
        {"https://code.jquery.com/jquery-3.7.1.min.js": "dist/jquery.min.js"},
    ),
    Asset(
        "popper.js",
        "1.12.9",
        "sha512-s0EEi9xiSCdqz9lV4IiVH5yIZnDX/U1t0tCjB+0jXx9jW8lrR7kOpVupiUg175ogqVoudpDXHF1p6dKATCHMeg==",
        ("dist/umd/popper.min.js",),
        {
            "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
                "dist/umd/popper.min.js"
            )
        },
    ),
    Asset(
        "bootstrap",
        "4.3.1",
        "sha512-rXqOmH1VilAt2DyPzluTi2blhk17bO7ef+zLLPlWvG494pDxcM234pJ8wTc/6R40UWizAIIMgxjvxZg5kmsbag==",
        ("dist/css/bootstrap.min.css", "dist/js/bootstrap.min.js"),
        {
            "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
                "dist/css/bootstrap.min.css"
            ),
            "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
                "dist/js/bootstrap.min.js"
            ),
        },
    ),
    Asset(
        "bootstrap-table",
        "1.19.1",
        "sha512-WvV+l1AI/C+zThaKmfHmi/IuayVNB0qdFyEhFx1jyZhO0oLtNJNANkCR3rvJf6Dkh72dsLElxpE/bzK9seEQLA==",
        (
            "dist/bootstrap-table.min.css",
            "dist/bootstrap-table.min.js",
            "dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
            "dist/extensions/filter-control/bootstrap-table-filter-control.css",
            "dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
        ),
        {
            "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
                "dist/bootstrap-table.min.css"
            ),
            "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
                "dist/bootstrap-table.min.js"
            ),
            "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
            "bootstrap-table-filter-control.min.js": (
                "dist/extensions/filter-control/bootstrap-table-filter-control.min.js"
            ),
            "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
            "bootstrap-table-filter-control.css": (
                "dist/extensions/filter-control/bootstrap-table-filter-control.css"
            ),
            "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
            "bootstrap-table-filter-control.min.css": (
                "dist/extensions/filter-control/bootstrap-table-filter-control.min.css"
            ),
        },
    ),
    Asset(
        "bootstrap-datepicker",
        "1.9.0",
        "sha512-9rYYbaVOheGYxjOr/+bJCmRPihfy+LkLSg4fIFMT9Od8WwWB/MB50w0JO1eBgKUMbb7PFHQD5uAfI3ArAxZRXA==",
        ("dist/css/bootstrap-datepicker.min.css", "dist/js/bootstrap-datepicker.min.js"),
        {
            "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
            "bootstrap-datepicker.min.css": "dist/css/bootstrap-datepicker.min.css",
            "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
            "bootstrap-datepicker.min.js": "dist/js/bootstrap-datepicker.min.js",
        },
    ),
    Asset(
        "@fortawesome/fontawesome-free",
        "6.6.0",
        "sha512-60G28ke/sXdtS9KZCpZSHHkCbdsOGEhIUGlwq6yhY74UpTiToIh8np7A8yphhM4BWsvNFtIvLpi4co+h9Mr9Ow==",
        ("css/all.min.css", "webfonts/"),
        {
            "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
                "css/all.min.css"
            )
        },
    ),
    Asset(
        "@forevolve/bootstrap-dark",
        "1.1.0",
        "sha512-A3ucpEpxPoTVO490lZZCfjPXxv832l7mm1IxX3bXyxvgwnPGXDLyh7dWrphXKO8YBAu3EswbBEu3VSW8NRMW3A==",
        ("dist/css/bootstrap-prefers-dark.css",),
        {
            "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
            "bootstrap-prefers-dark.css": "dist/css/bootstrap-prefers-dark.css"
        },
    ),
    Asset(
        "vega",
        "5.33.1",
        "sha512-1fArfVDUqVbb5z8n+/nVQb+VNBzx8svY6CrsyTK4Ujm4yrd9I1auoKxBAPXLCavY1LcrbHUskQbGUP8gXOzyQw==",
        ("build/vega.min.js",),
        {"https://cdn.jsdelivr.net/npm/vega@5": "build/vega.min.js"},
    ),
    Asset(
        "vega-lite",
        "5.23.0",
        "sha512-l4J6+AWE3DIjvovEoHl2LdtCUkfm4zs8Xxx7INwZEAv+XVb6kR6vIN1gt3t2gN2gs/y4DYTs/RPoTeYAuEg6mA==",
        ("build/vega-lite.min.js",),
        {"https://cdn.jsdelivr.net/npm/vega-lite@5": "build/vega-lite.min.js"},
    ),
    Asset(
        "vega-embed",
        "6.29.0",
        "sha512-PmlshTLtLFLgWtF/b23T1OwX53AugJ9RZ3qPE2c01VFAbgt3/GSNI/etzA/GzdrkceXFma+FDHNXUppKuM0U6Q==",
        ("build/vega-embed.min.js",),
        {"https://cdn.jsdelivr.net/npm/vega-embed@6": "build/vega-embed.min.js"},
    ),
)

# GX's logo from S3 (with a tracking query string) -> the copy GX ships in the site.
_S3_LOGO = re.compile(
    r"https://great-expectations-web-assets\.s3\.[a-z0-9-]+\.amazonaws\.com/([A-Za-z0-9_.-]+)"
    r"(\?[^\"')\s]*)?"
)
_LOCAL_LOGO = "static/images/logo-long.png"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
_ONCLICK = re.compile(r"""\sonclick="\s*([A-Za-z_$][\w$]*)\(\)\s*;?\s*\"""")
_ANY_HANDLER = re.compile(r"""\son[a-z]+=("[^"]*"|'[^']*')""", re.I)
_SRI = re.compile(r"""\s(integrity|crossorigin)=("[^"]*"|'[^']*')""")
# What a page loads: src=, <link href=>, CSS url(...), @import.
_LOADS = re.compile(
    r"""(?:\ssrc=["']|<link[^>]*\shref=["']|url\(\s*["']?|@import\s+["'])\s*((?:https?:)?//[^"')\s>]+)""",
    re.I,
)
_BINDER = (
    "// Written by meae-datalake: binds the buttons GX wires with onclick attributes, which a\n"
    "// Content-Security-Policy without 'unsafe-inline' forbids.\n"
    "document.addEventListener('DOMContentLoaded', function () {\n"
    "  document.querySelectorAll('[data-lake-onclick]').forEach(function (el) {\n"
    "    el.addEventListener('click', function () {\n"
    "      var fn = window[el.getAttribute('data-lake-onclick')];\n"
    "      if (typeof fn === 'function') { fn(); }\n"
    "    });\n"
    "  });\n"
    "});\n"
)


def assets_dir(cache_dir: Path | None = None) -> Path:
    """Where the npm assets are cached: ``<cache>/gx-assets`` (``$LAKE_CACHE_DIR`` or
    ``~/.cache/meae-datalake`` when ``cache_dir`` is None)."""
    if cache_dir is None:
        env = os.environ.get("LAKE_CACHE_DIR")
        cache_dir = Path(env) if env else Path.home() / ".cache" / "meae-datalake"
    return cache_dir / "gx-assets"


def _complete(folder: Path, asset: Asset) -> bool:
    return all((folder / f).exists() for f in asset.files)


def ensure_assets(cache: Path | None = None, *, timeout_s: float = 60.0) -> Path:
    """Fetch every pinned asset not yet in the cache; returns the cache folder.

    Each tarball is downloaded from the npm registry, checked against its pinned integrity and
    only the files named in :data:`ASSETS` are extracted. Already cached packages cost nothing.

    Raises:
        QualityError: The registry is unreachable, or a tarball does not match its integrity or
            lacks a file (the message names the package and what to do).
    """
    root = cache or assets_dir()
    for asset in ASSETS:
        folder = root / asset.folder
        if _complete(folder, asset):
            continue
        try:
            with urllib.request.urlopen(asset.tarball, timeout=timeout_s) as response:
                data = response.read()
        except OSError as exc:
            raise QualityError(
                f"Could not fetch {asset.package}@{asset.version} for the offline Data Docs "
                f"from {asset.tarball}: {exc}",
                fix="run it once where the npm registry is reachable (or through the ministry's "
                f"npm mirror), or copy {folder} from a machine that has it",
            ) from exc
        _extract(asset, data, folder)
        log.info("cached %s@%s in %s", asset.package, asset.version, folder)
    return root


def _extract(asset: Asset, data: bytes, folder: Path) -> None:
    algo, _, expected = asset.integrity.partition("-")
    found = base64.b64encode(hashlib.new(algo, data).digest()).decode("ascii")
    if found != expected:
        raise QualityError(
            f"The tarball of {asset.package}@{asset.version} does not match its pinned "
            f"integrity: expected {asset.integrity}, found {algo}-{found}.",
            fix="check the network path to the npm registry (a proxy rewriting content?)",
        )
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            name = member.name.split("/", 1)[1] if "/" in member.name else member.name
            wanted = any(name == f or (f.endswith("/") and name.startswith(f)) for f in asset.files)
            if not wanted or not member.isfile() or ".." in Path(name).parts:
                continue
            source = tar.extractfile(member)
            if source is None:
                continue
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read())
    missing = [f for f in asset.files if not (staging / f).exists()]
    if missing:
        raise QualityError(
            f"{asset.package}@{asset.version} has no {', '.join(missing)}.",
            fix="correct the file list of this package in quality/data_docs_offline.py",
        )
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)


def make_offline(site: Path, cache: Path | None = None) -> list[Path]:
    """Rewrite the Data Docs site at ``site`` to load only local files; returns pages changed.

    Idempotent: a page already rewritten is left as it is. Call it after every Data Docs build
    (GX rewrites its pages each time).

    Raises:
        QualityError: An asset is missing from the cache and cannot be fetched.
    """
    if not site.is_dir():
        return []
    root = ensure_assets(cache)
    vendor = site / VENDOR
    urls: dict[str, str] = {}
    for asset in ASSETS:
        target = vendor / asset.folder
        if not _complete(target, asset):
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(root / asset.folder, target)
        for url, file in asset.urls.items():
            urls[url] = f"{VENDOR}/{asset.folder}/{file}"
    (vendor / "inline").mkdir(parents=True, exist_ok=True)
    (vendor / "inline" / "handlers.js").write_text(_BINDER, encoding="utf-8")
    changed = []
    for page in sorted(site.rglob("*.html")):
        if vendor in page.parents:
            continue
        text = page.read_text(encoding="utf-8")
        new = _rewrite_page(text, page.relative_to(site), urls, vendor)
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed.append(page)
    for sheet in (site / "static" / "styles").glob("*.css"):
        text = sheet.read_text(encoding="utf-8")
        new = _S3_LOGO.sub("../images/logo-long.png", text)
        if new != text:
            sheet.write_text(new, encoding="utf-8")
    return changed


def _rewrite_page(text: str, relative: Path, urls: Mapping[str, str], vendor: Path) -> str:
    up = "../" * (len(relative.parts) - 1)
    # Longest first: a Vega address is a prefix of nothing else, but keep it safe anyway.
    for url in sorted(urls, key=len, reverse=True):
        local = (up + urls[url]).replace("\\", "\\\\")
        text = re.sub(re.escape(url) + r"(?=[\"'])", local, text)
    text = _S3_LOGO.sub(lambda _m: up + _LOCAL_LOGO, text)
    text = _SRI.sub("", text)

    def externalise(match: re.Match[str]) -> str:
        body = match.group(1)
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[:20]
        (vendor / "inline" / f"{digest}.js").write_text(body, encoding="utf-8")
        return f'<script src="{up}{VENDOR}/inline/{digest}.js"></script>'

    text = _INLINE_SCRIPT.sub(externalise, text)
    if _ONCLICK.search(text):
        text = _ONCLICK.sub(lambda m: f' data-lake-onclick="{m.group(1)}"', text)
    text = _ANY_HANDLER.sub("", text)  # any other inline handler would be refused by the CSP
    binder = f'<script src="{up}{VENDOR}/inline/handlers.js"></script>'
    if "data-lake-onclick" in text and binder not in text:
        text = text.replace("</body>", f"{binder}\n</body>", 1)
    return text


def remote_assets(site: Path) -> dict[str, list[str]]:
    """What each page or style sheet of the site still loads from another host, by file."""
    found: dict[str, list[str]] = {}
    files: Iterable[Path] = [
        *site.rglob("*.html"),
        *(p for p in site.rglob("*.css") if VENDOR not in p.as_posix()),
    ]
    for path in sorted(files):
        hits = _LOADS.findall(path.read_text(encoding="utf-8", errors="replace"))
        if hits:
            found[str(path.relative_to(site))] = sorted(set(hits))
    return found
