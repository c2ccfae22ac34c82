"""End-to-end tests share the flow tests' session-scoped Prefect test server."""

from tests.flows.conftest import prefect_harness

__all__ = ["prefect_harness"]
