package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/sesametest"
)

// C5: a client stored with the deprecated admin flag (through the admin
// API, or by an earlier configuration file) is warned about at start
// like a declared one, and still holds admin; a client without the flag
// is not named.
func TestStoredAdminFlagIsWarnedAbout(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		for _, c := range []client.Spec{
			{ID: "stored-admin", Name: "Stored admin", Type: client.TypeM2M, Secret: sesametest.Secret, Admin: true},
			{ID: "stored-plain", Name: "Stored plain", Type: client.TypeM2M, Secret: sesametest.Secret},
		} {
			if _, err := s.Clients.Upsert(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		s.Logger = slog.New(slog.NewTextHandler(&buf, nil))
		if err := s.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		const warned = `msg="a client's admin flag is deprecated: give the client roles: [admin]" client_id=`
		if !strings.Contains(buf.String(), warned+"stored-admin\n") {
			t.Errorf("no warning names the stored client with the admin flag:\n%s", buf.String())
		}
		if strings.Contains(buf.String(), warned+"stored-plain") {
			t.Errorf("a client without the flag was warned about:\n%s", buf.String())
		}
		c, err := s.Clients.Get(ctx, "stored-admin")
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := client.HoldsAdmin(ctx, c, s.Config.AdminClients, s.Resources); !ok || err != nil {
			t.Errorf("HoldsAdmin(stored-admin) = %v, %v; the flag still gives admin", ok, err)
		}
	})
}
