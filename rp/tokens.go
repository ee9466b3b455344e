package rp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// resourceLeeway is how long before its expiry a cached API token is
// replaced: long enough for it to reach the API and be checked there.
const resourceLeeway = 30 * time.Second

// maxAnswer bounds what is read of an answer from Sesame.
const maxAnswer = 1 << 20

// AccessTokenFor returns a JWT access token for the API named by resource
// (its indicator, e.g. https://api.example.com/orders) and when it
// expires: the one cached in the app session while it has more than 30
// seconds left, else a new one from Sesame's token endpoint, asked with
// the session's refresh token (grant_type=refresh_token with resource, RFC
// 8707 §2.2), as Logto's getAccessToken(resource) does. The rotated
// refresh token Sesame answers is kept in the session.
//
// Calls for one session take turns with each other and with AccessToken,
// whatever the resource: they all spend the session's one refresh token,
// and Sesame revokes the grant when a spent one is presented again (G4).
// Callers waiting for the same resource get the token the first one got.
// w is as for AccessToken: the updated cookie, with a CookieStore.
//
// The errors say what to do:
//   - ErrNoSession, ErrNoRefreshToken, ErrSignedOut, and an *Error
//     matching ErrInvalidGrant: the person must sign in again (NeedsSignIn
//     reports all four), with WithOfflineAccess, since only a sign-in with
//     offline_access gets a refresh token;
//   - an *Error matching ErrInvalidTarget: the API is not registered at
//     Sesame, or not in this sign-in's grant (list it in Config.Resources
//     and sign in again);
//   - a *TransportError: Sesame could not be reached; try again later.
func (c *Client) AccessTokenFor(ctx context.Context, w http.ResponseWriter, r *http.Request, resource string) (token string, expiresAt time.Time, err error) {
	if err := checkResource(resource); err != nil {
		return "", time.Time{}, err
	}
	fresh := func(s *Session) bool {
		t, ok := s.ResourceTokens[resource]
		return ok && t.Expiry.Sub(c.cfg.Now()) > resourceLeeway
	}
	renew := func(ctx context.Context, s *Session) error {
		if s.RefreshToken == "" {
			return ErrNoRefreshToken
		}
		tok, err := c.tokenRequest(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {s.RefreshToken},
			"resource": {resource}})
		if err != nil {
			return err
		}
		if tok.RefreshToken != "" {
			s.RefreshToken = tok.RefreshToken
		}
		// A new map: the session read from the store may share its map
		// with the stored one (a store of the app's own), which must not
		// change before Update.
		tokens := maps.Clone(s.ResourceTokens)
		if tokens == nil {
			tokens = map[string]ResourceToken{}
		}
		tokens[resource] = ResourceToken{AccessToken: tok.AccessToken, Expiry: tok.expiry, Scope: tok.Scope}
		s.ResourceTokens = tokens
		return nil
	}
	s, err := c.session(ctx, r)
	if err != nil {
		return "", time.Time{}, err
	}
	if !fresh(s) && s.RefreshToken == "" {
		return "", time.Time{}, ErrNoRefreshToken
	}
	s, err = c.refreshed(ctx, w, r, fresh, renew)
	if err != nil {
		return "", time.Time{}, err
	}
	t := s.ResourceTokens[resource]
	return t.AccessToken, t.Expiry, nil
}

// checkResource holds an indicator to RFC 8707 §2 (an absolute URI
// without a fragment) before Sesame is asked.
func checkResource(resource string) error {
	u, err := url.Parse(resource)
	if err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(resource, "#") {
		return &Error{Code: "invalid_target", Description: fmt.Sprintf("resource %q is not an absolute URI without a fragment", resource)}
	}
	return nil
}

// tokenResponse is a token endpoint's answer (RFC 6749 §5.1).
type tokenResponse struct {
	AccessToken  string      `json:"access_token"`
	TokenType    string      `json:"token_type"`
	ExpiresIn    json.Number `json:"expires_in"`
	RefreshToken string      `json:"refresh_token"`
	IDToken      string      `json:"id_token"`
	Scope        string      `json:"scope"`
	// expiry is computed from expires_in when the answer arrives; zero
	// when Sesame gave none.
	expiry time.Time
}

// tokenRequest posts form to the token endpoint, authenticated as the
// client: HTTP Basic for a client with a secret (client_secret_basic, RFC
// 6749 §2.3.1), client_id in the body for a public one.
func (c *Client) tokenRequest(ctx context.Context, form url.Values) (*tokenResponse, error) {
	const op = "token request"
	req, err := c.clientPost(ctx, c.tokenURL, form)
	if err != nil {
		return nil, &TransportError{Op: op, Err: err}
	}
	req.Header.Set("Accept", "application/json")
	resp, body, err := c.send(req, op)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return nil, &Error{Code: e.Error, Description: e.Description}
		}
		return nil, &TransportError{Op: op, StatusCode: resp.StatusCode, Err: errors.New("the answer is not an OAuth error")}
	}
	var tok tokenResponse
	if err := json.Unmarshal(body, &tok); err != nil {
		return nil, &TransportError{Op: op, StatusCode: resp.StatusCode, Err: fmt.Errorf("decode the answer: %w", err)}
	}
	if tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "Bearer") {
		return nil, &TransportError{Op: op, StatusCode: resp.StatusCode,
			Err: fmt.Errorf("the answer has no Bearer access token (token_type %q)", tok.TokenType)}
	}
	if secs, err := strconv.ParseFloat(tok.ExpiresIn.String(), 64); err == nil && secs > 0 {
		tok.expiry = c.cfg.Now().Add(time.Duration(secs * float64(time.Second)))
	}
	return &tok, nil
}

// fetchUserInfo reads the userinfo endpoint with an access token.
func (c *Client) fetchUserInfo(ctx context.Context, accessToken string) (*UserInfo, error) {
	const op = "userinfo"
	if c.userinfo == "" {
		return nil, errors.New("rp: Sesame's discovery names no userinfo endpoint")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.userinfo, nil)
	if err != nil {
		return nil, &TransportError{Op: op, Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, body, err := c.send(req, op)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		// RFC 6750 §3: the error is in WWW-Authenticate.
		return nil, &Error{Code: "invalid_token", Description: fmt.Sprintf("userinfo refused the access token (%s)", resp.Header.Get("WWW-Authenticate"))}
	case resp.StatusCode != http.StatusOK:
		return nil, &TransportError{Op: op, StatusCode: resp.StatusCode, Err: errors.New("unexpected answer")}
	}
	var info UserInfo
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, &TransportError{Op: op, StatusCode: resp.StatusCode, Err: fmt.Errorf("decode the answer: %w", err)}
	}
	return &info, nil
}

// revoke revokes a refresh token (RFC 7009); a failure is logged, not
// returned: the app is signed out either way.
func (c *Client) revoke(ctx context.Context, refreshToken string) {
	if refreshToken == "" || c.revocation == "" {
		return
	}
	form := url.Values{"token": {refreshToken}, "token_type_hint": {"refresh_token"}}
	req, err := c.clientPost(ctx, c.revocation, form)
	if err != nil {
		return
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		c.log(ctx, "revoke refresh token", "err", err)
		return
	}
	resp.Body.Close()
}

// clientPost is a form post to one of Sesame's endpoints, authenticated
// as the client: HTTP Basic for a client with a secret
// (client_secret_basic, RFC 6749 §2.3.1), client_id in the body for a
// public one. form gains client_id then.
func (c *Client) clientPost(ctx context.Context, endpoint string, form url.Values) (*http.Request, error) {
	if c.cfg.ClientSecret == "" {
		form.Set("client_id", c.cfg.ClientID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.cfg.ClientSecret != "" {
		req.SetBasicAuth(url.QueryEscape(c.cfg.ClientID), url.QueryEscape(c.cfg.ClientSecret))
	}
	return req, nil
}

// send makes req and reads at most maxAnswer bytes of the answer; a
// failure of either is a TransportError for op.
func (c *Client) send(req *http.Request, op string) (*http.Response, []byte, error) {
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, nil, &TransportError{Op: op, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, nil, &TransportError{Op: op, StatusCode: resp.StatusCode, Err: err}
	}
	return resp, body, nil
}
