package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// finishedKeep is how long receipts and finished deliveries stay for admins
// to read (design O9).
const finishedKeep = 30 * 24 * time.Hour

const logoutRequestCols = `xsrf_hash, session_id, client_id, post_logout_redirect_uri, state, ui_locales, created_at, expires_at`

const receiptCols = `id, scope, cause, session_id, account_id, client_id, outcomes, created_at`

const deliveryCols = `id, receipt_id, client_id, uri, subject, sid, state, attempts, last_status, last_error,
	created_at, updated_at, delivered_at, lease_until`

var (
	qLogoutRequest       = statement(`SELECT ` + logoutRequestCols + ` FROM logout_requests WHERE xsrf_hash = ?`)
	qDropSessionLogouts  = statement(`DELETE FROM logout_requests WHERE session_id = ? AND session_id <> ''`)
	qCreateLogoutRequest = statement(`INSERT INTO logout_requests (` + logoutRequestCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	qDeleteLogoutRequest = statement(`DELETE FROM logout_requests WHERE xsrf_hash = ?`)

	qReceipt           = statement(`SELECT ` + receiptCols + ` FROM receipts WHERE id = ?`)
	qReceiptsByAccount = statement(`SELECT ` + receiptCols + ` FROM receipts WHERE account_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`)
	qCreateReceipt     = statement(`INSERT INTO receipts (` + receiptCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)

	qDelivery             = statement(`SELECT ` + deliveryCols + ` FROM deliveries WHERE id = ?`)
	qDeliveriesByReceipt  = statement(`SELECT ` + deliveryCols + ` FROM deliveries WHERE receipt_id = ? ORDER BY created_at, id`)
	qDeliveriesByClient   = statement(`SELECT ` + deliveryCols + ` FROM deliveries WHERE client_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`)
	qDeliveriesByClientIn = statement(`SELECT ` + deliveryCols + ` FROM deliveries WHERE client_id = ? AND state = ? ORDER BY created_at DESC, id DESC LIMIT ?`)
	qCreateDelivery       = statement(`INSERT INTO deliveries (` + deliveryCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	// The conditions make the lease exclusive: of racing attempts exactly
	// one changes the row.
	qLeaseDelivery = statement(`UPDATE deliveries SET lease_until = ?3
		WHERE id = ?1 AND state = 'pending' AND (lease_until IS NULL OR lease_until <= ?2) RETURNING ` + deliveryCols)
	qRecordAttempt = statement(`UPDATE deliveries SET attempts = attempts + 1, state = ?2, last_status = ?3,
		last_error = ?4, updated_at = ?5, delivered_at = CASE WHEN ?2 = 'delivered' THEN ?5 ELSE delivered_at END,
		lease_until = NULL WHERE id = ?1`)

	qRetryDelivery = statement(`UPDATE deliveries SET state = 'pending', updated_at = ?2, lease_until = NULL WHERE id = ?1`)

	qSweepLogoutRequests = statement(`DELETE FROM logout_requests WHERE expires_at < ?`)
	qSweepReceipts       = statement(`DELETE FROM receipts WHERE created_at < ?`)
	qSweepDeliveries     = statement(`DELETE FROM deliveries WHERE state <> 'pending' AND updated_at < ?`)
)

func scanLogoutRequest(row scanner) (store.LogoutRequest, error) {
	var r store.LogoutRequest
	err := row.Scan(blobDest{&r.XSRFHash}, &r.SessionID, &r.ClientID, &r.PostLogoutRedirectURI, &r.State,
		&r.UILocales, timeDest{&r.CreatedAt}, timeDest{&r.ExpiresAt})
	return r, err
}

// LogoutRequest reads a confirm page's request by the hash of its xsrf
// token.
func (r reader) LogoutRequest(ctx context.Context, xsrfHash []byte) (store.LogoutRequest, error) {
	lr, err := scanLogoutRequest(r.q.QueryRowContext(ctx, qLogoutRequest, xsrfHash))
	if err != nil {
		return lr, fmt.Errorf("read logout request: %w", dbErr(err))
	}
	return lr, nil
}

// CreateLogoutRequest stores r and drops the other requests of its session,
// so only the latest confirm page can be confirmed (O3).
func (t *tx) CreateLogoutRequest(ctx context.Context, r store.LogoutRequest) error {
	if _, err := exec(ctx, t.q, qDropSessionLogouts, r.SessionID); err != nil {
		return fmt.Errorf("drop older logout requests: %w", err)
	}
	_, err := t.q.ExecContext(ctx, qCreateLogoutRequest, blobArg(r.XSRFHash), r.SessionID, r.ClientID,
		r.PostLogoutRedirectURI, r.State, r.UILocales, timeArg(r.CreatedAt), timeArg(r.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create logout request: %w", dbErr(err))
	}
	return nil
}

// DeleteLogoutRequest removes a request; a missing one is not an error: it
// reports false.
func (t *tx) DeleteLogoutRequest(ctx context.Context, xsrfHash []byte) (bool, error) {
	n, err := exec(ctx, t.q, qDeleteLogoutRequest, xsrfHash)
	if err != nil {
		return false, fmt.Errorf("delete logout request: %w", err)
	}
	return n > 0, nil
}

func scanReceipt(row scanner) (store.Receipt, error) {
	var r store.Receipt
	var outcomes string
	err := row.Scan(&r.ID, &r.Scope, &r.Cause, &r.SessionID, &r.AccountID, &r.ClientID, &outcomes, timeDest{&r.CreatedAt})
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(outcomes), &r.Outcomes); err != nil {
		return r, fmt.Errorf("receipt %s outcomes: %w", r.ID, err)
	}
	if len(r.Outcomes) == 0 {
		r.Outcomes = nil
	}
	return r, nil
}

// Receipt reads one sign-out's receipt.
func (r reader) Receipt(ctx context.Context, id string) (store.Receipt, error) {
	rec, err := scanReceipt(r.q.QueryRowContext(ctx, qReceipt, id))
	if err != nil {
		return rec, fmt.Errorf("read receipt %s: %w", id, dbErr(err))
	}
	return rec, nil
}

// ReceiptsByAccount lists an account's receipts, newest first.
func (r reader) ReceiptsByAccount(ctx context.Context, accountID string, limit int) ([]store.Receipt, error) {
	list, err := queryList(ctx, r.q, scanReceipt, qReceiptsByAccount, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("list receipts of %s: %w", accountID, dbErr(err))
	}
	return list, nil
}

// CreateReceipt stores a receipt.
func (t *tx) CreateReceipt(ctx context.Context, r store.Receipt) error {
	outcomes := r.Outcomes
	if outcomes == nil {
		outcomes = []store.ReceiptOutcome{}
	}
	b, err := json.Marshal(outcomes)
	if err != nil {
		return fmt.Errorf("receipt %s outcomes: %w", r.ID, err)
	}
	_, err = t.q.ExecContext(ctx, qCreateReceipt, r.ID, r.Scope, r.Cause, r.SessionID, r.AccountID, r.ClientID,
		string(b), timeArg(r.CreatedAt))
	if err != nil {
		return fmt.Errorf("create receipt %s: %w", r.ID, dbErr(err))
	}
	return nil
}

func scanDelivery(row scanner) (store.Delivery, error) {
	var d store.Delivery
	err := row.Scan(&d.ID, &d.ReceiptID, &d.ClientID, &d.URI, &d.Subject, &d.SID, &d.State, &d.Attempts,
		&d.LastStatus, &d.LastError, timeDest{&d.CreatedAt}, timeDest{&d.UpdatedAt}, timeDest{&d.DeliveredAt},
		timeDest{&d.LeaseUntil})
	return d, err
}

// Delivery reads one delivery.
func (r reader) Delivery(ctx context.Context, id string) (store.Delivery, error) {
	d, err := scanDelivery(r.q.QueryRowContext(ctx, qDelivery, id))
	if err != nil {
		return d, fmt.Errorf("read delivery %s: %w", id, dbErr(err))
	}
	return d, nil
}

// DeliveriesByReceipt lists a sign-out's deliveries, oldest first.
func (r reader) DeliveriesByReceipt(ctx context.Context, receiptID string) ([]store.Delivery, error) {
	list, err := queryList(ctx, r.q, scanDelivery, qDeliveriesByReceipt, receiptID)
	if err != nil {
		return nil, fmt.Errorf("list deliveries of receipt %s: %w", receiptID, dbErr(err))
	}
	return list, nil
}

// DeliveriesByClient lists a client's deliveries in state (any when
// empty), newest first.
func (r reader) DeliveriesByClient(ctx context.Context, clientID, state string, limit int) ([]store.Delivery, error) {
	var list []store.Delivery
	var err error
	if state == "" {
		list, err = queryList(ctx, r.q, scanDelivery, qDeliveriesByClient, clientID, limit)
	} else {
		list, err = queryList(ctx, r.q, scanDelivery, qDeliveriesByClientIn, clientID, state, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("list deliveries of %s: %w", clientID, dbErr(err))
	}
	return list, nil
}

// EnqueueDelivery stores d and its durable job in this transaction (B3):
// a rollback drops both, a commit makes both survive any crash.
func (t *tx) EnqueueDelivery(ctx context.Context, d store.Delivery, runAt time.Time) error {
	if d.State == "" {
		d.State = store.DeliveryPending
	}
	_, err := t.q.ExecContext(ctx, qCreateDelivery, d.ID, d.ReceiptID, d.ClientID, d.URI, d.Subject, d.SID,
		d.State, d.Attempts, d.LastStatus, d.LastError, timeArg(d.CreatedAt), timeArg(d.UpdatedAt),
		timeArg(d.DeliveredAt), timeArg(d.LeaseUntil))
	if err != nil {
		return fmt.Errorf("create delivery %s: %w", d.ID, dbErr(err))
	}
	t.pending = append(t.pending, store.PendingJob{DeliveryID: d.ID, RunAt: runAt})
	return nil
}

// LeaseDelivery takes a pending delivery for one attempt until until.
func (t *tx) LeaseDelivery(ctx context.Context, id string, now, until time.Time) (store.Delivery, bool, error) {
	d, err := scanDelivery(t.q.QueryRowContext(ctx, qLeaseDelivery, id, timeArg(now), timeArg(until)))
	if err == nil {
		return d, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return d, false, fmt.Errorf("lease delivery %s: %w", id, dbErr(err))
	}
	d, err = scanDelivery(t.q.QueryRowContext(ctx, qDelivery, id))
	if err != nil {
		return d, false, fmt.Errorf("lease delivery %s: %w", id, dbErr(err))
	}
	return d, false, nil
}

// RecordDeliveryAttempt adds one attempt's outcome and releases the lease.
func (t *tx) RecordDeliveryAttempt(ctx context.Context, id string, a store.DeliveryAttempt) error {
	if err := execOne(ctx, t.q, qRecordAttempt, id, a.State, a.Status, a.Error, timeArg(a.At)); err != nil {
		return fmt.Errorf("record attempt on delivery %s: %w", id, err)
	}
	return nil
}

// RetryDelivery makes a delivery pending again and queues a job for it.
func (t *tx) RetryDelivery(ctx context.Context, id string, at, runAt time.Time) error {
	if err := execOne(ctx, t.q, qRetryDelivery, id, timeArg(at)); err != nil {
		return fmt.Errorf("retry delivery %s: %w", id, err)
	}
	t.pending = append(t.pending, store.PendingJob{DeliveryID: id, RunAt: runAt})
	return nil
}
