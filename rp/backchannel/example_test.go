package backchannel_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/sesame-id/sesame/rp"
	"github.com/sesame-id/sesame/rp/backchannel"
)

func ExampleHandler() {
	// A real app passes its rp.Client's Verifier; without one, every token
	// is refused, as this one is.
	h := &backchannel.Handler{Sessions: rp.NewMemoryStore(), Now: time.Now}
	http.Handle("POST /backchannel-logout", h)

	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/backchannel-logout", strings.NewReader(url.Values{"logout_token": {""}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.ServeHTTP(rec, req.WithContext(context.Background()))
	fmt.Println(rec.Code, rec.Header().Get("Cache-Control"))
	// Output: 400 no-store
}
