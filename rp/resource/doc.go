// Package resource is for an API that Sesame's apps call with a JWT
// access token (RFC 9068) that Sesame issued for it (RFC 8707: the token's
// aud is the API's resource indicator). It verifies the token offline and
// requires scopes per route:
//
//	v, err := resource.New(ctx, resource.Config{
//		Issuer:   "https://sesame.example/oidc",
//		Audience: "https://api.example.com/orders",
//	})
//	mux.Handle("GET /orders", v.Require("read:orders")(listOrders))
//
// A Verifier checks, in this order (RFC 9068 §4): the Authorization
// header (RFC 6750 §2.1); the JWS alg, ES256 or RS256 only, so never none
// nor an HMAC made with the public key; the typ header, at+jwt or
// application/at+jwt; the signature, with Sesame's published keys; iss,
// exactly the configured issuer; aud, which must contain the API's
// indicator; exp (and nbf, iat), with 30 seconds of leeway for clocks a
// little apart; and the claims RFC 9068 §2.2 requires (sub, client_id,
// iat, jti). Then the route's scopes. A refusal is answered as RFC 6750
// §3 says, with WWW-Authenticate: Bearer and a small JSON body: 401
// without any error code for a request without a token, 400
// invalid_request, 401 invalid_token, 403 insufficient_scope naming the
// scopes the route needs; 503 when Sesame's keys cannot be fetched to
// check a token signed by a key not yet seen.
//
// The keys come from the jwks_uri of Sesame's discovery document, read
// once by New; they are cached, fetched again with the context of the
// request that needs them when a token names a key not in the cache (key
// rotation), at most once every 30 seconds, and at least every 10 minutes.
//
// What verification offline cannot know: a token stays valid until it
// expires, even after the person signs out of Sesame or the grant is
// revoked (O4). An API that must learn of that sooner asks Sesame's
// introspection endpoint, or keeps its tokens short-lived (the resource's
// access_token_ttl).
//
// The verified claims are in the request's context for the handler:
// ClaimsFrom(r.Context()).
package resource
