package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

var roundTripTests = []test{
	{"RecordsRoundTrip", testRecordsRoundTrip},
}

// roundTrip writes one record and reads it back.
type roundTrip struct {
	name  string
	write func(ctx context.Context, tx store.Tx) error
	read  func(ctx context.Context, r store.Reader) (any, error)
	want  any
}

// roundTrips covers every record three ways: every field set; only the
// keys set (zero times, nil lists); and lists given empty but not nil,
// which must come back nil.
func roundTrips() []roundTrip {
	var cases []roundTrip
	accounts := []struct {
		name     string
		in, want store.Account
	}{
		{"full", fullAccount("acct-full"), fullAccount("acct-full")},
		{"keys only", store.Account{ID: "acct-min", Username: "min"}, store.Account{ID: "acct-min", Username: "min"}},
	}
	for _, c := range accounts {
		cases = append(cases, roundTrip{
			name:  "Account/" + c.name,
			write: func(ctx context.Context, tx store.Tx) error { return tx.UpsertAccount(ctx, c.in) },
			// Both lookups must find the same record.
			read: func(ctx context.Context, r store.Reader) (any, error) {
				byID, err := r.Account(ctx, c.in.ID)
				if err != nil {
					return nil, err
				}
				byName, err := r.AccountByUsername(ctx, c.in.Username)
				return []store.Account{byID, byName}, err
			},
			want: []store.Account{c.want, c.want},
		})
	}

	emptyClient := store.Client{ID: "client-empty", RedirectURIs: []string{}, PostLogoutRedirectURIs: []string{}, GrantTypes: []string{}}
	for _, c := range []struct {
		name     string
		in, want store.Client
	}{
		{"full", fullClient("client-full"), fullClient("client-full")},
		{"keys only", store.Client{ID: "client-min"}, store.Client{ID: "client-min"}},
		{"empty lists", emptyClient, store.Client{ID: "client-empty"}},
	} {
		cases = append(cases, roundTrip{
			name:  "Client/" + c.name,
			write: func(ctx context.Context, tx store.Tx) error { return tx.UpsertClient(ctx, c.in) },
			read:  func(ctx context.Context, r store.Reader) (any, error) { return r.Client(ctx, c.in.ID) },
			want:  c.want,
		})
	}

	minSession := store.Session{ID: "session-min", CookieHash: hash("cookie min"), AccountID: "acct"}
	emptySession := store.Session{ID: "session-empty", CookieHash: hash("cookie empty"), AccountID: "acct", AMR: []string{}}
	for _, c := range []struct {
		name     string
		in, want store.Session
	}{
		{"full", fullSession("session-full", "acct"), fullSession("session-full", "acct")},
		{"keys only", minSession, minSession},
		{"empty lists", emptySession, store.Session{ID: "session-empty", CookieHash: hash("cookie empty"), AccountID: "acct"}},
	} {
		cases = append(cases, roundTrip{
			name:  "Session/" + c.name,
			write: func(ctx context.Context, tx store.Tx) error { return tx.CreateSession(ctx, c.in) },
			read: func(ctx context.Context, r store.Reader) (any, error) {
				byID, err := r.Session(ctx, c.in.ID)
				if err != nil {
					return nil, err
				}
				byCookie, err := r.SessionByCookie(ctx, c.in.CookieHash)
				return []store.Session{byID, byCookie}, err
			},
			want: []store.Session{c.want, c.want},
		})
	}

	minGrant := store.Grant{ID: "grant-min", AccountID: "acct", ClientID: "client"}
	emptyGrant := store.Grant{ID: "grant-empty", AccountID: "acct", ClientID: "client", Scopes: []string{},
		Resources: map[string][]string{}}
	// A resource granted with an empty list of scopes comes back with nil.
	emptyScopesGrant := store.Grant{ID: "grant-empty-scopes", AccountID: "acct", ClientID: "client",
		Resources: map[string][]string{"https://api.example.com/orders": {}}}
	for _, c := range []struct {
		name     string
		in, want store.Grant
	}{
		{"full", fullGrant("grant-full", "acct", "client"), fullGrant("grant-full", "acct", "client")},
		{"keys only", minGrant, minGrant},
		{"empty lists", emptyGrant, store.Grant{ID: "grant-empty", AccountID: "acct", ClientID: "client"}},
		{"resource with empty scopes", emptyScopesGrant, store.Grant{ID: "grant-empty-scopes", AccountID: "acct", ClientID: "client",
			Resources: map[string][]string{"https://api.example.com/orders": nil}}},
	} {
		cases = append(cases, roundTrip{
			name:  "Grant/" + c.name,
			write: func(ctx context.Context, tx store.Tx) error { return tx.CreateGrant(ctx, c.in) },
			read:  func(ctx context.Context, r store.Reader) (any, error) { return r.Grant(ctx, c.in.ID) },
			want:  c.want,
		})
	}

	minRequest := store.AuthRequest{ID: "req-min", ClientID: "client"}
	emptyRequest := store.AuthRequest{ID: "req-empty", ClientID: "client", BrowserHash: []byte{},
		Params: store.AuthParams{Scopes: []string{}, Prompt: []string{}}}
	for _, c := range []struct {
		name     string
		in, want store.AuthRequest
	}{
		{"full", fullAuthRequest("req-full"), fullAuthRequest("req-full")},
		{"keys only", minRequest, minRequest},
		{"empty lists", emptyRequest, store.AuthRequest{ID: "req-empty", ClientID: "client"}},
	} {
		cases = append(cases, roundTrip{
			name:  "AuthRequest/" + c.name,
			write: func(ctx context.Context, tx store.Tx) error { return tx.CreateAuthRequest(ctx, c.in) },
			read:  func(ctx context.Context, r store.Reader) (any, error) { return r.AuthRequest(ctx, c.in.ID) },
			want:  c.want,
		})
	}

	// A token's expiry leads its key: every token has one. A token
	// issued before keys carried it (a legacy key, on purpose in the
	// "legacy key" cases) is read through statements of its own, and its
	// expiry keeps its fraction of a second.
	exp := tokenExpiry(time.Hour)
	minAccess := store.AccessToken{Hash: tokenKey("access min", exp), GrantID: "grant", ClientID: "client", ExpiresAt: exp}
	emptyAccess := minAccess
	emptyAccess.Hash, emptyAccess.Scopes = tokenKey("access empty", exp), []string{}
	emptyAccessWant := emptyAccess
	emptyAccessWant.Scopes = nil
	legacyAccess := fullAccessToken("access legacy")
	legacyAccess.Hash, legacyAccess.ExpiresAt = legacyTokenKey("access legacy"), at(time.Hour)
	for _, c := range []struct {
		name     string
		in, want store.AccessToken
	}{
		{"full", fullAccessToken("access full"), fullAccessToken("access full")},
		{"full, legacy key", legacyAccess, legacyAccess},
		{"keys only", minAccess, minAccess},
		{"empty lists", emptyAccess, emptyAccessWant},
	} {
		cases = append(cases, roundTrip{
			name:  "AccessToken/" + c.name,
			write: func(ctx context.Context, tx store.Tx) error { return tx.CreateAccessToken(ctx, c.in) },
			read:  func(ctx context.Context, r store.Reader) (any, error) { return r.AccessToken(ctx, c.in.Hash) },
			want:  c.want,
		})
	}

	minRefresh := store.RefreshToken{Hash: tokenKey("refresh min", exp), GrantID: "grant", ClientID: "client", ExpiresAt: exp}
	emptyRefresh := minRefresh
	emptyRefresh.Hash, emptyRefresh.Scopes, emptyRefresh.AMR = tokenKey("refresh empty", exp), []string{}, []string{}
	emptyRefreshWant := emptyRefresh
	emptyRefreshWant.Scopes, emptyRefreshWant.AMR = nil, nil
	legacyRefresh := fullRefreshToken("refresh legacy")
	legacyRefresh.Hash, legacyRefresh.ExpiresAt = legacyTokenKey("refresh legacy"), at(14*24*time.Hour)
	for _, c := range []struct {
		name     string
		in, want store.RefreshToken
	}{
		{"full", fullRefreshToken("refresh full"), fullRefreshToken("refresh full")},
		{"full, legacy key", legacyRefresh, legacyRefresh},
		{"keys only", minRefresh, minRefresh},
		{"empty lists", emptyRefresh, emptyRefreshWant},
	} {
		cases = append(cases, roundTrip{
			name:  "RefreshToken/" + c.name,
			write: func(ctx context.Context, tx store.Tx) error { return tx.CreateRefreshToken(ctx, c.in) },
			read:  func(ctx context.Context, r store.Reader) (any, error) { return r.RefreshToken(ctx, c.in.Hash) },
			want:  c.want,
		})
	}

	legacyJWT := fullJWTAccessToken("jwt legacy")
	legacyJWT.JTI, legacyJWT.ExpiresAt = legacyJTI("jwt legacy"), at(time.Hour)
	for _, c := range []struct {
		name     string
		in, want store.JWTAccessToken
	}{
		{"full", fullJWTAccessToken("jwt full"), fullJWTAccessToken("jwt full")},
		{"full, legacy jti", legacyJWT, legacyJWT},
		{"keys only", store.JWTAccessToken{JTI: jti("jwt min", exp), ClientID: "client", Resource: "urn:x", ExpiresAt: exp},
			store.JWTAccessToken{JTI: jti("jwt min", exp), ClientID: "client", Resource: "urn:x", ExpiresAt: exp}},
	} {
		cases = append(cases, roundTrip{
			name:  "JWTAccessToken/" + c.name,
			write: func(ctx context.Context, tx store.Tx) error { return tx.CreateJWTAccessToken(ctx, c.in) },
			read:  func(ctx context.Context, r store.Reader) (any, error) { return r.JWTAccessToken(ctx, c.in.JTI) },
			want:  c.want,
		})
	}

	// API resources and roles are read as lists; each case's record is
	// the only one with its key.
	for _, c := range []struct {
		name     string
		in, want store.APIResource
	}{
		{"full", fullAPIResource("https://full.example/api"), fullAPIResource("https://full.example/api")},
		{"keys only", store.APIResource{Indicator: "urn:min"}, store.APIResource{Indicator: "urn:min"}},
		{"empty lists", store.APIResource{Indicator: "urn:empty", Scopes: []string{}}, store.APIResource{Indicator: "urn:empty"}},
	} {
		cases = append(cases, roundTrip{
			name:  "APIResource/" + c.name,
			write: func(ctx context.Context, tx store.Tx) error { return tx.UpsertAPIResource(ctx, c.in) },
			read: func(ctx context.Context, r store.Reader) (any, error) {
				list, err := r.APIResources(ctx)
				for _, a := range list {
					if a.Indicator == c.in.Indicator {
						return a, err
					}
				}
				return nil, err
			},
			want: c.want,
		})
	}
	for _, c := range []struct {
		name     string
		in, want store.Role
	}{
		{"full", fullRole("role-full"), fullRole("role-full")},
		{"keys only", store.Role{Name: "role-min"}, store.Role{Name: "role-min"}},
		{"empty lists", store.Role{Name: "role-empty", Permissions: map[string][]string{"urn:x": {}}},
			store.Role{Name: "role-empty", Permissions: map[string][]string{"urn:x": nil}}},
		{"empty map", store.Role{Name: "role-no-permissions", Permissions: map[string][]string{}},
			store.Role{Name: "role-no-permissions"}},
	} {
		cases = append(cases, roundTrip{
			name:  "Role/" + c.name,
			write: func(ctx context.Context, tx store.Tx) error { return tx.UpsertRole(ctx, c.in) },
			read: func(ctx context.Context, r store.Reader) (any, error) {
				list, err := r.Roles(ctx)
				for _, role := range list {
					if role.Name == c.in.Name {
						return role, err
					}
				}
				return nil, err
			},
			want: c.want,
		})
	}

	// Signing keys are read as a list; each case's key is the only one
	// with its kid.
	for _, c := range []struct {
		name     string
		in, want store.SigningKey
	}{
		{"full", fullSigningKey("kid-full"), fullSigningKey("kid-full")},
		{"keys only", store.SigningKey{ID: "kid-min", Alg: "RS256"}, store.SigningKey{ID: "kid-min", Alg: "RS256"}},
		{"empty bytes", store.SigningKey{ID: "kid-empty", Alg: "ES256", PublicJWK: []byte{}, SealedPrivate: []byte{},
			CreatedAt: at(time.Hour)}, store.SigningKey{ID: "kid-empty", Alg: "ES256", CreatedAt: at(time.Hour)}},
	} {
		cases = append(cases, roundTrip{
			name:  "SigningKey/" + c.name,
			write: func(ctx context.Context, tx store.Tx) error { return tx.CreateSigningKey(ctx, c.in) },
			read: func(ctx context.Context, r store.Reader) (any, error) {
				keys, err := r.SigningKeys(ctx)
				for _, k := range keys {
					if k.ID == c.in.ID {
						return k, err
					}
				}
				return nil, err
			},
			want: c.want,
		})
	}
	return cases
}

// testRecordsRoundTrip: every record comes back as written, field for
// field, both inside the transaction that wrote it and after commit.
func testRecordsRoundTrip(t *testing.T, s store.Store) {
	for _, c := range roundTrips() {
		t.Run(c.name, func(t *testing.T) {
			mustTx(t, s, func(ctx context.Context, tx store.Tx) error {
				must(t, "write", c.write(ctx, tx))
				got, err := c.read(ctx, tx)
				must(t, "read in the transaction", err)
				equal(t, "read in the transaction", got, c.want)
				return nil
			})
			got, err := c.read(t.Context(), s)
			must(t, "read after commit", err)
			equal(t, "read after commit", got, c.want)
		})
	}
}
