"""Parsing and executing claim templates with Go text/template semantics (via gotpl).

Delimiters are `${` and `}` (https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates), a missing map key is an error
(`missingkey=error`, C.6), and only the allow-listed functions exist (C.4). Parsed templates
are cached by their text, since rendering sits on the token-issuance hot path.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from gotpl import ExecutionBudget, Template, TemplateError

from kongformance.identity.templating.functions import build_function_map, rendering_at

DELIMITERS = ("${", "}")
TEMPLATE_CACHE_SIZE = 1024
# Guard against templates that would render without bound (e.g. `repeat` in a loop); Kong's
# own limit is undocumented, a claim this large is treated as a failed render.
MAX_RENDERED_CHARS = 1_000_000
_BUDGET = ExecutionBudget(
    max_output_chars=MAX_RENDERED_CHARS,
    max_iterations=100_000,
    max_template_depth=100,
    max_function_calls=10_000,
)
_FUNCTIONS = build_function_map()


class TemplateFailure(Exception):
    """A claim template that does not parse or does not execute; the claim is dropped."""


@lru_cache(maxsize=TEMPLATE_CACHE_SIZE)
def _compiled(source: str) -> Template | TemplateFailure:
    try:
        return Template(
            source,
            name="claim",
            delimiters=DELIMITERS,
            functions=_FUNCTIONS,
            missing_key="error",
            budget=_BUDGET,
        )
    except (TemplateError, ValueError, RecursionError) as error:
        return TemplateFailure(f"parse: {error}")


def compile_template(source: str) -> Template:
    """The parsed template for `source` (cached); raises TemplateFailure on a parse error."""
    compiled = _compiled(source)
    if isinstance(compiled, TemplateFailure):
        raise compiled
    return compiled


def render_text(source: str, context: Mapping[str, Any], *, now: float) -> str:
    """The raw text `source` renders to against `context` at virtual time `now` (Unix seconds).

    Raises TemplateFailure for parse errors, execution errors (missing keys, function
    errors, unknown functions) and anything else the template makes go wrong.
    """
    if DELIMITERS[0] not in source:
        return source
    template = compile_template(source)
    with rendering_at(now):
        try:
            return template.render(context)
        except Exception as error:  # any failure of one template only drops its claim (C.6)
            raise TemplateFailure(f"execute: {error}") from error
