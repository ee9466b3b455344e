package keys_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sesame-id/sesame/internal/keys"
	"github.com/sesame-id/sesame/internal/store/sql/sqltest"
)

func newSet(t *testing.T, secret string) (*keys.Set, keys.Config) {
	t.Helper()
	st := sqltest.Open(t)
	sealer, err := keys.NewSealer([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	cfg := keys.Config{Store: st, Sealer: sealer, Now: time.Now}
	s, err := keys.Ensure(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, cfg
}

// design §2: ES256 and RS256 keys created once; private keys sealed.
func TestEnsureCreatesSealedKeysOnce(t *testing.T) {
	s, cfg := newSet(t, "a secret of sixteen bytes or more")
	if got := s.Algs(); len(got) != 2 || got[0] != "ES256" || got[1] != "RS256" {
		t.Fatalf("algs %v", got)
	}
	again, err := keys.Ensure(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.JWKS(), s.JWKS()) {
		t.Error("a second Ensure made new keys")
	}
	recs, _ := cfg.Store.SigningKeys(t.Context())
	for _, r := range recs {
		if bytes.Contains(r.SealedPrivate, []byte("PRIVATE")) || len(r.SealedPrivate) < 32 {
			t.Errorf("key %s is not sealed", r.ID)
		}
	}
	wrong, _ := keys.NewSealer([]byte("another secret of sixteen bytes"))
	if _, err := keys.Ensure(t.Context(), keys.Config{Store: cfg.Store, Sealer: wrong, Now: time.Now}); err == nil || !strings.Contains(err.Error(), "secret_key") {
		t.Errorf("the wrong secret opened the keys: %v", err)
	}
}

// spec D10, B6, B7: tokens carry kid and typ and verify with the JWKS.
func TestSignedTokensVerifyWithTheJWKS(t *testing.T) {
	s, _ := newSet(t, "a secret of sixteen bytes or more")
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(s.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	kids := map[string]bool{}
	for _, k := range set.Keys {
		if !k.IsPublic() || kids[k.KeyID] {
			t.Errorf("key %s: public %v, duplicate %v", k.KeyID, k.IsPublic(), kids[k.KeyID])
		}
		kids[k.KeyID] = true
	}
	for _, alg := range []string{"ES256", "RS256"} {
		tok, err := s.Sign(alg, "logout+jwt", map[string]string{"sub": "x"})
		if err != nil {
			t.Fatal(err)
		}
		jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
		if err != nil {
			t.Fatal(err)
		}
		h := jws.Signatures[0].Header
		keys := set.Key(h.KeyID)
		if len(keys) != 1 {
			t.Fatalf("%s: kid %q not in JWKS", alg, h.KeyID)
		}
		if _, err := jws.Verify(keys[0]); err != nil {
			t.Errorf("%s: %v", alg, err)
		}
		v, err := s.Verify(tok)
		if err != nil || v.Type != "logout+jwt" || v.Alg != alg || string(v.Payload) != `{"sub":"x"}` {
			t.Errorf("%s: Verify %+v %v", alg, v, err)
		}
	}
}

// spec L3: Verify refuses alg none, HMAC, foreign keys and tampering.
func TestVerifyRefusesWhatSesameDidNotSign(t *testing.T) {
	s, _ := newSet(t, "a secret of sixteen bytes or more")
	foreign, _ := newSet(t, "a secret of sixteen bytes or more")
	good, _ := s.Sign("", "JWT", map[string]string{"sub": "x"})
	parts := strings.Split(good, ".")
	fromForeign, _ := foreign.Sign("", "JWT", map[string]string{"sub": "x"})
	hmac, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: s.JWKS()}, nil)
	hs, _ := hmac.Sign([]byte(`{"sub":"x"}`))
	hsTok, _ := hs.CompactSerialize()
	for name, tok := range map[string]string{
		"alg none": "eyJhbGciOiJub25lIn0." + parts[1] + ".",
		"HS256":    hsTok,
		"foreign":  fromForeign,
		"tampered": parts[0] + ".eyJzdWIiOiJ5In0." + parts[2],
		"garbage":  "not.a.jwt",
	} {
		if _, err := s.Verify(tok); err == nil {
			t.Errorf("%s verified", name)
		}
	}
}

// spec D10: a rotated key is published at once and signs only later.
func TestRotatePublishesBeforeSigning(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	st := sqltest.Open(t)
	sealer, _ := keys.NewSealer([]byte("a secret of sixteen bytes or more"))
	s, err := keys.Ensure(t.Context(), keys.Config{Store: st, Sealer: sealer, Now: func() time.Time { return clock() }, Retention: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	kidOf := func() string {
		tok, _ := s.Sign("ES256", "", map[string]string{})
		v, _ := s.Verify(tok)
		return v.KeyID
	}
	before := kidOf()
	if err := s.Rotate(t.Context(), "ES256", time.Hour); err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	_ = json.Unmarshal(s.JWKS(), &set)
	if len(set.Keys) != 3 {
		t.Errorf("JWKS has %d keys after rotation, want 3", len(set.Keys))
	}
	if kidOf() != before {
		t.Error("the new key signs before its time")
	}
	now = now.Add(2 * time.Hour)
	if kidOf() == before {
		t.Error("the new key does not sign after its time")
	}
	if len(set.Key(before)) != 1 {
		t.Error("the old key was unpublished")
	}

	// The superseded key stays published, and verifies what it signed,
	// for Retention after the new key took over; then it goes.
	oldToken := func() string {
		now = now.Add(-2 * time.Hour) // sign as the old key did
		defer func() { now = now.Add(2 * time.Hour) }()
		tok, _ := s.Sign("ES256", "", map[string]string{"sub": "x"})
		return tok
	}()
	states := map[string]string{}
	for _, k := range s.List() {
		states[k.ID] = k.State
	}
	if states[before] != "published" || states[kidOf()] != "signing" {
		t.Errorf("states after the switch: %v", states)
	}
	now = now.Add(46 * time.Hour) // 47 h after the switch
	if _, err := s.Verify(oldToken); err != nil {
		t.Errorf("within retention the old key's token does not verify: %v", err)
	}
	now = now.Add(2 * time.Hour)
	set = jose.JSONWebKeySet{}
	_ = json.Unmarshal(s.JWKS(), &set)
	if len(set.Key(before)) != 0 || len(set.Keys) != 2 {
		t.Errorf("after retention the JWKS has %d keys, the old one included: %v", len(set.Keys), len(set.Key(before)) == 1)
	}
	if _, err := s.Verify(oldToken); err == nil {
		t.Error("after retention the old key's token still verifies")
	}
	for _, k := range s.List() {
		if k.ID == before && k.State != "unpublished" {
			t.Errorf("the old key is %q after retention", k.State)
		}
	}
}

func TestLoadOrCreateSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sesame.key")
	a, err := keys.LoadOrCreateSecret(path)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(path)
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", info.Mode())
	}
	b, err := keys.LoadOrCreateSecret(path)
	if err != nil || !bytes.Equal(a, b) {
		t.Errorf("second read %q != %q (%v)", b, a, err)
	}
}

func BenchmarkSignES256(b *testing.B) { benchSign(b, "ES256") }
func BenchmarkSignRS256(b *testing.B) { benchSign(b, "RS256") }

func benchSign(b *testing.B, alg string) {
	st := sqltest.Open(b)
	sealer, _ := keys.NewSealer([]byte("a secret of sixteen bytes or more"))
	s, err := keys.Ensure(b.Context(), keys.Config{Store: st, Sealer: sealer, Now: time.Now})
	if err != nil {
		b.Fatal(err)
	}
	claims := map[string]any{"iss": "http://127.0.0.1:4000/oidc", "sub": "abc", "aud": "app", "exp": 1, "iat": 1}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign(alg, "JWT", claims); err != nil {
			b.Fatal(err)
		}
	}
}
