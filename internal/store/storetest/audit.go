package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// auditTests cover the audit log: who changed what, when, from where.
var auditTests = []test{
	{"AuditEntriesRoundTripNewestFirst", testAuditEntriesRoundTrip},
	{"AuditEntriesPageWithTheCursor", testAuditEntriesPage},
	{"AuditEntriesFilter", testAuditEntriesFilter},
	{"AuditEntryRollsBackWithItsChange", testAuditEntryRollsBack},
	{"AuditEntryNeedsTimeActorAndAction", testAuditEntryNeedsTimeActorAndAction},
	{"SweepAuditLogDeletesTheOldestInBatches", testSweepAuditLog},
}

// auditFixture is the log the tests read: each entry a field of its own.
var auditFixture = []store.AuditEntry{
	{At: at(0), ActorKind: "cli", ActorID: "root@host", Action: "client.create", TargetKind: "client", TargetID: "app"},
	{At: at(time.Minute), ActorKind: "admin_client", ActorID: "robot", Action: "account.create", TargetKind: "account",
		TargetID: "acct-1", AccountID: "acct-1", Address: "192.0.2.7", Detail: "username alice"},
	{At: at(2 * time.Minute), ActorKind: "admin_client", ActorID: "robot", Action: "session.revoke", TargetKind: "session",
		TargetID: "s-1", AccountID: "acct-1", Address: "2001:db8::7", Detail: "receipt r-1"},
	{At: at(3 * time.Minute), ActorKind: "account", ActorID: "acct-1", Action: "grant.revoke", TargetKind: "grant",
		TargetID: "g-1", AccountID: "acct-1", Address: "198.51.100.3"},
	{At: at(4 * time.Minute), ActorKind: "admin_client", ActorID: "other-robot", Action: "client.update", TargetKind: "client",
		TargetID: "app", Address: "192.0.2.8", Detail: "secret rotated"},
	{At: at(5 * time.Minute), ActorKind: "system", Action: "account.update", TargetKind: "account", TargetID: "acct-2",
		AccountID: "acct-2", Detail: "from the configuration file"},
}

func putAuditFixture(t *testing.T, s store.Store) {
	t.Helper()
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, e := range auditFixture {
			if err := tx.AddAuditEntry(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// actions lists the actions of entries, for comparing orders; nil for
// none.
func actions(list []store.AuditEntry) []string {
	if len(list) == 0 {
		return nil
	}
	return ids(list, func(e store.AuditEntry) string { return e.Action })
}

// testAuditEntriesRoundTrip: every field comes back, newest first, with
// IDs rising with the order of writing.
func testAuditEntriesRoundTrip(t *testing.T, s store.Store) {
	putAuditFixture(t, s)
	got, err := s.AuditEntries(t.Context(), store.AuditFilter{Limit: 100})
	must(t, "audit entries", err)
	if len(got) != len(auditFixture) {
		t.Fatalf("%d entries, want %d", len(got), len(auditFixture))
	}
	for i, e := range got {
		want := auditFixture[len(auditFixture)-1-i]
		want.ID = e.ID
		equal(t, fmt.Sprintf("entry %d", i), e, want)
		if i > 0 && e.ID >= got[i-1].ID {
			t.Errorf("entry %d has ID %d, not below the newer %d", i, e.ID, got[i-1].ID)
		}
	}
}

// testAuditEntriesPage: Before resumes below the last ID of a page, and
// no entry comes twice or is skipped.
func testAuditEntriesPage(t *testing.T, s store.Store) {
	putAuditFixture(t, s)
	var got []string
	f := store.AuditFilter{Limit: 4}
	for pages := 0; ; pages++ {
		page, err := s.AuditEntries(t.Context(), f)
		must(t, "audit page", err)
		got = append(got, actions(page)...)
		if len(page) < f.Limit || pages > 10 {
			break
		}
		f.Before = page[len(page)-1].ID
	}
	equal(t, "every page", got, []string{"account.update", "client.update", "grant.revoke", "session.revoke", "account.create", "client.create"})
}

// testAuditEntriesFilter: each filter keeps the entries it names, alone
// and together, newest first.
func testAuditEntriesFilter(t *testing.T, s store.Store) {
	putAuditFixture(t, s)
	for _, c := range []struct {
		name string
		f    store.AuditFilter
		want []string
	}{
		{"actor", store.AuditFilter{ActorID: "robot"}, []string{"session.revoke", "account.create"}},
		{"actor kind", store.AuditFilter{ActorKind: "admin_client"}, []string{"client.update", "session.revoke", "account.create"}},
		{"actor kind and id", store.AuditFilter{ActorKind: "account", ActorID: "robot"}, nil},
		{"target", store.AuditFilter{TargetID: "app"}, []string{"client.update", "client.create"}},
		{"target kind", store.AuditFilter{TargetKind: "account"}, []string{"account.update", "account.create"}},
		{"account", store.AuditFilter{AccountID: "acct-1"}, []string{"grant.revoke", "session.revoke", "account.create"}},
		{"action", store.AuditFilter{Action: "client.update"}, []string{"client.update"}},
		{"since", store.AuditFilter{Since: at(3 * time.Minute)}, []string{"account.update", "client.update", "grant.revoke"}},
		{"account since", store.AuditFilter{AccountID: "acct-1", Since: at(90 * time.Second)}, []string{"grant.revoke", "session.revoke"}},
		{"actor and action", store.AuditFilter{ActorID: "robot", Action: "account.create"}, []string{"account.create"}},
		{"everything", store.AuditFilter{ActorKind: "admin_client", ActorID: "robot", TargetKind: "session", TargetID: "s-1",
			AccountID: "acct-1", Action: "session.revoke", Since: at(time.Minute)}, []string{"session.revoke"}},
		{"nothing matches", store.AuditFilter{Action: "delivery.retry"}, nil},
	} {
		c.f.Limit = 100
		got, err := s.AuditEntries(t.Context(), c.f)
		must(t, c.name, err)
		equal(t, c.name, actions(got), c.want)
	}
	// A filter pages like the whole log.
	first, err := s.AuditEntries(t.Context(), store.AuditFilter{AccountID: "acct-1", Limit: 2})
	must(t, "account page 1", err)
	rest, err := s.AuditEntries(t.Context(), store.AuditFilter{AccountID: "acct-1", Limit: 2, Before: first[len(first)-1].ID})
	must(t, "account page 2", err)
	equal(t, "account pages", append(actions(first), actions(rest)...), []string{"grant.revoke", "session.revoke", "account.create"})
}

// testAuditEntryRollsBack: an entry written in the transaction of its
// change goes with it when the change fails, so the log never claims a
// change that did not happen.
func testAuditEntryRollsBack(t *testing.T, s store.Store) {
	failed := errors.New("the change failed")
	err := inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.AddAuditEntry(ctx, auditFixture[1]); err != nil {
			return err
		}
		return failed
	})
	wantErr(t, "failed transaction", err, failed)
	got, err := s.AuditEntries(t.Context(), store.AuditFilter{Limit: 10})
	must(t, "audit entries", err)
	if len(got) != 0 {
		t.Errorf("the entry of a rolled-back change was kept: %+v", got)
	}
}

func testAuditEntryNeedsTimeActorAndAction(t *testing.T, s store.Store) {
	for name, e := range map[string]store.AuditEntry{
		"no time":   {ActorKind: "system", Action: "account.update"},
		"no actor":  {At: t0, Action: "account.update"},
		"no action": {At: t0, ActorKind: "system"},
	} {
		if err := inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.AddAuditEntry(ctx, e) }); err == nil {
			t.Errorf("an entry with %s was stored", name)
		}
	}
	if _, err := s.AuditEntries(t.Context(), store.AuditFilter{}); err == nil {
		t.Error("a list without a limit was not refused")
	}
}

// testSweepAuditLog: SweepAuditLog deletes entries written strictly before
// its time, oldest first, at most limit a call, and keeps the rest.
func testSweepAuditLog(t *testing.T, s store.Store) {
	putAuditFixture(t, s)
	cutoff := at(4 * time.Minute) // the fifth entry is exactly at it: kept
	sweepOnce := func() int64 {
		var n int64
		mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
			var err error
			n, err = tx.SweepAuditLog(ctx, cutoff, 3)
			return err
		})
		return n
	}
	left := func() []string {
		got, err := s.AuditEntries(t.Context(), store.AuditFilter{Limit: 10})
		must(t, "audit entries", err)
		return actions(got)
	}
	if n := sweepOnce(); n != 3 {
		t.Errorf("first sweep deleted %d, want 3", n)
	}
	equal(t, "after the first sweep (the oldest go first)", left(), []string{"account.update", "client.update", "grant.revoke"})
	if n := sweepOnce(); n != 1 {
		t.Errorf("second sweep deleted %d, want 1", n)
	}
	if n := sweepOnce(); n != 0 {
		t.Errorf("third sweep deleted %d, want 0", n)
	}
	equal(t, "kept", left(), []string{"account.update", "client.update"})
	for name, fn := range map[string]func(ctx context.Context, tx store.Tx) error{
		"zero time": func(ctx context.Context, tx store.Tx) error {
			_, err := tx.SweepAuditLog(ctx, time.Time{}, 3)
			return err
		},
		"no limit": func(ctx context.Context, tx store.Tx) error { _, err := tx.SweepAuditLog(ctx, cutoff, 0); return err },
	} {
		if err := inTx(t, s, fn); err == nil {
			t.Errorf("a sweep with %s was not refused", name)
		}
	}
}
