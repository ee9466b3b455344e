// Package abuse holds Sesame's abuse suite: one test per attack that a
// hostile client or browser can try (floods of wrong secrets, bursts of
// guesses, lockout of strangers' accounts, cross-site posts, oversized
// input, forced sign-out, stale admin tokens). Each test drives a whole
// Sesame through its real handlers, on SQLite and, when
// SESAME_TEST_POSTGRES is set (always in CI), on PostgreSQL.
//
// The package has no code of its own: the rules it checks live in the
// packages named after them (account, client, web, signout...).
package abuse
