// Package signout holds the rules of signing out (design O1-O9) and serves
// the end-session endpoint and its confirm page (RP-Initiated Logout 1.0,
// spec L1-L13).
//
// Scope names the layers that involve Sesame: this app only (O5), this
// browser (O4, global, the default) and every device (O6); O1 is the app's
// alone. Each sign-out is one transaction: grants are revoked or kept (and
// why), the session ends or loses one app, back-channel deliveries are
// queued, and a Receipt records all of it (O9). The first delivery attempts
// start right after the commit; the person is redirected once they land or
// backchannel_wait passes.
//
// It does not deliver logout tokens itself (package backchannel), verify
// signatures (package keys) or own the session cookie's format (package
// session).
package signout
