package rptest_test

import (
	"testing"

	"github.com/sesame-id/sesame/rp"
	"github.com/sesame-id/sesame/rp/rptest"
)

// rp's own stores keep the SessionStore contract.
func TestMemoryStore(t *testing.T) {
	rptest.TestSessionStore(t, func() rp.SessionStore { return rp.NewMemoryStore() })
}

func TestCookieStore(t *testing.T) {
	rptest.TestSessionStore(t, func() rp.SessionStore {
		s, err := rp.NewCookieStore([]byte("a cookie secret of at least thirty-two bytes"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
