package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

var keyTests = []test{
	{"SigningKeysOldestFirst", testSigningKeysOldestFirst},
}

// testSigningKeysOldestFirst: keys come back in the order they were made,
// whatever order they were stored in, so package keys can tell the current
// one from the ones being retired.
func testSigningKeysOldestFirst(t *testing.T, s store.Store) {
	keys, err := s.SigningKeys(t.Context())
	must(t, "list of none", err)
	if len(keys) != 0 {
		t.Fatalf("SigningKeys on an empty store = %v", keys)
	}
	var want []store.SigningKey
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for i, age := range []time.Duration{2, 30, 7} {
			k := fullSigningKey(name("kid", i))
			k.CreatedAt = at(-age * 24 * time.Hour)
			must(t, "key", tx.CreateSigningKey(ctx, k))
			want = append(want, k)
		}
		return nil
	})
	want = []store.SigningKey{want[1], want[2], want[0]}
	got, err := s.SigningKeys(t.Context())
	must(t, "list", err)
	equal(t, "keys", got, want)
}
