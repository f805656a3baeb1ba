"""The failure evidence of one test (report/evidence.py) as HTML for its failure card.

Every string goes through :func:`kongformance.report.render.text`'s rules (redaction, then escaping) again,
so evidence redacted when it was recorded is never trusted blindly.
"""

from __future__ import annotations

import html
import json
from typing import Any

from kongformance.report.redaction import redact


def _t(value: object) -> str:
    """Element text (never an attribute value): quotes stay as they are, which keeps JSON bodies short."""
    return html.escape(redact(str(value)), quote=False)


def _headers(headers: Any) -> str:
    if not isinstance(headers, dict) or not headers:
        return ""
    return "".join(f"{_t(k)}: {_t(v)}\n" for k, v in headers.items())


EARLIER_BODY = 400  # characters of a body shown for exchanges before the last (all of them: evidence.json)


def _cut(body: object, limit: int | None) -> str:
    value = str(body)
    if limit is None or len(value) <= limit:
        return _t(value)
    return _t(value[:limit]) + f" [... {len(value) - limit} more characters in evidence.json]"


def _exchange(doc: dict[str, Any], n: int, total: int, open_: bool) -> str:
    limit = None if open_ else EARLIER_BODY
    status = doc.get("status", "no answer")
    summary = (
        f"exchange {n} of {total}: {_t(doc.get('method', ''))} {_t(doc.get('url', ''))} &rarr; {_t(status)}"
    )
    request = f"{_t(doc.get('method', ''))} {_t(doc.get('url', ''))}\n{_headers(doc.get('request_headers'))}"
    if doc.get("request_body"):
        request += f"\n{_cut(doc['request_body'], limit)}"
    tokens = ""
    for token in doc.get("tokens") or []:
        if isinstance(token, dict):
            claims = json.dumps(token.get("claims"), indent=1, sort_keys=True)
            header = json.dumps(token.get("header"), sort_keys=True)
            tokens += (
                f"<h5>token {_t(token.get('token', ''))} (decoded, not verified)</h5>"
                f"<pre>header {_t(header)}\n{_t(claims)}</pre>"
            )
    if "error" in doc:
        response = _t(doc["error"])
    else:
        response = f"{_t(status)}\n{_headers(doc.get('response_headers'))}"
        if doc.get("response_body"):
            response += f"\n{_cut(doc['response_body'], limit)}"
    return (
        f"<details{' open' if open_ else ''}><summary>{summary}</summary>"
        f'<div class="exchange"><div><h5>request</h5><pre>{request}</pre>{tokens}</div>'
        f"<div><h5>response</h5><pre>{response}</pre></div></div></details>"
    )


def evidence_html(evidence: dict[str, Any] | None) -> str:
    """The evidence block of a failure card ('' without evidence)."""
    if not isinstance(evidence, dict):
        return ""
    parts = ['<div class="evidence">']
    if evidence.get("failure"):
        parts.append(
            f"<p><strong>Expected versus actual:</strong> <code>{_t(evidence['failure'])}</code></p>"
        )
    defects = evidence.get("defects") or []
    if defects:
        parts.append(
            f'<p class="banner amber">Emulator defects switched on for this run: {_t(", ".join(defects))}</p>'
        )
    exchanges = [x for x in evidence.get("exchanges") or [] if isinstance(x, dict)]
    for n, doc in enumerate(exchanges, 1):
        parts.append(_exchange(doc, n, len(exchanges), n == len(exchanges)))
    if not exchanges:
        parts.append('<p class="muted">No HTTP exchange was recorded for this test.</p>')
    parts.append("</div>")
    return "".join(parts)
