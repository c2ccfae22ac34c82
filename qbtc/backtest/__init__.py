"""Backtests: the live cycle's decisions replayed over a window of the lake.

:mod:`~qbtc.backtest.window` reads and featurises the window once,
:mod:`~qbtc.backtest.pointintime` cuts it at each decision time,
:mod:`~qbtc.backtest.engine` runs the live cycle's risk, planning and checks per decision,
:mod:`~qbtc.backtest.execution` fills (``bars`` or the simulated ``venue``),
:mod:`~qbtc.backtest.metrics`, :mod:`~qbtc.backtest.tearsheet` and
:mod:`~qbtc.backtest.results` measure, draw and store it; :mod:`~qbtc.backtest.runner`
does all of it for one backtest.
"""
