"""Quality answers: quarantined rows per dataset."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from qbtc.api.models.base import ApiModel


class QuarantineCount(ApiModel):
    dataset: str
    rows: int = Field(description="Rows refused by the quality gate, ever (count).")
    last_gate_rows: int = Field(description="Rows refused in the run of the latest gate (count).")
    newest: datetime | None = Field(description="Time of the newest refused row.")


class Quarantine(ApiModel):
    """Quarantined rows per dataset, and the run of the latest gate they are counted against."""

    gate_run_id: str | None
    datasets: list[QuarantineCount]
