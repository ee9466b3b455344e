// Package client holds the rules of registered apps (design C1, C1a, C2):
// client types and what each may do, validation of a registration,
// exact redirect-URI matching (spec A2, A16), the rules of a
// frontchannel_logout_uri (F1: on the origin of one of the client's
// redirect URIs), PKCE policy, and checking client secrets, stored as
// argon2id hashes.
//
// It does not authenticate HTTP requests (package oidc reads the
// credentials and calls VerifySecret) or decide consent (package oidc,
// from FirstParty).
package client
