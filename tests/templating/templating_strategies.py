"""Hypothesis strategies for claim templates and their `.AuthServer`/`.Client` context.

Templates are built from the pieces https://developer.konghq.com/identity/auth-servers/#dynamic-claim-templates-C.4 describe: literal text (with
braces, `$` and `{{ }}`), `${ }` actions with optional trim markers, dot-paths into the context
(including labels that do not exist), pipes, string/int/bool literals, parenthesised
sub-pipelines and the deterministic allow-listed functions, called with fitting or unfitting
arguments. Any string is a legal input for a differential test, so nothing here needs to be
well-formed; it only needs to reach the interesting parts of both engines often.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

LABEL_KEYS = ["env", "team", "groups", "tier", "région"]
NOW_VALUES = st.sampled_from([0.0, 1_767_323_045.0, 1_767_323_045.25, 951_782_400.5, 4_102_444_799.0])

# non-ASCII and mixed-script text where Go's rune-by-rune case mapping differs from full Unicode mapping
# (ß, ligatures, dotted/dotless i, final sigma, titlecase digraphs), issue 12
_CASE_TRAPS = "ßẞﬁﬀİıΣσςǅǄЖжΩ"
_text_alphabet = st.sampled_from(list("ab Z09-_,.:/é日😀{}$|\"'\\\n\t" + _CASE_TRAPS))
_small_text = st.text(_text_alphabet, max_size=12)
_label_value = st.one_of(
    st.text(st.sampled_from(list("abcXYZ019-_.,é日 " + _CASE_TRAPS)), min_size=1, max_size=10),
    st.sampled_from(["123", "true", "007", "1e3", "a,b,,c", "null"]),
)


def _server() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "ID": st.uuids().map(str),
            "CreatedAt": st.just("2026-01-02T03:04:05Z"),
            "UpdatedAt": st.just("2026-01-02T03:04:05Z"),
            "Name": _small_text,
            "Description": st.one_of(st.just(""), _small_text),
            "Audience": st.sampled_from(["http://myhttpbin.dev", "aud", "123", "true"]),
            "SigningAlgorithm": st.sampled_from(["RS256", "PS384", "RS512"]),
            "Labels": st.dictionaries(st.sampled_from(LABEL_KEYS), _label_value, max_size=3),
        }
    )


def _client() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "ID": st.text(st.sampled_from(list("abcdef0123456789")), min_size=1, max_size=16),
            "CreatedAt": st.just("2026-01-02T03:04:05Z"),
            "UpdatedAt": st.just("2026-01-02T03:04:05Z"),
            "Name": _small_text,
            "Labels": st.dictionaries(st.sampled_from(LABEL_KEYS), _label_value, max_size=3),
            "GrantTypes": st.lists(st.sampled_from(["client_credentials", "authorization_code"]), max_size=2),
            "RedirectURIs": st.lists(st.just("https://app.example/cb"), max_size=1),
            "LoginURI": st.sampled_from(["", "https://login.example"]),
            "ResponseTypes": st.lists(st.sampled_from(["code", "token"]), max_size=2),
            "AllowAllScopes": st.booleans(),
        }
    )


contexts = st.fixed_dictionaries({"AuthServer": _server(), "Client": _client()})

_FIELD_PATHS = [
    ".AuthServer.ID",
    ".AuthServer.Name",
    ".AuthServer.Description",
    ".AuthServer.Audience",
    ".AuthServer.SigningAlgorithm",
    ".Client.ID",
    ".Client.Name",
    ".Client.LoginURI",
    ".Client.GrantTypes",
    ".Client.ResponseTypes",
    ".Client.AllowAllScopes",
    ".Client.CreatedAt",
    ".Client.Nope",
    ".AuthServer.Labels",
]
field_paths = st.one_of(
    st.sampled_from(_FIELD_PATHS),
    st.builds(
        lambda who, key: f".{who}.Labels.{key}",
        st.sampled_from(["Client", "AuthServer"]),
        st.sampled_from(LABEL_KEYS[:4]),
    ),
)


def _go_string_literal(text: str) -> str:
    # JSON string syntax is a subset of Go's interpreted string literal syntax (\uXXXX aside,
    # which Go also accepts); ensure_ascii=False keeps unicode and braces as they are.
    return json.dumps(text, ensure_ascii=False)


string_literals = st.one_of(
    _small_text.map(_go_string_literal),
    st.sampled_from(
        [
            '","',
            '"}"',
            '"${"',
            '""',
            '"2006-01-02T15:04:05Z07:00"',
            '"Jan 2 15:04"',
            '"42"',
            '"a,b,,c"',
            '"straße ﬁnal İ ΣΑΣ ǅ Жж"',
        ]
    ),
    st.sampled_from(["`raw}`", "`x`"]),
)
int_literals = st.integers(min_value=-3, max_value=12).map(str)
literals = st.one_of(string_literals, int_literals, st.sampled_from(["true", "false", "1.5", "0x1F"]))

# name/minimum-maximum argument count; the last argument is what a pipe feeds in.
_SPRIG_CALLS = """
    upper/1-1 lower/1-1 trim/1-1 title/1-1 untitle/1-1 repeat/2-2 substr/3-3 replace/3-3 quote/0-3
    squote/0-3 cat/0-3 join/2-2 splitList/2-2 toJson/1-1 toRawJson/1-1 toPrettyJson/1-1 default/2-2
    coalesce/0-3 ternary/3-3 add/0-3 sub/2-2 mul/0-3 div/2-2 mod/2-2 max/1-3 min/1-3 add1/1-1
    b64enc/1-1 b64dec/1-1 b32enc/1-1 sha256sum/1-1 sha1sum/1-1 adler32sum/1-1 trunc/2-2 abbrev/2-2
    hasPrefix/2-2 hasSuffix/2-2 contains/2-2 list/0-3 dict/0-4 get/2-2 keys/1-2 sortAlpha/1-1
    toString/1-1 atoi/1-1 int64/1-1 int/1-1 empty/1-1 date/2-2 unixEpoch/1-1 now/0-0 trimPrefix/2-2
    trimSuffix/2-2 trimAll/2-2 nospace/1-1 initials/1-1 snakecase/1-1 camelcase/1-1 kebabcase/1-1
    swapcase/1-1 wrap/2-2 indent/2-2 nindent/2-2 plural/3-3 compact/1-1 first/1-1 last/1-1 rest/1-1
    initial/1-1 reverse/1-1 uniq/1-1 has/2-2 append/2-2 prepend/2-2 concat/0-3 split/2-2 until/1-1
    seq/1-3 base/1-1 dir/1-1 clean/1-1 ext/1-1 isAbs/1-1 uuidValidate/1-1 toStrings/1-1 all/0-3
    any/0-3 hasKey/2-2 float64/1-1 ceil/1-1 floor/1-1 urlJoin/1-1 fromJson/1-1 dateInZone/3-3
    dateModify/2-2 mustDateModify/2-2 toDate/2-2 mustToDate/2-2 ago/1-1 durationRound/1-1
    duration/1-1 htmlDate/1-1 htmlDateInZone/2-2 urlParse/1-1 mustFromJson/1-1 b32dec/1-1
    toDecimal/1-1 round/2-3 add1f/1-1 addf/1-3 subf/2-2 mulf/1-3 divf/2-2 maxf/1-3 minf/1-3
    biggest/1-3 pluck/2-3 pick/1-3 omit/1-3 dig/3-4 set/3-3 unset/2-2 merge/1-3 mergeOverwrite/1-3
    values/1-1 tuple/0-3 chunk/2-2 slice/1-3 without/2-3 mustFirst/1-1 mustLast/1-1 mustRest/1-1
    mustInitial/1-1 mustReverse/1-1 mustUniq/1-1 mustCompact/1-1 mustAppend/2-2 mustPrepend/2-2
    mustHas/2-2 mustWithout/2-3 mustSlice/1-3 mustChunk/2-2 deepCopy/1-1 mustDeepCopy/1-1
    mustToJson/1-1 abbrevboth/3-3 splitn/3-3 untilStep/3-3 wrapWith/3-3 uuidParse/1-1
"""
# Go text/template builtins (always present, not Sprig).
_BUILTIN_CALLS = """
    len/1-1 index/1-3 print/0-3 eq/2-3 ne/2-2 lt/2-2 and/1-3 or/1-3 not/1-1
"""
# Not allow-listed: both engines must refuse them.
_REFUSED_CALLS = """
    env/1-1 regexMatch/2-2 fail/1-1 semver/1-1
"""


def _arities(table: str) -> dict[str, tuple[int, int]]:
    arities = {}
    for entry in table.split():
        name, _, counts = entry.partition("/")
        low, _, high = counts.partition("-")
        arities[name] = (int(low), int(high))
    return arities


FUNCTIONS: dict[str, tuple[int, int]] = {
    **_arities(_SPRIG_CALLS),
    **_arities(_BUILTIN_CALLS),
    **_arities(_REFUSED_CALLS),
}

_INT_ARG_FUNCTIONS = {
    "repeat",
    "substr",
    "trunc",
    "abbrev",
    "indent",
    "nindent",
    "wrap",
    "until",
    "seq",
    "plural",
}


def _operand(depth: int) -> st.SearchStrategy[str]:
    leaves = st.one_of(
        field_paths, literals, st.sampled_from(["$", ".", "now", "list 1 2", '(list "b" "a")'])
    )
    if depth <= 0:
        return leaves
    return st.one_of(leaves, leaves, _pipeline(depth - 1).map(lambda p: f"({p})"))


@st.composite
def _command(draw: st.DrawFn, depth: int, piped: bool) -> str:
    if not piped and draw(st.integers(0, 4)) == 0:
        return draw(_operand(depth))
    name = draw(st.sampled_from(sorted(FUNCTIONS)))
    low, high = FUNCTIONS[name]
    count = draw(st.integers(low, high))
    if piped:
        count = max(count - 1, 0)
    if name in _INT_ARG_FUNCTIONS:
        args = [draw(st.one_of(st.integers(-2, 6).map(str), _operand(depth))) for _ in range(count)]
    else:
        args = [draw(_operand(depth)) for _ in range(count)]
    return " ".join([name, *args])


@st.composite
def _pipeline_composite(draw: st.DrawFn, depth: int) -> str:
    parts = [draw(_command(depth, piped=False))]
    for _ in range(draw(st.integers(0, 3))):
        parts.append(draw(_command(depth, piped=True)))
    return " | ".join(parts)


def _pipeline(depth: int) -> st.SearchStrategy[str]:
    return _pipeline_composite(depth)


@st.composite
def actions(draw: st.DrawFn) -> str:
    left = draw(st.sampled_from(["${", "${ ", "${- ", "${  "]))
    right = draw(st.sampled_from(["}", " }", " -}", "  }"]))
    return left + draw(_pipeline(1)) + right


@st.composite
def control_actions(draw: st.DrawFn) -> str:
    """if/else, range, with, variables and comments around generated pipelines (C.2: Go syntax)."""
    pipeline = draw(_pipeline(0))
    body = draw(st.sampled_from(["x", "${ . }", "${ $ }", "", "${ $v }"]))
    kind = draw(st.sampled_from(["if", "if-else", "range", "range-else", "with", "var", "comment"]))
    if kind == "if":
        return f"${{ if {pipeline} }}{body}${{ end }}"
    if kind == "if-else":
        return f"${{ if {pipeline} }}{body}${{ else }}n${{ end }}"
    if kind == "range":
        return f"${{ range $i, $v := {pipeline} }}{body}${{ end }}"
    if kind == "range-else":
        return f"${{ range {pipeline} }}{body}${{ else }}empty${{ end }}"
    if kind == "with":
        return f"${{ with $v := {pipeline} }}{body}${{ end }}"
    if kind == "var":
        return f"${{ $v := {pipeline} }}{body}"
    return f"${{/* {pipeline} */}}{body}"


literal_text = st.one_of(
    st.text(_text_alphabet, max_size=8),
    st.sampled_from(["{{ .Client.Name }}", "$", "{", "}", " - ", "${", "$}", "\\${"]),
)

templates = st.lists(
    st.one_of(actions(), actions(), control_actions(), literal_text), min_size=1, max_size=4
).map("".join)


# Pieces of URLs, valid and not, for urlParse/urlJoin (Go's net/url decides which parse).
# Percent-escapes of partial UTF-8 sequences are left out: see "invalid UTF-8" in the ledger.
url_texts = st.lists(
    st.sampled_from(
        [
            "http",
            "https",
            ":",
            "//",
            "/",
            "?",
            "#",
            "@",
            "[",
            "]",
            "::1",
            "h",
            "x.example",
            ":8",
            ":x",
            "%20",
            "%zz",
            "é",
            " ",
            "a",
            "+",
            "-",
            ".",
            "1",
            "%",
            "u:p",
            "\x7f",
            "=",
            "&",
            "日",
            "%25",
            "[fe80::1%25en0]",
            "*",
            "!",
            "(",
            '"',
            "<",
            "%41",
            "%07",
            "%2F",
            "@h",
            ";",
        ]
    ),
    max_size=8,
).map("".join)
