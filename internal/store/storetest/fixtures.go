package storetest

import (
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// The fixtures fill every field with a value of its own, so a backend that
// swaps two columns or drops one fails a round trip.

func fullAccount(id string) store.Account {
	return store.Account{
		ID:            id,
		Username:      "user-" + id,
		Email:         id + "@example.com",
		EmailVerified: true,
		Name:          "Person " + id,
		PasswordHash:  "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g",
		Disabled:      true,
		CreatedAt:     at(-48 * time.Hour),
		UpdatedAt:     at(-time.Hour),
	}
}

func fullClient(id string) store.Client {
	return store.Client{
		ID:                                id,
		SecretHash:                        "$argon2id$v=19$m=65536,t=3,p=4$c2VjcmV0$c2VjcmV0aGFzaA",
		Type:                              "web",
		Name:                              "App " + id,
		RedirectURIs:                      []string{"https://" + id + ".example/callback", "http://127.0.0.1:5001/cb"},
		PostLogoutRedirectURIs:            []string{"https://" + id + ".example/bye"},
		BackchannelLogoutURI:              "https://" + id + ".example/backchannel",
		BackchannelLogoutSessionRequired:  true,
		FrontchannelLogoutURI:             "https://" + id + ".example/frontchannel?from=sesame",
		FrontchannelLogoutSessionRequired: true,
		FirstParty:                        true,
		OfflineSurvivesSignout:            true,
		GrantTypes:                        []string{"authorization_code", "refresh_token"},
		IDTokenSignedResponseAlg:          "RS256",
		MaxGrants:                         3,
		Admin:                             true,
		RequirePKCE:                       new(false),
		CreatedAt:                         at(-72 * time.Hour),
		UpdatedAt:                         at(-2 * time.Hour),
	}
}

func fullSession(id, accountID string) store.Session {
	return store.Session{
		ID:           id,
		CookieHash:   hash("cookie " + id),
		AccountID:    accountID,
		AuthTime:     at(-3 * time.Hour),
		AMR:          []string{"pwd", "otp"},
		ACR:          "urn:sesame:acr:mfa",
		CreatedAt:    at(-3 * time.Hour),
		LastSeenAt:   at(-time.Minute),
		ExpiresAt:    at(14 * 24 * time.Hour),
		MaxExpiresAt: at(90 * 24 * time.Hour),
		UserAgent:    "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
		IP:           "2001:db8::17",
	}
}

func fullAuthorization(sessionID, clientID string) store.Authorization {
	return store.Authorization{
		SessionID: sessionID,
		ClientID:  clientID,
		SID:       "sid-" + sessionID + "-" + clientID,
		GrantID:   "grant-" + sessionID + "-" + clientID,
		CreatedAt: at(-2 * time.Hour),
	}
}

func fullGrant(id, accountID, clientID string) store.Grant {
	return store.Grant{
		ID:        id,
		AccountID: accountID,
		ClientID:  clientID,
		SessionID: "session-of-" + id,
		Scopes:    []string{"openid", "profile", "offline_access"},
		// One resource with scopes, one granted with none.
		Resources: map[string][]string{
			"https://api.example.com/orders": {"read:orders", "write:orders"},
			"urn:example:billing":            nil,
		},
		CreatedAt:    at(-time.Hour),
		ExpiresAt:    at(180 * 24 * time.Hour),
		RevokedAt:    at(-time.Minute),
		RevokeReason: "signout",
	}
}

func fullAuthRequest(id string) store.AuthRequest {
	return store.AuthRequest{
		ID:          id,
		BrowserHash: hash("browser " + id),
		ClientID:    "client-of-" + id,
		Params: store.AuthParams{
			RedirectURI:         "https://app.example/callback?x=1",
			RedirectURIOmitted:  true,
			Scopes:              []string{"openid", "email"},
			State:               "state " + id,
			Nonce:               "nonce " + id,
			CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
			CodeChallengeMethod: "S256",
			Prompt:              []string{"login", "consent"},
			MaxAge:              -1,
			ResponseMode:        "form_post",
			LoginHint:           "alice",
			UILocales:           "fr-CA fr en",
		},
		AccountID: "account-of-" + id,
		SessionID: "session-of-" + id,
		Prompt:    "consent",
		CreatedAt: at(-time.Minute),
		ExpiresAt: at(time.Hour),
	}
}

// Tokens are keyed as package token issues them: an access or refresh
// token under a key that leads with its expiry (store.NewTokenKey), a JWT
// access token's record under a jti that does (store.JTILen). So every
// test runs the statements production runs. A test of the tokens issued
// before keys carried their expiry, still found through statements of
// their own, says so and keys its tokens with legacyTokenKey or
// legacyJTI.

// tokenExpiry is t0 moved by d, to the whole second: a key carries its
// token's expiry in seconds, and the store refuses a key whose second is
// not the token's ExpiresAt, so a token expires on a second, as package
// token issues it.
func tokenExpiry(d time.Duration) time.Time { return at(d).Truncate(time.Second) }

// tokenKey is the key of the access or refresh token value expiring at
// exp (whole seconds), as package token makes it.
func tokenKey(value string, exp time.Time) []byte { return store.NewTokenKey(exp, hash(value)) }

// legacyTokenKey is the key of an access or refresh token issued before
// keys carried their expiry: the whole SHA-256 of its value.
func legacyTokenKey(value string) []byte { return hash(value) }

// jti is the jti of a JWT access token made from value, expiring at exp
// (whole seconds), as package token makes one: exp's unix seconds (4
// bytes, big-endian) and 128 bits, in unpadded base64url.
func jti(value string, exp time.Time) string {
	b := binary.BigEndian.AppendUint32(nil, uint32(exp.Unix()))
	return base64.RawURLEncoding.EncodeToString(append(b, hash(value)[:16]...))
}

// legacyJTI is the jti of a JWT access token issued before jtis carried
// their expiry: 128 bits in unpadded base64url.
func legacyJTI(value string) string { return base64.RawURLEncoding.EncodeToString(hash(value)[:16]) }

func fullAccessToken(value string) store.AccessToken {
	exp := tokenExpiry(time.Hour)
	return store.AccessToken{
		Hash:      tokenKey(value, exp),
		GrantID:   "grant-of-" + value,
		ClientID:  "client-of-" + value,
		AccountID: "account-of-" + value,
		Scopes:    []string{"openid", "profile"},
		CreatedAt: at(-time.Minute),
		ExpiresAt: exp,
		RevokedAt: at(-time.Second),
	}
}

func fullRefreshToken(value string) store.RefreshToken {
	exp := tokenExpiry(14 * 24 * time.Hour)
	return store.RefreshToken{
		Hash:      tokenKey(value, exp),
		GrantID:   "grant-of-" + value,
		ClientID:  "client-of-" + value,
		AccountID: "account-of-" + value,
		SID:       "sid-of-" + value,
		AuthTime:  at(-2 * time.Hour),
		AMR:       []string{"pwd", "hwk"},
		ACR:       "urn:sesame:acr:mfa",
		Scopes:    []string{"openid", "offline_access"},
		CreatedAt: at(-time.Minute),
		ExpiresAt: exp,
		UsedAt:    at(-30 * time.Second),
		RevokedAt: at(-time.Second),
	}
}

func fullSigningKey(kid string) store.SigningKey {
	return store.SigningKey{
		ID:            kid,
		Alg:           "ES256",
		PublicJWK:     []byte(`{"kty":"EC","crv":"P-256","kid":"` + kid + `","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`),
		SealedPrivate: []byte{0x00, 0x01, 0xfe, 0xff, 'k', 'e', 'y'},
		CreatedAt:     at(-24 * time.Hour),
		NotBefore:     at(-23 * time.Hour),
		RetiredAt:     at(-time.Hour),
	}
}

func fullJWTAccessToken(value string) store.JWTAccessToken {
	exp := tokenExpiry(time.Hour)
	return store.JWTAccessToken{
		JTI:       jti(value, exp),
		GrantID:   "grant-of-" + value,
		ClientID:  "client-of-" + value,
		Subject:   "account-of-" + value,
		Resource:  "https://api.example.com/orders",
		ExpiresAt: exp,
		CreatedAt: at(-time.Second),
	}
}

func fullAPIResource(indicator string) store.APIResource {
	return store.APIResource{
		Indicator: indicator,
		Name:      "API " + indicator,
		Scopes:    []string{"read:orders", "write:orders"},
		ScopeDescriptions: map[string]string{
			"read:orders":  "Read your orders",
			"write:orders": "Place and change orders",
		},
		AccessTokenTTL: 90 * time.Minute,
		Declared:       true,
		CreatedAt:      at(-24 * time.Hour),
		UpdatedAt:      at(-time.Hour),
	}
}

func fullRole(name string) store.Role {
	return store.Role{
		Name: name,
		Permissions: map[string][]string{
			"https://api.example.com/orders": {"read:orders", "write:orders"},
			"urn:example:billing":            nil, // a token for the API, with no scope
		},
		Declared:  true,
		CreatedAt: at(-24 * time.Hour),
		UpdatedAt: at(-time.Hour),
	}
}

// Live records for the lifecycle tests: nothing revoked, used or expired.

func liveGrant(id, accountID, clientID string) store.Grant {
	g := fullGrant(id, accountID, clientID)
	g.RevokedAt, g.RevokeReason = time.Time{}, ""
	return g
}

func liveAccessToken(value, grantID string) store.AccessToken {
	a := fullAccessToken(value)
	a.GrantID, a.RevokedAt = grantID, time.Time{}
	return a
}

func liveRefreshToken(value, grantID string) store.RefreshToken {
	r := fullRefreshToken(value)
	r.GrantID, r.UsedAt, r.RevokedAt = grantID, time.Time{}, time.Time{}
	return r
}
