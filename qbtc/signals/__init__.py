"""Signal providers: a feature snapshot in, one signal per symbol out.

``rules`` (deterministic default), a user ``strategy`` (:mod:`qbtc.signals.plugins`), ``gemini`` (google-genai with validation, cache, budget,
recording and rules fallback) and ``replay`` (answers only from recorded LLM calls) share the
:class:`SignalProvider` interface; :func:`run_signal_cycle` runs one and stores the result.
"""

from qbtc.signals.answer import AnswerRejectedError, SignalAnswer, validate_answer
from qbtc.signals.cache import LlmCache
from qbtc.signals.calls import LlmCall, estimate_cost, llm_calls_frame
from qbtc.signals.cycle import (
    CycleResult,
    ProviderName,
    SignalsRefusedError,
    make_provider,
    refusal_message,
    run_signal_cycle,
)
from qbtc.signals.errors import LlmError, ModelCallError, ReplayMissingError
from qbtc.signals.gemini import GeminiConfig, GeminiProvider, GeminiRetryPolicy
from qbtc.signals.inputs import SnapshotError, SymbolInputs, collect_inputs
from qbtc.signals.model import (
    ProviderResult,
    Signal,
    SignalProvider,
    SnapshotLike,
    signal_id,
    signals_frame,
)
from qbtc.signals.plugins import (
    ENTRY_POINT_GROUP,
    DirectionalView,
    Strategy,
    StrategyLoadError,
    StrategyProvider,
    StrategyViews,
    VolatilityView,
    load_strategy,
)
from qbtc.signals.prompt import Prompt, build_prompt, snapshot_prompt
from qbtc.signals.replay import ReplayProvider
from qbtc.signals.rules import RULES_MODEL, RuleParameters, RulesProvider
from qbtc.signals.volrules import VolRuleParameters, decide_vol
from qbtc.signals.volview import (
    UnderlyingInputs,
    VolView,
    collect_underlying_inputs,
    vol_view_id,
    vol_views_frame,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "RULES_MODEL",
    "AnswerRejectedError",
    "CycleResult",
    "DirectionalView",
    "GeminiConfig",
    "GeminiProvider",
    "GeminiRetryPolicy",
    "LlmCache",
    "LlmCall",
    "LlmError",
    "ModelCallError",
    "Prompt",
    "ProviderName",
    "ProviderResult",
    "ReplayMissingError",
    "ReplayProvider",
    "RuleParameters",
    "RulesProvider",
    "Signal",
    "SignalAnswer",
    "SignalProvider",
    "SignalsRefusedError",
    "SnapshotError",
    "SnapshotLike",
    "Strategy",
    "StrategyLoadError",
    "StrategyProvider",
    "StrategyViews",
    "SymbolInputs",
    "UnderlyingInputs",
    "VolRuleParameters",
    "VolView",
    "VolatilityView",
    "build_prompt",
    "collect_inputs",
    "collect_underlying_inputs",
    "decide_vol",
    "estimate_cost",
    "llm_calls_frame",
    "load_strategy",
    "make_provider",
    "refusal_message",
    "run_signal_cycle",
    "signal_id",
    "signals_frame",
    "snapshot_prompt",
    "validate_answer",
    "vol_view_id",
    "vol_views_frame",
]
