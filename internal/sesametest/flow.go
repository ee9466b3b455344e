package sesametest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Callback is what arrived at the app's redirect URI.
type Callback struct {
	URL   *url.URL
	Code  string
	State string
	Error string
	Iss   string
}

// AuthURL builds an authorization request URL for clientID with the usual
// parameters, PKCE S256 included (every client must send it, C2): the
// challenge of PKCE's verifier, which Exchange sends. extra overrides or
// adds parameters; a nil value leaves one out (NoPKCE).
func (s *Sesame) AuthURL(clientID string, extra url.Values) string {
	_, challenge := PKCE()
	q := url.Values{
		"client_id":             {clientID},
		"redirect_uri":          {RedirectURI(clientID)},
		"response_type":         {"code"},
		"scope":                 {"openid profile email"},
		"state":                 {"state-123"},
		"nonce":                 {"nonce-456"},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		q[k] = v
	}
	return s.Issuer + "/auth?" + q.Encode()
}

// NoPKCE are extra parameters that leave PKCE out of AuthURL, for a client
// that may go without (require_pkce: false) or a test of the refusal.
func NoPKCE() url.Values {
	return url.Values{"code_challenge": nil, "code_challenge_method": nil}
}

// Landed reads the app callback a page redirected to.
func Landed(t TB, p Page) Callback {
	t.Helper()
	if p.Status != http.StatusSeeOther && p.Status != http.StatusFound {
		t.Fatalf("expected a redirect to the app, got %d: %s", p.Status, p.Body)
	}
	u, err := url.Parse(p.Location)
	if err != nil {
		t.Fatalf("bad Location %q: %v", p.Location, err)
	}
	q := u.Query()
	return Callback{URL: u, Code: q.Get("code"), State: q.Get("state"), Error: q.Get("error"), Iss: q.Get("iss")}
}

// SignIn runs an authorization request to its end as a person would: it
// signs in as username if the sign-in page shows, allows consent if asked,
// and returns what reached the app.
func (b *Browser) SignIn(clientID, username string, extra url.Values) Callback {
	b.t.Helper()
	p := b.Get(b.s.AuthURL(clientID, extra))
	if IsSignInPage(p) {
		p = b.Submit(p, map[string]string{"username": username, "password": Password})
	}
	if IsConsentPage(p) {
		p = b.Submit(p, map[string]string{"decision": "allow"})
	}
	return Landed(b.t, p)
}

// Tokens is a token endpoint answer, decoded loosely so tests can check
// each member.
type Tokens struct {
	Status           int
	AccessToken      string  `json:"access_token"`
	TokenType        string  `json:"token_type"`
	ExpiresIn        float64 `json:"expires_in"`
	Scope            string  `json:"scope"`
	IDToken          string  `json:"id_token"`
	RefreshToken     string  `json:"refresh_token"`
	Error            string  `json:"error"`
	ErrorDescription string  `json:"error_description"`
	Header           http.Header
	Raw              map[string]any
}

// PostForm posts a form to an endpoint under the issuer, authenticating
// as clientID with client_secret_basic when secret is not empty.
func (s *Sesame) PostForm(t TB, path, clientID, secret string, form url.Values) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.Issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	} else if clientID != "" && form.Get("client_id") == "" {
		form.Set("client_id", clientID)
		req, _ = http.NewRequest(http.MethodPost, s.Issuer+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// Token posts to the token endpoint as a confidential test client.
func (s *Sesame) Token(t TB, clientID string, form url.Values) Tokens {
	t.Helper()
	secret := Secret
	if clientID == SPA {
		secret = ""
	}
	resp, body := s.PostForm(t, "/token", clientID, secret, form)
	var tok Tokens
	if err := json.Unmarshal(body, &tok); err != nil {
		t.Fatalf("token response is not JSON (%d): %s", resp.StatusCode, body)
	}
	_ = json.Unmarshal(body, &tok.Raw)
	tok.Status, tok.Header = resp.StatusCode, resp.Header
	return tok
}

// NoVerifier makes Exchange send no code_verifier.
const NoVerifier = "\x00none"

// Exchange redeems a code for clientID at its test redirect URI, with
// verifier as code_verifier: "" sends PKCE's verifier, the one AuthURL's
// challenge was made from, and NoVerifier sends none.
func (s *Sesame) Exchange(t TB, clientID, code, verifier string) Tokens {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {RedirectURI(clientID)}}
	switch verifier {
	case "":
		verifier, _ = PKCE()
		form.Set("code_verifier", verifier)
	case NoVerifier:
	default:
		form.Set("code_verifier", verifier)
	}
	return s.Token(t, clientID, form)
}

// Refresh uses a refresh token as clientID.
func (s *Sesame) Refresh(t TB, clientID, refreshToken string) Tokens {
	t.Helper()
	return s.Token(t, clientID, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
}

// PKCE returns the verifier tests use and its S256 challenge (RFC 7636
// §4.2).
func PKCE() (verifier, challenge string) {
	verifier = "a-verifier-that-is-long-enough-to-be-valid-0123456789"
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// UserInfo calls the userinfo endpoint with an access token.
func (s *Sesame) UserInfo(t TB, accessToken string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.Issuer+"/me", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// Introspect asks whether a token is active, as clientID.
func (s *Sesame) Introspect(t TB, clientID, tok string) map[string]any {
	t.Helper()
	resp, body := s.PostForm(t, "/token/introspection", clientID, Secret, url.Values{"token": {tok}})
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("introspection answered %d: %s", resp.StatusCode, body)
	}
	return m
}

// IDClaims verifies an ID token with Sesame's keys and returns its claims.
func (s *Sesame) IDClaims(t TB, idToken string) map[string]any {
	t.Helper()
	v, err := s.Keys.Verify(idToken)
	if err != nil {
		t.Fatalf("ID token does not verify: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(v.Payload, &m); err != nil {
		t.Fatalf("ID token payload: %v", err)
	}
	return m
}

// SignedIn signs username in to clientID in b and redeems the code.
func (b *Browser) SignedIn(clientID, username string, extra url.Values) Tokens {
	b.t.Helper()
	cb := b.SignIn(clientID, username, extra)
	if cb.Code == "" {
		b.t.Fatalf("no code reached %s: error %q", clientID, cb.Error)
	}
	tok := b.s.Exchange(b.t, clientID, cb.Code, "")
	if tok.Status != http.StatusOK {
		b.t.Fatalf("exchange for %s: %d %s %s", clientID, tok.Status, tok.Error, tok.ErrorDescription)
	}
	return tok
}

// Offline are the extra parameters that ask for a refresh token (G3).
func Offline() url.Values {
	return url.Values{"scope": {"openid profile email offline_access"}, "prompt": {"consent"}}
}
