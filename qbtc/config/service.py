"""Settings of the services around the pipeline: the API, alerts, Prefect and the workers."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from qbtc.config.fields import split_csv


class ApiSettings(BaseModel):
    """The read-only REST API: bind, token, limits, caches and health thresholds."""

    api_host: str = Field("127.0.0.1", description="Bind address of the read-only API.")
    api_port: int = Field(8000, ge=1, le=65535)
    api_token: SecretStr | None = None
    api_cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    api_rate_limit: str = Field("600/minute", description="Per-client limit (limits syntax).")
    api_auth_failures: int = Field(
        10, ge=1, le=10_000, description="Failed authentications per minute before a lock-out."
    )
    api_auth_lockout_s: float = Field(
        300.0, ge=1, le=86_400, description="Seconds a client is refused after too many failures."
    )
    api_cache_mb: int = Field(
        32, ge=1, le=4096, description="Byte budget of each API response cache, MiB."
    )
    health_max_data_lag_s: float = Field(
        900.0,
        gt=0,
        le=365 * 86_400,
        description="Health is degraded when market data is older (s).",
    )
    api_public_docs: bool = Field(
        False, description="Serve /docs, /redoc and /openapi.json without the token."
    )
    api_allow_public: bool = Field(
        False, description="Allow a non-loopback API bind without QBTC_API_TOKEN (not advised)."
    )

    @field_validator("api_cors_origins", mode="before")
    @classmethod
    def _parse_origins(cls, value: Any) -> Any:
        return split_csv(value)


class OperationsSettings(BaseModel):
    """Alerts, the Prefect server, and the production profile (`qbtc up --prod`)."""

    alert_webhook_url: SecretStr | None = None
    prefect_port: int = Field(4200, ge=1, le=65535)

    prefect_database_url: SecretStr | None = Field(
        None,
        description="An existing PostgreSQL for the Prefect server (postgresql://user:pw@host"
        ":port/db); without it `qbtc up --prod` runs its own cluster under data/postgres.",
    )
    postgres_port: int = Field(
        5433, ge=1, le=65535, description="Port of the own PostgreSQL cluster (127.0.0.1)."
    )
    workers: int = Field(
        2, ge=1, le=64, description="Process workers `qbtc up --prod` starts on this machine."
    )
    worker_limit: int = Field(
        1, ge=1, le=64, description="Flow runs each worker runs at the same time."
    )
    dask_address: str | None = Field(
        None,
        description="Address of a Dask scheduler (tcp://host:8786) for the heavy stages "
        "(features over the universe, Monte Carlo VaR); unset: in-process, or a local cluster.",
    )
    dask_local_workers: int = Field(
        0,
        ge=0,
        le=64,
        description="Without QBTC_DASK_ADDRESS: run the heavy stages on a local Dask cluster "
        "of this many worker processes (0: in-process).",
    )
