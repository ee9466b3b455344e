package sql

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// qDeliveryAttempts reads one delivery's latest attempts, a backward
// range of the table's key.
const qDeliveryAttempts = `SELECT delivery_id, attempt, started_at, took_us, status, error
	FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt DESC LIMIT $2`

func scanAttempt(row scanner) (store.AttemptRecord, error) {
	var a store.AttemptRecord
	var tookUS int64
	err := row.Scan(&a.DeliveryID, &a.N, timeDest{&a.StartedAt}, &tookUS, &a.Status, &a.Error)
	a.Took = time.Duration(tookUS) * time.Microsecond
	return a, err
}

// DeliveryAttempts returns the latest limit attempts of each delivery,
// oldest first: one range of the key per delivery, for the few dozen
// deliveries a page lists.
func (r reader) DeliveryAttempts(ctx context.Context, deliveryIDs []string, limit int) (map[string][]store.AttemptRecord, error) {
	if limit <= 0 || limit > store.AttemptsShown {
		limit = store.AttemptsShown
	}
	out := map[string][]store.AttemptRecord{}
	for _, id := range deliveryIDs {
		if _, done := out[id]; done {
			continue
		}
		list, err := queryList(ctx, r.q, scanAttempt, qDeliveryAttempts, id, limit)
		if err != nil {
			return nil, fmt.Errorf("list attempts of delivery %s: %w", id, dbErr(err))
		}
		if len(list) == 0 {
			continue
		}
		slices.Reverse(list)
		out[id] = list
	}
	return out, nil
}
