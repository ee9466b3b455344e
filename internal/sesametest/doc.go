// Package sesametest runs a whole Sesame on httptest for tests: a temporary
// SQLite database, real keys, the real handlers, a fake clock, cheap
// password hashing, a set of clients and a user, and a Browser that keeps
// cookies and fills Sesame's pages as a person would.
//
// Tests drive flows through it and assert the rules of docs/architecture.md
// and docs/spec-rules.md; it decides nothing itself.
package sesametest
