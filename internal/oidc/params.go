package oidc

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
)

// single returns the one value of name; a parameter with an empty value is
// absent, and a repeated one is an error (RFC 6749 §3.1, spec A6).
func single(v url.Values, name string) (string, *Error) {
	vals := v[name]
	var got []string
	for _, s := range vals {
		if s != "" {
			got = append(got, s)
		}
	}
	switch len(got) {
	case 0:
		return "", nil
	case 1:
		return got[0], nil
	}
	return "", invalidRequest("parameter " + name + " is repeated")
}

// repeated names the first parameter sent more than once, or "".
func repeated(v url.Values) string {
	for name, vals := range v {
		if len(vals) > 1 {
			return name
		}
	}
	return ""
}

// Parameter size limits, so one request cannot store megabytes.
const (
	maxStateLen = 2048
	maxNonceLen = 512
)

// parseAuthParams validates the parameters that are checked after the
// redirect URI is trusted, so every failure here is redirected to the
// client (spec A5). It returns the parsed parameters.
func parseAuthParams(v url.Values, c store.Client) (store.AuthParams, *Error) {
	p := store.AuthParams{MaxAge: -1}
	p.State = v.Get("state")
	if name := repeated(v); name != "" {
		return p, invalidRequest("parameter " + name + " is repeated")
	}
	if len(p.State) > maxStateLen {
		return p, invalidRequest("state is too long")
	}
	if v.Get("request") != "" {
		return p, &Error{Code: CodeRequestNotSupported, Description: "request objects are not supported", Status: 400}
	}
	if v.Get("request_uri") != "" {
		return p, &Error{Code: CodeRequestURINotSupported, Description: "request_uri is not supported", Status: 400}
	}
	switch rt := v.Get("response_type"); {
	case rt == "":
		return p, invalidRequest("response_type is required")
	case rt != "code": // spec A15: no implicit or hybrid flows
		return p, &Error{Code: CodeUnsupportedResponseType, Description: "only response_type=code is supported", Status: 400}
	}
	if !client.AllowsGrantType(c, "authorization_code") {
		return p, &Error{Code: CodeUnauthorizedClient, Description: "the client may not use the authorization code flow", Status: 400}
	}
	switch rm := v.Get("response_mode"); rm {
	case "", "query":
	default:
		return p, invalidRequest("response_mode " + rm + " is not supported")
	}
	p.Scopes = strings.Fields(v.Get("scope"))
	if !slices.Contains(p.Scopes, "openid") { // spec A7
		return p, &Error{Code: CodeInvalidScope, Description: "scope must include openid", Status: 400}
	}
	prompt, perr := parsePrompt(v.Get("prompt"))
	if perr != nil {
		return p, perr
	}
	p.Prompt = prompt
	if ma := v.Get("max_age"); ma != "" {
		n, err := strconv.ParseInt(ma, 10, 64)
		if err != nil || n < 0 {
			return p, invalidRequest("max_age must be a non-negative integer")
		}
		p.MaxAge = n
	}
	p.Nonce = v.Get("nonce")
	if len(p.Nonce) > maxNonceLen {
		return p, invalidRequest("nonce is too long")
	}
	p.CodeChallenge = v.Get("code_challenge")
	p.CodeChallengeMethod = v.Get("code_challenge_method")
	if err := checkChallenge(c, p.CodeChallenge, p.CodeChallengeMethod); err != nil {
		return p, err
	}
	p.LoginHint = v.Get("login_hint")
	p.UILocales = v.Get("ui_locales")
	return p, nil
}

// parsePrompt accepts none, login and consent, each once, and none alone
// (design S8, spec A11).
func parsePrompt(s string) ([]string, *Error) {
	var out []string
	for _, v := range strings.Fields(s) {
		switch v {
		case "none", "login", "consent":
		default:
			return nil, invalidRequest("prompt " + v + " is not supported")
		}
		if slices.Contains(out, v) {
			return nil, invalidRequest("prompt " + v + " is repeated")
		}
		out = append(out, v)
	}
	if slices.Contains(out, "none") && len(out) > 1 {
		return nil, invalidRequest("prompt=none cannot be combined with other values")
	}
	return out, nil
}

// checkChallenge applies PKCE at the authorization endpoint: S256 only, a
// challenge of the verifier's syntax, and required for public clients
// (design C2, spec A8).
func checkChallenge(c store.Client, challenge, method string) *Error {
	switch {
	case challenge == "" && method != "":
		return invalidRequest("code_challenge_method without code_challenge")
	case challenge == "" && client.RequiresPKCE(c):
		return invalidRequest("public clients must use PKCE (code_challenge with S256)")
	case challenge == "":
		return nil
	case method != token.MethodS256:
		return invalidRequest("code_challenge_method must be S256")
	case len(challenge) != 43 || !token.ValidVerifierSyntax(challenge):
		return invalidRequest("code_challenge must be the 43-character base64url SHA-256 of the verifier")
	}
	return nil
}

func hasPrompt(p store.AuthParams, v string) bool { return slices.Contains(p.Prompt, v) }
