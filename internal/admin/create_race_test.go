package admin_test

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/admin"
	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/secret"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
)

// C1: of requests creating one client at the same moment (two admins, or
// a retried request), exactly one creates it and learns its secret; the
// others are told it exists, and none replaces it, so the secret shown
// is the one stored. The client and its audit entry commit together.
func TestConcurrentCreatesOfOneClientHaveOneWinner(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		clients := &admin.Clients{Store: s.Store, Registry: s.Clients, Now: time.Now, Logger: slog.New(slog.DiscardHandler)}
		const racers = 8
		secrets := make([]string, racers)
		errs := make([]error, racers)
		sesametest.AtOnce(racers, func(i int) {
			_, secrets[i], errs[i] = clients.Create(t.Context(), admin.Caller{Actor: audit.ByAdminClient(sesametest.Robot), Address: "192.0.2.1"}, client.Spec{ID: "svc", Type: client.TypeM2M})
		})
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner < 0:
				winner = i
			case err == nil:
				t.Fatalf("racers %d and %d both created the client", winner, i)
			case !errors.Is(err, admin.ErrExists):
				t.Errorf("racer %d: %v, want ErrExists", i, err)
			}
		}
		if winner < 0 {
			t.Fatal("no racer created the client")
		}
		stored, err := s.Store.Client(t.Context(), "svc")
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := secret.Verify(stored.SecretHash, secrets[winner]); !ok || err != nil {
			t.Errorf("the stored client does not take the secret its creator was shown: %v %v", ok, err)
		}
		entries, err := s.Store.AuditEntries(t.Context(), store.AuditFilter{Action: string(audit.ClientCreate), TargetID: "svc", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 {
			t.Errorf("%d client.create entries for svc, want 1", len(entries))
		}
	})
}
