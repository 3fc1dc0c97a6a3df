"""The small toolkit behind every static French page of the lake (quality reviews, governance).

The stages write their pages with the same pieces, without importing each other:

- `templates`: one Jinja2 environment factory (autoescape on for every HTML and SVG template)
  over the caller's template folder and the shared one, which holds ``base.html`` (the page
  skeleton: French, a Content-Security-Policy that forbids scripts and any outside load, the
  house stylesheet ``pages.css`` embedded) and the chart templates; `safe_link` for addresses.
- `french`: counts, numbers, percentages and dates written the French way, one definition each.
- `charts`: a line chart of a 0-100 score and a horizontal bar chart, as standalone SVG.

A stage template starts with ``{% extends "base.html" %}`` and fills the blocks ``title``,
``generator``, ``style`` (its own few CSS rules), ``content`` and ``footer``. A page so made has
no JavaScript and loads nothing from outside: it can be mailed or opened offline.

Import from the modules (``from lake.pages.french import format_date_fr``): this package does not
re-export them, so a command that only writes French numbers does not load Jinja2.
"""
