"""Kong Identity's dynamic claim templating (https://developer.konghq.com/identity/auth-servers/).

`render_claim` renders one `${ ... }` template (Go text/template semantics, the Sprig
allow-list, `missingkey=error`) against the `.AuthServer`/`.Client` context and types the
text as JSON; `render_claims` does it for many and omits the claims whose template fails.
The same functions serve token issuance and the test-claim endpoint.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from kongformance.identity.templating.engine import TemplateFailure, render_text
from kongformance.identity.templating.functions import ALLOWED_FUNCTIONS
from kongformance.identity.templating.json_typing import type_rendered_text

__all__ = [
    "ALLOWED_FUNCTIONS",
    "TemplateFailure",
    "render_claim",
    "render_claims",
    "render_text",
    "type_rendered_text",
]


# Sprig functions that change the map they are given; a claim using one renders against a copy,
# so it cannot change the context other claims see (or the caller's data).
_MUTATING_FUNCTIONS = re.compile(r"\b(?:set|unset|merge|mergeOverwrite|mustMerge|mustMergeOverwrite)\b")


def render_claim(template: str, context: Mapping[str, Any], *, now: float) -> tuple[bool, Any]:
    """(True, typed value) when `template` renders, else (False, None): the claim is dropped."""
    if not isinstance(template, str):
        return False, None
    if _MUTATING_FUNCTIONS.search(template):
        context = copy.deepcopy(context)
    try:
        text = render_text(template, context, now=now)
    except TemplateFailure:
        return False, None
    return True, type_rendered_text(text)


def render_claims(templates: Mapping[str, str], context: Mapping[str, Any], *, now: float) -> dict[str, Any]:
    """Each claim name mapped to its typed value; claims whose template fails are omitted (C.6)."""
    rendered: dict[str, Any] = {}
    for name, template in templates.items():
        ok, value = render_claim(template, context, now=now)
        if ok:
            rendered[name] = value
    return rendered
