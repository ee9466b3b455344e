// Package rp is Sesame's Go SDK for apps (relying parties): sign people in
// with the authorization code flow and PKCE, keep their tokens in an app
// session, refresh them safely, and sign them out.
//
// A web app (server side) uses Client: SignIn sends the person to Sesame,
// HandleCallback checks state, redeems the code and verifies the ID token
// with go-oidc (OpenID Connect Core §3.1.3.7), AccessToken refreshes when
// needed, and SignOut ends the app session, revokes the refresh token and
// sends the browser to end-session (RP-Initiated Logout §2).
//
// Two ways to sign out (as Logto's SDKs do):
//   - SignOutWeb: clear the app's session, revoke its refresh token, then
//     end the Sesame session in this browser. Use it for web apps, where
//     signing out should sign the person out of Sesame too.
//   - SignOutLocal: clear the app's session and revoke its refresh token
//     only; Sesame's session and the other apps stay signed in. Use it for
//     native apps, and for "sign out of this app only".
//
// Package rp/backchannel receives Sesame's back-channel logout tokens and
// ends the matching app sessions.
//
// The SDK imports nothing of Sesame's server and logs nothing unless given
// a *slog.Logger.
package rp
