// Package ui renders the pages a person sees: sign-in, consent, errors, and
// later sign-out and the account page. Templates are html/template files
// embedded in the binary; every page is plain HTML that works without
// JavaScript and loads nothing from elsewhere.
//
// The contract (contract.md) fixes the form fields tests fill in, so field
// names here change only with it. Each page is sent with the security
// headers of spec A18 and S5 (no framing, no referrer, no caching).
//
// It does not own the flow behind a page (package oidc decides which page to
// show and what a submitted form does).
package ui
