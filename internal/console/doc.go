// Package console is the operators' console at /console: server-rendered
// pages for the people whose account holds the built-in admin role (C5).
//
// The console is an OpenID Connect client of the Sesame that serves it,
// not a second login system. Sesame registers it for itself at every
// start (client.ConsoleID, a first-party web client whose secret is
// random per start and kept by nobody); a visit without a console session
// goes to the issuer's /auth with code + PKCE S256, state and nonce (kept
// in a short-lived sealed cookie), and the callback redeems the code in
// process (token.Service.Exchange), never over HTTP to itself. The
// console session is a sealed, HttpOnly cookie holding the access token
// and the ID token: no token ever reaches a page's script. Signing out is
// an ordinary Sesame sign-out (end-session with id_token_hint).
//
// Every request, page or action, checks the access token (live token,
// grant and account), that it carries sesame:admin, and that the account
// holds the admin role now: a global sign-out (which revokes the console's
// grant) or the role taken away ends the console session at the next
// request. Every form posts a browser-bound token and is refused
// cross-site (W1, web.Forms.Protect). The console's client also has a
// back-channel logout URI, which deliveries reach in process
// (backchannel.Local), never over the network: a verified logout token
// refuses that sid's console session at once (backchannel.go). A secret
// the console makes (an app created, a secret rotated) is shown once, on
// the GET its POST redirects to, by way of a short-lived sealed cookie, so
// a reload never makes another (shownonce.go).
//
// The sections are Apps (with back-channel diagnostics and the test
// logout token, diagnostics.go), Users (users*.go, receipts.go), API
// resources and roles (resources.go) and Activity (activity.go: package
// activity's charts, the audit log and the sign-outs). They act through
// the same operations as the admin JSON API (package admin's Clients,
// Accounts and Deliveries, package resource's changes), so validation,
// the refusals of what the configuration file declares (C4) and the audit
// entries, with the person as actor (audit.ByAdminAccount), are the
// API's.
package console
