package sql

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

const logoutRequestCols = `xsrf_hash, session_id, client_id, post_logout_redirect_uri, state, ui_locales, created_at, expires_at`

const receiptCols = `id, scope, cause, session_id, account_id, client_id, outcomes, created_at`

const deliveryCols = `id, receipt_id, client_id, uri, subject, sid, state, attempts, last_status, last_error,
	created_at, updated_at, delivered_at, due_at, lease_until`

const (
	qLogoutRequest = `SELECT ` + logoutRequestCols + ` FROM logout_requests WHERE xsrf_hash = $1`
	// A session's request replaces the one it had, in one statement on the
	// unique index of session_id: of two confirm pages opened at once
	// only the later stays confirmable (O3), where a DELETE then INSERT
	// could leave both under READ COMMITTED.
	qPutSessionLogoutRequest = `INSERT INTO logout_requests (` + logoutRequestCols + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (session_id) WHERE session_id <> '' DO UPDATE SET
			xsrf_hash = excluded.xsrf_hash,
			client_id = excluded.client_id,
			post_logout_redirect_uri = excluded.post_logout_redirect_uri,
			state = excluded.state,
			ui_locales = excluded.ui_locales,
			created_at = excluded.created_at,
			expires_at = excluded.expires_at`
	// Requests without a session (signing out twice) are many and kept
	// apart by their xsrf hash.
	qCreateLogoutRequest = `INSERT INTO logout_requests (` + logoutRequestCols + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`
	qDeleteLogoutRequest = `DELETE FROM logout_requests WHERE xsrf_hash = $1`

	qReceipt           = `SELECT ` + receiptCols + ` FROM receipts WHERE id = $1`
	qReceiptsByAccount = `SELECT ` + receiptCols + ` FROM receipts WHERE account_id = $1
		ORDER BY created_at DESC, id DESC LIMIT $2`
	qCreateReceipt = `INSERT INTO receipts (` + receiptCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT DO NOTHING`

	qDelivery            = `SELECT ` + deliveryCols + ` FROM deliveries WHERE id = $1`
	qDeliveriesByReceipt = `SELECT ` + deliveryCols + ` FROM deliveries WHERE receipt_id = $1 ORDER BY created_at, id`
	qDeliveriesByClient  = `SELECT ` + deliveryCols + ` FROM deliveries WHERE client_id = $1
		ORDER BY created_at DESC, id DESC LIMIT $2`
	qDeliveriesByClientIn = `SELECT ` + deliveryCols + ` FROM deliveries WHERE client_id = $1 AND state = $2
		ORDER BY created_at DESC, id DESC LIMIT $3`
	// The conditions make the lease exclusive: racing attempts wait for
	// the first one's row lock, PostgreSQL re-checks the conditions on the
	// row it committed, and exactly one changes the row.
	qLeaseDelivery = `UPDATE deliveries SET lease_until = $3
		WHERE id = $1 AND state = 'pending' AND (lease_until IS NULL OR lease_until <= $2) RETURNING ` + deliveryCols
	qRecordAttempt = `UPDATE deliveries SET attempts = attempts + 1, state = $2::text, last_status = $3,
		last_error = $4, updated_at = $5::timestamptz,
		delivered_at = CASE WHEN $2::text = 'delivered' THEN $5::timestamptz ELSE delivered_at END,
		due_at = CASE WHEN $2::text = 'pending' THEN $6::timestamptz END, lease_until = NULL
		WHERE id = $1 AND lease_until IS NOT DISTINCT FROM $7::timestamptz`
	// The attempt's row in the delivery's history, numbered by the count
	// qRecordAttempt has just raised in the same transaction (whose row
	// lock keeps concurrent recorders apart). The casts type the
	// parameters, which PostgreSQL cannot infer from a SELECT list.
	qAddAttempt = `INSERT INTO delivery_attempts (delivery_id, attempt, started_at, took_us, status, error)
		SELECT id, attempts, $2::timestamptz, $3::bigint, $4::integer, $5::text FROM deliveries WHERE id = $1
		ON CONFLICT DO NOTHING`
	qRetryDelivery = `UPDATE deliveries SET state = 'pending', updated_at = $2, due_at = $3, lease_until = NULL WHERE id = $1`
	// The claim: due pending rows not under a live lease, in due order, on
	// the partial index deliveries_due. A lease that ended (its instance
	// died mid-attempt) is claimed again like any due row.
	qClaimDeliveries = `UPDATE deliveries SET lease_until = $2 WHERE id IN (
		SELECT id FROM deliveries WHERE state = 'pending' AND due_at <= $1
			AND (lease_until IS NULL OR lease_until <= $1)
		ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING ` + deliveryCols
	// The claim of pending rows with no due time (NULL), due at any now:
	// on the same partial index, searched for NULL.
	qClaimUndatedDeliveries = `UPDATE deliveries SET lease_until = $2 WHERE id IN (
		SELECT id FROM deliveries WHERE state = 'pending' AND due_at IS NULL
			AND (lease_until IS NULL OR lease_until <= $1)
		ORDER BY created_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING ` + deliveryCols
)

// enqueueBatch is how many deliveries one INSERT stores at most on
// PostgreSQL: a sign-out's apps, as a rule, in one statement.
const enqueueBatch = 16

// deliveriesPerInsert is how many deliveries one INSERT stores. On
// PostgreSQL a sign-out's deliveries go in one statement, one round trip
// instead of one per app. On SQLite, where a statement costs no round
// trip, one INSERT of several rows measured slower than one INSERT per
// row (the statements of a 4-app sign-out: medians 358 against 301 µs of
// CPU over 3 interleaved rounds), so each row has its own there.
func (d dialect) deliveriesPerInsert() int {
	if d == postgresDialect {
		return enqueueBatch
	}
	return 1
}

// deliveryColCount is how many columns of deliveryCols an INSERT fills.
const deliveryColCount = 15

// qCreateDeliveries[n-1] stores n deliveries, n up to enqueueBatch: one
// text per count, since a row of NULLs could not stand for no row as a
// NULL id stands for no id in an IN list.
var qCreateDeliveries = func() (qs [enqueueBatch]string) {
	for n := 1; n <= enqueueBatch; n++ {
		rows := make([]string, n)
		for i := range rows {
			rows[i] = "(" + params(1+i*deliveryColCount, deliveryColCount) + ")"
		}
		qs[n-1] = `INSERT INTO deliveries (` + deliveryCols + `) VALUES ` + strings.Join(rows, ", ") + ` ON CONFLICT DO NOTHING`
	}
	return qs
}()

// receiptsBatch is how many receipts one qDeliveryCountsByReceipts
// counts the deliveries of: a page of the console's sign-outs.
const receiptsBatch = 32

// qDeliveryCountsByReceipts counts the deliveries of up to
// receiptsBatch receipts by state, one range of deliveries_receipt
// each; only the counts leave the database, not the rows. The ids fill
// the parameters, the rest NULL, which matches no receipt: one text for
// any number of ids, on both databases, where a list parameter would need
// SQL of its own on each (SQLite has no arrays).
var qDeliveryCountsByReceipts = `SELECT receipt_id, state, COUNT(*) FROM deliveries
		WHERE receipt_id IN (` + params(1, receiptsBatch) + `) GROUP BY receipt_id, state`

func scanLogoutRequest(row scanner) (store.LogoutRequest, error) {
	var r store.LogoutRequest
	err := row.Scan(blobDest{&r.XSRFHash}, &r.SessionID, &r.ClientID, &r.PostLogoutRedirectURI, &r.State,
		&r.UILocales, timeDest{&r.CreatedAt}, timeDest{&r.ExpiresAt})
	return r, err
}

// LogoutRequest reads a confirm page's request by the hash of its xsrf
// token.
func (r reader) LogoutRequest(ctx context.Context, xsrfHash []byte) (store.LogoutRequest, error) {
	lr, err := scanLogoutRequest(r.q.queryRow(ctx, qLogoutRequest, xsrfHash))
	if err != nil {
		return lr, fmt.Errorf("read logout request: %w", dbErr(err))
	}
	return lr, nil
}

// CreateLogoutRequest stores r and drops the other request of its session,
// so only the latest confirm page can be confirmed (O3).
func (t *tx) CreateLogoutRequest(ctx context.Context, r store.LogoutRequest) error {
	query := qPutSessionLogoutRequest
	if r.SessionID == "" {
		query = qCreateLogoutRequest
	}
	err := insertNew(ctx, t.q, query, blobArg(r.XSRFHash), r.SessionID, r.ClientID,
		r.PostLogoutRedirectURI, r.State, r.UILocales, timeArg(r.CreatedAt), timeArg(r.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create logout request: %w", err)
	}
	return nil
}

// DeleteLogoutRequest removes a request and reports whether this call did:
// of concurrent confirms of one page, one deletes it. A missing one is not
// an error.
func (t *tx) DeleteLogoutRequest(ctx context.Context, xsrfHash []byte) (bool, error) {
	n, err := exec(ctx, t.q, qDeleteLogoutRequest, xsrfHash)
	if err != nil {
		return false, fmt.Errorf("delete logout request: %w", err)
	}
	return n > 0, nil
}

func scanReceipt(row scanner) (store.Receipt, error) {
	var r store.Receipt
	var outcomes []byte
	err := row.Scan(&r.ID, &r.Scope, &r.Cause, &r.SessionID, &r.AccountID, &r.ClientID, &outcomes, timeDest{&r.CreatedAt})
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(outcomes, &r.Outcomes); err != nil {
		return r, fmt.Errorf("receipt %s outcomes: %w", r.ID, err)
	}
	if len(r.Outcomes) == 0 {
		r.Outcomes = nil
	}
	return r, nil
}

// Receipt reads one sign-out's receipt.
func (r reader) Receipt(ctx context.Context, id string) (store.Receipt, error) {
	rec, err := scanReceipt(r.q.queryRow(ctx, qReceipt, id))
	if err != nil {
		return rec, fmt.Errorf("read receipt %s: %w", id, dbErr(err))
	}
	return rec, nil
}

// ReceiptsByAccount lists an account's receipts, newest first.
func (r reader) ReceiptsByAccount(ctx context.Context, accountID string, limit int) ([]store.Receipt, error) {
	list, err := queryList(ctx, r.q, scanReceipt, qReceiptsByAccount, accountID, limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("list receipts of %s: %w", accountID, dbErr(err))
	}
	return list, nil
}

// CreateReceipt stores a receipt; a taken id is store.ErrConflict.
func (t *tx) CreateReceipt(ctx context.Context, r store.Receipt) error {
	outcomes := r.Outcomes
	if outcomes == nil {
		outcomes = []store.ReceiptOutcome{}
	}
	b, err := json.Marshal(outcomes)
	if err != nil {
		return fmt.Errorf("receipt %s outcomes: %w", r.ID, err)
	}
	err = insertNew(ctx, t.q, qCreateReceipt, r.ID, r.Scope, r.Cause, r.SessionID, r.AccountID, r.ClientID,
		string(b), timeArg(r.CreatedAt))
	if err != nil {
		return fmt.Errorf("create receipt %s: %w", r.ID, err)
	}
	return nil
}

func scanDelivery(row scanner) (store.Delivery, error) {
	var d store.Delivery
	err := row.Scan(&d.ID, &d.ReceiptID, &d.ClientID, &d.URI, &d.Subject, &d.SID, &d.State, &d.Attempts,
		&d.LastStatus, &d.LastError, timeDest{&d.CreatedAt}, timeDest{&d.UpdatedAt}, timeDest{&d.DeliveredAt},
		timeDest{&d.DueAt}, timeDest{&d.LeaseUntil})
	return d, err
}

// Delivery reads one delivery.
func (r reader) Delivery(ctx context.Context, id string) (store.Delivery, error) {
	d, err := scanDelivery(r.q.queryRow(ctx, qDelivery, id))
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

// deliveryCount is one row of qDeliveryCountsByReceipts.
type deliveryCount struct {
	receiptID string
	state     store.DeliveryState
	n         int
}

func scanDeliveryCount(row scanner) (deliveryCount, error) {
	var c deliveryCount
	err := row.Scan(&c.receiptID, &c.state, &c.n)
	return c, err
}

// DeliveryCountsByReceipts counts each receipt's deliveries by state:
// one statement per receiptsBatch receipts, in place of one per
// receipt. Each id is asked for once, however often it is given, so
// that repeats take no place in a batch.
func (r reader) DeliveryCountsByReceipts(ctx context.Context, receiptIDs []string) (map[string]map[store.DeliveryState]int, error) {
	out := map[string]map[store.DeliveryState]int{}
	ids := make([]string, 0, len(receiptIDs))
	seen := make(map[string]bool, len(receiptIDs))
	for _, id := range receiptIDs {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for batch := range slices.Chunk(ids, receiptsBatch) {
		list, err := queryList(ctx, r.q, scanDeliveryCount, qDeliveryCountsByReceipts, padded(batch, receiptsBatch)...)
		if err != nil {
			return nil, fmt.Errorf("count deliveries of %d receipts: %w", len(batch), dbErr(err))
		}
		for _, c := range list {
			if out[c.receiptID] == nil {
				out[c.receiptID] = map[store.DeliveryState]int{}
			}
			out[c.receiptID][c.state] = c.n
		}
	}
	return out, nil
}

// DeliveriesByClient lists a client's deliveries in state (any when
// empty), newest first.
func (r reader) DeliveriesByClient(ctx context.Context, clientID string, state store.DeliveryState, limit int) ([]store.Delivery, error) {
	var list []store.Delivery
	var err error
	if state == "" {
		list, err = queryList(ctx, r.q, scanDelivery, qDeliveriesByClient, clientID, limitArg(limit))
	} else {
		list, err = queryList(ctx, r.q, scanDelivery, qDeliveriesByClientIn, clientID, state, limitArg(limit))
	}
	if err != nil {
		return nil, fmt.Errorf("list deliveries of %s: %w", clientID, dbErr(err))
	}
	return list, nil
}

// EnqueueDeliveries stores ds, pending and due at their DueAt, up to
// deliveriesPerInsert in one statement: each row is a queue entry (B3), so a
// rollback drops it and a commit makes it survive any crash. A taken id is
// store.ErrConflict. Once committed, every instance's workers are woken
// (ChangeDeliveries) if one is already due (due times are on the wall
// clock). A zero DueAt is stored as it is (NULL) and is due at once:
// ClaimDeliveries, not this, makes it so (see there for why), and it
// wakes the workers like any due delivery.
func (t *tx) EnqueueDeliveries(ctx context.Context, ds ...store.Delivery) error {
	now, due := time.Now(), false
	for batch := range slices.Chunk(ds, t.d.deliveriesPerInsert()) {
		args := make([]any, 0, len(batch)*deliveryColCount)
		for _, d := range batch {
			if d.State == "" {
				d.State = store.DeliveryPending
			}
			args = append(args, d.ID, d.ReceiptID, d.ClientID, d.URI, d.Subject, d.SID,
				d.State, d.Attempts, d.LastStatus, d.LastError, timeArg(d.CreatedAt), timeArg(d.UpdatedAt),
				timeArg(d.DeliveredAt), timeArg(d.DueAt), timeArg(d.LeaseUntil))
			// One not yet due (the committing request makes the first
			// attempt) needs no wake-up: it would find nothing, and the
			// workers' poll finds it.
			due = due || !d.DueAt.After(now)
		}
		if err := insertRows(ctx, t.q, len(batch), qCreateDeliveries[len(batch)-1], args...); err != nil {
			return fmt.Errorf("create deliveries %s: %w", deliveryIDs(batch), err)
		}
	}
	if !due {
		return nil
	}
	return t.wakeDeliveries(ctx)
}

// deliveryIDs names ds in an error.
func deliveryIDs(ds []store.Delivery) string {
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	return strings.Join(ids, ", ")
}

// wakeDeliveries tells the delivery workers, once, that this transaction
// made deliveries due.
func (t *tx) wakeDeliveries(ctx context.Context) error {
	if t.woke {
		return nil
	}
	t.woke = true
	return t.changed(ctx, store.Change{Kind: store.ChangeDeliveries})
}

// LeaseDelivery takes a pending delivery for one attempt until until. It
// reports false, with the delivery as it stands, when the delivery is not
// pending or another attempt holds it.
func (t *tx) LeaseDelivery(ctx context.Context, id string, now, until time.Time) (store.Delivery, bool, error) {
	d, leased, err := changeOnce(ctx, t.q, scanDelivery, qLeaseDelivery, []any{id, timeArg(now), timeArg(until)}, qDelivery, id)
	if err != nil {
		return d, false, fmt.Errorf("lease delivery %s: %w", id, err)
	}
	return d, leased, nil
}

// ClaimDeliveries leases up to limit due deliveries until until, oldest due
// first. On PostgreSQL, SKIP LOCKED lets the claimers of many instances
// pass over each other's rows instead of waiting for them; SQLite's one
// writer runs one claim at a time.
//
// A pending delivery with no due time (NULL: EnqueueDeliveries or
// RetryDelivery given the zero time, a pending attempt recorded without
// RetryAt, a row the River migration found with neither created_at nor
// updated_at) is due at any now, and comes first, as the zero time sorts.
// This is decided here rather than by EnqueueDeliveries writing a due time
// of now, because every pending row reaches the claim, whichever
// statement wrote it: a default at enqueue would leave the rows the other
// statements write, and those already stored, stranded for good, and it
// would need a clock of the store's own where every other time of the
// queue is the caller's (a due time read on one instance's clock can lie
// ahead of another instance's now). Such rows have a statement of their
// own because SQLite cannot search the index for "due_at IS NULL OR
// due_at <= now" in due order: it would read every pending row, due or
// not, at every claim.
func (t *tx) ClaimDeliveries(ctx context.Context, now, until time.Time, limit int) ([]store.Delivery, error) {
	list, err := queryList(ctx, t.q, scanDelivery, qClaimUndatedDeliveries, timeArg(now), timeArg(until), limit)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries without a due time: %w", dbErr(err))
	}
	if len(list) < limit {
		dated, err := queryList(ctx, t.q, scanDelivery, qClaimDeliveries, timeArg(now), timeArg(until), limit-len(list))
		if err != nil {
			return nil, fmt.Errorf("claim due deliveries: %w", dbErr(err))
		}
		list = append(list, dated...)
	}
	// The ORDER BY picks which rows; RETURNING gives them in no set order.
	slices.SortFunc(list, func(a, b store.Delivery) int {
		return cmp.Or(a.DueAt.Compare(b.DueAt), cmp.Compare(a.ID, b.ID))
	})
	return list, nil
}

// RecordDeliveryAttempt adds one attempt's outcome and releases the lease;
// a pending delivery is due again at a.RetryAt. The attempt joins the
// delivery's history in the same transaction, so the count on the
// delivery and its history never disagree.
func (t *tx) RecordDeliveryAttempt(ctx context.Context, id string, a store.DeliveryAttempt) error {
	err := execOne(ctx, t.q, qRecordAttempt, id, a.State, a.Status, a.Error, timeArg(a.At), timeArg(a.RetryAt), timeArg(a.Lease))
	if errors.Is(err, store.ErrNotFound) {
		// Either no such delivery or not under this lease: only the
		// rare second case pays for the read that tells them apart.
		switch _, rerr := t.Delivery(ctx, id); {
		case rerr == nil:
			err = store.ErrLeaseLost
		case !errors.Is(rerr, store.ErrNotFound):
			err = rerr
		}
	}
	if err != nil {
		return fmt.Errorf("record attempt on delivery %s: %w", id, err)
	}
	took := max(a.Took, 0)
	started := a.At
	if !started.IsZero() {
		started = started.Add(-took)
	}
	if _, err := exec(ctx, t.q, qAddAttempt, id, timeArg(started), took.Microseconds(), a.Status,
		store.BoundAttemptError(a.Error)); err != nil {
		return fmt.Errorf("add attempt to the history of delivery %s: %w", id, err)
	}
	return nil
}

// RetryDelivery makes a delivery pending again, due at dueAt, and wakes
// the workers as EnqueueDeliveries does.
func (t *tx) RetryDelivery(ctx context.Context, id string, at, dueAt time.Time) error {
	if err := execOne(ctx, t.q, qRetryDelivery, id, timeArg(at), timeArg(dueAt)); err != nil {
		return fmt.Errorf("retry delivery %s: %w", id, err)
	}
	return t.wakeDeliveries(ctx)
}
