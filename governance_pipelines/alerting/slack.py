"""Slack delivery over ``slack_sdk.WebClient``, returning outcomes instead of raising.

Alerts go through an outbox: a row is written first, then delivered, and retried later if
Slack or the network fails. For that to work the delivery call must turn every Slack or
network failure into *data* (:class:`DeliveryOutcome`) that says whether a retry can help,
when the earliest retry is allowed (Slack's ``Retry-After``), and what an operator should
do. slack-sdk's built-in retry handlers are disabled for the same reason: retries that
sleep inside a sensor tick hide failures and block the tick, so the outbox owns them.

Message formatting (:func:`format_alert`) lives in :mod:`governance_pipelines.alerting.messages`.
This module does not import dagster; the Dagster resource and sensors wrap it.
"""

from __future__ import annotations

import email.utils
import http.client
import logging
import math
import re
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

# Re-exported: the message formatting used to live here.
from governance_pipelines.alerting.messages import AlertKind, FormattedAlert, format_alert

__all__ = [
    "DEFAULT_BASE_URL",
    "AlertKind",
    "DeliveryOutcome",
    "FormattedAlert",
    "SlackSettings",
    "backoff_delay",
    "format_alert",
    "make_client",
    "post_message",
]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://slack.com/api/"

# ``ok: false`` error codes that a later retry can fix (Slack-side transient trouble).
_RETRYABLE_CODES = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
_AUTH_CODES = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")


@dataclass(frozen=True)
class SlackSettings:
    """Where and how to reach Slack.

    ``base_url`` exists so tests (and proxies) can point the client elsewhere; slack-sdk
    joins it with the method name by plain concatenation, so it must end with ``/``
    (:func:`make_client` adds a missing one). The token is kept out of ``repr`` so that
    settings can be logged without leaking it.
    """

    token: str | None = field(default=None, repr=False)
    base_url: str | None = DEFAULT_BASE_URL
    timeout_s: float = 10

    def __post_init__(self) -> None:
        if not (self.timeout_s > 0 and math.isfinite(self.timeout_s)):
            raise ValueError(
                f"timeout_s must be a positive number of seconds, got {self.timeout_s}"
            )
        if self.base_url is not None and not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {self.base_url!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, timeout_s: float = 10) -> SlackSettings:
        """Read ``SLACK_BOT_TOKEN`` and optional ``GOVERNANCE_SLACK_BASE_URL`` from a mapping.

        The mapping is passed in (usually ``os.environ``) so nothing is read at import time
        and tests need not patch the process environment.
        """
        return cls(
            token=environ.get("SLACK_BOT_TOKEN") or None,
            base_url=environ.get("GOVERNANCE_SLACK_BASE_URL") or DEFAULT_BASE_URL,
            timeout_s=timeout_s,
        )


@dataclass(frozen=True)
class DeliveryOutcome:
    """The result of one delivery attempt, as data for the outbox.

    ``retryable`` says whether trying the same message again later can succeed;
    ``retry_after_s`` is the earliest moment Slack allows that (from ``Retry-After``).
    ``error`` is written for an operator: what went wrong and what to do. ``code`` is the
    machine-readable cause (Slack's error code, ``http_<status>``, ``timeout`` or
    ``connection_error``) for metrics and tests.
    """

    delivered: bool
    retryable: bool
    retry_after_s: float | None = None
    error: str | None = None
    ts: str | None = None
    code: str | None = None


def make_client(settings: SlackSettings) -> WebClient:
    """Build a ``WebClient`` whose failures surface immediately.

    ``retry_handlers=[]`` disables slack-sdk's own connection-error and rate-limit retries
    (the outbox retries instead, with :func:`backoff_delay`).
    """
    base_url = settings.base_url or DEFAULT_BASE_URL
    if not base_url.endswith("/"):
        base_url += "/"
    # WebClient annotates timeout as int but hands it to urlopen, which takes a float.
    return WebClient(
        token=settings.token,
        base_url=base_url,
        timeout=settings.timeout_s,  # type: ignore[arg-type]
        retry_handlers=[],
    )


def post_message(
    client_or_settings: WebClient | SlackSettings,
    channel: str,
    text: str,
    blocks: Sequence[Mapping[str, Any]] | None = None,
) -> DeliveryOutcome:
    """Post one message with ``chat.postMessage`` and classify what happened.

    Never raises for Slack or network failures: those come back as a
    :class:`DeliveryOutcome` so the caller can store them. Raises ``ValueError`` for
    programmer errors (empty channel, neither text nor blocks). A ``WebClient`` passed in
    should have been built with ``retry_handlers=[]`` (see :func:`make_client`).
    """
    if not channel or not channel.strip():
        raise ValueError("channel must be a Slack channel name or ID, got an empty string")
    if not text and not blocks:
        raise ValueError("a Slack message needs text or blocks")
    if isinstance(client_or_settings, SlackSettings):
        if not client_or_settings.token:
            return DeliveryOutcome(
                delivered=False,
                retryable=False,
                error="no Slack token configured: set SLACK_BOT_TOKEN to a bot token (xoxb-...)",
                code="not_authed",
            )
        client = make_client(client_or_settings)
    else:
        client = client_or_settings

    try:
        response = client.chat_postMessage(
            channel=channel, text=text, blocks=[dict(block) for block in blocks] if blocks else None
        )
    except SlackApiError as exc:
        outcome = _classify_api_error(exc, channel)
    except (OSError, http.client.HTTPException) as exc:
        outcome = _classify_transport_error(exc, client.base_url)
    else:
        return DeliveryOutcome(
            delivered=True, retryable=False, ts=response.get("ts"), code=None, error=None
        )
    log.info("Slack delivery to %s failed: %s", channel, outcome.error)
    return outcome


def backoff_delay(
    attempt: int,
    retry_after_s: float | None,
    *,
    base_s: float = 30,
    cap_s: float = 3600,
) -> float:
    """Seconds to wait before retrying after failed attempt number ``attempt`` (1-based).

    Exponential (``base_s * 2**(attempt-1)``) so a long outage does not hammer Slack,
    capped at ``cap_s`` so alerts still arrive within the hour once Slack recovers. Never
    sooner than Slack's ``Retry-After``: retrying earlier only earns another 429. Hence the
    result exceeds ``cap_s`` only when ``Retry-After`` itself does. Deterministic (no
    jitter): the outbox retries a handful of rows, not a thundering herd.
    """
    if attempt < 1:
        raise ValueError(f"attempt is 1-based, got {attempt}")
    if not (0 < base_s <= cap_s) or not math.isfinite(cap_s):
        raise ValueError(f"need 0 < base_s <= cap_s < inf, got base_s={base_s}, cap_s={cap_s}")
    if retry_after_s is not None and not math.isfinite(retry_after_s):
        raise ValueError(f"retry_after_s must be finite, got {retry_after_s}")
    # Clamp the exponent: 2**62 * base_s is already far beyond any sensible cap.
    delay = min(cap_s, base_s * 2.0 ** min(attempt - 1, 62))
    if retry_after_s is not None:
        delay = max(delay, retry_after_s)
    return delay


def _classify_api_error(exc: SlackApiError, channel: str) -> DeliveryOutcome:
    """Map a non-OK Slack answer (HTTP status + ``error`` code) to an outcome."""
    response = exc.response
    status = getattr(response, "status_code", None) or 0
    data = getattr(response, "data", None)
    code = data.get("error") if isinstance(data, dict) else None
    headers = getattr(response, "headers", None) or {}

    if status == 429 or code == "ratelimited":
        retry_after = _retry_after_seconds(headers)
        when = f"retry after {retry_after:g} s" if retry_after is not None else "retry later"
        return DeliveryOutcome(
            delivered=False,
            retryable=True,
            retry_after_s=retry_after,
            error=f"Slack rate-limited this app (HTTP {status}): {when}",
            code="ratelimited",
        )
    if status >= 500:
        return DeliveryOutcome(
            delivered=False,
            retryable=True,
            error=f"Slack answered HTTP {status}: a server-side problem, will retry",
            code=f"http_{status}",
        )
    if code in _RETRYABLE_CODES:
        return DeliveryOutcome(
            delivered=False,
            retryable=True,
            error=f"Slack reported a transient error ({code}): will retry",
            code=code,
        )
    if status != 200 and (code is None or code.startswith("Received a response")):
        # slack-sdk puts a non-JSON body's text into ``error``; a 404 page usually means
        # base_url points at something that is not Slack's Web API.
        return DeliveryOutcome(
            delivered=False,
            retryable=False,
            error=f"Slack answered HTTP {status}: check the Slack base_url (it must end in /api/)",
            code=f"http_{status}",
        )
    code = code or "unknown_error"
    return DeliveryOutcome(
        delivered=False, retryable=False, error=_explain(code, channel), code=code
    )


def _explain(code: str, channel: str) -> str:
    """An operator-facing sentence for a permanent Slack error code."""
    where = _channel_label(channel)
    if code in _AUTH_CODES:
        return f"the Slack token was rejected ({code}): set SLACK_BOT_TOKEN to a valid bot token"
    if code in {"missing_scope", "no_permission", "restricted_action"}:
        return f"the Slack app lacks permission ({code}): add the chat:write scope and reinstall the app"
    if code in {"channel_not_found", "not_in_channel"}:
        return f"Slack cannot post to {where} ({code}): check the channel name and invite the bot to {where}"
    if code == "is_archived":
        return f"{where} is archived: unarchive it or configure another channel"
    if code in {
        "msg_too_long",
        "no_text",
        "invalid_blocks",
        "invalid_arguments",
        "too_many_attachments",
    }:
        return f"Slack rejected the message content ({code}): this is a bug in the alert formatting"
    return f"Slack rejected the message ({code}): see https://api.slack.com/methods/chat.postMessage#errors"


def _classify_transport_error(
    exc: OSError | http.client.HTTPException, base_url: str
) -> DeliveryOutcome:
    """Map a network-level failure (no usable HTTP answer) to an outcome."""
    reason = exc.reason if isinstance(exc, URLError) else exc
    if isinstance(reason, ssl.SSLCertVerificationError):
        return DeliveryOutcome(
            delivered=False,
            retryable=False,
            error=f"TLS certificate verification failed for {base_url}: fix the CA bundle or base_url",
            code="tls_error",
        )
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return DeliveryOutcome(
            delivered=False,
            retryable=True,
            error=f"Slack did not answer in time ({base_url}): will retry; the message may have been posted",
            code="timeout",
        )
    return DeliveryOutcome(
        delivered=False,
        retryable=True,
        error=f"could not reach Slack at {base_url} ({type(reason).__name__}: {reason}): will retry",
        code="connection_error",
    )


def _retry_after_seconds(headers: Mapping[str, Any]) -> float | None:
    """Parse ``Retry-After`` (delta-seconds or HTTP date), case-insensitively."""
    raw = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if isinstance(raw, list | tuple):
        raw = raw[0] if raw else None
    if raw is None:
        return None
    raw = str(raw).strip()
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _channel_label(channel: str) -> str:
    if channel.startswith("#") or _CHANNEL_ID.match(channel):
        return channel
    return f"#{channel}"
