package resource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sesame-id/sesame/rp/internal/jwks"
)

// leeway tolerates clocks a little apart, at exp, nbf and iat.
const leeway = 30 * time.Second

// maxToken bounds the token read: Sesame's are under 1 KB.
const maxToken = 8 << 10

// algs are the signature algorithms accepted: Sesame signs with ES256 or
// RS256. The list is what go-jose parses, so a token with alg none, or an
// HMAC computed with the public key as its secret, is refused before any
// key is looked at.
var algs = []jose.SignatureAlgorithm{jose.ES256, jose.RS256}

// Config configures a Verifier.
type Config struct {
	// Issuer is Sesame's issuer URL, exactly as in its tokens' iss (and in
	// its discovery document's issuer), e.g. https://sesame.example/oidc.
	Issuer string
	// Audience is this API's resource indicator, as registered at Sesame
	// (api_resources[].indicator): the aud a token must contain.
	Audience string
	// Realm is the WWW-Authenticate realm (default: Audience).
	Realm string
	// HTTPClient fetches the discovery document and the keys; nil is
	// http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logger, when set, logs refusals (at debug level) and key fetch
	// failures (as warnings). Tokens are never logged.
	Logger *slog.Logger
}

// Verifier verifies JWT access tokens for one API. It is safe for
// concurrent use.
type Verifier struct {
	cfg  Config
	keys *jwks.Set
}

// New reads Sesame's discovery document ({Issuer}/.well-known/
// openid-configuration) for its jwks_uri and returns the Verifier. ctx
// bounds the discovery only: keys are fetched later, with the context of
// the request that needs them.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("resource: Config needs Issuer and Audience")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Realm == "" {
		cfg.Realm = cfg.Audience
	}
	jwksURI, err := discover(ctx, cfg.HTTPClient, cfg.Issuer)
	if err != nil {
		return nil, err
	}
	return &Verifier{cfg: cfg, keys: jwks.New(jwksURI, cfg.HTTPClient, cfg.Now)}, nil
}

// discover returns the issuer's jwks_uri (OpenID Connect Discovery §4),
// after checking the document is the issuer's own (§4.3).
func discover(ctx context.Context, client *http.Client, issuer string) (string, error) {
	where := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, where, nil)
	if err != nil {
		return "", fmt.Errorf("resource: discovery of %s: %w", issuer, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("resource: discovery of %s: %w", issuer, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("resource: discovery of %s: %s", issuer, resp.Status)
	}
	var meta struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&meta); err != nil {
		return "", fmt.Errorf("resource: discovery of %s: %w", issuer, err)
	}
	if meta.Issuer != issuer {
		return "", fmt.Errorf("resource: discovery of %s names issuer %q", issuer, meta.Issuer)
	}
	if u, err := url.Parse(meta.JWKSURI); err != nil || !u.IsAbs() {
		return "", fmt.Errorf("resource: discovery of %s: jwks_uri %q is not an absolute URL", issuer, meta.JWKSURI)
	}
	return meta.JWKSURI, nil
}

// Verify checks a JWT access token for this API (RFC 9068 §4) and returns
// its claims. A refusal is an *Error (invalid_token, 401); a token that
// cannot be checked now is an error matching ErrUnavailable.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if len(token) > maxToken {
		return nil, invalidToken("the token is too long", nil)
	}
	jws, err := jose.ParseSignedCompact(token, algs)
	if err != nil {
		var alg *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &alg) {
			return nil, invalidToken("the token's signature algorithm is not accepted (ES256 or RS256)", err)
		}
		return nil, invalidToken("the token is not a signed JWT", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, invalidToken("the token is not a signed JWT", nil)
	}
	if typ, _ := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType].(string); !isATJWT(typ) {
		return nil, invalidToken("the token is not a JWT access token (typ at+jwt)", fmt.Errorf("typ %q", typ))
	}
	payload, err := v.keys.Verify(ctx, jws)
	switch {
	case errors.Is(err, jwks.ErrUnavailable):
		v.log(ctx, slog.LevelWarn, "keys unavailable", "err", err)
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	case err != nil:
		return nil, invalidToken("the token's signature does not verify with Sesame's keys", err)
	}
	return v.claims(payload)
}

// isATJWT reports typ at+jwt, in any case, with or without the
// application/ prefix (RFC 9068 §4; RFC 7515 §4.1.9).
func isATJWT(typ string) bool {
	typ = strings.ToLower(typ)
	return strings.TrimPrefix(typ, "application/") == "at+jwt"
}

// wireClaims is the payload as sent. Times are float64, as NumericDate
// may carry a fraction; aud is a string or an array of them.
type wireClaims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  audience `json:"aud"`
	ClientID  string   `json:"client_id"`
	Scope     string   `json:"scope"`
	Expiry    *float64 `json:"exp"`
	NotBefore *float64 `json:"nbf"`
	IssuedAt  *float64 `json:"iat"`
	AuthTime  *float64 `json:"auth_time"`
	SID       string   `json:"sid"`
	JTI       string   `json:"jti"`
}

type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("aud is neither a string nor an array of strings")
	}
	*a = many
	return nil
}

// claims checks the signed payload's claims.
func (v *Verifier) claims(payload []byte) (*Claims, error) {
	var w wireClaims
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, invalidToken("the token's claims do not decode", err)
	}
	now := v.cfg.Now()
	switch {
	case w.Issuer != v.cfg.Issuer:
		return nil, invalidToken("the token is from another issuer", fmt.Errorf("iss %q", w.Issuer))
	case !slices.Contains(w.Audience, v.cfg.Audience):
		return nil, invalidToken("the token is not meant for this API", fmt.Errorf("aud %q", w.Audience))
	case w.Expiry == nil:
		return nil, invalidToken("the token has no expiry", nil)
	case now.After(date(*w.Expiry).Add(leeway)):
		return nil, invalidToken("the token has expired", nil)
	case w.NotBefore != nil && now.Add(leeway).Before(date(*w.NotBefore)):
		return nil, invalidToken("the token is not valid yet", nil)
	case w.IssuedAt == nil || now.Add(leeway).Before(date(*w.IssuedAt)):
		return nil, invalidToken("the token's issue time is missing or in the future", nil)
	case w.Subject == "" || w.ClientID == "" || w.JTI == "":
		return nil, invalidToken("the token lacks sub, client_id or jti", nil)
	}
	c := &Claims{Issuer: w.Issuer, Subject: w.Subject, ClientID: w.ClientID, Audience: w.Audience,
		Scopes: strings.Fields(w.Scope), SessionID: w.SID, ExpiresAt: date(*w.Expiry), IssuedAt: date(*w.IssuedAt), ID: w.JTI}
	if w.AuthTime != nil {
		c.AuthTime = date(*w.AuthTime)
	}
	return c, nil
}

func date(f float64) time.Time {
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9))
}

func (v *Verifier) log(ctx context.Context, level slog.Level, msg string, args ...any) {
	if v.cfg.Logger != nil {
		v.cfg.Logger.Log(ctx, level, "resource: "+msg, args...)
	}
}
