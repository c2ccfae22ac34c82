"""``/api/health``: freshness, last run, quality gate and kill switch."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from qbtc.api.models.base import ApiModel


class DatasetFreshness(ApiModel):
    dataset: str
    files: int = Field(description="Parquet files in the dataset.")
    newest: datetime | None = Field(description="Newest value of the dataset's time column.")
    lag_seconds: float | None = Field(description="Seconds from `newest` to now.")
    error: str | None = Field(
        None, description="Why the dataset could not be read (a corrupt or missing file)."
    )


class RunSummary(ApiModel):
    run_id: str
    flow: str
    status: str
    timestamp: datetime = Field(description="When the run started.")
    finished_at: datetime | None
    age_seconds: float = Field(description="Seconds since the run started.")
    message: str | None = None


class QualityGate(ApiModel):
    passed: bool
    run_id: str | None
    timestamp: datetime | None
    reasons: list[str]
    docs_url: str | None = Field(
        None,
        description=(
            "Path (on this API) of the gate run's Great Expectations Data Docs page, when "
            "built (QBTC_QUALITY_DOCS)."
        ),
    )


class KillSwitchStatus(ApiModel):
    on: bool = Field(
        description="True while only reduce-only orders may pass (also when unreadable)."
    )
    reason: str | None
    since: datetime | None
    readable: bool = Field(description="False when the state file exists but is malformed.")


class Health(ApiModel):
    status: Literal["ok", "degraded"]
    time: datetime
    problems: list[str]
    datasets: list[DatasetFreshness]
    last_run: RunSummary | None
    quality_gate: QualityGate
    kill_switch: KillSwitchStatus
