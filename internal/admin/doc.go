// Package admin gives people and operators their levers: the account page
// (/account), where a person sees their devices (sessions) and connected
// apps (grants) and ends either (design O6, O7; §2 "The account page"), and
// the admin JSON API (/api). An admin token is honoured only while its
// client holds the admin role, read at every call (C5); a password reset
// ends the account's sessions (A5); what the configuration file declares is
// the file's to change (C4).
//
// Every action goes through the same domain code as end-session (package
// signout), so it sends back-channel logouts and writes a receipt. A page
// shows and acts on the signed-in person's own sessions and grants only.
//
// Every change the API makes is written to the audit log (package audit):
// the admin client of the token, the client address (web.ClientIP), the
// action and its target; inside the change's transaction where the API
// holds it (an account's fields, a revocation, a client's deletion, a
// retry), right after its commit where another package commits it (an
// account's creation, a password reset, a client's registration, a
// sign-out everywhere). Admins read the log at /api/audit, and list or
// search accounts by username or email prefix at /api/accounts.
//
// It does not own the sign-out rules (package signout), the audit log's
// vocabulary (package audit) or the pages' templates (package ui).
package admin
