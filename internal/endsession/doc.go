// Package endsession is the HTTP side of sign-out: the end-session endpoint
// of RP-Initiated Logout 1.0 (GET and POST {issuer}/session/end, spec
// L1-L13) and the confirm page it renders, whose answer
// ({issuer}/session/end/confirm) signs the browser out of every app (O4)
// or of the requesting app alone (O5) and returns to the app (O8): by a
// 303, or, when the sign-out ended the sessions of apps with a
// front-channel logout page, by a 200 page that loads those pages in
// hidden iframes (with iss and sid) and then follows a meta refresh, one
// backchannel_wait shared by both channels (F2, Front-Channel Logout
// 1.0 §3). The confirm page names the app that asked and what each
// choice keeps, and its Cancel link signs nobody out: it returns to the
// registered post_logout_redirect_uri with state, or to the landing page
// (O3).
//
// It decides whom to trust (O2): an id_token_hint counts only when it is
// an ID token Sesame signed (expired is fine), and a
// post_logout_redirect_uri only when it is registered for the client the
// request names. It also decides when the confirm page may submit itself
// (O3, signout_confirm: auto): only for a request that proves where it
// came from, by a hint of this browser's own session or by a registered
// return address sent from one of the client's own origins, so that a
// link on another site cannot sign a browser out (logout CSRF).
//
// What a sign-out revokes, keeps, notifies and records is package
// signout's. The two are apart because the rules have other callers (the
// account page, the admin API, sign-in's account switch, password resets)
// that must not depend on this endpoint's requests and pages; this package
// holds only what a browser sends and sees: parameters, cookies, pages and
// redirects.
package endsession
