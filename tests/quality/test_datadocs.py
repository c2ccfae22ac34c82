"""Great Expectations Data Docs of a gate run: GX's pages, offline, linked from the run page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from qbtc.market.files import read_kline_file
from qbtc.quality import DatasetBatch, GatePolicy, GateReport, evaluate_gate, ohlcv_rules
from qbtc.quality.datadocs import build_gate_docs, docs_dir, prune_runs, run_page
from tests.fixtures import make_bad_klines as fixture

START = datetime(2026, 1, 5, tzinfo=UTC)
REMOTE_ASSET = re.compile(r"""<(?:script|link|img)[^>]+(?:src|href)=["']https?://""")


def _report(run_id: str, max_bad_fraction: float) -> GateReport:
    kline = read_kline_file(fixture.PATH, symbol="BTC/USDT:USDT")
    batch = DatasetBatch(
        ohlcv_rules(), kline.frame, expected=("BTC/USDT:USDT",), step=timedelta(minutes=1)
    )
    policy = GatePolicy(max_bad_fraction=max_bad_fraction, max_staleness_s=None)
    as_of = START + timedelta(minutes=fixture.AS_OF_MINUTE)
    return evaluate_gate([batch], run_id=run_id, as_of=as_of, policy=policy)


def _links(page: Path) -> list[Path]:
    hrefs = re.findall(r'href="([^"#]+)"', page.read_text())
    return [(page.parent / href).resolve() for href in hrefs]


def test_a_failed_gate_links_its_gx_validation_pages_which_say_what_failed(data_dir: Path):
    report = _report("run-1", max_bad_fraction=0.01)
    page = build_gate_docs(data_dir, report)
    assert page == run_page(data_dir, "run-1")
    text = page.read_text()
    assert "FAILED" in text
    assert "ohlcv.bad_fraction: fail (7 of 197)" in text
    links = _links(page)
    assert all(link.exists() for link in links), links
    validation = next(link for link in links if "/validations/" in link.as_posix())
    gx_page = " ".join(re.sub(r"<[^>]+>", " ", validation.read_text()).split())
    assert "Expectation Suite: qbtc-ohlcv Data asset: ohlcv Status: Failed" in gx_page
    assert "Run Name run-1" in gx_page
    assert re.search(r"Unsuccessful Expectations [1-9]", gx_page)


def test_the_site_reads_offline_and_lists_every_run(data_dir: Path):
    build_gate_docs(data_dir, _report("run-1", max_bad_fraction=0.01))
    build_gate_docs(data_dir, _report("run-2", max_bad_fraction=0.05))
    site = docs_dir(data_dir)
    pages = list(site.rglob("*.html"))
    assert len(pages) > 4
    offenders = [p for p in pages if REMOTE_ASSET.search(p.read_text())]
    assert offenders == []
    index = (site / "index.html").read_text()
    assert "runs/run-1.html" in index
    assert "runs/run-2.html" in index
    assert "expectations/qbtc-ohlcv.html" in index
    assert "passed" in run_page(data_dir, "run-2").read_text()


def test_only_the_newest_runs_are_kept(data_dir: Path):
    for number in range(3):
        build_gate_docs(data_dir, _report(f"run-{number}", max_bad_fraction=0.05))
    root = data_dir / "quality"
    assert prune_runs(root, keep=2) == 1
    assert not run_page(data_dir, "run-0").exists()
    assert run_page(data_dir, "run-2").exists()
    left = {p.name for p in (docs_dir(data_dir) / "validations").glob("*/*")}
    stored = {p.name for p in (root / "gx" / "uncommitted" / "validations").glob("*/*")}
    assert left == stored == {"run-1", "run-2"}
