// Package keys holds the OP's signing keys: an ES256 and an RS256 key
// created on first start, their private halves sealed at rest with the
// operator's secret_key, the JWKS that publishes them, and signing and
// verifying with go-jose (design §2 "Signing keys", spec D10, B6).
//
// Keys live in the store, so every instance signs with the same ones.
// ES256 signs by default; a client may ask for RS256. Rotate publishes a
// new key before it signs and keeps the old one published.
//
// It does not decide what is signed (packages token and backchannel) or
// which algorithm a client gets (its registration, package client).
package keys
