// Package sqlite is the embedded SQLite backend of package store, on the
// pure-Go driver modernc.org/sqlite: no cgo, one static binary.
//
// # Connections
//
// SQLite allows one writer at a time. A Store therefore holds two pools on
// the same file, in WAL mode:
//
//   - one writer connection (MaxOpenConns 1) whose transactions begin
//     IMMEDIATE, so writers queue in database/sql instead of failing with
//     "database is locked", and a write transaction never has to upgrade a
//     read lock it cannot get;
//   - a pool of query_only reader connections, which WAL lets read the last
//     committed state while the writer works.
//
// Store's own reads use the reader pool; reads on a store.Tx go through the
// transaction and see its writes. Because there is one writer connection,
// calling Store.InTx (or Migrate) from inside an InTx function would wait
// for itself: don't.
//
// Every statement is prepared once per connection and reused (stmts.go):
// parsing and planning was most of the CPU of a lookup.
//
// # Schema
//
// Versioned goose migrations under migrations/, embedded in the binary and
// run by Open. Times are INTEGER unix nanoseconds UTC (NULL for the zero
// time), string lists JSON arrays, AuthParams a JSON object. Codes and
// tokens are keyed by the SHA-256 of their value.
//
// # Semantics the interface leaves open
//
// These are pinned by store/storetest so every backend agrees:
//
//   - deleting a row that is not there (DeleteSession, DeleteAuthorization,
//     DeleteAuthRequest, DeleteThrottle) is not an error: the state
//     asked for holds;
//   - changing a row that is not there (TouchSession, UpdateGrantScopes,
//     RevokeGrant, UpdateAuthRequest, Revoke*Token, Consume*,
//     PutAuthorization for a missing session) is store.ErrNotFound;
//   - revoking a token twice keeps the first RevokedAt;
//   - Sweep deletes what expired strictly before now.
//
// What a revoked grant means for its tokens is decided by packages grant and
// token, not here; Sweep only removes what can no longer be used.
package sqlite
