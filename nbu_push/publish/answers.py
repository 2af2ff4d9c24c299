"""What an HTTP output's answer means, for the Pushgateway and remote write alike: the one
place that says which answers are retried, which fail, and what a redirect is."""

from __future__ import annotations

from collections.abc import Callable

import requests

from ..runtime.deadline import Deadline
from ..runtime.errors import PublishError, PublishUnavailable
from ..runtime.retry import Backoff, Retry, parse_retry_after, with_retries


def send_checked(request: Callable[[], requests.Response], where: str, setting: str,
                 backoff: Backoff, deadline: Deadline) -> None:
    """Send (`request` must not follow redirects) until a 2xx, retrying connection errors,
    5xx and 429 (`Retry-After` honoured) inside the deadline; any other answer is a
    PublishError naming `where`, and a redirect names `setting` to fix."""

    def attempt() -> None:
        try:
            response = request()
            reason = " ".join(response.text.split())[:300] or response.reason
        except requests.exceptions.SSLError:
            raise PublishError(f"{where}: TLS verification failed") from None
        except requests.exceptions.RequestException as exc:
            raise Retry(PublishUnavailable(f"{where}: {type(exc).__name__}")) from None
        status = response.status_code
        if status < 300:
            return
        if status < 400:  # a redirected PUT or POST may arrive without its body, and the
            # credential would go elsewhere: never followed
            raise PublishError(f"{where}: HTTP {status}: redirected to"
                               f" {response.headers.get('Location', '?')}; set {setting} to"
                               " the address that answers")
        error = f"{where}: HTTP {status}: {reason}"
        if status >= 500 or status == 429:
            raise Retry(PublishUnavailable(error),
                        parse_retry_after(response.headers.get("Retry-After")))
        raise PublishError(error)

    with_retries(attempt, backoff, deadline)
