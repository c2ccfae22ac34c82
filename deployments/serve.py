"""Serve every deployment with its schedule against the configured Prefect server.

Run by ``qbtc up`` with ``PREFECT_API_URL`` pointing at the local server. Schedules are
paused when this process stops and resumed when it starts again.
"""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any

from prefect import Flow, serve

from deployments.definitions import DEPLOYMENTS, DeploymentSpec


def load_flow(spec: DeploymentSpec) -> Flow[..., Any]:
    """The flow object behind a deployment's entrypoint."""
    module = importlib.import_module(spec.flow_module)
    flow = getattr(module, spec.flow_function)
    if not isinstance(flow, Flow):
        raise TypeError(f"{spec.entrypoint} is not a Prefect flow")
    return flow


def runner_deployments() -> list[Any]:
    """RunnerDeployments for ``serve``, built from the definitions."""
    out = []
    for spec in DEPLOYMENTS:
        out.append(
            load_flow(spec).to_deployment(
                name=spec.name,
                description=spec.description,
                interval=timedelta(seconds=spec.interval_s) if spec.interval_s else None,
                cron=spec.cron,
                parameters=spec.parameters,
                tags=list(spec.tags),
                concurrency_limit=spec.concurrency_limit,
                paused=False,
            )
        )
    return out


def main() -> None:
    serve(*runner_deployments(), print_starting_message=False)


if __name__ == "__main__":
    main()
