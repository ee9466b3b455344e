package sql

import (
	"context"
	"fmt"
	"math"

	"github.com/sesame-id/sesame/internal/store"
)

const eventCols = `seq, at, kind, account_id, client_id, detail`

const (
	qEvents   = `SELECT ` + eventCols + ` FROM events WHERE seq < $1 ORDER BY seq DESC LIMIT $2`
	qAddEvent = `INSERT INTO events (at, kind, account_id, client_id, detail) VALUES ($1, $2, $3, $4, $5)`
	// An account's events, a backward range of events_by_account.
	qEventsByAccount = `SELECT ` + eventCols + ` FROM events WHERE account_id = $1 AND seq < $2
		ORDER BY seq DESC LIMIT $3`
)

// qEventsByAccountOfKinds is qEventsByAccount keeping some kinds only, on
// the same range. The kinds fill store.MaxEventKinds parameters, the rest
// NULL, which matches no kind: one text, prepared once, however many
// kinds are asked for, where a list parameter would need SQL of its own
// on each database (SQLite has no arrays).
var qEventsByAccountOfKinds = `SELECT ` + eventCols + ` FROM events WHERE account_id = $1 AND seq < $2
		AND kind IN (` + params(4, store.MaxEventKinds) + `) ORDER BY seq DESC LIMIT $3`

func scanEvent(row scanner) (store.Event, error) {
	var e store.Event
	err := row.Scan(&e.Seq, timeDest{&e.At}, &e.Kind, &e.AccountID, &e.ClientID, &e.Detail)
	return e, err
}

// Events lists events below the cursor, newest first.
//
// Seq comes from an identity column: it orders events by when they were
// written, but a transaction that commits late can make an event appear
// below a cursor a reader has already passed. The audit log reads newest
// first for people, so that rare gap is accepted rather than serialising
// every writer on one lock. (SQLite, with its one writer, has no such gap.)
func (r reader) Events(ctx context.Context, before int64, limit int) ([]store.Event, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	list, err := queryList(ctx, r.q, scanEvent, qEvents, before, limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("list events: %w", dbErr(err))
	}
	return list, nil
}

// EventsByAccount lists an account's events of the given kinds (any when
// none), below the cursor, newest first. The rows come from the range of
// events_by_account that holds the account's events, newest first: a
// kind left out is skipped there, but no other account's event is read.
func (r reader) EventsByAccount(ctx context.Context, accountID string, kinds []string, before int64, limit int) ([]store.Event, error) {
	if len(kinds) > store.MaxEventKinds {
		return nil, fmt.Errorf("list events of %s: %d kinds, at most %d", accountID, len(kinds), store.MaxEventKinds)
	}
	if before <= 0 {
		before = math.MaxInt64
	}
	query, args := qEventsByAccount, []any{accountID, before, limitArg(limit)}
	if len(kinds) > 0 {
		query, args = qEventsByAccountOfKinds, append(args, padded(kinds, store.MaxEventKinds)...)
	}
	list, err := queryList(ctx, r.q, scanEvent, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list events of %s: %w", accountID, dbErr(err))
	}
	return list, nil
}

// AddEvent appends an event to the audit log.
func (t *tx) AddEvent(ctx context.Context, e store.Event) error {
	if _, err := t.q.exec(ctx, qAddEvent, timeArg(e.At), e.Kind, e.AccountID, e.ClientID, e.Detail); err != nil {
		return fmt.Errorf("add event %s: %w", e.Kind, dbErr(err))
	}
	return nil
}
