"""Corrections to gotpl's Sprig port where it departs from Go Sprig 3.2.3 / Go's runtime.

Go's argument typing (int vs int64, maps, strings), byte-indexed string functions and
goutils quirks; time handling lives in go_time.py, URLs in go_url.py.

Each entry here was found by the differential tests against Go's own engine
(tests/templating/test_differential.py) and is listed in docs/fidelity/templating.md.
"""

from __future__ import annotations

import codecs
import unicodedata
from collections.abc import Callable
from functools import wraps
from typing import Any

from goduration.go import Duration


def _go_is_space(character: str) -> bool:
    # unicode.IsSpace: '\t', '\n', '\v', '\f', '\r', ' ', U+0085, U+00A0 and category Zs.
    return character in "\t\n\v\f\r \x85\xa0" or unicodedata.category(character) == "Zs"


def nospace(text: str) -> str:
    """Sprig `nospace` as goutils.DeleteWhiteSpace really behaves.

    It walks the UTF-8 bytes, keeps each non-space byte as the rune of the same number
    (mangling non-ASCII text, and dropping 0x85/0xA0 continuation bytes), but returns the
    input untouched when it removed nothing. gotpl lacks that last rule.
    """
    if not isinstance(text, str):
        raise TypeError(f"wrong type for value; expected string; got {type(text).__name__}")
    raw = text.encode()
    kept = [byte for byte in raw if not _go_is_space(chr(byte))]
    if len(kept) == len(raw):
        return text
    return "".join(chr(byte) for byte in kept)


def _require_maps(name: str, values: tuple[Any, ...]) -> None:
    for value in values:
        if not isinstance(value, dict):
            raise TypeError(f"{name}: wrong type for value; expected map[string]interface {{}}")


def map_arguments(name: str, function: Callable[..., Any], positions: slice) -> Callable[..., Any]:
    """Wrap `function` so the arguments at `positions` must be maps, as Go's reflection demands.

    gotpl passes any value through; Go refuses a string where Sprig declares
    map[string]interface{} (e.g. `keys "x"`, `hasKey "" ""`), which drops the claim.
    """

    @wraps(function)
    def wrapper(*args: Any) -> Any:
        _require_maps(name, args[positions])
        return function(*args)

    return wrapper


def dig_with_string_keys(function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap Sprig `dig` so its keys must be strings (Go asserts `.(string)` and panics otherwise)."""

    @wraps(function)
    def wrapper(*args: Any) -> Any:
        if not all(isinstance(key, str) for key in args[:-2]):
            raise TypeError("dig: interface conversion: key is not string")
        return function(*args)

    return wrapper


def slice_returning_go_nil(function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap Sprig `slice`/`mustSlice`: an empty list gives Go's untyped nil, and nil is refused.

    Sprig returns `nil` (not an empty slice) for an empty list, which prints `<no value>`;
    slicing that nil again makes reflect panic (an error).
    """

    @wraps(function)
    def wrapper(value: Any, *indices: Any) -> Any:
        if value is None:
            raise TypeError("slice: runtime error: invalid memory address or nil pointer dereference")
        if isinstance(value, list | tuple) and not value:
            return None
        return function(value, *indices)

    return wrapper


# Sprig functions whose parameters are declared map[string]interface{}: name -> which arguments.
MAP_PARAMETERS: dict[str, slice] = {
    "keys": slice(0, None),
    "values": slice(0, 1),
    "hasKey": slice(0, 1),
    "get": slice(0, 1),
    "set": slice(0, 1),
    "unset": slice(0, 1),
    "pick": slice(0, 1),
    "omit": slice(0, 1),
    "pluck": slice(1, None),
    "merge": slice(0, None),
    "mergeOverwrite": slice(0, None),
    "mustMerge": slice(0, None),
    "mustMergeOverwrite": slice(0, None),
    "dig": slice(-1, None),
}


class GoInt64(int):
    """An int that Go would hold as int64 (Sprig's arithmetic results), not as int.

    Go's reflection refuses an int64 where a function declares `int` (`add1 1 | until` fails
    with "expected int; got int64"), and Sprig's `duration`/`date` treat the two differently.
    """


def returning_int64(function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a Sprig function declared to return int64 so its result is tagged as such."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        return GoInt64(result) if isinstance(result, int) and not isinstance(result, bool) else result

    return wrapper


def int_arguments(name: str, function: Callable[..., Any], positions: slice) -> Callable[..., Any]:
    """Wrap `function` so the arguments at `positions` must be Go `int`s, not int64 or float64."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for value in args[positions]:
            if isinstance(value, GoInt64):
                raise TypeError(f"{name}: wrong type for value; expected int; got int64")
            if isinstance(value, float):
                raise TypeError(f"{name}: wrong type for value; expected int; got float64")
        return function(*args, **kwargs)

    return wrapper


def duration(value: Any) -> str:
    """Sprig `duration`: seconds from a string or an int64; any other value (even int) is 0s."""
    seconds = 0
    if isinstance(value, GoInt64):
        seconds = int(value)
    elif isinstance(value, str):
        try:
            seconds = int(value, 10)
        except ValueError:
            seconds = 0
        if not -(1 << 63) <= seconds < (1 << 63):
            seconds = 0
    nanoseconds = seconds * 1_000_000_000
    # time.Duration(n) * time.Second wraps around in int64 arithmetic.
    nanoseconds = (nanoseconds + (1 << 63)) % (1 << 64) - (1 << 63)
    return str(Duration(nanoseconds))


# Sprig functions declared to return int64.
INT64_RESULTS = ("add", "add1", "sub", "mul", "div", "mod", "max", "min", "biggest", "int64", "toDecimal")

# Sprig functions with parameters declared `int`: name -> which arguments.
INT_PARAMETERS: dict[str, slice] = {
    "until": slice(0, 1),
    "untilStep": slice(0, 3),
    "repeat": slice(0, 1),
    "substr": slice(0, 2),
    "trunc": slice(0, 1),
    "abbrev": slice(0, 1),
    "abbrevboth": slice(0, 2),
    "indent": slice(0, 1),
    "nindent": slice(0, 1),
    "wrap": slice(0, 1),
    "wrapWith": slice(0, 1),
    "randAlphaNum": slice(0, 1),
    "randAlpha": slice(0, 1),
    "randAscii": slice(0, 1),
    "randNumeric": slice(0, 1),
    "plural": slice(2, 3),
    "chunk": slice(0, 1),
    "mustChunk": slice(0, 1),
    "splitn": slice(1, 2),
    "seq": slice(0, None),
    "randInt": slice(0, 2),
    "round": slice(1, 2),
}


def go_decode(raw: bytes) -> str:
    """Bytes as Go text: each byte of an invalid UTF-8 sequence becomes one U+FFFD.

    Go slices strings by byte; when such text reaches JSON every invalid byte is replaced
    separately, where Python's "replace" merges a broken sequence into one U+FFFD.
    """
    return raw.decode("utf-8", errors="go-replace")


def _replace_each_byte(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    return "\ufffd" * (error.end - error.start), error.end


codecs.register_error("go-replace", _replace_each_byte)


def _go_slice(raw: bytes, low: int, high: int) -> bytes:
    if not 0 <= low <= high <= len(raw):
        raise IndexError(f"slice bounds out of range [{low}:{high}] with length {len(raw)}")
    return raw[low:high]


def substr(start: int, end: int, text: str) -> str:
    """Sprig `substr`, byte-indexed as in Go (a bad range is Go's slice panic: an error)."""
    raw = text.encode()
    if start < 0:
        return go_decode(_go_slice(raw, 0, end))
    if end < 0 or end > len(raw):
        return go_decode(_go_slice(raw, start, len(raw)))
    return go_decode(_go_slice(raw, start, end))


def trunc(count: int, text: str) -> str:
    """Sprig `trunc`, byte-indexed as in Go."""
    raw = text.encode()
    if count < 0 and len(raw) + count > 0:
        return go_decode(raw[len(raw) + count :])
    if count >= 0 and len(raw) > count:
        return go_decode(raw[:count])
    return text


def _abbreviate_full(raw: bytes, offset: int, width: int) -> bytes:
    # goutils.AbbreviateFull on bytes; the argument checks of Sprig's wrappers come first.
    if not raw or len(raw) <= width:
        return raw
    offset = min(offset, len(raw))
    if len(raw) - offset < width - 3:
        offset = len(raw) - (width - 3)
    if offset <= 4:
        return raw[: width - 3] + b"..."
    if width < 7:
        return b""
    if offset + width - 3 < len(raw):
        return b"..." + _abbreviate_full(raw[offset:], 0, width - 3)
    return b"..." + raw[len(raw) - (width - 3) :]


def abbrev(width: int, text: str) -> str:
    """Sprig `abbrev`, byte-counted as in Go."""
    if width < 4:
        return text
    return go_decode(_abbreviate_full(text.encode(), 0, width))


def abbrevboth(left: int, right: int, text: str) -> str:
    """Sprig `abbrevboth`, byte-counted as in Go."""
    if right < 4 or (left > 0 and right < 7):
        return text
    return go_decode(_abbreviate_full(text.encode(), left, right))


BYTE_STRING_FUNCTIONS: dict[str, Callable[..., str]] = {
    "substr": substr,
    "trunc": trunc,
    "abbrev": abbrev,
    "abbrevboth": abbrevboth,
}
