"""Base model, error answers and pagination."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

Item = TypeVar("Item")


class ApiModel(BaseModel):
    """Base of every response model: ignores extra lake columns, forbids nothing else."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class FieldError(ApiModel):
    location: str = Field(description="Where the bad value is, e.g. 'query.limit'.")
    message: str


class ErrorResponse(ApiModel):
    """Every error answer: one clear message, plus the offending fields on a 422."""

    detail: str
    errors: list[FieldError] | None = None


class Page(ApiModel, Generic[Item]):
    """One page of a list, newest first unless the route says otherwise."""

    items: list[Item]
    total: int = Field(description="Items matching the filters, over all pages.")
    limit: int
    offset: int
    next_offset: int | None = Field(description="Offset of the next page; null on the last.")
