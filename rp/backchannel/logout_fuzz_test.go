package backchannel_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	sesamebc "github.com/sesame-id/sesame/internal/backchannel"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/rp"
	"github.com/sesame-id/sesame/rp/backchannel"
)

// FuzzLogoutToken posts arbitrary bodies, of any Content-Type, to the
// back-channel logout Handler (Back-Channel Logout 1.0 §2.6-§2.8). It must
// never panic, answer 200 only for a logout token that is valid in full
// (signed by the OP's key, and every claim right), 400 for anything else,
// always with Cache-Control: no-store; a refused token ends no session,
// and an accepted one ends the sessions it names.
//
// The OP here is a fixed ES256 key (made from a constant, so the
// coordinator and the workers of go test -fuzz share it and a token seeded
// in one verifies in the others) behind go-oidc's verifier configured as
// rp.Client configures it; the tokens carry the claims Sesame's
// internal/backchannel.LogoutToken has, typ logout+jwt.
func FuzzLogoutToken(f *testing.F) {
	const issuer, clientID = "https://sesame.example/oidc", "app-a"
	seed := sha256.Sum256([]byte("rp/backchannel FuzzLogoutToken ES256 key"))
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), seed[:])
	if err != nil {
		f.Fatal(err)
	}
	public := jose.JSONWebKey{Key: key.Public(), Algorithm: "ES256", Use: "sig"}
	thumb, err := public.Thumbprint(crypto.SHA256)
	if err != nil {
		f.Fatal(err)
	}
	public.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	verifier := gooidc.NewVerifier(issuer, &gooidc.StaticKeySet{PublicKeys: []crypto.PublicKey{key.Public()}},
		&gooidc.Config{ClientID: clientID, SupportedSigningAlgs: []string{"ES256", "RS256"}})
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithHeader("kid", public.KeyID).WithType("logout+jwt"))
	if err != nil {
		f.Fatal(err)
	}
	sign := func(claims any) string {
		payload, err := json.Marshal(claims)
		if err != nil {
			f.Fatal(err)
		}
		jws, err := signer.Sign(payload)
		if err != nil {
			f.Fatal(err)
		}
		tok, err := jws.CompactSerialize()
		if err != nil {
			f.Fatal(err)
		}
		return tok
	}
	// claims is a valid logout token's claim set, edited; iat and exp are
	// fixed, far apart, so that seeds stay valid across runs.
	claims := func(jti string, edit func(map[string]any)) map[string]any {
		var m map[string]any
		b, _ := json.Marshal(sesamebc.LogoutToken{Issuer: issuer, Audience: clientID, IssuedAt: 1767225600, Expiry: 4102444800,
			JTI: jti, Events: map[string]struct{}{sesamebc.EventLogout: {}}, Subject: "alice-sub", SID: "sid-1"})
		_ = json.Unmarshal(b, &m)
		if edit != nil {
			edit(m)
		}
		return m
	}

	// valid are the tokens that must be accepted, by what they say.
	valid := map[string]bool{}
	var tokens []string
	for jti, edit := range map[string]func(map[string]any){
		"valid":         nil,
		"sid only":      func(m map[string]any) { delete(m, "sub") },
		"sub only":      func(m map[string]any) { delete(m, "sid") },
		"other session": func(m map[string]any) { m["sid"] = "a-session-long-gone" },
		"aud array":     func(m map[string]any) { m["aud"] = []string{clientID, "app-b"} },
	} {
		tok := sign(claims(jti, edit))
		valid[sesametest.JWSContent(tok)] = true
		tokens = append(tokens, tok)
	}
	good := sign(claims("good", nil))
	valid[sesametest.JWSContent(good)] = true
	parts := strings.Split(good, ".")
	tokens = append(tokens,
		good,
		b64(`{"alg":"none","typ":"logout+jwt"}`)+"."+parts[1]+".",
		b64(`{"alg":"HS256","kid":"`+public.KeyID+`"}`)+"."+parts[1]+"."+parts[2],
		parts[0]+"."+parts[1]+".",
		parts[0]+"."+parts[1],
		parts[0]+"."+b64(`{"iss":"`+issuer+`","aud":"app-a","sub":"x"}`)+"."+parts[2],
		good+"."+parts[2],
		"", "garbage", "a.b.c", "..",
	)
	for name, edit := range map[string]func(map[string]any){
		"wrong iss":       func(m map[string]any) { m["iss"] = "https://evil.example" },
		"wrong aud":       func(m map[string]any) { m["aud"] = "app-b" },
		"expired":         func(m map[string]any) { m["exp"] = 1767225700 },
		"no exp":          func(m map[string]any) { delete(m, "exp") },
		"no iat":          func(m map[string]any) { delete(m, "iat") },
		"iat in future":   func(m map[string]any) { m["iat"] = 4102444000 },
		"no events":       func(m map[string]any) { delete(m, "events") },
		"other event":     func(m map[string]any) { m["events"] = map[string]any{"urn:x": map[string]any{}} },
		"events a string": func(m map[string]any) { m["events"] = sesamebc.EventLogout },
		"with nonce":      func(m map[string]any) { m["nonce"] = "n" },
		"no sub, no sid":  func(m map[string]any) { delete(m, "sub"); delete(m, "sid") },
		"no jti":          func(m map[string]any) { delete(m, "jti") },
		"sid a number":    func(m map[string]any) { m["sid"] = 7 },
	} {
		tokens = append(tokens, sign(claims(name, edit)))
	}
	form := "application/x-www-form-urlencoded"
	for _, tok := range tokens {
		f.Add(form, "logout_token="+url.QueryEscape(tok))
	}
	f.Add(form, "logout_token="+good+"&logout_token=garbage")
	f.Add(form, "logout_token=garbage&logout_token="+good)
	f.Add(form, "logout_token=%zz"+good)
	f.Add(form+"; charset=utf-8", "logout_token="+good)
	f.Add("multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"logout_token\"\r\n\r\n"+good+"\r\n--X--\r\n")
	f.Add("multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"logout_token\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"+good+"=\r\n\r\n--X--\r\n")
	f.Add("application/json", `{"logout_token":"`+good+`"}`)
	f.Add("", "logout_token="+good)
	f.Add(form, "")

	request := func(contentType, body string) *http.Request {
		req := httptest.NewRequest(http.MethodPost, "https://app-a.example/backchannel-logout", strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		return req
	}
	f.Fuzz(func(t *testing.T, contentType, body string) {
		if !sesametest.HeaderValue(contentType) {
			return
		}
		// The token as the handler reads it, by the standard library's
		// parser: the oracle judges the token, not how it was wrapped.
		raw := request(contentType, body).PostFormValue("logout_token")
		sessions := rp.NewMemoryStore()
		_ = sessions.Put(context.Background(), &rp.Session{ID: "app-session", Subject: "alice-sub", SID: "sid-1"})
		h, err := backchannel.New(backchannel.Config{Verifier: verifier, Sessions: sessions})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, request(contentType, body))
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("answered %d without Cache-Control: no-store", rec.Code)
		}
		_, err = sessions.Get(context.Background(), "app-session")
		ended := err != nil
		switch {
		case rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest:
			t.Fatalf("answered %d: %s", rec.Code, rec.Body)
		case rec.Code == http.StatusOK && !valid[sesametest.JWSContent(raw)]:
			t.Fatalf("accepted logout token %q", raw)
		case rec.Code != http.StatusOK && ended:
			t.Fatalf("a refused token (%q) ended the session", raw)
		case rec.Code == http.StatusOK && !ended && namesSession(raw):
			t.Fatalf("an accepted token (%q) left its session", raw)
		}
	})
}

// namesSession reports whether a valid token names the app's session:
// sid-1, or alice-sub without a sid.
func namesSession(tok string) bool {
	var c struct {
		Sub string `json:"sub"`
		SID string `json:"sid"`
	}
	_, payload, _ := strings.Cut(sesametest.JWSContent(tok), "\x00")
	_ = json.Unmarshal([]byte(payload), &c)
	return c.SID == "sid-1" || (c.SID == "" && c.Sub == "alice-sub")
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
