"""Market data: the simulated venue's generation speed and the ccxt adapter's parse cost.

1. Sim: 10 perps x 30 days of 1m bars through ``fetch_ohlcv_frame`` (paginated like a real
   backfill, 1500-bar pages): wall time on cold caches, and peak RSS of a fresh process.
2. ccxt: Binance USD-M kline pages served by a local HTTP server from pre-encoded bytes (so
   the server costs almost nothing), fetched by ``CcxtExchange.fetch_ohlcv`` and normalised,
   against the floor of a bare ``json.loads`` of the same bytes. ccxt's rate limiter is off
   here: it would only add sleeps.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from qbtc.config import DEFAULT_SYMBOLS
from qbtc.market.ccxt_adapter import CcxtExchange, create_client
from qbtc.market.normalize import fetch_ohlcv_frame, ohlcv_to_frame
from qbtc.market.sim import SimExchange
from tests.market.binance_stub import BinanceStub, point_client_at

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
DAYS = 30
PAGE = 1000
BTC = "BTC/USDT:USDT"

_SIM_CODE = f"""
from datetime import datetime, timedelta, UTC
from qbtc.market.sim import SimExchange
from qbtc.market.normalize import fetch_ohlcv_frame
as_of = datetime({AS_OF.year}, {AS_OF.month}, {AS_OF.day}, tzinfo=UTC)
venue = SimExchange(seed=7, as_of=as_of)
frames = [fetch_ohlcv_frame(venue, s, since=as_of - timedelta(days={DAYS}), page_limit=1500)
          for s in venue.symbols]
assert sum(f.height for f in frames) == {len(DEFAULT_SYMBOLS) * DAYS * 1440}
"""
_IMPORT_CODE = "import qbtc.market.sim, qbtc.market.normalize, polars"


def _own_peak_rss_mb(code: str) -> float:
    """Peak RSS (MiB) of a fresh interpreter running ``code``: its own ``VmHWM``.

    ``ru_maxrss`` is not used: Linux carries the parent's high-water mark across fork and exec.
    """
    report = (
        "\nprint(next(line.split()[1] for line in open('/proc/self/status')"
        " if line.startswith('VmHWM:')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code + report], check=True, capture_output=True, text=True
    )
    return int(done.stdout.split()[-1]) / 1024.0


def _bench_sim() -> dict[str, object]:
    from qbtc.market.sim import daily
    from qbtc.market.sim.intraday import minute_bars

    minute_bars.cache_clear()
    daily._CACHE.clear()
    venue = SimExchange(seed=7, as_of=AS_OF)
    started = time.perf_counter()
    rows = sum(
        fetch_ohlcv_frame(venue, s, since=AS_OF - timedelta(days=DAYS), page_limit=1500).height
        for s in venue.symbols
    )
    wall = time.perf_counter() - started
    baseline = _own_peak_rss_mb(_IMPORT_CODE)
    peak = _own_peak_rss_mb(_SIM_CODE)
    return {
        "sim_bars": rows,
        "sim_10x30d_1m_wall_s": round(wall, 3),
        "sim_bars_per_s": round(rows / wall),
        "sim_peak_rss_mb (fresh process)": round(peak, 1),
        "sim_peak_rss_mb_over_imports": round(peak - baseline, 1),
    }


def _pages() -> tuple[dict[str, bytes], dict[int, bytes]]:
    """Binance payloads rendered once: exchangeInfo and every kline page by startTime."""
    stub = BinanceStub(SimExchange(seed=7, as_of=AS_OF, symbols=(BTC,)))
    stub.server.server_close()
    fixed = {"/fapi/v1/exchangeInfo": json.dumps(stub.exchange_info({})).encode()}
    start = int((AS_OF - timedelta(days=DAYS)).timestamp() * 1000)
    pages: dict[int, bytes] = {}
    for first in range(start, start + DAYS * 1440 * 60_000, PAGE * 60_000):
        query = {"symbol": "BTCUSDT", "interval": "1m", "startTime": str(first), "limit": str(PAGE)}
        pages[first] = json.dumps(stub.klines(query)).encode()
    return fixed, pages


def _serve(fixed: dict[str, bytes], pages: dict[int, bytes]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = parse_qs(url.query)
            body = fixed.get(url.path) or pages.get(int(query.get("startTime", ["0"])[0]), b"[]")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return server


def _best_of(repeat: int, function: Any) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def _bench_ccxt() -> dict[str, object]:
    fixed, pages = _pages()
    server = _serve(fixed, pages)
    try:
        client = create_client("binanceusdm")
        point_client_at(client, f"http://127.0.0.1:{server.server_address[1]}")
        client.enableRateLimit = False
        venue = CcxtExchange(client, symbols=(BTC,), sandbox=True)
        market = venue.load_markets()[BTC]
        since = AS_OF - timedelta(days=DAYS)
        frame = fetch_ohlcv_frame(venue, BTC, since=since, until=AS_OF, page_limit=PAGE)
        candles = frame.height
        payloads = list(pages.values())
        decoded = [json.loads(p) for p in payloads]
        parsed = [client.parse_ohlcvs(d, market, "1m") for d in decoded]
        flat = [row for page in parsed for row in page]

        floor = _best_of(5, lambda: [json.loads(p) for p in payloads])
        ccxt_parse = _best_of(
            5, lambda: [client.parse_ohlcvs(json.loads(p), market, "1m") for p in payloads]
        )
        normalise = _best_of(
            5, lambda: ohlcv_to_frame(flat, symbol=BTC, timeframe="1m", source="binanceusdm")
        )
        end_to_end = _best_of(
            3, lambda: fetch_ohlcv_frame(venue, BTC, since=since, until=AS_OF, page_limit=PAGE)
        )
    finally:
        server.shutdown()
        server.server_close()

    def ns(seconds: float) -> float:
        return round(seconds / candles * 1e9, 1)

    return {
        "ccxt_candles": candles,
        "ccxt_pages": len(payloads),
        "payload_bytes_per_candle": round(sum(map(len, payloads)) / candles, 1),
        "json_loads_floor_ns_per_candle": ns(floor),
        "ccxt_decode_and_parse_ns_per_candle": ns(ccxt_parse),
        "normalize_to_frame_ns_per_candle": ns(normalise),
        "adapter_end_to_end_ns_per_candle (HTTP+ccxt+normalize)": ns(end_to_end),
        "ratio_parse_plus_normalize_to_json_floor": round((ccxt_parse + normalise) / floor, 1),
        "ratio_end_to_end_to_json_floor": round(end_to_end / floor, 1),
    }


def run() -> dict[str, object]:
    return {**_bench_sim(), **_bench_ccxt()}
