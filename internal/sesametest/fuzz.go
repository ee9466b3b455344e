package sesametest

import (
	"encoding/base64"
	"strings"
)

// The helpers of the fuzz targets that drive Sesame's handlers and parsers
// (package oidc, signout, keys, rp...): one copy, so every target judges
// inputs the same way.

// Expand replaces each {name} in v with what values[name] makes, making
// each value once. Fuzz seeds carry placeholders instead of live codes
// and tokens: each fuzzing worker has a Sesame of its own, and fills in
// its own values.
func Expand(v string, values map[string]func() string) string {
	for name, make := range values {
		if p := "{" + name + "}"; strings.Contains(v, p) {
			v = strings.ReplaceAll(v, p, make())
		}
	}
	return v
}

// HeaderValue reports whether v can reach a handler as a header value the
// way net/http's server reads one: no control characters (RFC 9110 §5.5)
// and no white space around it, which the server trims.
func HeaderValue(v string) bool {
	return !strings.ContainsFunc(v, func(r rune) bool { return (r < ' ' && r != '\t') || r == 0x7f }) &&
		v == strings.Trim(v, " \t")
}

// JWSContent is what a compact JWS says, its header and payload decoded
// (as go-jose decodes them, so two spellings of one token are one),
// whatever its signature; "" for what is no compact JWS.
func JWSContent(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	head, err1 := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[0], "="))
	body, err2 := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err1 != nil || err2 != nil {
		return ""
	}
	return string(head) + "\x00" + string(body)
}
