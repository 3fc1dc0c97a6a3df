"""Where the governance's static French pages come from: its templates, on the lake's toolkit.

The pages (the A03/A06 dashboard, the reports index, the A09 cloud framework, the A15 study) are
templates of ``governance/templates`` that extend the lake's shared page skeleton
(:mod:`lake.pages`): autoescaping on for every template, embedded CSS, no JavaScript, a
Content-Security-Policy that forbids scripts and any outside load, so a page can be mailed or
opened offline. Numbers, dates and charts come from the same toolkit.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from lake.pages.templates import Output
from lake.pages.templates import environment as pages_environment

__all__ = ["TEMPLATES", "environment"]

TEMPLATES = Path(__file__).with_name("templates")


def environment(*, output: Output = "html") -> jinja2.Environment:
    """The Jinja2 environment of the governance templates (and the shared ones).

    Args:
        output: ``"html"`` for the pages and charts, ``"markdown"`` for the study's Markdown.
    """
    return pages_environment(TEMPLATES, output=output)
