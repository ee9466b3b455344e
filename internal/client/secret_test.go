package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/secret"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/store/sql/sqltest"
)

var cheap = secret.Hasher{Memory: 64, Time: 1, Threads: 1}

// counting returns a Registry whose argon2id checks are counted.
func counting(pool *secret.Pool) (*Registry, *atomic.Int32) {
	var slow atomic.Int32
	r := &Registry{Pool: pool}
	r.verify = func(hash, plain string) (bool, error) {
		if secret.IsSlow(hash) {
			slow.Add(1)
		}
		return secret.Verify(hash, plain)
	}
	return r, &slow
}

// fullPool returns a pool with one slot and no room left: every call that
// needs it is refused until release.
func fullPool(t *testing.T) (p *secret.Pool, release func()) {
	p = secret.NewPool("client secrets", 1, 1, time.Minute)
	hold := make(chan struct{})
	started := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 2 { // one runs, one waits
		wg.Go(func() {
			// The waiting one retries if a probe below took its place.
			for {
				err := p.Run(context.Background(), func() {
					if i == 0 {
						close(started)
					}
					<-hold
				})
				if !errors.Is(err, secret.ErrBusy) {
					return
				}
			}
		})
		if i == 0 {
			<-started
		}
	}
	for {
		// The second call is queued once the pool refuses a third; a
		// probe that got in line instead gives up at once.
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		err := p.Run(ctx, func() {})
		cancel()
		if errors.Is(err, secret.ErrBusy) {
			break
		}
	}
	return p, func() { close(hold); wg.Wait() }
}

// C3: an operator's argon2id secret is checked once, then remembered by
// its SHA-256; wrong secrets are never remembered; a changed secret misses.
func TestVerifySecretRemembersArgon2idSuccess(t *testing.T) {
	hash, _ := cheap.Hash("s3cret")
	r, slow := counting(nil)
	c := store.Client{ID: "app", SecretHash: hash}
	for i := range 3 {
		if err := r.VerifySecret(t.Context(), c, "s3cret"); err != nil {
			t.Fatalf("check %d of the right secret: %v", i+1, err)
		}
	}
	if n := slow.Load(); n != 1 {
		t.Errorf("%d argon2id checks for three presentations of one secret, want 1", n)
	}
	for i := range 2 {
		if err := r.VerifySecret(t.Context(), c, "wrong"); !errors.Is(err, ErrWrongSecret) {
			t.Errorf("wrong secret, try %d: %v", i+1, err)
		}
	}
	if n := slow.Load(); n != 3 {
		t.Errorf("%d argon2id checks after two wrong secrets, want 3: failures are not remembered", n)
	}
	for _, tc := range []struct {
		name   string
		client store.Client
		secret string
	}{
		{"no secret presented", c, ""},
		{"a public client", store.Client{ID: "app"}, "s3cret"},
		{"the same secret at another client", store.Client{ID: "other", SecretHash: c.SecretHash + "x"}, "s3cret"},
	} {
		if err := r.VerifySecret(t.Context(), tc.client, tc.secret); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	rotated, _ := cheap.Hash("new")
	c.SecretHash = rotated
	if err := r.VerifySecret(t.Context(), c, "s3cret"); !errors.Is(err, ErrWrongSecret) {
		t.Errorf("the old secret after a change: %v", err)
	}
}

// C3, A4: a generated secret is checked by its SHA-256, never by argon2id
// and never through the pool, so it works while the pool is full.
func TestVerifySecretGeneratedNeedsNoPool(t *testing.T) {
	pool, release := fullPool(t)
	defer release()
	r, slow := counting(pool)
	plain := secret.NewClientSecret()
	c := store.Client{ID: "app", SecretHash: secret.HashGenerated(plain)}
	if err := r.VerifySecret(t.Context(), c, plain); err != nil {
		t.Errorf("generated secret with a full pool: %v", err)
	}
	if err := r.VerifySecret(t.Context(), c, secret.NewClientSecret()); !errors.Is(err, ErrWrongSecret) {
		t.Errorf("another generated secret: %v", err)
	}
	if slow.Load() != 0 {
		t.Errorf("%d argon2id checks for a generated secret", slow.Load())
	}
}

// A4: a full pool is "busy", told apart from "wrong", and nothing is
// evaluated; a secret remembered before the flood still passes, so an
// honest client is not queued behind the flood.
func TestVerifySecretBusyIsNotWrong(t *testing.T) {
	hash, _ := cheap.Hash("s3cret")
	c := store.Client{ID: "app", SecretHash: hash}
	r, slow := counting(nil)
	if err := r.VerifySecret(t.Context(), c, "s3cret"); err != nil {
		t.Fatal(err)
	}
	pool, release := fullPool(t)
	defer release()
	r.Pool = pool
	var busy *secret.BusyError
	for _, presented := range []string{"wrong", "also wrong"} {
		err := r.VerifySecret(t.Context(), c, presented)
		if !errors.As(err, &busy) || errors.Is(err, ErrWrongSecret) || busy.RetryAfter <= 0 {
			t.Errorf("%q with a full pool: %v, want a *secret.BusyError", presented, err)
		}
	}
	if err := r.VerifySecret(t.Context(), c, "s3cret"); err != nil {
		t.Errorf("the remembered secret with a full pool: %v", err)
	}
	if slow.Load() != 1 {
		t.Errorf("%d argon2id checks, want the one before the pool filled", slow.Load())
	}
}

// Memory stays bounded: the remembered secrets never hold more than their
// bound, however many distinct entries arrive (the client cache's bound is
// store.Cache's, tested there).
func TestRememberedSecretsAreBounded(t *testing.T) {
	hash, _ := cheap.Hash("s3cret")
	r := &Registry{verify: func(string, string) (bool, error) { return true, nil }}
	for i := range 3 * maxVerified {
		if err := r.VerifySecret(t.Context(), store.Client{ID: fmt.Sprint("app-", i), SecretHash: hash}, "s3cret"); err != nil {
			t.Fatal(err)
		}
		if len(r.verified) > maxVerified {
			t.Fatalf("%d remembered secrets, bound %d", len(r.verified), maxVerified)
		}
	}
}

// openStore is sqltest.Open under the name this package's tests call.
func openStore(t *testing.T) store.Store {
	t.Helper()
	return sqltest.Open(t)
}

// C3: Upsert stores a generated secret as SHA-256 and an operator's as
// argon2id, and keeps an unchanged secret's hash.
func TestUpsertPicksTheScheme(t *testing.T) {
	r := &Registry{Store: openStore(t), Hasher: cheap, Now: time.Now}
	generated := secret.NewClientSecret()
	for _, tc := range []struct {
		name, secret string
		slow         bool
	}{
		{"generated", generated, false},
		{"operator's", "reports-job-secret", true},
		{"operator's in the generated prefix but not its shape", secret.GeneratedPrefix + "short", true},
	} {
		c, err := r.Upsert(t.Context(), Spec{ID: "job", Type: TypeM2M, Secret: tc.secret})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if secret.IsSlow(c.SecretHash) != tc.slow || secret.IsGeneratedHash(c.SecretHash) == tc.slow {
			t.Errorf("%s secret stored as %.12s...", tc.name, c.SecretHash)
		}
		if err := r.VerifySecret(t.Context(), c, tc.secret); err != nil {
			t.Errorf("%s secret does not verify after upsert: %v", tc.name, err)
		}
		again, err := r.Upsert(t.Context(), Spec{ID: "job", Type: TypeM2M, Secret: tc.secret})
		if err != nil || again.SecretHash != c.SecretHash {
			t.Errorf("%s secret upserted unchanged was hashed again: %v", tc.name, err)
		}
	}
}

// C5: a change of a confidential client's stored secret revokes, in the
// same transaction, the grants it holds for itself (its tokens die, G2);
// an unchanged secret, a kept one, and people's grants are left alone.
func TestSecretRotationRevokesClientCredentialGrants(t *testing.T) {
	st := openStore(t)
	r := &Registry{Store: st, Hasher: cheap, Now: time.Now}
	ctx := t.Context()
	spec := Spec{ID: "robot", Type: TypeM2M, Secret: "operator-secret", Admin: true}
	if _, err := r.Upsert(ctx, spec); err != nil {
		t.Fatal(err)
	}
	n := 0
	newGrants := func() (own, person string) {
		n++
		own, person = fmt.Sprint("own-", n), fmt.Sprint("person-", n)
		now := time.Now()
		err := st.InTx(ctx, store.Durable, func(tx store.Tx) error {
			if err := tx.CreateGrant(ctx, store.Grant{ID: own, ClientID: "robot", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
				return err
			}
			return tx.CreateGrant(ctx, store.Grant{ID: person, AccountID: "alice", ClientID: "robot", CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
		})
		if err != nil {
			t.Fatal(err)
		}
		return own, person
	}
	revoked := func(id string) bool {
		g, err := st.Grant(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return !g.RevokedAt.IsZero()
	}
	for _, tc := range []struct {
		name    string
		upsert  func() error
		rotated bool
	}{
		{"the same secret again (a restart)", func() error { _, err := r.Upsert(ctx, spec); return err }, false},
		{"the secret kept (an update)", func() error { _, err := r.UpsertKeepingSecret(ctx, spec); return err }, false},
		{"a generated secret (admin API or CLI rotation)", func() error {
			s := spec
			s.Secret = secret.NewClientSecret()
			_, err := r.Upsert(ctx, s)
			return err
		}, true},
		{"a changed secret in the config file", func() error {
			s := spec
			s.Secret = "another-operator-secret"
			_, err := r.Upsert(ctx, s)
			return err
		}, true},
	} {
		own, person := newGrants()
		if err := tc.upsert(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if revoked(own) != tc.rotated {
			t.Errorf("%s: client's own grant revoked %v, want %v", tc.name, revoked(own), tc.rotated)
		}
		if revoked(person) {
			t.Errorf("%s: a person's grant for the client was revoked", tc.name)
		}
		if tc.rotated {
			g, _ := st.Grant(ctx, own)
			if g.RevokeReason != ReasonSecretRotated {
				t.Errorf("%s: reason %q", tc.name, g.RevokeReason)
			}
		}
	}
	events, err := st.Events(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	rotations := 0
	for _, e := range events {
		if e.Kind == store.EventGrantRevoked && e.ClientID == "robot" {
			rotations++
		}
	}
	if rotations != 2 {
		t.Errorf("%d grant_revoked events for the two rotations, want 2", rotations)
	}
}
