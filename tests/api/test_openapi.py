"""Property-based tests of the app against its own OpenAPI spec (schemathesis).

Every operation gets generated requests; every response must be a declared status with a
body matching its declared schema, and never a server error. The spec is read from an app
that is never started (it does not depend on data); requests go to an app over the fixture
lake. (``schemathesis.pytest.from_fixture`` does not run under pytest 9, hence this shape.)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import settings

from qbtc.api import create_app
from tests.api.conftest import make_settings

_SPEC_APP = create_app(make_settings(Path(tempfile.gettempdir()) / "qbtc-unused"))
schema = schemathesis.openapi.from_dict(_SPEC_APP.openapi())


@pytest.fixture(scope="module")
def live_app(shared_lake, shared_data_dir) -> FastAPI:
    """An app over the shared fixture lake (schemathesis runs its lifespan)."""
    return create_app(make_settings(shared_data_dir))


@schema.parametrize()
@settings(max_examples=25, deadline=None)
def test_every_operation_conforms_to_its_schema(case, live_app):
    case.call_and_validate(app=live_app)
