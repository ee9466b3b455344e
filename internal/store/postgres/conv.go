package postgres

// How Go values are stored: times as timestamptz, string lists as text[],
// byte slices as bytea, with the zero value of each stored so that it comes
// back as itself (the zero time, nil lists and slices), as on SQLite.

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// timeArg is a time as a query argument: a timestamptz, or NULL for the
// zero time.
//
// PostgreSQL keeps microseconds; pgx truncates the nanoseconds below them
// when it encodes (SQLite keeps nanoseconds). Arguments and stored values
// are truncated alike, so comparisons in SQL (expired before now, failures
// at or after since) agree with SQLite's to the microsecond.
type timeArg time.Time

// TimestamptzValue implements pgtype.TimestamptzValuer.
func (t timeArg) TimestamptzValue() (pgtype.Timestamptz, error) {
	tt := time.Time(t)
	if tt.IsZero() {
		return pgtype.Timestamptz{}, nil
	}
	return pgtype.Timestamptz{Time: tt, Valid: true}, nil
}

// timeDest scans a timestamptz column back: NULL is the zero time,
// anything else a UTC time (pgx would give it in time.Local).
type timeDest struct{ t *time.Time }

// ScanTimestamptz implements pgtype.TimestamptzScanner.
func (d timeDest) ScanTimestamptz(v pgtype.Timestamptz) error {
	switch {
	case !v.Valid:
		*d.t = time.Time{}
	case v.InfinityModifier != pgtype.Finite:
		// Sesame never writes infinity; someone edited the row by hand.
		return fmt.Errorf("time column holds %s", v.InfinityModifier)
	default:
		*d.t = v.Time.UTC()
	}
	return nil
}

// listArg is a string list as a query argument: a text[], empty rather
// than NULL for a nil list (the columns are NOT NULL).
func listArg(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// listDest scans a text[] column back; an empty array is a nil slice, so
// lists round-trip the same whether they went in nil or empty.
type listDest struct{ l *[]string }

// SetDimensions implements pgtype.ArraySetter.
func (d listDest) SetDimensions(dims []pgtype.ArrayDimension) error {
	*d.l = nil
	if len(dims) == 0 { // NULL, or the empty array
		return nil
	}
	if len(dims) > 1 {
		return fmt.Errorf("list column holds a %d-dimensional array", len(dims))
	}
	if n := int(dims[0].Length); n > 0 {
		*d.l = make([]string, n)
	}
	return nil
}

// ScanIndex implements pgtype.ArraySetter.
func (d listDest) ScanIndex(i int) any { return &(*d.l)[i] }

// ScanIndexType implements pgtype.ArraySetter.
func (d listDest) ScanIndexType() any { return new(string) }

// blobArg is a byte slice as a query argument; empty is NULL, the same as
// nil, so both come back nil.
func blobArg(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// blobDest scans a bytea column back into a slice of its own; NULL and
// empty are nil.
type blobDest struct{ b *[]byte }

// ScanBytes implements pgtype.BytesScanner. pgx hands over a buffer it
// reuses for the next row, so the bytes are copied.
func (d blobDest) ScanBytes(v []byte) error {
	*d.b = nil
	if len(v) > 0 {
		*d.b = append([]byte(nil), v...)
	}
	return nil
}

// limitArg is a LIMIT: a negative one is no limit, as in SQLite, where
// PostgreSQL would refuse it (LIMIT NULL is no limit).
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
