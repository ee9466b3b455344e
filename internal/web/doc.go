// Package web is Sesame's side of the browser (design W1, W2, S1): the one
// place that writes and reads Sesame's cookies, binds the posts of
// Sesame's own forms to the browser that loaded them, refuses those posts
// when they come from another site, and builds the security headers of
// every page (the Content-Security-Policy among them).
//
//   - Cookies: HttpOnly, SameSite=Lax, path /, and Secure with the __Host-
//     prefix when the issuer is https (spec S1). A cookie whose name
//     changed is still read under its former name, so an upgrade signs
//     nobody out.
//   - Forms: a random pre-session "browser" cookie, and a token on every
//     form that is an HMAC of it under a server key; a post whose token is
//     missing or wrong is refused, and so is one whose Sec-Fetch-Site is
//     cross-site (spec S7: login CSRF). Origin is never the judge: pages
//     send Referrer-Policy: no-referrer, so their posts say Origin: null.
//   - Headers: no framing, no referrer, no caching, nosniff, and a CSP
//     whose form-action is 'self' plus the origin of the page's own
//     redirect target, because Chromium applies form-action to the
//     redirect that follows a form post, and, on the one page that loads
//     apps' front-channel logout pages (F2), a frame-src of exactly their
//     origins.
//
// It knows nothing of grants or sign-in, and of sessions only that a
// session cookie read under its former name is marked as such
// (session.FormerCookie), since only sessions made before the rename may
// use it: handlers (packages oidc, endsession, admin) decide what a
// cookie holds and which page to show; package ui renders the pages and calls SetPageHeaders. Protocol
// endpoints that are cross-site by nature (POST /auth, POST /session/end,
// token, revocation, introspection, userinfo) are never wrapped by Protect.
package web
