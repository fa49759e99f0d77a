"""Query parameters shared by the listings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

MAX_PAGE = 1_000_000


@dataclass(frozen=True, slots=True)
class Pagination:
    page: int
    size: int


def pagination(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="page number, from 1")] = 1,
    size: Annotated[int, Query(ge=1, le=500, description="items per page (1–500)")] = 50,
) -> Pagination:
    return Pagination(page, size)


PageDep = Annotated[Pagination, Depends(pagination)]
