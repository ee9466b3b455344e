// Package store defines the persistence seam of Sesame: the record types the
// domain packages read and write, the Store and Tx interfaces, and the
// sentinel errors every backend returns.
//
// The interface lists the operations the domain needs, not a generic CRUD
// layer. Reads go through Store (on SQLite, a pool of reader connections);
// every write happens inside Store.InTx, so a request that changes several
// tables (a sign-in that creates a session, a grant and a code; a sign-out
// that revokes grants and ends a session) commits all of it or none.
//
// Secrets never reach the store in clear: sessions, codes and tokens are
// looked up by the SHA-256 hash of their value, client secrets and
// passwords are argon2id hashes, private keys are sealed by package keys.
//
// The one implementation is store/sql, its SQL written once over two
// dialects (SQLite, PostgreSQL); store/storetest is the conformance suite
// it passes on both. This package owns no rules: what a
// revoked grant means for its tokens is decided in package grant and token.
package store
