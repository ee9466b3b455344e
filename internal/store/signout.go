package store

import (
	"context"
	"time"
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

// SignOutCause says what started a sign-out: end-session, an account
// switch, an admin, the account page, a client's device limit...
type SignOutCause string

// Receipt records what one sign-out did (design O9).
type Receipt struct {
	ID string
	// Scope is app, browser or all_devices (package signout).
	Scope string
	// Cause says what started it (package signout names them).
	Cause     SignOutCause
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
	// FrontchannelURI is the client's frontchannel_logout_uri when the
	// sign-out's last page loads it in an iframe, with iss and this
	// outcome's SID (F2); empty when no page of this sign-out loads one
	// (no such URI, or a sign-out without the person's browser: an admin,
	// a password reset, another device).
	FrontchannelURI string `json:"frontchannel_uri,omitempty"`
}

// DeliveryState is where a delivery stands.
type DeliveryState string

// Delivery states.
const (
	// DeliveryPending: not yet accepted; due again at DueAt.
	DeliveryPending DeliveryState = "pending"
	// DeliveryDelivered: the app answered 200 or 204.
	DeliveryDelivered DeliveryState = "delivered"
	// DeliveryFailed: the app rejected the token, or 24 hours passed.
	DeliveryFailed DeliveryState = "failed"
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
	State   DeliveryState
	// Attempts counts the attempts made so far.
	Attempts   int
	LastStatus int
	LastError  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// DeliveredAt is set when the app accepted the token.
	DeliveredAt time.Time
	// DueAt is when the next attempt is due, while pending.
	DueAt time.Time
	// LeaseUntil is when the attempt that holds the delivery gives it up:
	// one attempt at a time, whichever instance or path makes it. A
	// crashed instance's lease simply ends, and the delivery is claimed
	// again.
	LeaseUntil time.Time
}

// DeliveryAttempt is the outcome of one attempt.
type DeliveryAttempt struct {
	At    time.Time
	State DeliveryState // pending (will retry at RetryAt), delivered, failed
	// RetryAt is when a pending delivery is due again.
	RetryAt time.Time
	Status  int // HTTP status, 0 when there was no answer
	Error   string
	// Took is how long the exchange with the app took (zero when there
	// was none): the attempt started at At - Took. RecordDeliveryAttempt
	// keeps it in the attempt's row of the delivery's history.
	Took time.Duration
	// Lease is the delivery's LeaseUntil when the attempt took it (zero
	// for a delivery never leased): the outcome is recorded only while
	// the delivery still holds that lease, so it is recorded once, and
	// never over an attempt that leased the delivery since.
	Lease time.Time
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
	// DeliveryCountsByReceipts counts the deliveries of each of the
	// receipts in each state, by receipt id then state, in a few
	// statements however many receipts a page lists, without reading the
	// deliveries themselves. A receipt without deliveries (or unknown) has
	// no entry, and a state none of a receipt's deliveries is in has none
	// in its map: either reads as zero.
	DeliveryCountsByReceipts(ctx context.Context, receiptIDs []string) (map[string]map[DeliveryState]int, error)
	// DeliveriesByClient lists a client's deliveries in state (any when
	// empty), newest first.
	DeliveriesByClient(ctx context.Context, clientID string, state DeliveryState, limit int) ([]Delivery, error)
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
	// EnqueueDeliveries stores ds, pending and due at their DueAt, in
	// this transaction: the deliveries table is the queue (B3). A
	// sign-out's deliveries go in one call, which a backend may write in
	// one statement where a statement costs a round trip. Once
	// committed, one already due wakes the delivery workers of every
	// instance. A zero DueAt is due at any time. A LeaseUntil is a lease
	// held from the start (the caller's own first attempt): neither a
	// claim nor LeaseDelivery takes the delivery before it ends. An id
	// already taken is ErrConflict, and the transaction must then be
	// rolled back (the other deliveries of the call may be stored).
	EnqueueDeliveries(ctx context.Context, ds ...Delivery) error
	// LeaseDelivery takes a pending delivery for one attempt until until.
	// It reports false when the delivery is not pending or another attempt
	// holds it.
	LeaseDelivery(ctx context.Context, id string, now, until time.Time) (Delivery, bool, error)
	// ClaimDeliveries leases up to limit pending deliveries that are due
	// at now and not held by another attempt, until until, oldest due
	// first (one without a due time before any other). Concurrent claimers on other instances never get the same
	// delivery (PostgreSQL: FOR UPDATE SKIP LOCKED).
	ClaimDeliveries(ctx context.Context, now, until time.Time, limit int) ([]Delivery, error)
	// RecordDeliveryAttempt adds one attempt's outcome and releases the
	// lease; a pending outcome is due again at a.RetryAt. The attempt
	// also joins the delivery's history (DeliveryAttempts) in this
	// transaction, numbered after the attempts before it, its error cut
	// to MaxAttemptError bytes. It does so only while the delivery holds
	// a.Lease; else it changes nothing and reports ErrLeaseLost
	// (ErrNotFound for an unknown delivery).
	RecordDeliveryAttempt(ctx context.Context, id string, a DeliveryAttempt) error
	// RetryDelivery makes a delivery pending again, due at dueAt (an
	// admin's "retry now"); ErrNotFound if unknown.
	RetryDelivery(ctx context.Context, id string, at, dueAt time.Time) error
}
