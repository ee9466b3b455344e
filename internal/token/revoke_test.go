package token

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/keys"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/store/sql/sqltest"
)

// deletingStore is a real store that lists the JWT access token records
// its transactions delete, so a test sees what a revocation deleted.
type deletingStore struct {
	store.Store
	mu      sync.Mutex
	deleted []string
}

func (d *deletingStore) InTx(ctx context.Context, dur store.Durability, fn func(tx store.Tx) error) error {
	return d.Store.InTx(ctx, dur, func(tx store.Tx) error { return fn(deletingTx{tx, d}) })
}

// Deleted lists the jtis deleted, in order.
func (d *deletingStore) Deleted() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.deleted)
}

type deletingTx struct {
	store.Tx
	s *deletingStore
}

func (t deletingTx) DeleteJWTAccessToken(ctx context.Context, jti string) error {
	t.s.mu.Lock()
	t.s.deleted = append(t.s.deleted, jti)
	t.s.mu.Unlock()
	return t.Tx.DeleteJWTAccessToken(ctx, jti)
}

// keySet opens a key set on a fresh SQLite store.
func keySet(t *testing.T) (*keys.Set, store.Store) {
	t.Helper()
	st := sqltest.Open(t)
	sealer, err := keys.NewSealer([]byte("a secret of sixteen bytes or more"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := keys.Ensure(t.Context(), keys.Config{Store: st, Sealer: sealer, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	return set, st
}

// RFC 7009, R3, spec V2, V3, V6: revoking a JWT access token deletes its
// record, so introspection answers inactive, and that token alone;
// another client's is ErrNotOwner and stays active; what is not a JWT
// access token Sesame signed and recorded, or is one whose claims do not
// agree with its record, is ignored and deletes nothing.
func TestRevokeJWTAccessToken(t *testing.T) {
	set, st := keySet(t)
	ds := &deletingStore{Store: st}
	ctx := t.Context()
	api := resource.API{Indicator: "https://api.example.com/orders", AccessTokenTTL: time.Hour}
	// Introspection answers only for an API that is still registered.
	if err := st.InTx(ctx, store.Durable, func(tx store.Tx) error {
		return tx.UpsertAPIResource(ctx, store.APIResource{Indicator: api.Indicator, Scopes: []string{"read:orders"}})
	}); err != nil {
		t.Fatal(err)
	}
	s := &Service{Store: ds, Signer: set, Verifier: set, Issuer: "https://sesame.example/oidc", Now: time.Now,
		Resources: &resource.Registry{Store: st}}
	issue := func(clientID string) (string, AccessJWT) {
		t.Helper()
		c := store.Client{ID: clientID, Type: "m2m"}
		if err := st.InTx(ctx, store.Durable, func(tx store.Tx) error { return tx.UpsertClient(ctx, c) }); err != nil {
			t.Fatal(err)
		}
		tok, err := s.signAccessJWT(accessJWT{client: c, subject: c.ID, token: apiToken{api: api, scopes: []string{"read:orders"}}}, s.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := st.InTx(ctx, store.Routine, func(tx store.Tx) error { return tx.CreateJWTAccessToken(ctx, tok.record) }); err != nil {
			t.Fatal(err)
		}
		claims, ok := s.verifyAccessJWT(tok.value)
		if !ok {
			t.Fatalf("issued token does not verify: %s", tok.value)
		}
		return tok.value, claims
	}
	active := func(value string) bool {
		t.Helper()
		res, err := s.Introspect(ctx, store.Client{ID: "api"}, value, "")
		if err != nil {
			t.Fatal(err)
		}
		return res.Active
	}
	robot, robotClaims := issue("robot")
	other, _ := issue("robot")
	worker, _ := issue("worker")

	// Ignored: nothing is deleted and the real token stays active.
	sign := func(typ string, c AccessJWT) string {
		t.Helper()
		tok, err := set.Sign("ES256", typ, c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	foreignSet, _ := keySet(t)
	foreign, err := foreignSet.Sign("ES256", TypeAccessJWT, robotClaims)
	if err != nil {
		t.Fatal(err)
	}
	otherIssuer, otherClient, unknownJTI := robotClaims, robotClaims, robotClaims
	otherIssuer.Issuer = "https://evil.example"
	otherClient.ClientID = "worker"
	unknownJTI.JTI = base64.RawURLEncoding.EncodeToString(make([]byte, 16))
	head, payload, _ := strings.Cut(robot, ".")
	payload, _, _ = strings.Cut(payload, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt"}`)) + "." + payload + "."
	for name, value := range map[string]string{
		"forged signature":           robot[:len(robot)-4] + "AAAA",
		"alg none":                   none,
		"not a JWT":                  head + ".e30.AAAA",
		"signed by other keys":       foreign,
		"another issuer":             sign(TypeAccessJWT, otherIssuer),
		"typ JWT, as an ID token":    sign("JWT", robotClaims),
		"no record by its jti":       sign(TypeAccessJWT, unknownJTI),
		"claims the record disowns":  sign(TypeAccessJWT, otherClient),
		"three dots, not base64 JWS": "a.b.c",
	} {
		for _, caller := range []string{"robot", "worker"} {
			if err := s.Revoke(ctx, store.Client{ID: caller}, value); err != nil {
				t.Errorf("%s, revoked by %s: %v", name, caller, err)
			}
		}
	}
	if got := ds.Deleted(); len(got) != 0 {
		t.Fatalf("ignored tokens deleted %v", got)
	}
	if !active(robot) {
		t.Fatal("the token went inactive with nothing revoked")
	}

	// Another client's token is refused, and stays active.
	var d *Denied
	if err := s.Revoke(ctx, store.Client{ID: "worker"}, robot); !errors.As(err, &d) || !errors.Is(err, ErrNotOwner) {
		t.Errorf("revoked by another client: %v", err)
	}
	if !active(robot) || len(ds.Deleted()) != 0 {
		t.Fatalf("another client's revocation took effect: deleted %v", ds.Deleted())
	}

	// Its own client revokes it: inactive from then on, the others not.
	if err := s.Revoke(ctx, store.Client{ID: "robot"}, robot); err != nil {
		t.Fatal(err)
	}
	if got := ds.Deleted(); len(got) != 1 || got[0] != robotClaims.JTI {
		t.Fatalf("deleted %v, want [%s]", got, robotClaims.JTI)
	}
	if active(robot) {
		t.Error("the revoked token is still active")
	}
	if !active(other) || !active(worker) {
		t.Error("revoking one token ended others")
	}
	// Revoked already: ignored, nothing more deleted.
	if err := s.Revoke(ctx, store.Client{ID: "robot"}, robot); err != nil || len(ds.Deleted()) != 1 {
		t.Errorf("revoked twice: %v, deleted %v", err, ds.Deleted())
	}
}
