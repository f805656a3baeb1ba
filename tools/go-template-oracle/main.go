// Command go-template-oracle renders Kong Identity claim templates with Go's own
// text/template and Masterminds Sprig, so the Python engine can be checked against it.
//
// Protocol: one JSON object per input line, {"template": string, "context": object,
// "now": number (Unix seconds, fractional allowed)}; one JSON object per output line,
// {"ok": bool, "output": string (raw rendered text when ok), "error": string}.
//
// The template is parsed with Delims("${", "}") and Option("missingkey=error"); the
// function map holds only the Sprig functions Kong Identity documents (kong-identity.md
// C.4) plus Kong's uuidParse/uuidValidate, and `now` returns the given time in UTC.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"text/template"
	"time"

	"github.com/Masterminds/sprig"
	"github.com/google/uuid"
)

// allowList is kong-identity.md C.4, verbatim.
const allowList = `ago date dateInZone dateModify duration durationRound htmlDate htmlDateInZone
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
uuidv4 urlParse urlJoin`

type request struct {
	Template string                 `json:"template"`
	Context  map[string]interface{} `json:"context"`
	Now      float64                `json:"now"`
}

type response struct {
	OK     bool   `json:"ok"`
	Output string `json:"output"`
	Error  string `json:"error,omitempty"`
}

func funcMap(now time.Time) template.FuncMap {
	sprigFuncs := sprig.TxtFuncMap()
	funcs := template.FuncMap{}
	for _, name := range strings.Fields(allowList) {
		if name == "now" {
			continue
		}
		fn, ok := sprigFuncs[name]
		if !ok {
			panic("allow-listed function missing from Sprig: " + name)
		}
		funcs[name] = fn
	}
	funcs["now"] = func() time.Time { return now }
	// Sprig's date helpers read time.Now() themselves for non-time arguments; give them the
	// render's now instead, so the oracle follows the same (virtual) instant as `now`.
	dateInZone := sprigFuncs["dateInZone"].(func(string, interface{}, string) string)
	atNow := func(d interface{}) interface{} {
		switch d.(type) {
		case time.Time, *time.Time, int64, int, int32:
			return d
		}
		return now
	}
	funcs["date"] = func(layout string, d interface{}) string { return dateInZone(layout, atNow(d), "Local") }
	funcs["dateInZone"] = func(layout string, d interface{}, zone string) string { return dateInZone(layout, atNow(d), zone) }
	funcs["htmlDate"] = func(d interface{}) string { return dateInZone("2006-01-02", atNow(d), "Local") }
	funcs["htmlDateInZone"] = func(d interface{}, zone string) string { return dateInZone("2006-01-02", atNow(d), zone) }
	funcs["ago"] = func(d interface{}) string {
		t := now
		switch d := d.(type) {
		case time.Time:
			t = d
		case int64:
			t = time.Unix(d, 0)
		case int:
			t = time.Unix(int64(d), 0)
		}
		return now.Sub(t).Round(time.Second).String()
	}
	durationRound := sprigFuncs["durationRound"].(func(interface{}) string)
	funcs["durationRound"] = func(d interface{}) string {
		if t, ok := d.(time.Time); ok {
			return durationRound(int64(now.Sub(t)))
		}
		return durationRound(d)
	}
	funcs["uuidParse"] = func(s string) (string, error) {
		u, err := uuid.Parse(s)
		if err != nil {
			return "", err
		}
		return u.String(), nil
	}
	funcs["uuidValidate"] = func(s string) bool {
		_, err := uuid.Parse(s)
		return err == nil
	}
	return funcs
}

func render(req request) (resp response) {
	defer func() {
		if r := recover(); r != nil {
			resp = response{OK: false, Error: fmt.Sprintf("panic: %v", r)}
		}
	}()
	sec, frac := math.Modf(req.Now)
	now := time.Unix(int64(sec), int64(math.Round(frac*1e6))*1000).UTC()
	tpl, err := template.New("claim").Delims("${", "}").Option("missingkey=error").Funcs(funcMap(now)).Parse(req.Template)
	if err != nil {
		return response{OK: false, Error: err.Error()}
	}
	var out bytes.Buffer
	if err := tpl.Execute(&out, req.Context); err != nil {
		return response{OK: false, Error: err.Error()}
	}
	return response{OK: true, Output: out.String()}
}

func main() {
	// Sprig's date functions format in time.Local; Kong's servers are taken to run in UTC.
	time.Local = time.UTC
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for in.Scan() {
		var req request
		dec := json.NewDecoder(bytes.NewReader(in.Bytes()))
		var resp response
		if err := dec.Decode(&req); err != nil {
			resp = response{OK: false, Error: "bad request line: " + err.Error()}
		} else {
			resp = render(req)
		}
		if err := enc.Encode(resp); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := out.Flush(); err != nil {
			os.Exit(1)
		}
	}
}
