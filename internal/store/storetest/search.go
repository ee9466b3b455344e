package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/sesame-id/sesame/internal/store"
)

// searchTests cover the admin list of accounts: pages in one order on
// every database, and prefix search by username or email.
var searchTests = []test{
	{"SearchAccountsPagesInCodePointOrder", testSearchAccountsPagesInCodePointOrder},
	{"SearchAccountsByUsernamePrefix", testSearchAccountsByUsernamePrefix},
	{"SearchAccountsByEmailPrefixIgnoresASCIICase", testSearchAccountsByEmailPrefix},
	{"SearchAccountsByEitherPrefixPagesTheUnion", testSearchAccountsByEitherPrefix},
	{"SearchAccountsRefusesNoLimit", testSearchAccountsRefusesNoLimit},
}

// putAccounts stores an account per username, with the email emails
// gives it (none when absent), in the order given.
func putAccounts(t *testing.T, s store.Store, usernames []string, emails map[string]string) {
	t.Helper()
	mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, u := range usernames {
			if err := tx.UpsertAccount(ctx, store.Account{ID: "id-" + u, Username: u, Email: emails[u], CreatedAt: t0}); err != nil {
				return err
			}
		}
		return nil
	})
}

// searchAll follows the cursor through every page of q, limit accounts a
// page, and returns the usernames in the order the pages gave them; it
// fails the test if a page but the last is short.
func searchAll(t *testing.T, s store.Store, q store.AccountSearch, limit int) []string {
	t.Helper()
	var all []string
	q.Limit = limit
	for pages := 0; pages < 100; pages++ {
		page, err := s.SearchAccounts(t.Context(), q)
		must(t, "search accounts", err)
		for _, a := range page {
			all = append(all, a.Username)
		}
		if len(page) < limit {
			return all
		}
		q.After = page[len(page)-1].Username
	}
	t.Fatal("search accounts: more than 100 pages")
	return nil
}

// testSearchAccountsPagesInCodePointOrder: every account comes once, in
// the order of code points whatever the database's collation: "a-b"
// before "ab" ('-' is below 'b'), and "é" after "z". A cursor resumes
// after the last account of the previous page.
func testSearchAccountsPagesInCodePointOrder(t *testing.T, s store.Store) {
	putAccounts(t, s, []string{"zed", "ab", "élodie", "a-b", "ac", "bob", "alice", "a"}, nil)
	want := []string{"a", "a-b", "ab", "ac", "alice", "bob", "zed", "élodie"}
	for _, limit := range []int{1, 3, 8, 100} {
		equal(t, fmt.Sprintf("every account, pages of %d", limit), searchAll(t, s, store.AccountSearch{}, limit), want)
	}
	page, err := s.SearchAccounts(t.Context(), store.AccountSearch{After: "ac", Limit: 2})
	must(t, "search after ac", err)
	equal(t, "the page after ac", ids(page, func(a store.Account) string { return a.Username }), []string{"alice", "bob"})
}

// testSearchAccountsByUsernamePrefix: a username prefix finds the
// accounts whose name starts with it, and no name that merely holds it.
// Usernames are canonical (A1), so the prefix is compared as given.
func testSearchAccountsByUsernamePrefix(t *testing.T, s store.Store) {
	putAccounts(t, s, []string{"alicia", "ali", "bali", "alice", "al", "élodie", "élo", "el"}, nil)
	for _, c := range []struct {
		prefix string
		want   []string
	}{
		{"ali", []string{"ali", "alice", "alicia"}},
		{"alic", []string{"alice", "alicia"}},
		{"alicia", []string{"alicia"}},
		{"alicias", nil},
		{"li", nil},
		{"élo", []string{"élo", "élodie"}},
		{"é", []string{"élo", "élodie"}},
		{"e", []string{"el"}},
		{"f", nil},
	} {
		got := searchAll(t, s, store.AccountSearch{UsernamePrefix: c.prefix}, 2)
		equal(t, "username prefix "+c.prefix, got, c.want)
	}
}

// testSearchAccountsByEmailPrefix: an email prefix matches the start of
// the email, A to Z in either case on both sides; an email is stored as
// it was given.
func testSearchAccountsByEmailPrefix(t *testing.T, s store.Store) {
	putAccounts(t, s, []string{"carol", "dan", "erin", "nomail"}, map[string]string{
		"carol": "Carol.Smith@Example.COM",
		"dan":   "dan@example.com",
		"erin":  "erin.carol@example.org",
	})
	for _, c := range []struct {
		prefix string
		want   []string
	}{
		{"carol", []string{"carol"}},
		{"CAROL.s", []string{"carol"}},
		{"carol.smith@example.com", []string{"carol"}},
		{"Carol.Smith@Example.COM", []string{"carol"}},
		{"carol.smith@example.comx", nil},
		{"example", nil}, // a prefix, not a substring
		{"d", []string{"dan"}},
		{"E", []string{"erin"}},
	} {
		got := searchAll(t, s, store.AccountSearch{EmailPrefix: c.prefix}, 1)
		equal(t, "email prefix "+c.prefix, got, c.want)
	}
}

// testSearchAccountsByEitherPrefixPagesTheUnion: with both prefixes, an
// account matching either comes once, in username order, and the cursor
// pages through them.
func testSearchAccountsByEitherPrefix(t *testing.T, s store.Store) {
	putAccounts(t, s, []string{"dave", "zoe", "davina", "adam", "dav"}, map[string]string{
		"zoe":  "Dave.Friend@example.com",
		"dave": "dave@example.com", // matches both ways: once
		"adam": "adam@dave.example",
	})
	want := []string{"dav", "dave", "davina", "zoe"}
	for _, limit := range []int{1, 2, 10} {
		got := searchAll(t, s, store.AccountSearch{UsernamePrefix: "dav", EmailPrefix: "dav"}, limit)
		equal(t, fmt.Sprintf("either prefix, pages of %d", limit), got, want)
	}
}

func testSearchAccountsRefusesNoLimit(t *testing.T, s store.Store) {
	if _, err := s.SearchAccounts(t.Context(), store.AccountSearch{}); err == nil {
		t.Error("a search without a limit was not refused")
	}
}
