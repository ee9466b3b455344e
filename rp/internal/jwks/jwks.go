// Package jwks keeps an issuer's published signing keys (RFC 7517 key set
// at its jwks_uri) for rp and rp/resource: fetched with the context of the
// call that needs them, cached, and fetched again when a token names a key
// the cache lacks, at most once per cooldown, so that tokens with made-up
// key ids cannot make the app hammer the issuer.
//
// It exists because go-oidc's RemoteKeySet captures a context at
// construction and fetches in a goroutine of its own, without a timeout and
// without a rate limit. This package is rp's own: nothing of Sesame's server.
package jwks

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	// cooldown spaces fetches caused by an unknown key id; failedCooldown
	// the retries after a fetch failed, shorter so that an issuer that was
	// briefly away is asked again soon.
	cooldown       = 30 * time.Second
	failedCooldown = 5 * time.Second
	// maxAge is how long a fetched key set is trusted before the next use
	// fetches it again, so a key the issuer withdrew stops verifying.
	maxAge = 10 * time.Minute
	// fetchTimeout bounds one fetch, whatever the caller's context allows.
	fetchTimeout = 10 * time.Second
	// maxBody bounds the key set read.
	maxBody = 1 << 20
)

// ErrUnknownKey means no published key matches the token's kid and alg,
// even after fetching the key set again (or the cooldown forbade it).
var ErrUnknownKey = errors.New("jwks: no published key matches the token")

// ErrBadSignature means a published key matches the token's kid and alg,
// and the signature does not verify with it.
var ErrBadSignature = errors.New("jwks: signature does not verify")

// ErrUnavailable means the key set could not be fetched and no cached key
// matches: the token may be good, it cannot be checked now.
var ErrUnavailable = errors.New("jwks: the issuer's keys could not be fetched")

// Set is one issuer's key set. Its zero value is not usable: use New.
type Set struct {
	url    string
	client *http.Client
	now    func() time.Time

	// sem is held by the one caller fetching; others wait on it or on
	// their own context, whichever ends first.
	sem chan struct{}

	mu       sync.Mutex
	keys     []jose.JSONWebKey
	fetched  time.Time // the last fetch attempt, successful or not
	loadedAt time.Time // the last successful fetch; zero before one
	gen      uint64    // fetch attempts so far
	lastErr  error     // the last attempt's failure, nil after a success
}

// New returns the key set published at url, fetched with client (nil is
// http.DefaultClient) and aged by now (nil is time.Now).
func New(url string, client *http.Client, now func() time.Time) *Set {
	if client == nil {
		client = http.DefaultClient
	}
	if now == nil {
		now = time.Now
	}
	return &Set{url: url, client: client, now: now, sem: make(chan struct{}, 1)}
}

// Verify checks the single signature of jws with the published key it
// names (kid, alg) and returns the payload. Keys are fetched on first use,
// when the cache is older than maxAge, and when the token names a key the
// cache lacks (key rotation), but never more than once per cooldown.
func (s *Set) Verify(ctx context.Context, jws *jose.JSONWebSignature) ([]byte, error) {
	if len(jws.Signatures) != 1 {
		return nil, errors.New("jwks: want exactly one signature")
	}
	h := jws.Signatures[0].Protected
	keys, gen, fresh := s.snapshot()
	if fresh {
		if c := candidates(keys, h.KeyID, h.Algorithm); len(c) > 0 {
			return verifyWith(jws, c)
		}
	}
	if err := s.refresh(ctx, gen); err != nil {
		return nil, err
	}
	keys, _, _ = s.snapshot()
	if c := candidates(keys, h.KeyID, h.Algorithm); len(c) > 0 {
		return verifyWith(jws, c)
	}
	s.mu.Lock()
	lastErr := s.lastErr
	s.mu.Unlock()
	if lastErr != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, lastErr)
	}
	return nil, ErrUnknownKey
}

// broadAlgs are the algorithms VerifySignature parses; the caller (go-oidc's
// verifier) has already held the token to the algorithms it accepts.
var broadAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.ES512, jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512, jose.EdDSA}

// VerifySignature makes Set a go-oidc KeySet, for its ID token and logout
// token verifier, which checks alg against its SupportedSigningAlgs before
// it calls this.
func (s *Set) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(raw, broadAlgs)
	if err != nil {
		return nil, fmt.Errorf("jwks: malformed JWS: %w", err)
	}
	return s.Verify(ctx, jws)
}

// snapshot returns the cached keys, the fetch generation they come from,
// and whether they may be used without fetching.
func (s *Set) snapshot() ([]jose.JSONWebKey, uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys, s.gen, !s.loadedAt.IsZero() && s.now().Sub(s.loadedAt) < maxAge
}

// refresh fetches the key set unless another caller has fetched since
// generation seen, or the last attempt is within its cooldown. A failure
// is kept in lastErr and reported only when no cached key helps; refresh
// returns an error only when ctx ends while waiting.
func (s *Set) refresh(ctx context.Context, seen uint64) error {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
	defer func() { <-s.sem }()
	s.mu.Lock()
	now := s.now()
	wait := cooldown
	if s.lastErr != nil {
		wait = failedCooldown
	}
	// A stale set is fetched again as soon as the cooldown allows, not
	// only for unknown keys; until then its keys still verify.
	skip := s.gen != seen || (s.gen > 0 && now.Sub(s.fetched) < wait)
	s.mu.Unlock()
	if skip {
		return nil
	}
	keys, err := s.fetch(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	s.fetched = s.now()
	s.lastErr = err
	if err == nil {
		s.keys, s.loadedAt = keys, s.fetched
	}
	return nil
}

// fetch reads the key set. Keys of a type this package does not know, or
// for another use than signatures, are skipped rather than failing the
// set: an issuer may publish more than its verifiers need.
func (s *Set) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks: request for %s: %w", s.url, err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwks: get %s: %w", s.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks: get %s: %s", s.url, resp.Status)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(&set); err != nil {
		return nil, fmt.Errorf("jwks: decode %s: %w", s.url, err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if json.Unmarshal(raw, &k) != nil || !k.IsPublic() || (k.Use != "" && k.Use != "sig") {
			continue
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// candidates are the keys that may have signed a token with this kid and
// alg: the kid matches (any key when the token names none), the key's own
// alg, if it states one, is the token's, and its type suits the alg.
func candidates(keys []jose.JSONWebKey, kid, alg string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, k := range keys {
		if (kid != "" && k.KeyID != kid) || (k.Algorithm != "" && k.Algorithm != alg) || !suits(k.Key, alg) {
			continue
		}
		out = append(out, k)
	}
	return out
}

// suits reports whether a public key is of the type alg needs, so that a
// key is never used with an algorithm of another family.
func suits(key any, alg string) bool {
	switch key.(type) {
	case *ecdsa.PublicKey:
		return alg == string(jose.ES256) || alg == string(jose.ES384) || alg == string(jose.ES512)
	case *rsa.PublicKey:
		switch jose.SignatureAlgorithm(alg) {
		case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
			return true
		}
	case ed25519.PublicKey:
		return alg == string(jose.EdDSA)
	}
	return false
}

func verifyWith(jws *jose.JSONWebSignature, keys []jose.JSONWebKey) ([]byte, error) {
	for _, k := range keys {
		if payload, err := jws.Verify(k.Key); err == nil {
			return payload, nil
		}
	}
	return nil, ErrBadSignature
}
