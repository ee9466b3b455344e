// Package demo is the sample web app of `sesame demo`, written with
// Sesame's own SDK (package rp) as any app would be: one page that says
// `Signed in as <username>` or `Not signed in` and explains what just
// happened, in words (a password sign-in, single sign-on, the app's own
// sign-out, or a back-channel or front-channel logout it received).
//
// It tells its own sign-out apart from one it was told of, and never
// claims more than it knows: a back-channel logout token carries no reason,
// so the app says it was told, and lists what may have caused it; a
// front-channel logout says which session by its sid (the app's cookie
// does not reach a frame on another site), and Sesame loads it only from
// its sign-out page, so the app says that much; after a
// sign-out through Sesame it does not know whether the person then chose
// "this app only", every app or Cancel there, so it says only what it did
// itself.
//
// Routes: GET /, /sign-in, /callback, /sign-out, /sign-out-here,
// /frontchannel-logout and POST /backchannel-logout.
//
// It also holds the demo's Orders API (NewOrdersAPI, GET /orders), written
// with rp/resource, which an app with Orders set calls with a token Sesame
// gave that app. The page then lists the orders and says the person may
// read them, or says in words why not, telling the API's 403 (no role
// permits read:orders) apart from Sesame's invalid_target (no token for
// the API at all), so that it never blames the person's roles for the
// app's sign-in.
//
// It is not part of the identity provider; it shows it.
package demo
