// Package signout holds the rules of signing out (design O1-O9); it has no
// HTTP side (package endsession serves end-session and its confirm page,
// RP-Initiated Logout 1.0).
//
// Scope names the layers that involve Sesame: this app only (O5), this
// browser (O4, global, the default) and every device (O6); O1 is the app's
// alone. Each sign-out is one transaction: grants are revoked or kept (and
// why), the session ends or loses one app, back-channel deliveries are
// queued, and a Receipt records all of it (O9). The first delivery attempts
// start right after the commit (Service.Deliver); the person is redirected
// once they land or backchannel_wait passes. A sign-out that ends the
// session of the browser it is answered in (Request.Frontchannel:
// end-session, an account switch; InBrowser: the account page's sign-out
// of this device or of every device) also returns, and records, the
// front-channel logout page of each of that session's ended apps that
// has one, with the sid to send (F2); the other sessions it ends get
// none. The page that loads them is package ui's, answered by the
// caller; what is left of the wait for it is Service.Left.
// An admin revoking a grant or a session (O7) and a password reset (A5)
// end sessions through the same rules.
//
// It does not deliver logout tokens itself (package backchannel), verify
// signatures (package keys), own the session cookie's format (package
// session) or read requests and render pages (packages endsession,
// admin, oidc and ui).
package signout
