package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends wrap them with context; callers test with
// errors.Is.
var (
	// ErrNotFound means no row matched the key.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a row with that key already exists.
	ErrConflict = errors.New("conflict")
	// ErrUnavailable means the database cannot be reached (down, cut off,
	// restarting): nothing was done, and the same call may work later.
	// Callers answer 503.
	ErrUnavailable = errors.New("database unavailable")
	// ErrAlreadyUsed means a single-use record (authorization code,
	// refresh token) was consumed before; the caller applies the reuse rule.
	ErrAlreadyUsed = errors.New("already used")
	// ErrLeaseLost means a delivery no longer holds the lease an attempt
	// took it under: that attempt's outcome was recorded already (a
	// commit that succeeded but reported an error, then recorded again),
	// or the lease ended and another attempt leased the delivery since.
	// Nothing was changed.
	ErrLeaseLost = errors.New("lease no longer held")
)

// Store is the whole persistence seam. Reads on Store see committed data;
// writes happen only inside InTx.
type Store interface {
	Reader

	// InTx runs fn in one write transaction and commits it, as durably as
	// d says, when fn returns nil. Writers are serialised as the database
	// must (SQLite has one writer connection), so fn should not sign, hash
	// or wait on the network.
	InTx(ctx context.Context, d Durability, fn func(tx Tx) error) error

	// Primary is the Reader for a read that a write transaction of the
	// same request builds on (the refresh token a refresh rotates): on
	// SQLite it reads through the writer's connection, whose cache holds
	// what the last writes touched, where a reader connection must read
	// every page again after any write. It sees committed data only.
	Primary() Reader

	// Ping reports whether the database answers.
	Ping(ctx context.Context) error

	// Close releases every connection.
	Close() error

	changeWatcher
}

// Durability is how a transaction's commit survives a power cut. The
// caller names it when it opens the transaction, by what the transaction
// does (design §2); SQLite cannot change it inside one.
type Durability int

const (
	// Durable: the commit is on disk before InTx returns (SQLite
	// synchronous=FULL, PostgreSQL synchronous_commit=on). For every
	// transaction that removes access: a sign-out, the sign-in that
	// replaces another account's session, a revocation, reuse detection,
	// a password change, an admin action. The zero value, so a
	// transaction that forgets to say is safe.
	Durable Durability = iota
	// Routine: the commit survives a crash of the process but may be lost
	// with the last instants before a power cut (SQLite
	// synchronous=NORMAL, PostgreSQL synchronous_commit=off). For work
	// that adds or refreshes access: issuing a code, rotating a refresh
	// token, touching a session. The durability key's value strict makes
	// these durable too.
	Routine
)

// Tx is a write transaction. Reads inside it see its own writes.
type Tx interface {
	Reader
	Writer
}

// Reader holds the lookups the domain needs.
type Reader interface {
	signoutReader
	eventReader
	auditReader
	throttleReader
	resourceReader
	roleHolderReader
	counterReader
	receiptListReader
	attemptReader

	Account(ctx context.Context, id string) (Account, error)
	AccountByUsername(ctx context.Context, username string) (Account, error)
	// SearchAccounts lists a page of accounts in username order (code
	// point order, the same on every database), those q selects, after
	// q.After.
	SearchAccounts(ctx context.Context, q AccountSearch) ([]Account, error)

	Client(ctx context.Context, id string) (Client, error)
	Clients(ctx context.Context) ([]Client, error)

	// Session returns the session with its Authorizations.
	Session(ctx context.Context, id string) (Session, error)
	// SessionByCookie finds a session by the SHA-256 of its cookie value.
	SessionByCookie(ctx context.Context, cookieHash []byte) (Session, error)
	// SessionsByAccount lists every session of one account, newest first.
	SessionsByAccount(ctx context.Context, accountID string) ([]Session, error)

	Grant(ctx context.Context, id string) (Grant, error)
	// Grants reads the grants of ids that exist, revoked or not, in no
	// particular order: a sign-out reads its session's grants in one
	// statement.
	Grants(ctx context.Context, ids []string) ([]Grant, error)
	// GrantsByAccount lists an account's grants, revoked ones included.
	GrantsByAccount(ctx context.Context, accountID string) ([]Grant, error)
	// LiveGrants lists an account's grants for one client that are neither
	// revoked nor expired at now, oldest first.
	LiveGrants(ctx context.Context, accountID, clientID string, now time.Time) ([]Grant, error)

	AuthRequest(ctx context.Context, id string) (AuthRequest, error)

	AccessToken(ctx context.Context, hash []byte) (AccessToken, error)
	// AccessTokenGrant reads an access token with its grant in one query
	// (userinfo, introspection); a token without its grant is ErrNotFound.
	AccessTokenGrant(ctx context.Context, hash []byte) (AccessToken, Grant, error)
	RefreshToken(ctx context.Context, hash []byte) (RefreshToken, error)
	// RefreshTokenGrant reads a refresh token with its grant in one query
	// (a refresh checks both); a token without its grant is ErrNotFound.
	RefreshTokenGrant(ctx context.Context, hash []byte) (RefreshToken, Grant, error)

	// SigningKeys lists every stored key, oldest first.
	SigningKeys(ctx context.Context) ([]SigningKey, error)
}

// Writer holds the changes the domain makes, always inside a Tx.
type Writer interface {
	signoutWriter
	clientGrantWriter
	eventWriter
	auditWriter
	throttleWriter
	resourceWriter
	counterWriter
	locker

	// UpsertAccount creates the account or replaces every field but ID and
	// CreatedAt. Username is unique: another account's name is ErrConflict.
	UpsertAccount(ctx context.Context, a Account) error
	// UpsertClient creates the client or replaces every field but
	// CreatedAt. It and DeleteClient report a ChangeClient to watchers
	// once committed; CreateSigningKey a ChangeKeys.
	UpsertClient(ctx context.Context, c Client) error
	// CreateClient stores a new client, as UpsertClient does; a client of
	// its id, stored first by a concurrent transaction included, is
	// ErrConflict and stays as it was.
	CreateClient(ctx context.Context, c Client) error
	// DeleteClient removes a client and revokes its grants at at, so its
	// tokens stop working at once (G2); it reports whether it existed.
	DeleteClient(ctx context.Context, id string, at time.Time) (bool, error)

	// CreateSession stores s. It and TouchSession keep ExpiresAt at most
	// MaxExpiresAt, so the sweeper finds every dead session by ExpiresAt.
	CreateSession(ctx context.Context, s Session) error
	// TouchSession records use of a session: LastSeenAt and ExpiresAt.
	TouchSession(ctx context.Context, id string, lastSeen, expiresAt time.Time) error
	// DeleteSession removes the session and its Authorizations. It
	// reports whether this call deleted it: of concurrent sign-outs of one
	// session only one deletes it, and only that one may act on it.
	DeleteSession(ctx context.Context, id string) (bool, error)
	// PutAuthorization creates or replaces the session's Authorization for
	// a.ClientID.
	PutAuthorization(ctx context.Context, a Authorization) error
	DeleteAuthorization(ctx context.Context, sessionID, clientID string) error

	CreateGrant(ctx context.Context, g Grant) error
	// UpdateGrantScopes replaces the granted scopes (consent to more).
	UpdateGrantScopes(ctx context.Context, id string, scopes []string) error
	// RevokeGrant sets RevokedAt and the reason, unless already revoked.
	// It reports whether this call revoked it.
	RevokeGrant(ctx context.Context, id string, at time.Time, reason RevokeReason) (bool, error)
	// RevokeGrants revokes, as RevokeGrant does, each grant of ids not yet
	// revoked, in one statement; ids of no grant are passed over.
	RevokeGrants(ctx context.Context, ids []string, at time.Time, reason RevokeReason) error

	CreateAuthRequest(ctx context.Context, r AuthRequest) error
	// UpdateAuthRequest stores the sign-in outcome of an interaction.
	UpdateAuthRequest(ctx context.Context, r AuthRequest) error
	DeleteAuthRequest(ctx context.Context, id string) error

	// UseAuthCode records that the authorization code with this hash,
	// valid until expiresAt, was redeemed: codes are sealed into their
	// value and stored only once used (design §2). A code recorded before
	// is ErrAlreadyUsed; only one of many concurrent calls succeeds.
	UseAuthCode(ctx context.Context, hash []byte, expiresAt time.Time) error

	CreateAccessToken(ctx context.Context, t AccessToken) error
	// RevokeAccessToken marks one access token revoked.
	RevokeAccessToken(ctx context.Context, hash []byte, at time.Time) error

	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// ConsumeRefreshToken marks the token used (rotated) at at; a token
	// used before is ErrAlreadyUsed, and one that does not exist
	// ErrNotFound. Only one of many concurrent calls succeeds.
	ConsumeRefreshToken(ctx context.Context, hash []byte, at time.Time) error
	// RevokeRefreshToken marks one refresh token revoked.
	RevokeRefreshToken(ctx context.Context, hash []byte, at time.Time) error

	CreateSigningKey(ctx context.Context, k SigningKey) error

	// Sweep deletes at most limit rows that expired before now: sessions,
	// auth requests, used codes, tokens, JWT access token records, grants,
	// throttle keys and logout requests past their ExpiresAt; and
	// receipts, finished deliveries and events older than retention
	// (audit_retention); and hourly counters older than CounterRetention.
	// It returns how many rows went; fewer than limit means nothing more
	// is due.
	Sweep(ctx context.Context, now time.Time, retention time.Duration, limit int) (int64, error)
}
