package oidc

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
	"github.com/sesame-id/sesame/internal/web"
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
// resource may repeat: it is the one exception to spec A6 (RFC 8707 §2,
// R2).
func repeated(v url.Values) string {
	for name, vals := range v {
		if len(vals) > 1 && name != "resource" {
			return name
		}
	}
	return ""
}

// maxResources is how many resource values a request may carry (W2).
const maxResources = 16

// resources returns the request's resource values: each once, in the
// order sent, an empty one absent (spec A6). More than maxResources is
// invalid_request (W2); their length is bounded with the other
// parameters' (authLimits, clientLimits), and whether each names an API
// is the registry's to say.
func resources(v url.Values) ([]string, *Error) {
	var out []string
	n := 0
	for _, s := range v["resource"] {
		if s == "" {
			continue
		}
		if n++; n > maxResources {
			return nil, invalidRequest("resource has more than " + strconv.Itoa(maxResources) + " values")
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// unechoable are the parameters checked before anything else at the
// authorization endpoint: until client_id and redirect_uri are checked no
// error may be redirected (spec A3), and a state too long to send back
// cannot be redirected either. Beyond them: the error page.
var unechoable = []web.Limit{
	{Name: "client_id", Max: web.MaxValueLen},
	{Name: "redirect_uri", Max: client.MaxURILen},
	{Name: "state", Max: web.MaxStateLen},
}

// authLimits bound every parameter the authorization endpoint defines,
// read or not; what it does not define is bounded by the query and body
// caps (package server) and never read. Beyond them: invalid_request,
// redirected to the client.
var authLimits = []web.Limit{
	{Name: "response_type", Max: web.MaxValueLen},
	{Name: "response_mode", Max: web.MaxValueLen},
	{Name: "scope", Max: web.MaxScopeLen},
	{Name: "nonce", Max: web.MaxValueLen},
	{Name: "prompt", Max: web.MaxValueLen},
	{Name: "max_age", Max: web.MaxValueLen},
	{Name: "code_challenge", Max: web.MaxValueLen},
	{Name: "code_challenge_method", Max: web.MaxValueLen},
	{Name: "login_hint", Max: web.MaxValueLen},
	{Name: "id_token_hint", Max: web.MaxTokenLen},
	{Name: "ui_locales", Max: web.MaxLocalesLen},
	{Name: "claims_locales", Max: web.MaxLocalesLen},
	{Name: "acr_values", Max: web.MaxValueLen},
	{Name: "display", Max: web.MaxValueLen},
	{Name: "resource", Max: web.MaxValueLen},
}

// tooLong is the invalid_request of an oversized parameter.
func tooLong(l web.Limit) *Error {
	return invalidRequest(l.Name + " is longer than " + strconv.Itoa(l.Max) + " bytes")
}

// parseAuthParams validates the parameters that are checked after the
// redirect URI is trusted, so every failure here is redirected to the
// client (spec A5). requirePKCE is client.RequiresPKCE for c. It returns
// the parsed parameters: only what a later step reads, each within its
// limit, since they are stored with a pending request.
func parseAuthParams(v url.Values, c store.Client, requirePKCE bool) (store.AuthParams, *Error) {
	p := store.AuthParams{MaxAge: -1}
	if l, ok := web.Oversized(v, unechoable); ok {
		return p, tooLong(l) // Authorize shows these on the error page first
	}
	p.State = v.Get("state")
	if name := repeated(v); name != "" {
		return p, invalidRequest("parameter " + name + " is repeated")
	}
	if l, ok := web.Oversized(v, authLimits); ok {
		return p, tooLong(l)
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
	if len(p.Scopes) > web.MaxScopes {
		return p, invalidRequest("scope has more than " + strconv.Itoa(web.MaxScopes) + " values")
	}
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
	p.CodeChallenge = v.Get("code_challenge")
	p.CodeChallengeMethod = v.Get("code_challenge_method")
	if err := checkChallenge(p.CodeChallenge, p.CodeChallengeMethod, requirePKCE); err != nil {
		return p, err
	}
	// login_hint fills the sign-in page's username. ui_locales is not
	// stored: no page reads it yet.
	p.LoginHint = v.Get("login_hint")
	// Whether each resource names a registered API is checked by
	// Authorize, which asks the registry (R2).
	if p.Resources, perr = resources(v); perr != nil {
		return p, perr
	}
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
// challenge of the verifier's syntax, and required when required is true
// (client.RequiresPKCE: every public client, and every confidential one
// unless it or the top-level require_pkce says false; design C2, spec A8).
func checkChallenge(challenge, method string, required bool) *Error {
	switch {
	case challenge == "" && method != "":
		return invalidRequest("code_challenge_method without code_challenge")
	case challenge == "" && required:
		return invalidRequest("PKCE is required: send code_challenge with code_challenge_method=S256")
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
