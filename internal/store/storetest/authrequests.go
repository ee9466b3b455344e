package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

var authRequestTests = []test{
	{"UpdateAuthRequestReplacesAllButCreatedAt", testUpdateAuthRequestReplacesAllButCreatedAt},
	{"DeleteAuthRequestRemovesIt", testDeleteAuthRequestRemovesIt},
}

// testUpdateAuthRequestReplacesAllButCreatedAt: the sign-in outcome (who
// signed in, in which session, what is left to ask) is stored on the
// request.
func testUpdateAuthRequestReplacesAllButCreatedAt(t *testing.T, s store.Store) {
	before := store.AuthRequest{
		ID: "r1", ClientID: "app", BrowserHash: hash("browser"), Prompt: "login",
		Params:    store.AuthParams{RedirectURI: "https://app.example/cb", Scopes: []string{"openid"}, MaxAge: -1},
		CreatedAt: t0, ExpiresAt: at(10 * time.Minute),
	}
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "r1", tx.CreateAuthRequest(ctx, before))
		return tx.CreateAuthRequest(ctx, fullAuthRequest("r2"))
	})
	after := fullAuthRequest("r1")
	after.CreatedAt = at(time.Minute)
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateAuthRequest(ctx, after) })

	want := after
	want.CreatedAt = before.CreatedAt
	got, err := s.AuthRequest(t.Context(), "r1")
	must(t, "read", err)
	equal(t, "updated request", got, want)
	other, err := s.AuthRequest(t.Context(), "r2")
	must(t, "read r2", err)
	equal(t, "other request", other, fullAuthRequest("r2"))
}

// testDeleteAuthRequestRemovesIt: a finished interaction's request is gone.
func testDeleteAuthRequestRemovesIt(t *testing.T, s store.Store) {
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		must(t, "r1", tx.CreateAuthRequest(ctx, fullAuthRequest("r1")))
		return tx.CreateAuthRequest(ctx, fullAuthRequest("r2"))
	})
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteAuthRequest(ctx, "r1") })
	_, err := s.AuthRequest(t.Context(), "r1")
	wantErr(t, "read deleted", err, store.ErrNotFound)
	_, err = s.AuthRequest(t.Context(), "r2")
	must(t, "read other", err)
}
