package sql

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/store/sql/pgtest"
)

func TestPrefixEnd(t *testing.T) {
	for _, c := range []struct{ p, want string }{
		{"a", "b"},
		{"ali", "alj"},
		{"a-", "a."},
		{"é", "ê"},
		{"a\uD7FF", "a\uE000"},             // past the surrogates
		{"a\U0010FFFF", "b"},               // the highest code point has no successor
		{"ab\U0010FFFF\U0010FFFF", "ac"},   // nor do several
		{"\U0010FFFF", "\U0010FFFF"},       // an empty range
		{"z\u00ff", "z\u0100"},             // across a byte boundary of UTF-8
		{"\u07ff", "\u0800"},               // from two bytes to three
		{"\U0001F600", "\U0001F601"},       // four bytes
		{"user@example.", "user@example/"}, // ASCII punctuation
	} {
		got := prefixEnd(c.p)
		if got != c.want {
			t.Errorf("prefixEnd(%+q) = %+q, want %+q", c.p, got, c.want)
		}
		// Every string that starts with p sorts below the end, byte for
		// byte, as both databases compare these columns.
		for _, tail := range []string{"", "a", "\U0010FFFE", "\u07ff\u07ff"} {
			if s := c.p + tail; c.p != got && strings.Compare(s, got) >= 0 {
				t.Errorf("%+q starts with %+q but is not below %+q", s, c.p, got)
			}
		}
	}
}

// TestAccountOrderIgnoresTheDatabaseCollation: on a PostgreSQL database
// whose default collation orders text for people (ICU's en-US: 'é'
// before 'z', 'a' before 'B'), the admin list still pages in code point
// order and a prefix still finds what starts with it, as on SQLite: the
// migration gave username and email the "C" collation.
func TestAccountOrderIgnoresTheDatabaseCollation(t *testing.T) {
	base := pgtest.ServerURL(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	name := "sesame_test_icu_" + hex.EncodeToString(b)
	pgtest.Exec(t, base, "CREATE DATABASE "+name+" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'")
	t.Cleanup(func() {
		pgtest.Exec(t, base,
			`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '`+name+`' AND pid <> pg_backend_pid()`,
			"DROP DATABASE IF EXISTS "+name)
	})
	u.Path = "/" + name
	s, err := Open(t.Context(), u.String(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	accounts := map[string]string{"zed": "Zed@example.com", "élodie": "elodie@example.com", "bob": "b@example.com",
		"a-b": "", "ab": "AB@example.com", "ac": ""}
	err = s.InTx(ctx, store.Durable, func(tx store.Tx) error {
		for u, e := range accounts {
			if err := tx.UpsertAccount(ctx, store.Account{ID: "id-" + u, Username: u, Email: e, CreatedAt: time.Now()}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	names := func(q store.AccountSearch) []string {
		t.Helper()
		q.Limit = 100
		list, err := s.SearchAccounts(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range list {
			out = append(out, a.Username)
		}
		return out
	}
	if got, want := names(store.AccountSearch{}), []string{"a-b", "ab", "ac", "bob", "zed", "élodie"}; !slices.Equal(got, want) {
		t.Errorf("list: %q, want %q", got, want)
	}
	if got, want := names(store.AccountSearch{After: "zed"}), []string{"élodie"}; !slices.Equal(got, want) {
		t.Errorf("after zed: %q, want %q", got, want)
	}
	if got, want := names(store.AccountSearch{UsernamePrefix: "é"}), []string{"élodie"}; !slices.Equal(got, want) {
		t.Errorf("prefix é: %q, want %q", got, want)
	}
	if got, want := names(store.AccountSearch{EmailPrefix: "Z"}), []string{"zed"}; !slices.Equal(got, want) {
		t.Errorf("email prefix Z: %q, want %q", got, want)
	}
	if got, want := names(store.AccountSearch{EmailPrefix: "a"}), []string{"ab"}; !slices.Equal(got, want) {
		t.Errorf("email prefix a: %q, want %q", got, want)
	}
}
