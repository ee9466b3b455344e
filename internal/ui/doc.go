// Package ui renders the pages a person sees: the landing page, sign-in,
// consent, the sign-out confirm and done pages, the front-channel logout
// page that ends a sign-out in the browser (FrontchannelSignOut builds it
// for every flow that answers with it), the account page and error pages. Templates are html/template files embedded in the binary; every
// page is plain HTML that works without JavaScript, loads nothing from
// elsewhere, and reads on a 360 px wide screen (a viewport tag, a layout
// that wraps, labelled fields, one h1 and headings in order, AA contrast;
// the e2e browser test checks each page with axe-core). Error pages say
// what went wrong and what to do in words, never a bare status text.
//
// The form fields tests fill in are part of what apps and tests rely on
// (docs/endpoints.md), so field names here change only with it. Every
// form also carries the browser's token in the hidden input csrf (W1,
// package web). Each page is sent with the security headers package web
// builds (spec A18, S5, W2: no framing, no referrer, no caching, and a CSP
// whose form-action allows the page's own redirect target).
//
// It does not own the flow behind a page (packages oidc, endsession and
// admin decide which page to show and what a submitted form does).
package ui
