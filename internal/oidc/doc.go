// Package oidc serves the OpenID Connect protocol endpoints under the
// issuer: discovery, JWKS, authorization (with its sign-in and consent
// interaction), token, userinfo, revocation and introspection.
//
// It translates HTTP requests into calls on the domain packages (session,
// grant, token, account, client, resource) and their errors into protocol
// errors: errors.go is the one place where domain errors become OAuth
// error codes and HTTP statuses. An error reaches the requester in one of three ways,
// chosen by where the request came from: an HTML page when
// the redirect target cannot be trusted (spec A3), a redirect to the client
// once it can (spec A5), or JSON at the back-channel endpoints (spec T2).
//
// It holds the spec rows of sections 1-5 and 10 (resource indicators) of
// docs/spec-rules.md. It does not
// own the rules themselves (the domain packages do), routing (package
// server) or end-session (package endsession).
package oidc
