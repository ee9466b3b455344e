// Package demo is the sample web app of `sesame demo`, written with
// Sesame's own SDK (package rp) as any app would be: a page that says who
// is signed in and explains what just happened (a password sign-in, single
// sign-on, a sign-out here or by back-channel logout).
//
// It is not part of the identity provider; it shows it.
package demo
