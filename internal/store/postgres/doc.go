// Package postgres is the PostgreSQL backend of package store, on
// github.com/jackc/pgx/v5 (pgxpool), for running any number of Sesame
// instances on one database (design §2). It passes the same conformance
// suite (store/storetest) as the SQLite backend, and reads as that one
// does, file for file.
//
// # Connections
//
// One pgxpool pool serves everything. Store's reads take a connection
// from it per query and see committed data; InTx holds one connection for
// a READ COMMITTED transaction whose reads see its own writes. Unlike on
// SQLite, writers do not queue behind one another: transactions run in
// parallel and meet only on the rows they both change.
//
// A function given to InTx holds its connection until it returns, so it
// should not wait on the pool meanwhile (a read through Store rather than
// the Tx inside it takes a second connection: with every connection held
// by such transactions, they would all wait). The pool has max(8, 4 ×
// GOMAXPROCS) connections unless the URL sets pool_max_conns. pgx prepares
// each statement once per connection and reuses it; behind a
// transaction-pooling PgBouncer, set default_query_exec_mode=exec in the
// URL.
//
// # Concurrency
//
// The operations that one caller only may win (ConsumeAuthCode,
// ConsumeRefreshToken, RevokeGrant, LeaseDelivery, DeleteSession,
// DeleteLogoutRequest) are single conditional UPDATEs or DELETEs:
// concurrent ones wait for the first one's row lock, PostgreSQL re-checks
// the condition on the row it committed, and the others change nothing.
// CreateLogoutRequest replaces a session's request in one upsert on a
// unique index, so only the latest confirm page of a session stays
// confirmable even when two are opened at once (O3).
//
// In PostgreSQL an error aborts the transaction it happens in, where
// SQLite lets it go on. So that callers can handle store.ErrConflict and
// store.ErrNotFound inside a transaction on both backends alike, creates
// are INSERT ... ON CONFLICT DO NOTHING (no row is ErrConflict),
// UpsertAccount checks the username in its statement, and PutAuthorization
// checks that the session exists: none of them raises an error for the
// expected case. A constraint violation that still happens (a race the
// check lost) is mapped to the same sentinel, but the transaction is then
// over.
//
// # Schema
//
// Versioned goose migrations under migrations/, embedded in the binary and
// run by Open under a PostgreSQL advisory lock, so instances starting at
// once migrate one at a time; then River's migrations. Times are
// timestamptz (NULL for the zero time), read back in UTC with microsecond
// precision: PostgreSQL keeps no more, so nanoseconds are truncated on the
// way in (SQLite keeps them; the suite asks for microseconds). String lists
// are text[], AuthParams and receipt outcomes jsonb, hashes bytea. Each
// index serves a named query or the sweeper (see the migration), and
// TestHotPathsUseIndexes checks the plans of the hot ones on many rows.
//
// # Jobs
//
// Back-channel deliveries are River jobs on River's pgx driver. The jobs
// EnqueueDelivery and RetryDelivery queue are inserted in the caller's
// transaction, all in one statement, just before it commits (B3): they
// exist if and only if the sign-out does. StartJobs runs workers; a job
// due now is announced with NOTIFY on commit, and LISTEN wakes a worker on
// whichever instance is free. Short snoozes (a delivery's retries) are
// announced by nothing, so workers also poll, four times a second.
//
// # What it does not own
//
// The rules: what a revoked grant means for its tokens, when a session
// ends, how a delivery is retried are decided by packages grant, token,
// session, signout and backchannel. This package stores and finds, and
// holds the semantics store/storetest pins: deleting what is not there is
// no error, changing what is not there is store.ErrNotFound, revoking
// twice keeps the first time, and Sweep deletes what expired strictly
// before now. Choosing it from the configuration's database URL is the
// caller's (cmd/sesame).
package postgres
