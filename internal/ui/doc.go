// Package ui renders the pages a person sees: sign-in, consent, errors, and
// later sign-out and the account page. Templates are html/template files
// embedded in the binary; every page is plain HTML that works without
// JavaScript and loads nothing from elsewhere.
//
// The contract (contract.md) fixes the form fields tests fill in, so field
// names here change only with it. Every form also carries the browser's
// token in the hidden input csrf (W1, package web). Each page is sent with
// the security headers package web builds (spec A18, S5, W2: no framing,
// no referrer, no caching, and a CSP whose form-action allows the page's
// own redirect target).
//
// It does not own the flow behind a page (package oidc decides which page to
// show and what a submitted form does).
package ui
