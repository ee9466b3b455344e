package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// Recorder writes entries to the log, dated by its clock.
type Recorder struct {
	Store store.Store
	Now   func() time.Time
}

// InTx records e inside tx, the transaction of the change it describes:
// if the change is rolled back, so is the entry. An invalid entry is an
// error wrapping ErrInvalid, and the caller's transaction should fail
// with it: a change the log cannot record is not made.
func (r Recorder) InTx(ctx context.Context, tx store.Tx, e Entry) error {
	if e.At.IsZero() {
		e.At = r.Now()
	}
	e, err := check(e)
	if err != nil {
		return err
	}
	if err := tx.AddAuditEntry(ctx, toStore(e)); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// After records e in a transaction of its own, for a change that another
// package committed in its own transaction (a sign-out, a client's
// registration). The change stands whatever happens here: the caller
// logs a failure and still reports the change done.
func (r Recorder) After(ctx context.Context, e Entry) error {
	if e.At.IsZero() {
		e.At = r.Now()
	}
	// The change is committed: a request cancelled now must not lose its
	// entry.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	// Durable: the entry of an admin action is kept as the action is
	// (design §2, durability).
	return r.Store.InTx(ctx, store.Durable, func(tx store.Tx) error { return r.InTx(ctx, tx, e) })
}

// Filter selects entries; empty fields select everything.
type Filter struct {
	Actor   Actor
	Target  Target
	Account string
	Action  Action
	// Since keeps entries made at or after it.
	Since time.Time
	// Before is the cursor: only entries with an ID below it (a page's
	// last ID); 0 starts at the newest.
	Before int64
	// Limit is how many at most, 1 or more.
	Limit int
}

// List reads the entries f selects, newest first.
func List(ctx context.Context, r store.Reader, f Filter) ([]Entry, error) {
	if f.Limit < 1 {
		return nil, errors.New("list audit entries: the limit must be positive")
	}
	list, err := r.AuditEntries(ctx, store.AuditFilter{
		ActorKind: string(f.Actor.Kind), ActorID: f.Actor.ID, TargetKind: string(f.Target.Kind), TargetID: f.Target.ID,
		AccountID: f.Account, Action: string(f.Action), Since: f.Since, Before: f.Before, Limit: f.Limit,
	})
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	out := make([]Entry, 0, len(list))
	for _, e := range list {
		out = append(out, fromStore(e))
	}
	return out, nil
}

func toStore(e Entry) store.AuditEntry {
	return store.AuditEntry{At: e.At, ActorKind: string(e.Actor.Kind), ActorID: e.Actor.ID, Action: string(e.Action),
		TargetKind: string(e.Target.Kind), TargetID: e.Target.ID, AccountID: e.Account, Address: e.Address, Detail: e.Detail}
}

func fromStore(e store.AuditEntry) Entry {
	return Entry{ID: e.ID, At: e.At, Actor: Actor{Kind: ActorKind(e.ActorKind), ID: e.ActorID}, Action: Action(e.Action),
		Target: Target{Kind: TargetKind(e.TargetKind), ID: e.TargetID}, Account: e.AccountID, Address: e.Address, Detail: e.Detail}
}
