"""Great Expectations Data Docs of the quality gate: GX's own report, offline, in the data dir.

A gate run's GX records (one per validated frame: a dataset's rows, its coverage; see
:class:`qbtc.quality.expectations.SuiteValidation`) go into a filesystem GX store under
``<data_dir>/quality/gx``, and GX's site builder renders their pages into
``<data_dir>/quality/docs``: one page per validation under ``validations/``, the suites under
``expectations/``. Only this run's pages are rendered, and a suite's page only when the suite
changed, so the cost per run stays flat as history grows.

Offline: GX's page heads fetch bootstrap, jQuery and fonts from CDNs, and its index page is
drawn by a JavaScript table plug-in. The pages here are rendered by
:class:`qbtc.quality.offline_view.OfflinePageView` (no remote asset, a small stylesheet), and
the site's ``index.html`` is qbtc's own plain list of the latest runs and the suites.

``runs/<run_id>.html`` is a run's page: the gate's verdict, its reasons and a link to each GX
page of the run. The Prefect artifact, the API (``/quality/docs/...``) and the cycle summary
link to it. Great Expectations is imported only when docs are built.
"""

from __future__ import annotations

import html
import re
import shutil
import threading
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from qbtc.quality.expectations import SuiteValidation
from qbtc.quality.gate import GateReport

SITE = "qbtc"
"""Name of the Data Docs site in the GX context."""

INDEX_RUNS = 200
"""Runs listed on the site's index page (newest first)."""

KEEP_RUNS = 300
"""Runs whose Data Docs are kept (about 0.4 MB each); older ones are removed as new ones are
built, so ``qbtc up`` (an ingest run a minute) keeps about the last five hours."""

STYLE = Path(__file__).with_name("docs_views") / "qbtc_offline.css"

_VIEW = {"module_name": "qbtc.quality.offline_view", "class_name": "OfflinePageView"}
_LOCK = threading.Lock()
_CONTEXTS: dict[Path, Any] = {}
_SUITES_SHOWN: dict[tuple[Path, str], Any] = {}


def docs_dir(data_dir: Path) -> Path:
    """Root of the Data Docs site (served by the API at ``/quality/docs/``)."""
    return data_dir / "quality" / "docs"


def run_page_name(run_id: str) -> str:
    """Path of a run's page inside the site (the run id reduced to safe characters)."""
    return f"runs/{re.sub(r'[^A-Za-z0-9_.-]', '_', run_id)}.html"


def run_page(data_dir: Path, run_id: str) -> Path:
    return docs_dir(data_dir) / run_page_name(run_id)


def _context(root: Path) -> Any:
    """The GX context of one data dir's quality folder: filesystem stores, the offline site."""
    context = _CONTEXTS.get(root)
    if context is not None:
        return context
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        FilesystemStoreBackendDefaults,
        ProgressBarsConfig,
    )

    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(root / "docs"),
        },
        "site_section_builders": {
            "expectations": {"view": _VIEW},
            "validations": {"view": _VIEW},
            "profiling": "None",
        },
    }
    config = DataContextConfig(
        store_backend_defaults=FilesystemStoreBackendDefaults(root_directory=str(root / "gx")),
        data_docs_sites={SITE: site},
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    _CONTEXTS[root] = context
    return context


def _suite_changed(context: Any, root: Path, suite: Any) -> Any | None:
    """Store ``suite`` in the docs context when it changed; its identifier, or None.

    The gate keeps one suite object per frame until its checks change
    (:mod:`qbtc.quality.expectations`), so the object's identity tells a change.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    key = (root, suite.name)
    if _SUITES_SHOWN.get(key) is suite:
        return None
    copies = [e.copy(update={"id": None}) for e in suite.expectations]
    context.suites.add_or_update(gx.ExpectationSuite(name=suite.name, expectations=copies))
    _SUITES_SHOWN[key] = suite
    return ExpectationSuiteIdentifier(name=suite.name)


def _store(context: Any, report: GateReport, record: SuiteValidation) -> Any:
    """Store the record's result under this run; its identifier."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    run = RunIdentifier(run_name=report.run_id, run_time=report.checked_at)
    # GX's page takes the run's name and time, and the asset's name, from the result's meta.
    record.result.meta["run_id"] = run
    record.result.meta["batch_kwargs"] = {"data_asset_name": record.asset}
    identifier = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=record.suite.name),
        run_id=run,
        batch_identifier=record.asset,
    )
    context.validation_results_store.set(identifier, record.result)
    return identifier


def _site_path(context: Any, root: Path, identifier: Any) -> str:
    """Path of a resource's page relative to the site root (``validations/...html``)."""
    urls = context.get_docs_sites_urls(
        resource_identifier=identifier, site_name=SITE, only_if_exists=False
    )
    path = Path(unquote(urlsplit(urls[0]["site_url"]).path))
    return path.relative_to((root / "docs").resolve()).as_posix()


def build_gate_docs(data_dir: Path, report: GateReport) -> Path:
    """Render ``report``'s Data Docs, its run page and the site index; the run page's path.

    GX's records of the run are stored, this run's pages (and any changed suite's page) are
    rendered, then ``runs/<run_id>.html`` and ``index.html`` are written.
    """
    root = (data_dir / "quality").resolve()
    pages: list[tuple[SuiteValidation, str]] = []
    with _LOCK:
        context = _context(root)
        identifiers = []
        for record in report.validations:
            changed = _suite_changed(context, root, record.suite)
            if changed is not None:
                identifiers.append(changed)
            identifier = _store(context, report, record)
            identifiers.append(identifier)
            pages.append((record, _site_path(context, root, identifier)))
        if identifiers:
            # GX's renderers may warn on values they format; the pages are still written.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                context.build_data_docs(
                    site_names=[SITE], resource_identifiers=identifiers, build_index=False
                )
        page = run_page(data_dir, report.run_id)
        _write(page, render_run_page(report, pages))
        prune_runs(root, keep=KEEP_RUNS)
        _write(docs_dir(data_dir) / "index.html", render_index(docs_dir(data_dir)))
    return page


def _newest_first(site: Path) -> list[Path]:
    pages = list((site / "runs").glob("*.html"))
    return sorted(pages, key=lambda p: p.stat().st_mtime_ns, reverse=True)


def prune_runs(root: Path, *, keep: int) -> int:
    """Remove all but the newest ``keep`` runs' pages and stored GX results; how many went.

    A run's GX pages and results live in ``<suite>/<run name>/`` folders of the site's
    ``validations/`` and of the store; a run's page is ``runs/<run name>.html``.
    """
    old = _newest_first(root / "docs")[keep:]
    stores = (root / "docs" / "validations", root / "gx" / "uncommitted" / "validations")
    for page in old:
        for store in stores:
            for folder in store.glob(f"*/{page.stem}"):
                shutil.rmtree(folder, ignore_errors=True)
        page.unlink(missing_ok=True)
    return len(old)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE.read_text()}</style></head>"
        f'<body><div class="container-fluid"><h1>{html.escape(title)}</h1>{body}</div>'
        "</body></html>"
    )


def _row(record: SuiteValidation, site_path: str) -> str:
    result = record.result
    stats = result.statistics or {}
    failed = int(stats.get("unsuccessful_expectations") or 0)
    total = int(stats.get("evaluated_expectations") or 0)
    verdict = "all met" if result.success else f"{failed} of {total} not met"
    css = "text-success" if result.success else "text-danger"
    return (
        f"<tr><td>{html.escape(record.asset)}</td><td>{total}</td>"
        f'<td class="{css}">{html.escape(verdict)}</td>'
        f'<td><a href="../{html.escape(site_path)}">validation page</a></td></tr>'
    )


def render_run_page(report: GateReport, pages: list[tuple[SuiteValidation, str]]) -> str:
    """A run's page: the gate's verdict and reasons, and the GX page of every frame."""
    verdict = "passed" if report.passed else "FAILED"
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in report.reasons)
    rows = "".join(_row(record, path) for record, path in pages)
    quarantined = sum(d.quarantine.height for d in report.datasets)
    body = (
        f"<p>Verdict: <strong>{verdict}</strong>. As of {report.as_of.isoformat()}, checked "
        f"at {report.checked_at.isoformat()}; {quarantined} row(s) quarantined (rows that "
        "fail a check are set aside; the gate fails above its bad-row threshold).</p>"
        + (f"<h2>Why it failed</h2><ul>{reasons}</ul>" if reasons else "")
        + "<h2>Great Expectations validations</h2><table><tr><th>validated frame</th>"
        "<th>expectations</th><th>result</th><th>page</th></tr>"
        f"{rows}</table>"
        '<p><a href="../index.html">Data Docs index: latest runs and the suites</a></p>'
    )
    return _page(f"Quality gate of run {report.run_id}", body)


def render_index(site: Path) -> str:
    """The site's index: the latest run pages (newest first) and the suites' pages."""
    runs = _newest_first(site)[:INDEX_RUNS]
    suites = sorted((site / "expectations").glob("*.html"))
    run_items = "".join(
        f'<li><a href="runs/{html.escape(p.name)}">{html.escape(p.stem)}</a></li>' for p in runs
    )
    suite_items = "".join(
        f'<li><a href="expectations/{html.escape(p.name)}">{html.escape(p.stem)}</a></li>'
        for p in suites
    )
    body = (
        f"<h2>Gate runs (newest first, at most {INDEX_RUNS})</h2><ul>{run_items}</ul>"
        f"<h2>Expectation suites</h2><ul>{suite_items}</ul>"
    )
    return _page("qbtc quality gate: Data Docs", body)
