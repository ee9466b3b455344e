// Package admin gives people and operators their levers: the account page
// (/account), where a person sees their devices (sessions) and connected
// apps (grants) and ends either (design O6, O7; §2 "The account page"), and
// later the admin JSON API.
//
// Every action goes through the same domain code as end-session (package
// signout), so it sends back-channel logouts and writes a receipt. A page
// shows and acts on the signed-in person's own sessions and grants only.
//
// It does not own the sign-out rules (package signout) or the pages'
// templates (package ui).
package admin
