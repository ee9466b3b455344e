package store

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// LogoutRequest is an end-session request waiting on its confirm page
// (design O3). It is found by the hash of the page's xsrf token, and only
// the latest one of a session can be confirmed.
type LogoutRequest struct {
	XSRFHash []byte
	// SessionID is the session the page was shown for; empty when the
	// browser had none (signing out twice is not an error).
	SessionID             string
	ClientID              string
	PostLogoutRedirectURI string
	State                 string
	UILocales             string
	CreatedAt             time.Time
	ExpiresAt             time.Time
}

// Receipt records what one sign-out did (design O9).
type Receipt struct {
	ID string
	// Scope is app, browser or all_devices (package signout).
	Scope string
	// Cause says what started it: end_session, account_switch, admin...
	Cause     string
	SessionID string
	AccountID string
	// ClientID is the client that asked, if any.
	ClientID  string
	Outcomes  []ReceiptOutcome
	CreatedAt time.Time
}

// ReceiptOutcome is what a sign-out did to one app of the session.
type ReceiptOutcome struct {
	ClientID string `json:"client_id"`
	SID      string `json:"sid"`
	GrantID  string `json:"grant_id"`
	// Revoked is true when the grant was revoked; otherwise Kept says why
	// it survived (offline_access).
	Revoked bool   `json:"revoked"`
	Kept    string `json:"kept,omitempty"`
	// DeliveryID names the back-channel delivery queued, if any.
	DeliveryID string `json:"delivery_id,omitempty"`
}

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// Delivery is one back-channel logout notification to one app (design
// B1-B3). Its ID is the logout token's jti.
type Delivery struct {
	ID        string
	ReceiptID string
	ClientID  string
	URI       string
	// Subject and SID are the sub and sid the logout token names.
	Subject string
	SID     string
	State   string
	// Attempts counts the attempts made so far.
	Attempts   int
	LastStatus int
	LastError  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// DeliveredAt is set when the app accepted the token.
	DeliveredAt time.Time
	// LeaseUntil is when the attempt that holds the delivery gives it up:
	// one attempt at a time, whichever instance or path makes it.
	LeaseUntil time.Time
}

// DeliveryAttempt is the outcome of one attempt.
type DeliveryAttempt struct {
	At     time.Time
	State  string // pending (will retry), delivered, failed
	Status int    // HTTP status, 0 when there was no answer
	Error  string
}

// DeliveryJob is the durable job that delivers one Delivery. It lives in
// the store's own database (River), written in the same transaction as
// the sign-out that caused it, so no crash loses it (design B3).
type DeliveryJob struct {
	DeliveryID string `json:"delivery_id"`
}

// Kind names the job for River.
func (DeliveryJob) Kind() string { return "backchannel_logout" }

// PendingJob is a delivery job a transaction inserts just before it
// commits: the backends gather a transaction's jobs and insert them in one
// batch (a sign-out of four apps makes one insert, not four).
type PendingJob struct {
	DeliveryID string
	RunAt      time.Time
}

// MaxJobAttempts bounds River's own count. Retries are snoozes, which
// River does not count; this only stops a job that keeps failing for
// another reason.
const MaxJobAttempts = 1000

// JobInserts are River's batch-insert parameters for pending jobs. A job
// due now is inserted available, so workers take it at their next fetch
// (on PostgreSQL, River's NOTIFY at commit wakes them at once); given a
// ScheduledAt, River would insert it "scheduled", and only the leader's
// scheduler, every few seconds, would release it. A job due later is
// scheduled.
func JobInserts(pending []PendingJob, now time.Time) []river.InsertManyParams {
	params := make([]river.InsertManyParams, len(pending))
	for i, p := range pending {
		opts := &river.InsertOpts{MaxAttempts: MaxJobAttempts, Queue: river.QueueDefault}
		if p.RunAt.After(now) {
			opts.ScheduledAt = p.RunAt
		}
		params[i] = river.InsertManyParams{Args: DeliveryJob{DeliveryID: p.DeliveryID}, InsertOpts: opts}
	}
	return params
}

// Jobs runs the durable job workers on the store's database.
type Jobs interface {
	// StartJobs starts a River client with cfg (its Workers, queues, retry
	// policy) on this database. Stop it with the returned function.
	StartJobs(ctx context.Context, cfg *river.Config) (stop func(context.Context) error, err error)
}

// signoutReader holds the sign-out lookups; Reader embeds it.
type signoutReader interface {
	LogoutRequest(ctx context.Context, xsrfHash []byte) (LogoutRequest, error)
	Receipt(ctx context.Context, id string) (Receipt, error)
	// ReceiptsByAccount lists an account's receipts, newest first.
	ReceiptsByAccount(ctx context.Context, accountID string, limit int) ([]Receipt, error)
	Delivery(ctx context.Context, id string) (Delivery, error)
	// DeliveriesByReceipt lists a sign-out's deliveries, oldest first.
	DeliveriesByReceipt(ctx context.Context, receiptID string) ([]Delivery, error)
	// DeliveriesByClient lists a client's deliveries in state (any when
	// empty), newest first.
	DeliveriesByClient(ctx context.Context, clientID, state string, limit int) ([]Delivery, error)
}

// signoutWriter holds the sign-out changes; Writer embeds it.
type signoutWriter interface {
	// CreateLogoutRequest stores r and drops any other request of the same
	// (non-empty) session, so only the latest page confirms (O3).
	CreateLogoutRequest(ctx context.Context, r LogoutRequest) error
	// DeleteLogoutRequest removes a request and reports whether this call
	// did: a confirm page is answered once.
	DeleteLogoutRequest(ctx context.Context, xsrfHash []byte) (bool, error)
	CreateReceipt(ctx context.Context, r Receipt) error
	// EnqueueDelivery stores d (state pending) and its DeliveryJob,
	// scheduled at runAt, in this transaction.
	EnqueueDelivery(ctx context.Context, d Delivery, runAt time.Time) error
	// LeaseDelivery takes a pending delivery for one attempt until until.
	// It reports false when the delivery is not pending or another attempt
	// holds it.
	LeaseDelivery(ctx context.Context, id string, now, until time.Time) (Delivery, bool, error)
	// RecordDeliveryAttempt adds one attempt's outcome and releases the
	// lease.
	RecordDeliveryAttempt(ctx context.Context, id string, a DeliveryAttempt) error
	// RetryDelivery makes a delivery pending again with a new job at runAt
	// (an admin's "retry now"); ErrNotFound if unknown.
	RetryDelivery(ctx context.Context, id string, at, runAt time.Time) error
}
