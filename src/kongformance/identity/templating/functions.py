"""The function map of Kong Identity claim templates: Kong's Sprig allow-list, nothing else.

https://developer.konghq.com/identity/auth-servers/#supported-functions lists the Sprig functions a claim template may call; any other name is
a parse error (Go's `function "x" not defined`), which drops the claim (C.6). Implementations
come from gotpl's Sprig port, with `now` bound to the render's virtual time and `date`
formatting in UTC, plus Kong's own `uuidParse`/`uuidValidate` (not Sprig).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

from gotpl.funcs.sprig import text_func_map

from kongformance.identity.templating import go_compat, go_time, go_url

# https://developer.konghq.com/identity/auth-servers/#supported-functions, verbatim (Sprig names; uuidParse/uuidValidate are Kong additions).
_ALLOW_LIST = """
    ago date dateInZone dateModify duration durationRound htmlDate htmlDateInZone
    mustDateModify mustToDate now toDate unixEpoch
    abbrev abbrevboth trunc trim upper lower title untitle substr repeat trimAll
    trimSuffix trimPrefix nospace initials randAlphaNum randAlpha randAscii randNumeric swapcase
    shuffle snakecase camelcase kebabcase wrap wrapWith contains hasPrefix hasSuffix quote squote cat
    indent nindent replace plural sha1sum sha256sum adler32sum toString atoi int64 int float64 seq
    toDecimal split splitList splitn toStrings until untilStep join sortAlpha
    add1 add sub div mod mul randInt add1f addf subf divf mulf biggest max min maxf minf
    ceil floor round
    default empty coalesce all any compact mustCompact fromJson toJson toPrettyJson
    toRawJson mustFromJson mustToJson mustToPrettyJson mustToRawJson ternary deepCopy mustDeepCopy
    base dir clean ext isAbs b64enc b64dec b32enc b32dec
    tuple list dict get set unset hasKey pluck keys pick omit merge mergeOverwrite
    mustMerge mustMergeOverwrite values append mustAppend prepend mustPrepend first mustFirst rest
    mustRest last mustLast initial mustInitial reverse mustReverse uniq mustUniq without mustWithout
    has mustHas slice mustSlice concat dig chunk mustChunk
    uuidv4 uuidParse uuidValidate urlParse urlJoin
"""
ALLOWED_FUNCTIONS: frozenset[str] = frozenset(_ALLOW_LIST.split())

_render_now: ContextVar[datetime] = ContextVar("kongformance_template_now")
_python_case: ContextVar[bool] = ContextVar("kongformance_python_case", default=False)


@contextmanager
def python_case_mapping() -> Iterator[None]:
    """Meanwhile ``upper``/``lower`` use Python's full case mapping (the defect
    ``template_case_mapping_full_unicode``); Go's strings.ToUpper/ToLower map rune by rune."""
    token = _python_case.set(True)
    try:
        yield
    finally:
        _python_case.reset(token)


def _case_switch(go: Callable[..., Any], python: Callable[[str], str]) -> Callable[..., Any]:
    def convert(text: Any) -> Any:
        return python(text) if _python_case.get() and isinstance(text, str) else go(text)

    return convert


@contextmanager
def rendering_at(now: float) -> Iterator[None]:
    """Make Sprig's `now` return `now` (Unix seconds, the virtual clock's time) meanwhile."""
    instant = go_time.as_go_datetime(
        datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=round(now * 1_000_000))
    )
    token = _render_now.set(instant)
    try:
        yield
    finally:
        _render_now.reset(token)


def _virtual_now() -> datetime:
    try:
        return _render_now.get()
    except LookupError as missing:
        raise RuntimeError("claim templates render only inside rendering_at(now)") from missing


def uuid_parse(text: str) -> str:
    """Kong's `uuidParse`: the canonical form of a UUID, an error when `text` is not one."""
    return str(uuid.UUID(text))


def uuid_validate(text: str) -> bool:
    """Kong's `uuidValidate`: whether `text` parses as a UUID."""
    try:
        uuid.UUID(text)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


def build_function_map() -> dict[str, Callable[..., Any]]:
    """The allow-listed functions, ready for gotpl (built once; `now` is read per render)."""
    sprig = text_func_map(clock=_virtual_now)
    functions: dict[str, Callable[..., Any]] = {
        name: sprig[name] for name in ALLOWED_FUNCTIONS if name in sprig
    }
    # Sprig reads time.Local in these; Kong's servers are taken to run in UTC.
    functions.update(go_time.date_functions(_virtual_now))
    functions.update(go_time.TIME_FUNCTIONS)
    functions["now"] = _virtual_now
    functions["uuidParse"] = uuid_parse
    functions["nospace"] = go_compat.nospace
    functions.update(go_compat.BYTE_STRING_FUNCTIONS)
    for name, positions in go_compat.MAP_PARAMETERS.items():
        functions[name] = go_compat.map_arguments(name, functions[name], positions)
    functions["duration"] = go_compat.duration
    functions["dig"] = go_compat.dig_with_string_keys(functions["dig"])
    for name in ("slice", "mustSlice"):
        functions[name] = go_compat.slice_returning_go_nil(functions[name])
    functions["urlParse"] = go_url.url_parse
    functions["urlJoin"] = go_url.url_join
    for name, positions in go_compat.INT_PARAMETERS.items():
        functions[name] = go_compat.int_arguments(name, functions[name], positions)
    for name in go_compat.INT64_RESULTS:
        functions[name] = go_compat.returning_int64(functions[name])
    for name in go_time.JSON_ENCODERS:
        functions[name] = go_time.encoding_times_as_go(functions[name])
    functions["uuidValidate"] = uuid_validate
    functions["upper"] = _case_switch(functions["upper"], str.upper)
    functions["lower"] = _case_switch(functions["lower"], str.lower)
    missing = ALLOWED_FUNCTIONS - functions.keys()
    if missing:
        raise RuntimeError(f"allow-listed template functions without an implementation: {sorted(missing)}")
    return functions
