"""Turn NetBackup error responses into one readable, secret-free line."""

from __future__ import annotations

import json

import requests

from ..runtime.errors import ApiError, ApiUnavailable, AuthError

RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
MAX_TEXT = 300


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."


def describe_error_body(response: requests.Response) -> str:
    """NetBackup's `errorCode`/`errorMessage`/`errorDetails`, or what the body was instead."""
    content_type = response.headers.get("Content-Type", "")
    try:
        body = json.loads(response.content)
    except ValueError:
        kind = content_type.split(";")[0].strip() or "unknown type"
        return f"non-JSON body ({kind}, {len(response.content)} bytes)"
    if not isinstance(body, dict):
        return "unexpected JSON body"
    parts = []
    if body.get("errorCode") is not None:
        parts.append(f"NetBackup error {body['errorCode']}")
    if body.get("errorMessage"):
        parts.append(str(body["errorMessage"]))
    details = body.get("errorDetails")
    if isinstance(details, list) and details:
        parts.append("; ".join(str(item) for item in details))
    return _one_line(": ".join(parts)) if parts else "no NetBackup error details"


def error_for_response(method: str, path: str, response: requests.Response) -> ApiError:
    status = response.status_code
    message = f"{method} {path}: HTTP {status}: {describe_error_body(response)}"
    if status in (401, 403):
        return AuthError(
            message + " (check the API key or user and its NetBackup RBAC permissions)", status
        )
    if status in RETRYABLE_STATUS:
        return ApiUnavailable(message, status)
    return ApiError(message, status)


def describe_transport_error(exc: requests.RequestException) -> str:
    """A short reason without the long urllib3 chain (which repeats the URL many times)."""
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS verification failed (set NBU_CA_BUNDLE to the NetBackup CA certificate)"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "read timeout"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "connection broken mid-response"
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return "the response body could not be decoded (invalid compression)"
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc)
        for marker in ("Connection refused", "Name or service not known", "reset by peer",
                       "Temporary failure in name resolution", "RemoteDisconnected",
                       "No route to host"):
            if marker in text:
                return "connection failed: " + marker
        return "connection failed"
    return type(exc).__name__
