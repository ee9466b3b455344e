package audit_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/store/sql/sqltest"
)

var t0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func open(t *testing.T) (store.Store, audit.Recorder) {
	t.Helper()
	s := sqltest.Open(t)
	return s, audit.Recorder{Store: s, Now: func() time.Time { return t0 }}
}

func all(t *testing.T, s store.Store) []audit.Entry {
	t.Helper()
	list, err := audit.List(t.Context(), s, audit.Filter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// An entry written with its change goes with the change when that fails:
// the log never claims what did not happen.
func TestAnEntryRollsBackWithItsChange(t *testing.T) {
	s, rec := open(t)
	failed := errors.New("the change failed")
	err := s.InTx(t.Context(), store.Durable, func(tx store.Tx) error {
		e := audit.Entry{Actor: audit.ByAdminClient("robot"), Action: audit.ClientDelete, Target: audit.OnClient("app")}
		if err := rec.InTx(t.Context(), tx, e); err != nil {
			return err
		}
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("transaction: %v", err)
	}
	if got := all(t, s); len(got) != 0 {
		t.Errorf("the entry of a rolled-back change was kept: %+v", got)
	}
}

// After records in a transaction of its own, dated by the Recorder's
// clock, and the entry reads back field for field.
func TestAfterRecordsAndListReadsBack(t *testing.T) {
	s, rec := open(t)
	want := audit.Entry{Actor: audit.ByAdminClient("robot"), Action: audit.SessionRevoke, Target: audit.OnSession("s-1"),
		Account: "acct-1", Address: "2001:db8::1", Detail: "receipt r-1"}
	if err := rec.After(t.Context(), want); err != nil {
		t.Fatal(err)
	}
	got := all(t, s)
	if len(got) != 1 {
		t.Fatalf("%d entries", len(got))
	}
	want.ID, want.At = got[0].ID, t0
	if got[0] != want {
		t.Errorf("read back\n got  %+v\n want %+v", got[0], want)
	}
	// A time the caller gives is kept.
	later := t0.Add(time.Hour)
	if err := rec.After(t.Context(), audit.Entry{At: later, Actor: audit.BySystem(), Action: audit.AccountUpdate,
		Target: audit.OnAccount("acct-2"), Account: "acct-2"}); err != nil {
		t.Fatal(err)
	}
	if got := all(t, s); len(got) != 2 || !got[0].At.Equal(later) || got[0].Actor != audit.BySystem() {
		t.Errorf("newest entry %+v", got[0])
	}
}

// An entry names a known actor, action and target, an IP address or
// none, and a time: anything else is refused before it reaches the
// store, and the change with it.
func TestInvalidEntriesAreRefused(t *testing.T) {
	s, rec := open(t)
	ok := audit.Entry{Actor: audit.ByAccount("acct-1"), Action: audit.GrantRevoke, Target: audit.OnGrant("g"), Address: "192.0.2.1"}
	for name, edit := range map[string]func(e *audit.Entry){
		"an unknown actor kind":   func(e *audit.Entry) { e.Actor.Kind = "robot" },
		"an actor without an id":  func(e *audit.Entry) { e.Actor = audit.ByAdminClient("") },
		"an unknown action":       func(e *audit.Entry) { e.Action = "grant.delete" },
		"no action":               func(e *audit.Entry) { e.Action = "" },
		"an unknown target kind":  func(e *audit.Entry) { e.Target.Kind = "token" },
		"a target id with a kind": func(e *audit.Entry) { e.Target.Kind = "" },
		"an address with a port":  func(e *audit.Entry) { e.Address = "192.0.2.1:443" },
		"a host name":             func(e *audit.Entry) { e.Address = "evil.example" },
	} {
		e := ok
		edit(&e)
		err := s.InTx(t.Context(), store.Durable, func(tx store.Tx) error { return rec.InTx(t.Context(), tx, e) })
		if !errors.Is(err, audit.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	noClock := audit.Recorder{Store: s, Now: func() time.Time { return time.Time{} }}
	if err := noClock.After(t.Context(), ok); !errors.Is(err, audit.ErrInvalid) {
		t.Errorf("no time: %v, want ErrInvalid", err)
	}
	if got := all(t, s); len(got) != 0 {
		t.Errorf("refused entries were stored: %+v", got)
	}
	// The system needs no id, and a target may be absent.
	if err := rec.After(t.Context(), audit.Entry{Actor: audit.BySystem(), Action: audit.AccountUpdate}); err != nil {
		t.Errorf("system entry without target: %v", err)
	}
}

// Detail is one line of printable text of at most MaxDetail bytes, cut at
// a character boundary: nothing written into it can pass for another
// entry or break a reader's terminal.
func TestDetailIsOneShortLine(t *testing.T) {
	s, rec := open(t)
	long := strings.Repeat("é", audit.MaxDetail) // two bytes each
	for _, detail := range []string{"fields: email\nfake entry", "bell\a and escape \x1b[31m", long, "bad \xff utf-8"} {
		if err := rec.After(t.Context(), audit.Entry{Actor: audit.BySystem(), Action: audit.AccountUpdate, Detail: detail}); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range all(t, s) {
		d := e.Detail
		if len(d) > audit.MaxDetail || !utf8.ValidString(d) || strings.ContainsAny(d, "\n\a\x1b") {
			t.Errorf("detail %q", d)
		}
	}
	got := all(t, s)
	if !strings.HasPrefix(got[0].Detail, "bad ") || got[1].Detail != strings.Repeat("é", (audit.MaxDetail-3)/2)+"…" {
		t.Errorf("details %q, %q", got[0].Detail, got[1].Detail)
	}
	if got[3].Detail != "fields: email fake entry" {
		t.Errorf("detail with a newline: %q", got[3].Detail)
	}
}

// List passes each filter to the store: one entry per filter here.
func TestListFilters(t *testing.T) {
	s, rec := open(t)
	ctx := context.Background()
	entries := []audit.Entry{
		{Actor: audit.ByAdminClient("robot"), Action: audit.AccountCreate, Target: audit.OnAccount("a1"), Account: "a1"},
		{Actor: audit.ByCLI("root@host"), Action: audit.ClientCreate, Target: audit.OnClient("app")},
		{At: t0.Add(time.Hour), Actor: audit.ByAccount("a2"), Action: audit.GrantRevoke, Target: audit.OnGrant("g"), Account: "a2"},
	}
	for _, e := range entries {
		if err := rec.After(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for name, c := range map[string]struct {
		f    audit.Filter
		want audit.Action
	}{
		"actor":       {audit.Filter{Actor: audit.ByCLI("root@host")}, audit.ClientCreate},
		"actor kind":  {audit.Filter{Actor: audit.Actor{Kind: audit.ActorAdminClient}}, audit.AccountCreate},
		"target":      {audit.Filter{Target: audit.OnClient("app")}, audit.ClientCreate},
		"target kind": {audit.Filter{Target: audit.Target{Kind: audit.TargetGrant}}, audit.GrantRevoke},
		"account":     {audit.Filter{Account: "a1"}, audit.AccountCreate},
		"action":      {audit.Filter{Action: audit.GrantRevoke}, audit.GrantRevoke},
		"since":       {audit.Filter{Since: t0.Add(time.Minute)}, audit.GrantRevoke},
	} {
		c.f.Limit = 10
		got, err := audit.List(ctx, s, c.f)
		if err != nil || len(got) != 1 || got[0].Action != c.want {
			t.Errorf("%s: %+v %v, want one %s", name, got, err, c.want)
		}
	}
	if _, err := audit.List(ctx, s, audit.Filter{}); err == nil {
		t.Error("a list without a limit was not refused")
	}
}

func TestFieldsNamesFieldsOnly(t *testing.T) {
	if got := audit.Fields("email", "name"); got != "fields: email, name" {
		t.Errorf("Fields: %q", got)
	}
	if got := audit.Fields(); got != "" {
		t.Errorf("Fields(): %q", got)
	}
}
