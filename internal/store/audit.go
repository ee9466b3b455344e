package store

import (
	"context"
	"time"
)

// AuditEntry is one line of the audit log: who changed what, when and from
// where (package audit owns its vocabulary and the rule that no secret
// enters it). Unlike an Event, which Sesame writes about what happens to
// people (a sign-in, a refresh-token reuse), an entry records a change
// someone made on purpose: an admin, an account holder, an operator at the
// CLI, or Sesame itself. ID orders entries and is the pagination cursor.
type AuditEntry struct {
	ID int64
	At time.Time
	// ActorKind and ActorID name who made the change (an admin client and
	// its id, an account and its id, the CLI and its user, the system).
	ActorKind string
	ActorID   string
	// Action is what was done, e.g. "account.update".
	Action string
	// TargetKind and TargetID name what it was done to.
	TargetKind string
	TargetID   string
	// AccountID is the account the change concerns, when there is one
	// (the owner of a revoked session or grant), so that everything done
	// to one account can be listed whatever the target.
	AccountID string
	// Address is the client address the change came from; empty when it
	// came from no network (the CLI, the system).
	Address string
	// Detail is a short, secret-free description: field names, counts,
	// receipt ids.
	Detail string
}

// AuditFilter selects audit entries, newest first. Empty fields select
// everything.
type AuditFilter struct {
	ActorKind  string
	ActorID    string
	TargetKind string
	TargetID   string
	AccountID  string
	Action     string
	// Since keeps entries at or after it.
	Since time.Time
	// Before is the cursor: only entries with an ID below it (all when 0).
	Before int64
	// Limit is how many at most; it must be positive.
	Limit int
}

// auditReader reads the audit log; Reader embeds it.
type auditReader interface {
	// AuditEntries lists the entries f selects, newest (highest ID)
	// first, at most f.Limit.
	AuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}

// auditWriter writes and sweeps the audit log; Writer embeds it.
type auditWriter interface {
	// AddAuditEntry appends e, in the transaction of the change it
	// records when there is one; ID is assigned by the store. A zero At,
	// or no ActorKind or Action, is refused.
	AddAuditEntry(ctx context.Context, e AuditEntry) error
	// SweepAuditLog deletes at most limit entries written strictly before
	// before, oldest first, and returns how many went; fewer than limit
	// means nothing more is due. The Sweeper calls it with its
	// AuditRetention.
	SweepAuditLog(ctx context.Context, before time.Time, limit int) (int64, error)
}
