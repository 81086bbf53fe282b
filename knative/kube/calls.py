"""The Kubernetes API client and every call through it: bounded in time, failures retried.

Each attempt of a call has ``--request-timeout`` (default 10 s) for its whole answer: the socket
timeout bounds each read, and ``deadline`` cuts the connection when the whole answer has not come
in time (a proxy that answers a byte at a time never trips a per-read timeout). urllib3's own
retries are off (``connect`` turns them off), so this is the one retry policy: an answer 429, 500,
502, 503 or 504, a refused or reset connection, or no answer in time is tried again after 1 s
and after 2 s more, on the command's clock: 3 attempts, at most 3 x timeout + 3 s per call.
An answer that is not the API's JSON (a proxy's HTML login page) is one line naming what came.
Reads are always safe to repeat, and so is every write the tool makes: each carries a
``resourceVersion`` or creates by name, so a repeat of a write that did land answers 409, and
the caller re-reads to see what the API holds.
"""

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from kubernetes import client, config
from kubernetes.client import rest
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from urllib3.exceptions import HTTPError, NewConnectionError
from urllib3.exceptions import TimeoutError as NoAnswerInTime

from knative.deadline import deadline, track
from knative.errors import RolloutError

REQUEST_TIMEOUT = 10.0
BACKOFF = (1.0, 2.0)  # the pauses before the second and the third attempt
TRANSIENT = {429, 500, 502, 503, 504}


def connect(kubeconfig: str | None, context: str | None) -> client.ApiClient:
    """An API client from ``--kubeconfig``/``KUBECONFIG``/~/.kube/config, else in-cluster."""
    configuration = client.Configuration()
    kubeconfig = kubeconfig or os.environ.get("KUBECONFIG")
    from_file = kubeconfig or context or os.path.exists(os.path.expanduser("~/.kube/config"))
    try:
        if from_file:
            config.load_kube_config(kubeconfig, context, client_configuration=configuration)
        else:
            config.load_incluster_config(client_configuration=configuration)
    except (ConfigException, OSError) as exc:
        where = "from the kubeconfig" if from_file else "in-cluster (no kubeconfig found)"
        raise RolloutError(f"cannot load the Kubernetes configuration {where}: {exc}") from None
    configuration.retries = False  # retries are ``Calls``' job, on the command's clock
    api_client = client.ApiClient(configuration)
    api_client.rest_client = _JsonAnswers(configuration)
    return api_client


class NotTheApi(ApiException):
    """An answer that is not JSON: not the API server's (a proxy, a login page in between)."""


class _JsonAnswers(rest.RESTClientObject):
    """The client's HTTP layer with its connections known to ``deadline``, and an answer that is
    not JSON raised as ``NotTheApi`` (the client would hand its text on as the object read)."""

    def __init__(self, configuration: client.Configuration) -> None:
        super().__init__(configuration)
        track(self.pool_manager)

    def request(self, *args: Any, **kwargs: Any) -> rest.RESTResponse:
        answer = super().request(*args, **kwargs)
        kind = answer.headers.get("Content-Type") or ""
        if not rest.contenttype_matches(kind, "application", "json"):
            text = answer.read().decode("utf-8", "replace")
            raise NotTheApi(answer.status, answer.reason, answer.response, body=text)
        return answer


@dataclass(frozen=True)
class Calls:
    """Makes API calls with a timeout, retrying transient failures after ``backoff`` pauses."""

    clock: Any  # ``sleep`` is what the pauses run on
    timeout: float = REQUEST_TIMEOUT
    backoff: tuple[float, ...] = BACKOFF

    def once(self) -> "Calls":
        """The same calls without retries: for best-effort calls that must not linger."""
        return replace(self, backoff=())

    def __call__(
        self,
        doing: str,
        method: Callable[..., Any],
        *args: Any,
        none_on: int | None = None,
        **kwargs: Any,
    ) -> Any:
        """``method(*args, **kwargs)``; None when the API answers ``none_on``; else it stops."""
        attempts = len(self.backoff) + 1
        for attempt, pause in enumerate((*self.backoff, None), 1):
            try:
                with deadline(self.timeout):
                    return method(*args, _request_timeout=self.timeout, **kwargs)
            except ValueError as exc:  # JSON that does not parse, or not the object asked for
                what = type(exc).__name__
                raise RolloutError(
                    f"could not {doing}: the API server's answer is not the Kubernetes API's "
                    f"JSON ({what}: {_one_line(str(exc))})"
                ) from None
            except ApiException as exc:
                if exc.status == none_on and not isinstance(exc, NotTheApi):
                    return None
                if exc.status not in TRANSIENT or pause is None:
                    raise _api_error(exc, doing, attempt) from None
                problem = f"the API answered {exc.status} {exc.reason}"
            except HTTPError as exc:  # urllib3: no connection, a broken one, or no answer in time
                if pause is None:
                    raise RolloutError(
                        f"could not {doing}: the API server did not answer "
                        f"({_no_answer(exc, self.timeout)}; {attempts} attempts)"
                    ) from None
                problem = _no_answer(exc, self.timeout)
            print(f"{doing}: {problem}; trying again in {pause:g} s", file=sys.stderr)
            self.clock.sleep(pause)


def _no_answer(exc: HTTPError, timeout: float) -> str:
    """Why urllib3 got no answer, in a few words."""
    if isinstance(exc, NewConnectionError):  # a subclass of the timeout error, for history
        return f"cannot connect: {_os_error(exc)}"
    if isinstance(exc, NoAnswerInTime):
        return f"no answer within {timeout:g} s"  # a read's timeout or the whole call's deadline
    return f"connection broken: {_os_error(exc)}"


def _os_error(exc: HTTPError) -> str:
    found = next((e for e in (exc.__cause__, *exc.args) if isinstance(e, OSError)), None)
    return (found.strerror or str(found)) if found else str(exc)


def _api_error(exc: ApiException, doing: str, attempts: int) -> RolloutError:
    """An API error in an operator's words, with the API server's own message, on one line."""
    tries = f" ({attempts} attempts)" if attempts > 1 else ""
    if isinstance(exc, NotTheApi):
        kind = (exc.headers or {}).get("Content-Type") or "no content type"
        return RolloutError(
            f"could not {doing}: the API server answered HTTP {exc.status} {exc.reason} with "
            f"{kind}, not the Kubernetes API (a proxy or its login page in between?){tries}: "
            f"{_one_line(exc.body or '')[:120]!r}"
        )
    try:
        message = json.loads(exc.body)["message"]  # Knative's may span lines: a diff
    except (TypeError, ValueError, KeyError):
        message = _one_line(exc.body or exc.reason or "")
    return RolloutError(
        f"could not {doing}: the API answered {exc.status} {exc.reason}{tries}: {message}"
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())
