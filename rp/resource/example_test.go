package resource_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sesame-id/sesame/rp/resource"
)

// exampleSesame stands for Sesame: it publishes discovery and a key, and
// issues access tokens for the orders API with the scopes asked.
func exampleSesame() (issuer string, issue func(scope string) string, stop func()) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	issuer = srv.URL + "/oidc"
	mux.HandleFunc("GET /oidc/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": issuer, "jwks_uri": issuer + "/jwks"})
	})
	mux.HandleFunc("GET /oidc/jwks", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	})
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1").WithType("at+jwt"))
	issue = func(scope string) string {
		now := time.Now()
		payload, _ := json.Marshal(map[string]any{"iss": issuer, "aud": "https://api.example.com/orders",
			"sub": "alice-sub", "client_id": "app-a", "scope": scope, "iat": now.Unix(),
			"exp": now.Add(time.Hour).Unix(), "jti": "j1", "sid": "sid-1", "auth_time": now.Unix()})
		jws, _ := signer.Sign(payload)
		tok, _ := jws.CompactSerialize()
		return tok
	}
	return issuer, issue, srv.Close
}

func ExampleVerifier_Require() {
	issuer, issue, stop := exampleSesame()
	defer stop()

	v, err := resource.New(context.Background(), resource.Config{
		Issuer:   issuer,
		Audience: "https://api.example.com/orders", // this API's indicator at Sesame
	})
	if err != nil {
		panic(err)
	}
	listOrders := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := resource.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "orders of %s", claims.Subject)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /orders", v.Require("read:orders")(listOrders))

	get := func(token string) {
		req := httptest.NewRequest("GET", "/orders", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			fmt.Println(rec.Code, rec.Body)
			return
		}
		fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	get(issue("read:orders"))
	get(issue("profile"))
	get("")
	// Output:
	// 200 orders of alice-sub
	// 403 Bearer realm="https://api.example.com/orders", error="insufficient_scope", error_description="the token does not grant read:orders", scope="read:orders"
	// 401 Bearer realm="https://api.example.com/orders", scope="read:orders"
}

func ExampleVerifier_Verify() {
	issuer, issue, stop := exampleSesame()
	defer stop()
	v, err := resource.New(context.Background(), resource.Config{Issuer: issuer, Audience: "https://api.example.com/orders"})
	if err != nil {
		panic(err)
	}
	claims, err := v.Verify(context.Background(), issue("read:orders write:orders"))
	fmt.Println(claims.Subject, claims.ClientID, claims.Scopes, claims.HasScope("write:orders"), err)
	_, err = v.Verify(context.Background(), "not-a-token")
	var refusal *resource.Error
	if errors.As(err, &refusal) {
		fmt.Println(refusal.Status, refusal.Code, refusal.Description)
	}
	// Output:
	// alice-sub app-a [read:orders write:orders] true <nil>
	// 401 invalid_token the token is not a signed JWT
}

func ExampleClaimsFrom() {
	handler := func(w http.ResponseWriter, r *http.Request) {
		claims, ok := resource.ClaimsFrom(r.Context())
		if !ok { // not behind Require
			http.Error(w, "no token checked", http.StatusInternalServerError)
			return
		}
		if claims.SessionID == "" {
			fmt.Fprintf(w, "client %s, on its own behalf", claims.ClientID)
			return
		}
		fmt.Fprintf(w, "%s, through %s", claims.Subject, claims.ClientID)
	}
	rec := httptest.NewRecorder()
	handler(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(rec.Code)
	// Output: 500
}
