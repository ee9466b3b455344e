package backchannel_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/sesame-id/sesame/rp"
	"github.com/sesame-id/sesame/rp/backchannel"
)

func ExampleNew() {
	// Without a verifier there is no Handler: the mistake shows at
	// start-up, not at the first logout.
	_, err := backchannel.New(backchannel.Config{Sessions: rp.NewMemoryStore()})
	fmt.Println(err)

	// A real app passes its rp.Client's Verifier (app.Verifier()); this one
	// knows no keys, so it refuses every token, as it does this empty one.
	verifier := gooidc.NewVerifier("https://sesame.example/oidc", &gooidc.StaticKeySet{}, &gooidc.Config{ClientID: "app-a"})
	h, err := backchannel.New(backchannel.Config{Verifier: verifier, Sessions: rp.NewMemoryStore()})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /backchannel-logout", h)

	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/backchannel-logout", strings.NewReader(url.Values{"logout_token": {""}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	mux.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("Cache-Control"))
	// Output:
	// backchannel: Config needs Verifier
	// 400 no-store
}
