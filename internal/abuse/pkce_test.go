package abuse_test

import (
	"net/http"
	"testing"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/sesametest"
)

// C2, spec A8 (OAuth 2.1): a stolen code is useless without the verifier.
// A code-flow request without S256 PKCE is refused (invalid_request at the
// app) for a confidential client too, unless it set require_pkce: false.
func TestCodeFlowWithoutPKCEIsRefused(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		opts.Configure = func(c *config.Config) {
			c.Clients = append(c.Clients, client.Spec{ID: "legacy", Name: "legacy", Secret: sesametest.Secret, Type: client.TypeWeb,
				FirstParty: true, RedirectURIs: []string{sesametest.RedirectURI("legacy")}, RequirePKCE: new(false)})
		}
		s := sesametest.New(t, opts)
		for _, id := range []string{sesametest.AppA, sesametest.ThirdParty, sesametest.SPA} {
			if cb := sesametest.Landed(t, s.NewBrowser(t).Get(s.AuthURL(id, sesametest.NoPKCE()))); cb.Error != "invalid_request" {
				t.Errorf("%s without PKCE: %+v", id, cb)
			}
		}
		cb := s.NewBrowser(t).SignIn("legacy", "alice", sesametest.NoPKCE())
		if tok := s.Exchange(t, "legacy", cb.Code, sesametest.NoVerifier); tok.Status != http.StatusOK {
			t.Errorf("require_pkce: false, without PKCE: %+v", tok.Raw)
		}
	})
}

// C2, spec T9: a wrong code_verifier burns the code. The thief's one guess
// fails, and the code is gone: the right verifier sent next gets
// invalid_grant, and nothing was issued from it.
func TestWrongCodeVerifierBurnsTheCode(t *testing.T) {
	sesametest.EachBackend(t, func(t *testing.T, opts sesametest.Options) {
		s := sesametest.New(t, opts)
		verifier, _ := sesametest.PKCE()
		cb := s.NewBrowser(t).SignIn(sesametest.AppA, "alice", nil)
		if tok := s.Exchange(t, sesametest.AppA, cb.Code, "a-guess-at-the-verifier-a-guess-at-the-verifier-0"); tok.Error != "invalid_grant" {
			t.Fatalf("wrong verifier: %+v", tok.Raw)
		}
		if tok := s.Exchange(t, sesametest.AppA, cb.Code, verifier); tok.Error != "invalid_grant" || tok.AccessToken != "" {
			t.Errorf("the right verifier after a wrong one: %+v", tok.Raw)
		}
		cb = s.NewBrowser(t).SignIn(sesametest.AppA, "alice", nil)
		if tok := s.Exchange(t, sesametest.AppA, cb.Code, verifier); tok.Status != http.StatusOK {
			t.Errorf("a fresh code with the right verifier: %+v", tok.Raw)
		}
	})
}
