package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sesame-id/sesame/internal/store"
)

// The algorithms Sesame signs with.
const (
	ES256 = "ES256"
	RS256 = "RS256"
)

// Config is what a Set needs.
type Config struct {
	Store  store.Store
	Sealer *Sealer
	Now    func() time.Time
	// Retention is how long a key stays published (in the JWKS) and
	// accepted by Verify after a newer key of its algorithm took over
	// signing: an ID token it signed can come back as an id_token_hint for
	// as long as the session it names may live, so Sesame uses
	// session_max_ttl. Zero keeps superseded keys for ever.
	Retention time.Duration
}

// key is one loaded key.
type key struct {
	rec     store.SigningKey
	private crypto.Signer
	public  jose.JSONWebKey
	// signers by typ header, built once.
	mu      sync.Mutex
	signers map[string]jose.Signer
}

// Set is the OP's signing keys, safe for concurrent use.
type Set struct {
	cfg  Config
	mu   sync.RWMutex
	keys []*key
}

// Verified is a JWS that one of the Set's keys signed.
type Verified struct {
	Payload []byte
	KeyID   string
	Alg     string
	Type    string
}

// Ensure loads the stored keys and creates an ES256 and an RS256 key when
// none of that algorithm exists. Instances starting at once on one
// database agree: the check and the creation run under one lock, so each
// algorithm gets one first key, not one per instance.
func Ensure(ctx context.Context, cfg Config) (*Set, error) {
	s := &Set{cfg: cfg}
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	// Keys are generated before the transaction: an RSA key takes long
	// enough that making it while holding SQLite's single writer would
	// stall every other write (design §5).
	var made []store.SigningKey
	for _, alg := range []string{ES256, RS256} {
		if s.active(alg) != nil {
			continue
		}
		rec, err := s.generate(alg, cfg.Now())
		if err != nil {
			return nil, err
		}
		made = append(made, rec)
	}
	if len(made) == 0 {
		return s, nil
	}
	err := cfg.Store.InTx(ctx, store.Durable, func(tx store.Tx) error {
		if err := tx.Lock(ctx, "signing-keys"); err != nil {
			return err
		}
		recs, err := tx.SigningKeys(ctx)
		if err != nil {
			return err
		}
		for _, rec := range made {
			if slices.ContainsFunc(recs, func(k store.SigningKey) bool { return k.Alg == rec.Alg && k.RetiredAt.IsZero() }) {
				continue // another instance made one while we generated ours
			}
			if err := tx.CreateSigningKey(ctx, rec); err != nil {
				return fmt.Errorf("store %s key: %w", rec.Alg, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create signing keys: %w", err)
	}
	return s, s.Reload(ctx)
}

// create makes and stores a new key for alg, signing from notBefore.
func (s *Set) create(ctx context.Context, alg string, notBefore time.Time) error {
	rec, err := s.generate(alg, notBefore)
	if err != nil {
		return err
	}
	err = s.cfg.Store.InTx(ctx, store.Durable, func(tx store.Tx) error { return tx.CreateSigningKey(ctx, rec) })
	if err != nil {
		return fmt.Errorf("store %s key: %w", alg, err)
	}
	return nil
}

// generate makes a new key for alg, signing from notBefore, sealed for
// the store.
func (s *Set) generate(alg string, notBefore time.Time) (store.SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return store.SigningKey{}, fmt.Errorf("unsupported alg %q", alg)
	}
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("generate %s key: %w", alg, err)
	}
	pub := jose.JSONWebKey{Key: priv.Public(), Algorithm: alg, Use: "sig"}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("thumbprint: %w", err)
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	pubJSON, err := pub.MarshalJSON()
	if err != nil {
		return store.SigningKey{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, err
	}
	sealed, err := s.cfg.Sealer.Seal(der)
	if err != nil {
		return store.SigningKey{}, err
	}
	return store.SigningKey{ID: pub.KeyID, Alg: alg, PublicJWK: pubJSON, SealedPrivate: sealed,
		CreatedAt: s.cfg.Now(), NotBefore: notBefore}, nil
}

// Reload reads every key from the store again. Instances call it when
// another one creates a key (store.ChangeKeys).
func (s *Set) Reload(ctx context.Context) error {
	recs, err := s.cfg.Store.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("read signing keys: %w", err)
	}
	var loaded []*key
	for _, rec := range recs {
		der, err := s.cfg.Sealer.Open(rec.SealedPrivate)
		if err != nil {
			return fmt.Errorf("key %s: %w", rec.ID, err)
		}
		parsed, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return fmt.Errorf("key %s: %w", rec.ID, err)
		}
		priv, ok := parsed.(crypto.Signer)
		if !ok {
			return fmt.Errorf("key %s: not a signing key", rec.ID)
		}
		var pub jose.JSONWebKey
		if err := pub.UnmarshalJSON(rec.PublicJWK); err != nil {
			return fmt.Errorf("key %s: public JWK: %w", rec.ID, err)
		}
		loaded = append(loaded, &key{rec: rec, private: priv, public: pub, signers: map[string]jose.Signer{}})
	}
	s.mu.Lock()
	s.keys = loaded
	s.mu.Unlock()
	return nil
}

// supersededAt is when a newer key of k's algorithm took over signing
// from k (zero while none has): the first NotBefore after k's that has
// come.
func (s *Set) supersededAt(k *key, now time.Time) time.Time {
	var at time.Time
	for _, o := range s.keys {
		nb := o.rec.NotBefore
		if o.rec.Alg != k.rec.Alg || !nb.After(k.rec.NotBefore) || nb.After(now) {
			continue
		}
		if at.IsZero() || nb.Before(at) {
			at = nb
		}
	}
	if r := k.rec.RetiredAt; !r.IsZero() && !r.After(now) && (at.IsZero() || r.Before(at)) {
		at = r
	}
	return at
}

// published reports whether k is in the JWKS and verifies tokens at now:
// it signs now or will, or it stopped signing less than Retention ago.
// The caller holds s.mu.
func (s *Set) published(k *key, now time.Time) bool {
	return s.retained(s.supersededAt(k, now), now)
}

// retained reports whether a key superseded at at (zero: not superseded)
// is still published at now.
func (s *Set) retained(at, now time.Time) bool {
	return at.IsZero() || s.cfg.Retention == 0 || now.Before(at.Add(s.cfg.Retention))
}

// active returns the key that signs for alg now: the newest whose NotBefore
// has come and that is not retired.
func (s *Set) active(alg string) *key {
	now := s.cfg.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var best *key
	for _, k := range s.keys {
		if k.rec.Alg != alg || k.rec.NotBefore.After(now) || (!k.rec.RetiredAt.IsZero() && !now.Before(k.rec.RetiredAt)) {
			continue
		}
		if best == nil || k.rec.NotBefore.After(best.rec.NotBefore) {
			best = k
		}
	}
	return best
}

// Sign signs claims (a JSON-marshalable value, or JSON bytes) with the active
// key of alg (ES256 when empty), with kid and, when set, typ in the header.
func (s *Set) Sign(alg, typ string, claims any) (string, error) {
	if alg == "" {
		alg = ES256
	}
	k := s.active(alg)
	if k == nil {
		return "", fmt.Errorf("no active %s signing key", alg)
	}
	signer, err := k.signer(typ)
	if err != nil {
		return "", err
	}
	payload, ok := claims.([]byte)
	if !ok {
		if payload, err = json.Marshal(claims); err != nil {
			return "", fmt.Errorf("marshal claims: %w", err)
		}
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign with %s: %w", k.rec.ID, err)
	}
	return jws.CompactSerialize()
}

// signer returns the key's go-jose signer for typ, built once.
func (k *key) signer(typ string) (jose.Signer, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if sg, ok := k.signers[typ]; ok {
		return sg, nil
	}
	opts := (&jose.SignerOptions{}).WithHeader(jose.HeaderKey("kid"), k.rec.ID)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	sg, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.rec.Alg), Key: k.private}, opts)
	if err != nil {
		return nil, fmt.Errorf("signer for %s: %w", k.rec.ID, err)
	}
	k.signers[typ] = sg
	return sg, nil
}

// Verify checks that token is a compact JWS one of the Set's keys signed
// (ES256 or RS256 only, never none or HMAC) and returns its payload. It
// checks no claims: the caller decides about exp (end-session accepts
// expired hints).
func (s *Set) Verify(token string) (Verified, error) {
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		return Verified{}, fmt.Errorf("parse JWS: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return Verified{}, errors.New("want exactly one signature")
	}
	h := jws.Signatures[0].Header
	now := s.cfg.Now()
	s.mu.RLock()
	var pub *jose.JSONWebKey
	for _, k := range s.keys {
		if k.rec.ID == h.KeyID && k.rec.Alg == h.Algorithm && s.published(k, now) {
			pub = &k.public
		}
	}
	s.mu.RUnlock()
	if pub == nil {
		return Verified{}, fmt.Errorf("unknown key %q", h.KeyID)
	}
	payload, err := jws.Verify(pub)
	if err != nil {
		return Verified{}, fmt.Errorf("verify JWS: %w", err)
	}
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	return Verified{Payload: payload, KeyID: h.KeyID, Alg: h.Algorithm, Type: typ}, nil
}

// JWKS returns the JSON Web Key Set document: the public keys published
// now (the signing ones, those about to sign, and those that stopped less
// than Retention ago).
func (s *Set) JWKS() []byte {
	now := s.cfg.Now()
	s.mu.RLock()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, k := range s.keys {
		if s.published(k, now) {
			set.Keys = append(set.Keys, k.public)
		}
	}
	s.mu.RUnlock()
	doc, err := json.Marshal(set)
	if err != nil { // public keys always marshal; an empty set is safe
		return []byte(`{"keys":[]}`)
	}
	return doc
}

// KeyState is one stored key as the operator sees it.
type KeyState struct {
	ID, Alg   string
	CreatedAt time.Time
	// NotBefore is when it signs from.
	NotBefore time.Time
	// State is "signing", "next" (published, signs from NotBefore),
	// "published" (superseded, kept for Retention) or "unpublished".
	State string
	// Until is when a "published" key stops being published.
	Until time.Time
}

// List describes every stored key, oldest first.
func (s *Set) List() []KeyState {
	now := s.cfg.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]KeyState, 0, len(s.keys))
	for _, k := range s.keys {
		ks := KeyState{ID: k.rec.ID, Alg: k.rec.Alg, CreatedAt: k.rec.CreatedAt, NotBefore: k.rec.NotBefore}
		switch at := s.supersededAt(k, now); {
		case k.rec.NotBefore.After(now):
			ks.State = "next"
		case at.IsZero():
			ks.State = "signing"
		case s.retained(at, now):
			ks.State = "published"
			if s.cfg.Retention > 0 {
				ks.Until = at.Add(s.cfg.Retention)
			}
		default:
			ks.State = "unpublished"
		}
		out = append(out, ks)
	}
	return out
}

// Algs lists the algorithms keys exist for.
func (s *Set) Algs() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for _, k := range s.keys {
		if !slices.Contains(out, k.rec.Alg) {
			out = append(out, k.rec.Alg)
		}
	}
	slices.Sort(out)
	return out
}

// Rotate creates a new key for alg that is published at once and signs
// from now+publishAhead (spec D10: published before use). The previous
// keys of alg keep being published; their signing ends when the new one
// starts, since the newest active key signs.
func (s *Set) Rotate(ctx context.Context, alg string, publishAhead time.Duration) error {
	if err := s.create(ctx, alg, s.cfg.Now().Add(publishAhead)); err != nil {
		return err
	}
	return s.Reload(ctx)
}
