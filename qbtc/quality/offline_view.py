"""Great Expectations' Data Docs page view, with qbtc's offline templates looked up first.

GX's own view puts a site's custom views *after* its packaged templates, so a custom
``page.j2`` is never used. This view puts ``docs_views/`` first: its
page heads load no script, stylesheet or image from a CDN, and its stylesheet lays the
pages out without bootstrap (see :mod:`qbtc.quality.datadocs`).
Imported by GX's site builder (by module name), only when Data Docs are built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from great_expectations.render.view import DefaultJinjaPageView
from jinja2 import ChoiceLoader, FileSystemLoader

VIEWS_DIR = Path(__file__).with_name("docs_views")


def _views_first(view: Any) -> None:
    view.env.loader = ChoiceLoader([FileSystemLoader(str(VIEWS_DIR)), view.env.loader])


class OfflinePageView(DefaultJinjaPageView):
    """GX's page view (suites, validation results) without remote assets."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _views_first(self)
