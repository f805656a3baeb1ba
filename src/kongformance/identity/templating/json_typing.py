"""JSON typing of rendered claim text (https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates).

Kong Identity is written in Go; the rendered text is taken to go through
`json.Unmarshal(text, &v)` with `v interface{}`: valid JSON becomes that value, anything else
stays the string. Go decodes every number as float64, so numbers follow float64 (big integers
lose precision; `1e3` is the integer 1000 once re-encoded). Python's json module is stricter
or looser than Go's in a few places, corrected here: NaN/Infinity are not JSON.
"""

from __future__ import annotations

import json
from typing import Any

# Go's encoding/json writes float64 values in [1e-6, 1e21) without an exponent, so an integral
# float64 below 1e21 appears in the token as an integer.
_GO_PLAIN_FLOAT_LIMIT = 1e21


class _NotJson(ValueError):
    """Raised for the constants Python accepts but Go's decoder rejects."""


def _go_number(literal: str) -> int | float:
    value = float(literal)
    if (
        value.is_integer()
        and abs(value) < _GO_PLAIN_FLOAT_LIMIT
        and not (value == 0 and literal.lstrip().startswith("-"))
    ):
        return int(value)
    return value


def _reject_constant(name: str) -> Any:
    raise _NotJson(name)


_DECODER = json.JSONDecoder(parse_float=_go_number, parse_int=_go_number, parse_constant=_reject_constant)


_JSON_WHITESPACE = " \t\n\r"
_JSON_VALUE_STARTS = frozenset('{["-0123456789tfn')


def type_rendered_text(text: str) -> Any:
    """The claim value for rendered `text`: its JSON value when it is valid JSON, else `text`."""
    stripped = text.lstrip(_JSON_WHITESPACE)
    if not stripped or stripped[0] not in _JSON_VALUE_STARTS:
        return text  # cannot be JSON: skip the decoder's exception path (hot path)
    try:
        return _DECODER.decode(text)
    except (ValueError, RecursionError):
        return text
