"""Every GET route of the API, with a valid example path."""

GET_ROUTES = [
    "/api/health",
    "/api/positions",
    "/api/market/BTC/USDT:USDT",
    "/api/market/BTC/USDT:USDT/ohlcv",
    "/api/options/BTC/chain",
    "/api/risk/metrics",
    "/api/signals",
    "/api/orders",
    "/api/runs",
    "/metrics",
]
