package store

import (
	"context"
	"time"
	"unicode/utf8"
)

// AttemptRecord is one attempt of a delivery as its history keeps it
// (B3): the console shows an app's deliveries with each attempt, its
// answer and its timing, where the delivery's own row keeps only the
// count and the last answer. RecordDeliveryAttempt writes it with the
// outcome; the sweeper deletes it with its delivery.
type AttemptRecord struct {
	DeliveryID string
	// N numbers the delivery's attempts from 1, in the order they ended.
	N         int
	StartedAt time.Time
	// Took is how long the exchange with the app took, to the
	// microsecond; zero when there was none (the app was deleted).
	Took   time.Duration
	Status int // HTTP status, 0 when there was no answer
	Error  string
}

// MaxAttemptError bounds the error an attempt's record keeps, in bytes:
// enough for a Go network error and its address, never a whole body, so
// a delivery's history stays a few rows of a few hundred bytes.
const MaxAttemptError = 300

// AttemptsShown is how many attempts of a delivery DeliveryAttempts
// returns at most, the latest: a delivery retried for 24 hours makes
// some forty, and the last ones say what is wrong now.
const AttemptsShown = 20

// BoundAttemptError cuts e to at most MaxAttemptError bytes, at the end
// of a whole UTF-8 character, so a cut error is still valid text.
func BoundAttemptError(e string) string {
	if len(e) <= MaxAttemptError {
		return e
	}
	n := MaxAttemptError
	for n > 0 && !utf8.RuneStart(e[n]) {
		n--
	}
	return e[:n]
}

// attemptReader reads deliveries' histories; Reader embeds it.
type attemptReader interface {
	// DeliveryAttempts returns, for each of deliveryIDs that has any,
	// its latest limit attempts (at most AttemptsShown; limit <= 0 is
	// AttemptsShown), oldest first. A delivery without attempts, or
	// unknown, has no entry.
	DeliveryAttempts(ctx context.Context, deliveryIDs []string, limit int) (map[string][]AttemptRecord, error)
}
