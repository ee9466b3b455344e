package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// eventKeep is how long the audit log keeps an event.
const eventKeep = 90 * 24 * time.Hour

const eventCols = `seq, at, kind, account_id, client_id, detail`

var (
	qEvents      = statement(`SELECT ` + eventCols + ` FROM events WHERE seq < ? ORDER BY seq DESC LIMIT ?`)
	qAddEvent    = statement(`INSERT INTO events (at, kind, account_id, client_id, detail) VALUES (?, ?, ?, ?, ?)`)
	qSweepEvents = statement(`DELETE FROM events WHERE at < ?`)
	maxEventSeq  = int64(1<<63 - 1)
)

func scanEvent(row scanner) (store.Event, error) {
	var e store.Event
	err := row.Scan(&e.Seq, timeDest{&e.At}, &e.Kind, &e.AccountID, &e.ClientID, &e.Detail)
	return e, err
}

// Events lists events below the cursor, newest first.
func (r reader) Events(ctx context.Context, before int64, limit int) ([]store.Event, error) {
	if before <= 0 {
		before = maxEventSeq
	}
	list, err := queryList(ctx, r.q, scanEvent, qEvents, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", dbErr(err))
	}
	return list, nil
}

// AddEvent appends an event to the audit log.
func (t *tx) AddEvent(ctx context.Context, e store.Event) error {
	if _, err := t.q.ExecContext(ctx, qAddEvent, timeArg(e.At), e.Kind, e.AccountID, e.ClientID, e.Detail); err != nil {
		return fmt.Errorf("add event %s: %w", e.Kind, dbErr(err))
	}
	return nil
}
