"""The test client really validates answers against their route's response model."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from tests.api.helpers import api_client

pytestmark = pytest.mark.anyio


class _Shape(BaseModel):
    n: int


async def test_a_200_answer_that_breaks_its_model_fails_the_test() -> None:
    router = APIRouter(prefix="/v1")

    @router.get("/wrong", response_model=_Shape)
    async def wrong() -> JSONResponse:
        return JSONResponse({"n": "not a number"})  # bypasses FastAPI's own validation

    @router.get("/right", response_model=_Shape)
    async def right() -> JSONResponse:
        return JSONResponse({"n": 3})

    app = FastAPI()
    app.include_router(router)  # an included router, as the API's routes are
    async with api_client(app) as client:
        assert (await client.get("/v1/right")).json() == {"n": 3}
        with pytest.raises(ValidationError):
            await client.get("/v1/wrong")
