package sql

// How Go values are stored. The operations write one argument or scan
// destination for both dialects: the types below are database/sql
// Valuers and Scanners (what the SQLite driver calls), and the PostgreSQL
// dialect adapts them to pgx's interfaces (pgArgs, pgDests):
//
//	times   SQLite: INTEGER unix nanoseconds   PostgreSQL: timestamptz (microseconds)
//	lists   SQLite: a JSON array in TEXT       PostgreSQL: text[]
//	words   (scopes, amr) space-separated TEXT on both
//	resources (a grant's) one line of words per resource, TEXT on both
//	text maps (scope descriptions) SQLite: a JSON object in TEXT   PostgreSQL: jsonb
//	bytes   BLOB / bytea
//
// The zero value of each is stored so that it comes back as itself: NULL
// for the zero time, nil for an empty list or byte slice.

import (
	"database/sql/driver"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The range of int64 unix nanoseconds: years 1678 to 2262.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// timeArg is a time as a query argument; the zero time is NULL.
//
// PostgreSQL keeps microseconds; pgx truncates the nanoseconds below them
// when it encodes, while SQLite keeps them. Arguments and stored values
// are truncated alike, so comparisons in SQL agree on both to the
// microsecond.
type timeArg time.Time

// Value implements driver.Valuer (SQLite): unix nanoseconds UTC. A time
// the column cannot hold is an error rather than a silently wrapped value.
func (t timeArg) Value() (driver.Value, error) {
	tt := time.Time(t)
	if tt.IsZero() {
		return nil, nil
	}
	if tt.Before(minTime) || tt.After(maxTime) {
		return nil, fmt.Errorf("time %s is out of the range the store keeps (years 1678 to 2262)", tt)
	}
	return tt.UnixNano(), nil
}

// timeDest scans a time column back: NULL is the zero time, anything else
// a UTC time.
type timeDest struct{ t *time.Time }

// Scan implements sql.Scanner (SQLite).
func (d timeDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.t = time.Time{}
	case int64:
		*d.t = time.Unix(0, v).UTC()
	default:
		return fmt.Errorf("time column holds %T", src)
	}
	return nil
}

// listArg is a string list as a query argument.
type listArg []string

// Value implements driver.Valuer (SQLite): a JSON array.
func (l listArg) Value() (driver.Value, error) {
	if len(l) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal([]string(l))
	return string(b), err
}

// listDest scans a list column back; an empty one is a nil slice, so
// lists round-trip the same whether they went in nil or empty.
type listDest struct{ l *[]string }

// Scan implements sql.Scanner (SQLite's JSON array).
func (d listDest) Scan(src any) error {
	raw, err := textOf(src, "list")
	if err != nil {
		return err
	}
	*d.l = nil
	if len(raw) == 0 || string(raw) == "[]" {
		return nil
	}
	if err := json.Unmarshal(raw, d.l); err != nil {
		return fmt.Errorf("list column: %w", err)
	}
	*d.l = nilIfEmpty(*d.l)
	return nil
}

// wordsArg is a list of words (scopes, amr values: RFC 6749 §3.3 and RFC
// 8176 allow no space in one) stored as one space-separated text, as a
// scope parameter is written: on both databases the same column type, and
// the fewest bytes for the lists every session, grant and token holds
// (design §5: a JSON array costs its quotes and commas, a PostgreSQL
// text[] some 20 bytes of header). A word that is empty or holds white
// space is refused rather than stored as something else.
type wordsArg []string

// Value implements driver.Valuer.
func (w wordsArg) Value() (driver.Value, error) {
	for _, v := range w {
		if v == "" || strings.ContainsFunc(v, unicode.IsSpace) {
			return nil, fmt.Errorf("list value %q: empty or holds white space", v)
		}
	}
	return strings.Join(w, " "), nil
}

// wordsDest scans a wordsArg column back; an empty one is a nil slice.
// "[]" is empty too: the default of the column before it held words
// (SQLite cannot change a column's default).
type wordsDest struct{ l *[]string }

// Scan implements sql.Scanner.
func (d wordsDest) Scan(src any) error {
	raw, err := textOf(src, "word list")
	if err != nil {
		return err
	}
	*d.l = nil
	if string(raw) != "[]" {
		*d.l = nilIfEmpty(strings.Fields(string(raw)))
	}
	return nil
}

// resourcesArg is the API resources a grant covers, indicator to scopes,
// stored as one line per resource, `indicator scope scope...`, in
// indicator order: an indicator holds no white space (an absolute URI,
// RFC 8707 §2) and a scope none (RFC 6749 §3.3), so the words of a line
// are unambiguous. Most grants cover no API, and an empty text costs one
// byte where a JSON object would cost its braces on every grant (design
// §5). An indicator that is empty or holds white space is refused, as is
// a scope wordsArg would refuse.
type resourcesArg map[string][]string

// Value implements driver.Valuer.
func (r resourcesArg) Value() (driver.Value, error) {
	var b strings.Builder
	for i, ind := range slices.Sorted(maps.Keys(r)) {
		if ind == "" || strings.ContainsFunc(ind, unicode.IsSpace) {
			return nil, fmt.Errorf("resource indicator %q: empty or holds white space", ind)
		}
		scopes, err := wordsArg(r[ind]).Value()
		if err != nil {
			return nil, fmt.Errorf("scopes of resource %s: %w", ind, err)
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(ind)
		if s := scopes.(string); s != "" {
			b.WriteByte(' ')
			b.WriteString(s)
		}
	}
	return b.String(), nil
}

// resourcesDest scans a resourcesArg column back; an empty one is a nil
// map, and a resource granted with no scope has a nil list.
type resourcesDest struct{ m *map[string][]string }

// Scan implements sql.Scanner.
func (d resourcesDest) Scan(src any) error {
	raw, err := textOf(src, "resources")
	if err != nil {
		return err
	}
	*d.m = nil
	for line := range strings.SplitSeq(string(raw), "\n") {
		words := strings.Fields(line)
		if len(words) == 0 {
			continue
		}
		if *d.m == nil {
			*d.m = map[string][]string{}
		}
		(*d.m)[words[0]] = nilIfEmpty(words[1:])
	}
	return nil
}

// textMapArg is a map of texts (an API resource's scope descriptions) as
// a JSON object, read back by jsonDest: texts hold spaces and any other
// character, so they are not words. None is {} rather than null, so the
// column always holds an object. A key or text that is not UTF-8, or holds
// a NUL, is refused: JSON would store the one as something else, and
// PostgreSQL's jsonb refuses the other where SQLite would keep it.
type textMapArg map[string]string

// Value implements driver.Valuer.
func (m textMapArg) Value() (driver.Value, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	storable := func(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }
	for k, v := range m {
		if !storable(k) || !storable(v) {
			return nil, fmt.Errorf("map entry %q: %q: not UTF-8, or holds a NUL", k, v)
		}
	}
	b, err := json.Marshal(map[string]string(m))
	return string(b), err
}

// jtiKey is the key a JWT access token's jti is stored under: the bytes
// its unpadded base64url text encodes, so 128 random bits take 16 bytes
// rather than 22. Strict decoding makes the text the only one of its
// bytes (no stray padding bits), so two jtis never share a key; the
// decoder skips line breaks, so a jti holding one is refused here. A jti
// that is empty or not base64url has no key.
func jtiKey(jti string) ([]byte, bool) {
	if jti == "" || strings.ContainsAny(jti, "\r\n") {
		return nil, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(jti)
	return b, err == nil
}

// textOf is a text column as SQLite's driver hands it over (a string, or
// bytes), nil for NULL; what names the column's kind in the error.
func textOf(src any, what string) ([]byte, error) {
	switch v := src.(type) {
	case nil:
		return nil, nil
	case string:
		return []byte(v), nil
	case []byte:
		return v, nil
	}
	return nil, fmt.Errorf("%s column holds %T", what, src)
}

// blobArg is a byte slice as a query argument; empty is NULL, the same as
// nil, so both come back nil.
func blobArg(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// blobDest scans a BLOB or bytea back into a slice of its own (both
// drivers hand over a buffer they reuse for the next row); NULL and empty
// are nil.
type blobDest struct{ b *[]byte }

// Scan implements sql.Scanner (SQLite).
func (d blobDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.b = nil
	case []byte:
		*d.b = nil
		if len(v) > 0 {
			*d.b = append([]byte(nil), v...)
		}
	default:
		return fmt.Errorf("blob column holds %T", src)
	}
	return nil
}

// jsonDest scans a JSON document (SQLite TEXT, PostgreSQL jsonb) into v.
// An empty or NULL column leaves v as it is.
type jsonDest struct{ v any }

// Scan implements sql.Scanner (SQLite).
func (d jsonDest) Scan(src any) error {
	raw, err := textOf(src, "JSON")
	if err != nil {
		return err
	}
	return d.unmarshal(raw)
}

func (d jsonDest) unmarshal(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, d.v); err != nil {
		return fmt.Errorf("JSON column: %w", err)
	}
	return nil
}

// limitArg is a LIMIT: a negative one is no limit, as in SQLite, where
// PostgreSQL would refuse it (LIMIT NULL is no limit on both).
func limitArg(n int) any {
	if n < 0 {
		return nil
	}
	return n
}

func nilIfEmpty(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}
