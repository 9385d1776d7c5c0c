"""Bounded lists: every list route takes `limit` and an opaque `cursor`, and links to the next page.

The body stays a plain JSON list; the next page is named by an RFC 8288 `Link: <...>; rel="next"`
header (and `X-Next-Cursor`), absent on the last page. The cursor is an offset, base64url-encoded:
opaque to clients, so a service may change it to a keyset later without breaking them.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Query, Request, Response

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_OFFSET = 100_000

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    limit: int
    offset: int

    @property
    def fetch(self) -> int:
        """Rows to ask the database for: one more than the page, to know whether there is a next."""
        return self.limit + 1


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=64, description="From the previous page's Link rel=next")
    ] = None,
) -> PageRequest:
    return PageRequest(limit=limit, offset=decode_cursor(cursor) if cursor else 0)


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        offset = json.loads(raw)["o"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise HTTPException(400, detail="cursor: not one this service gave; start again without it") from None
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
        raise HTTPException(400, detail="cursor: not one this service gave; start again without it")
    return offset


def page_of(items: Sequence[T], page: PageRequest, request: Request, response: Response) -> list[T]:
    """The page's items (of up to `page.fetch` fetched); sets the next-page link when there are more."""
    if len(items) > page.limit:
        cursor = encode_cursor(page.offset + page.limit)
        url = request.url.include_query_params(cursor=cursor, limit=page.limit)
        response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
        response.headers["X-Next-Cursor"] = cursor
    return list(items[: page.limit])


def window(items: Sequence[T], page: PageRequest) -> Sequence[T]:
    """For lists computed in memory: the slice `page_of` expects (offset applied, one extra kept)."""
    return items[page.offset : page.offset + page.fetch]


Page = Annotated[PageRequest, Depends(page_params)]
"""A route parameter: `page: Page`."""
