// Package signin turns a successful authentication into a Sesame session:
// the one sign-in operation that the OIDC flow and the account page share
// (design W1, S1, S7).
//
// A sign-in makes a new session with a new id and cookie (S1, no
// fixation). When the browser already holds a session of the same account,
// the new one carries its apps (their authorizations and sids) and the old
// one is superseded; when it holds another account's, that account is
// signed out of this browser first, back-channel included (S7, O4), and
// the front-channel logout pages of its apps are returned for the
// caller's answer, which loads them before it goes on (F2). The
// sign-in is recorded (account.SignedIn), and the caller's own step (an
// authorization code, a consent request) joins the same write transaction,
// so all of it is recorded or none.
//
// It is a package of its own because the operation spans account, session
// and signout: sign-in could sit under account, but account sits below
// signout (which imports it, for a password reset), and session
// cannot import signout, which imports it. It knows nothing of
// HTTP: authenticating is account.Service.Authenticate, and cookies are
// the caller's (package web).
package signin
