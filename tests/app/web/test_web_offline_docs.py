"""GX Data Docs made offline: pinned npm assets, local links, no inline script left."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from quality.data_docs_offline import (
    ASSETS,
    VENDOR,
    Asset,
    _extract,
    ensure_assets,
    make_offline,
    remote_assets,
)
from quality.errors import QualityError

# What GX 1.24 writes in the <head> of every page (great_expectations/render/view/templates).
GX_HEAD = """<link rel="stylesheet" \
href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css" \
integrity="sha384-ggOyR0iXCbMQv3Xipma34MD+dH/1fQ784/j6cY/iJTQUOhcWr7x9JvoRxT2MZw1T" \
crossorigin="anonymous">
<link rel="stylesheet" href="https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css">
<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>
<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>
<script>
  function hideSucceededValidations() { $(".ok").fadeOut(); }
</script>
"""
GX_BODY = """<button onclick="hideSucceededValidations()">Hide</button>
<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=20261206&dataContextId=x">
<a href="https://docs.greatexpectations.io/docs/">GX docs</a>
"""


def site(root: Path) -> Path:
    for page in (root / "index.html", root / "validations" / "s" / "run.html"):
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"<html><head>{GX_HEAD}</head><body>{GX_BODY}</body></html>")
    styles = root / "static" / "styles"
    styles.mkdir(parents=True)
    (styles / "data_docs_default_styles.css").write_text(
        ".logo { background: url('https://great-expectations-web-assets.s3.us-east-2"
        ".amazonaws.com/full_logo_dark.png'); }"
    )
    return root


def test_every_cdn_address_gx_writes_is_pinned() -> None:
    pinned = {url for asset in ASSETS for url in asset.urls}
    found = set(re.findall(r'(?:href|src)="(https://[^"]+)"', GX_HEAD))
    assert found <= pinned
    assert all(a.integrity.startswith("sha512-") for a in ASSETS)


def test_the_site_loads_nothing_from_another_host(tmp_path: Path) -> None:
    root = site(tmp_path / "local_site")
    assert len(remote_assets(root)) == 3  # two pages and the style sheet
    changed = make_offline(root)
    assert sorted(p.relative_to(root).as_posix() for p in changed) == [
        "index.html",
        "validations/s/run.html",
    ]
    assert remote_assets(root) == {}
    nested = (root / "validations" / "s" / "run.html").read_text()
    assert f'href="../../{VENDOR}/bootstrap@4.3.1/dist/css/bootstrap.min.css"' in nested
    assert "integrity=" not in nested and "crossorigin=" not in nested
    assert f'src="../../{VENDOR}/vega@5.33.1/build/vega.min.js"' in nested
    assert 'src="../../static/images/logo-long.png"' in nested
    assert "<script>" not in nested and " onclick=" not in nested
    assert 'data-lake-onclick="hideSucceededValidations"' in nested
    assert f'<script src="../../{VENDOR}/inline/handlers.js"></script>' in nested
    assert 'href="https://docs.greatexpectations.io/docs/"' in nested  # a link, not a load
    for asset in ASSETS:
        for file in asset.files:
            assert (root / VENDOR / asset.folder / file).exists(), (asset.package, file)
    assert make_offline(root) == []  # idempotent


def test_a_tarball_that_does_not_match_its_integrity_is_refused(tmp_path: Path) -> None:
    fake = Asset("jquery", "3.7.1", "sha512-AAAA", ("dist/jquery.min.js",), {})
    with pytest.raises(QualityError) as refused:
        _extract(fake, b"not the tarball", tmp_path / "jquery@3.7.1")
    assert str(refused.value).startswith(
        "The tarball of jquery@3.7.1 does not match its pinned integrity: expected sha512-AAAA"
    )
    assert not (tmp_path / "jquery@3.7.1").exists()


def test_cached_assets_are_not_fetched_again(tmp_path: Path) -> None:
    cache = ensure_assets()  # the user cache, filled once per machine
    for asset in ASSETS:
        assert (cache / asset.folder / asset.files[0]).exists()
    assert ensure_assets(cache, timeout_s=0.001) == cache  # nothing to fetch: no network used
