package client

import (
	"strings"
	"testing"
	"time"
)

// F1, spec F2 (FCL §2): a frontchannel_logout_uri is absolute, has no
// fragment, and has the scheme, host and port of one of the client's
// redirect URIs; a query is allowed.
func TestFrontchannelLogoutURI(t *testing.T) {
	redirects := []string{"https://app.example/callback", "http://127.0.0.1:5001/callback"}
	good := []string{
		"https://app.example/frontchannel-logout",
		"https://app.example/fc?tenant=7",   // kept; iss and sid are appended
		"https://APP.example/fc",            // hosts compare without case
		"https://app.example:443/fc",        // the default port is no port
		"http://127.0.0.1:5001/fc-logout",   // the laptop setup
		"https://app.example/other/path/fc", // any path on the origin
	}
	for _, uri := range good {
		if err := ValidateFrontchannelURI(uri, redirects); err != nil {
			t.Errorf("%s refused: %v", uri, err)
		}
	}
	bad := map[string]string{
		"fragment":                   "https://app.example/fc#x",
		"empty fragment":             "https://app.example/fc#",
		"relative":                   "/frontchannel-logout",
		"scheme-relative":            "//app.example/fc",
		"other host":                 "https://evil.example/fc",
		"a subdomain":                "https://www.app.example/fc",
		"other port":                 "https://app.example:8443/fc",
		"other scheme":               "http://app.example/fc",
		"loopback, other port":       "http://127.0.0.1:5002/fc",
		"loopback, https":            "https://127.0.0.1:5001/fc",
		"localhost for 127.0.0.1":    "http://localhost:5001/fc",
		"credentials":                "https://u:p@app.example/fc",
		"host hidden by credentials": "https://app.example@evil.example/fc",
		"a space":                    "https://app.example/f c",
		"not a web page":             "javascript://app.example/%0aalert(1)",
		"too long (W2)":              "https://app.example/" + strings.Repeat("a", MaxURILen),
	}
	for name, uri := range bad {
		if err := ValidateFrontchannelURI(uri, redirects); err == nil {
			t.Errorf("%s: %q accepted", name, uri)
		}
	}
	if err := ValidateFrontchannelURI("https://app.example/fc", nil); err == nil {
		t.Error("accepted without any redirect URI to match")
	}
}

// F1: Validate reports a bad frontchannel_logout_uri with the other
// problems, and a good one passes with its session flag.
func TestSpecValidateFrontchannel(t *testing.T) {
	s := Spec{ID: "a", Type: TypeWeb, Secret: "s", RedirectURIs: []string{"https://a.example/cb"},
		FrontchannelLogoutURI: "https://a.example/fc", FrontchannelLogoutSessionRequired: true}
	if err := s.Validate(); err != nil {
		t.Errorf("good registration: %v", err)
	}
	s.FrontchannelLogoutURI = "https://b.example/fc#top"
	s.IDTokenSignedResponseAlg = "HS256"
	err := s.Validate()
	if err == nil || !strings.Contains(err.Error(), "frontchannel_logout_uri") || !strings.Contains(err.Error(), "HS256") {
		t.Errorf("want both problems reported, got %v", err)
	}
}

// F1: Upsert stores both front-channel fields, and a later registration
// without them clears them.
func TestUpsertStoresFrontchannel(t *testing.T) {
	r := &Registry{Store: openStore(t), Hasher: cheap, Now: time.Now}
	spec := Spec{ID: "x", Type: TypeWeb, Secret: "s3cret-s3cret", RedirectURIs: []string{"https://x.example/cb"},
		FrontchannelLogoutURI: "https://x.example/fc?a=1", FrontchannelLogoutSessionRequired: true}
	if _, err := r.Upsert(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
	c, err := r.Store.Client(t.Context(), "x")
	if err != nil || c.FrontchannelLogoutURI != spec.FrontchannelLogoutURI || !c.FrontchannelLogoutSessionRequired {
		t.Fatalf("stored %+v, %v", c, err)
	}
	spec.FrontchannelLogoutURI, spec.FrontchannelLogoutSessionRequired = "", false
	if _, err := r.Upsert(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
	if c, err := r.Store.Client(t.Context(), "x"); err != nil || c.FrontchannelLogoutURI != "" || c.FrontchannelLogoutSessionRequired {
		t.Errorf("after clearing: %+v, %v", c, err)
	}
}
