"""One place that turns every failure into `{"error": {code, message, details}}`.

A user's mistake is a 4xx whose message names the field and the fix; anything unexpected is
a 500 with a generic message (the traceback goes to the log, never into a response).
"""

import logging
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from accord.domain.errors import AccordError, validation_problems

log = logging.getLogger(__name__)

STATUS_BY_CODE: dict[str, int] = {
    "invalid_definition": 422,
    "validation_error": 422,
    "not_found": 404,
    "illegal_transition": 409,
    "conflict": 409,
    # The request is well formed but the execution's budget does not allow it: a state
    # conflict the user resolves by raising the budget, not a payment (so not 402).
    "budget_exceeded": 409,
    "unauthorized": 401,
    "forbidden": 403,
    # An API-only server asked to run an execution: the service cannot, not the input.
    "engine_not_running": 503,
    # The model provider failed past its retries: an upstream failure, not the user's input.
    "model_failure": 502,
    "payload_too_large": 413,
    "rate_limited": 429,
}

CODE_BY_HTTP_STATUS: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


async def _accord_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AccordError)
    status = STATUS_BY_CODE.get(exc.code, 400)
    return error_response(status, exc.code, exc.message, exc.details)


async def _request_validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [p.__dict__ for p in validation_problems(exc.errors())]
    message = "Invalid request: " + "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    return error_response(422, "validation_error", message, {"problems": problems})


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI's only 400 is a body it could not read (not UTF-8, say): an invalid body,
        # reported as every other invalid body is.
        problem = {"field": "body", "message": str(exc.detail), "fix": "send a UTF-8 JSON body"}
        return error_response(
            422, "validation_error", f"Invalid request: {exc.detail}", {"problems": [problem]}
        )
    code = CODE_BY_HTTP_STATUS.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return error_response(exc.status_code, code, message, headers=exc.headers)


async def _data_refused(request: Request, exc: Exception) -> JSONResponse:
    """A value the database cannot store (a NUL character in text on Postgres, a number out of
    a column's range): the request's fault, so a 422 and not a 500."""
    log.info("database refused a value on %s %s: %s", request.method, request.url.path, exc)
    problem = {
        "field": "body",
        "message": "a value cannot be stored (NUL characters and out-of-range numbers are not)",
        "fix": "remove NUL characters and keep numbers within range",
    }
    return error_response(
        422, "validation_error", "Invalid request: " + problem["message"], {"problems": [problem]}
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(
        500, "internal_error", "Something went wrong on the server; the server log has the details."
    )


def install_error_handlers(
    app: FastAPI, *, not_found_page: Callable[[Request], Response | None] | None = None
) -> None:
    """`not_found_page` may answer an unmatched path itself (the browser UI does)."""

    async def http_error(request: Request, exc: Exception) -> Response:
        if (
            not_found_page is not None
            and isinstance(exc, StarletteHTTPException)
            and exc.status_code == 404
        ):
            page = not_found_page(request)
            if page is not None:
                return page
        return await _http_error(request, exc)

    app.add_exception_handler(AccordError, _accord_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(DataError, _data_refused)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, _unexpected_error)
