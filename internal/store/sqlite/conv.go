package sqlite

// How Go values are stored: times as unix nanoseconds, lists as JSON
// arrays, byte slices as BLOBs, with the zero value of each stored so that
// it comes back as itself (nil for lists and slices).

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// The range of int64 unix nanoseconds: years 1678 to 2262.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// timeArg is a time as a query argument: unix nanoseconds UTC, or NULL for
// the zero time. A time the column cannot hold is an error rather than a
// silently wrapped value.
type timeArg time.Time

// Value implements driver.Valuer.
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

// Scan implements sql.Scanner.
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

// listArg is a string list as a query argument: a JSON array.
type listArg []string

// Value implements driver.Valuer.
func (l listArg) Value() (driver.Value, error) {
	if len(l) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal([]string(l))
	return string(b), err
}

// listDest scans a JSON array back; an empty one is a nil slice, so lists
// round-trip the same whether they went in nil or empty.
type listDest struct{ l *[]string }

// Scan implements sql.Scanner.
func (d listDest) Scan(src any) error {
	var raw []byte
	switch v := src.(type) {
	case nil:
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	default:
		return fmt.Errorf("list column holds %T", src)
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

// blobArg is a byte slice as a query argument; empty is NULL, the same as
// nil, so both come back nil.
func blobArg(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// blobDest scans a BLOB back into a slice of its own (the driver's buffer
// is reused by the next row); NULL and empty are nil.
type blobDest struct{ b *[]byte }

// Scan implements sql.Scanner.
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

func nilIfEmpty(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}
