// Package audit is the audit log of Sesame: who changed what, when, and
// from where. Every change someone makes on purpose is one Entry: an admin
// client creating an account or revoking a grant through the admin API, a
// person ending a session or disconnecting an app on the account page, an
// operator at the CLI, or Sesame itself applying the configuration file.
// Admins read the log through the admin API (GET /api/audit), newest
// first, filtered by actor, target, account, action and time.
//
// Why a log of its own, beside the events of package store (sign-ins,
// refresh-token reuse, failed deliveries): events say what happened to an
// account; the audit log says who did it. After an incident the first
// questions are "which admin reset this password?", "who deleted that
// client?", "from which address?"; an entry answers each with its Actor,
// Action, Target and Address, and its time.
//
// An entry is written in the transaction of the change it records
// (Recorder.InTx) wherever the change is one transaction the caller holds,
// so the log never claims a change that was rolled back and never misses
// one that committed; where the change commits inside another package's
// transaction, it is written right after the commit (Recorder.After).
//
// No secret ever enters the log: no password, password hash, client
// secret, token, cookie or key, not even in part. The log is kept for
// audit_retention (90 days by default) and read by every admin, so an
// entry names what changed (field names, ids, counts) and never a value
// that grants access. Detail is short text built by code, never copied
// from a request body.
//
// The sweeper (store.Sweeper) deletes entries older than its
// AuditRetention. This package owns the vocabulary (actors, actions,
// targets) and the rules of an entry; it does not decide what an admin may
// do (package admin) nor store anything itself (package store).
package audit
