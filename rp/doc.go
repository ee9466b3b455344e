// Package rp is Sesame's Go SDK for apps (relying parties): sign people in
// with the authorization code flow and PKCE, keep their tokens in an app
// session, refresh them safely, get tokens for the app's APIs, and sign
// them out.
//
// A web app (server side) uses Client: SignIn sends the person to Sesame,
// HandleCallback checks state, redeems the code and verifies the ID token
// with go-oidc (OpenID Connect Core §3.1.3.7), keeping its claims as typed
// Claims; AccessToken refreshes Sesame's own access token when needed (for
// UserInfo); AccessTokenFor gets a JWT access token for one of the app's
// APIs (RFC 9068, asked with resource, RFC 8707) and caches it in the app
// session; SignOutWeb ends the app session, revokes the refresh token and
// sends the browser to end-session (RP-Initiated Logout §2).
//
// To call an API, list its indicator in Config.Resources and its scopes in
// Config.Scopes, and sign in with WithOfflineAccess: the API's token is
// got with the refresh token, which only an offline_access sign-in has.
// The API itself verifies the token with package rp/resource.
//
// Two ways to sign out (as Logto's SDKs do):
//   - SignOutWeb: clear the app's session, revoke its refresh token, then
//     end the Sesame session in this browser. Use it for web apps, where
//     signing out should sign the person out of Sesame too.
//   - SignOutLocal: clear the app's session and revoke its refresh token
//     only; Sesame's session and the other apps stay signed in. Use it for
//     native apps, and for "sign out of this app only".
//
// Errors are typed: ErrNoSession, ErrSignedOut and ErrNoRefreshToken; an
// *Error for an OAuth error Sesame answered (errors.Is matches
// ErrInvalidGrant and ErrInvalidTarget); a *TransportError when Sesame
// could not be reached. NeedsSignIn says which mean "sign in again".
//
// App sessions live in a SessionStore: MemoryStore for one app instance,
// CookieStore to keep them sealed in the browser's cookie, or your own on
// a database shared by several instances. A store of your own must make
// Update a conditional write (UPDATE ... WHERE id = $1, and report
// ErrSignedOut when no row matched): that is what keeps a refresh in
// flight from undoing a sign-out. Behind several app instances, the store
// should also implement RefreshLocker, so two instances never refresh one
// session at once (Sesame would take the second for a stolen token and
// revoke the grant). Package rp/rptest tests a store against this
// contract. Each sign-in gets a new session ID, so an ID planted in a
// browser beforehand never becomes a signed-in session.
//
// Every call takes its context from its caller (ctx, or the request's)
// and none is kept between calls: the keys that verify ID tokens are
// fetched with the context of the verification that needs them. A refresh
// whose refresh token is already on the wire runs to its end even if its
// caller goes away, since Sesame has spent the old token by then.
//
// Package rp/backchannel receives Sesame's back-channel logout tokens and
// ends the matching app sessions.
//
// The SDK imports nothing of Sesame's server and logs nothing unless given
// a *slog.Logger.
package rp
