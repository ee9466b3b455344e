// Package e2e drives Sesame with clients other people wrote, so that a
// misunderstanding we share with our own tests cannot hide (issue: interop
// with foreign clients). Every incompatibility found is fixed in Sesame, or
// documented with the spec section where the client is wrong; see
// README.md.
package e2e
