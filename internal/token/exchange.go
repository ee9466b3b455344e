package token

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/sesame-id/sesame/internal/grant"
	"github.com/sesame-id/sesame/internal/store"
)

// ExchangeRequest is a token request with grant_type=authorization_code.
type ExchangeRequest struct {
	Code         string
	RedirectURI  string
	CodeVerifier string
	// Resource, when set, asks for a JWT access token for that API
	// resource of the grant instead of the opaque one (RFC 8707 §2.2,
	// R3); Scopes then narrows the scopes it carries.
	Resource string
	Scopes   []string
}

// Exchange redeems an authorization code for tokens (RFC 6749 §4.1.3, Core
// §3.1.3.2). The code is single use; a second redemption revokes the
// code's grant, and with it every token the first one issued (spec T4,
// T5). A wrong code_verifier burns
// the code (C2, spec T9): whoever stole a code gets one guess, and the
// right verifier sent afterwards is a replay.
func (s *Service) Exchange(ctx context.Context, c store.Client, req ExchangeRequest) (Response, error) {
	now := s.Now()
	code, err := s.openCode(req.Code)
	if err != nil {
		return Response{}, deny(ErrInvalidGrant, "unknown authorization code")
	}
	used := usedKey(Hash(req.Code))
	switch {
	case code.ClientID != c.ID: // spec T6
		return Response{}, deny(ErrInvalidGrant, "code was issued to another client")
	case !now.Before(code.expiresAt()): // spec T8
		return Response{}, deny(ErrInvalidGrant, "authorization code expired")
	case code.RedirectHash != nil && !code.redirectMatches(req.RedirectURI): // spec T7
		return Response{}, deny(ErrInvalidGrant, "redirect_uri does not match the authorization request")
	case code.RedirectHash == nil && req.RedirectURI != "" && !slices.Contains(c.RedirectURIs, req.RedirectURI):
		return Response{}, deny(ErrInvalidGrant, "redirect_uri is not registered")
	}
	if err := checkPKCE(code.CodeChallenge, code.CodeChallengeMethod, req.CodeVerifier); err != nil {
		return Response{}, s.burnCode(ctx, code, used, err)
	}
	return s.redeem(ctx, redemption{
		grantID: code.GrantID, accountID: code.AccountID,
		mint: mintParams{
			client: c, scopes: code.scopes(),
			sid: code.SID, nonce: code.Nonce, authTime: code.authTime(), amr: code.AMR, acr: code.ACR,
		},
		resource: req.Resource, resourceScopes: req.Scopes,
		consume: func(tx store.Tx) error { return tx.UseAuthCode(ctx, used, code.expiresAt()) },
		reused:  func() error { return s.codeReplayed(ctx, code) },
	})
}

// redemption is a single-use credential (a code, a refresh token) being
// turned into tokens.
type redemption struct {
	grantID, accountID string
	// grant is the grant when it was read with the credential, else nil
	// and redeem reads it.
	grant *store.Grant
	mint  mintParams
	// resource, when set, is the API resource the access token is for,
	// and resourceScopes what the request narrows its scopes to (R3).
	resource       string
	resourceScopes []string
	// consume marks the credential used inside the transaction; it returns
	// store.ErrAlreadyUsed when another request used it first.
	consume func(tx store.Tx) error
	// reused applies the rule for a credential presented twice.
	reused func() error
}

// redeem checks the grant and account (and, with a resource, that the
// grant covers it), mints the tokens outside any transaction (signing is
// slow), then consumes the credential and stores the tokens, a JWT access
// token's record included, in one write transaction. A refused resource
// consumes nothing.
func (s *Service) redeem(ctx context.Context, r redemption) (Response, error) {
	var g store.Grant
	var err error
	if r.grant != nil {
		g, err = *r.grant, grant.Check(*r.grant, s.Now())
	} else {
		g, err = grant.Load(ctx, s.Store.Primary(), r.grantID, s.Now())
	}
	if err != nil {
		return Response{}, grantDenied(err)
	}
	acct, err := s.activeAccount(ctx, r.accountID)
	if err != nil {
		return Response{}, err
	}
	r.mint.grant, r.mint.account = g, acct
	if r.resource != "" {
		t, err := s.grantedAPIToken(ctx, g, acct.ID, r.resource, r.resourceScopes)
		if err != nil {
			return Response{}, err
		}
		r.mint.api = &t
	}
	issued, err := s.mint(r.mint)
	if err != nil {
		return Response{}, err
	}
	err = s.Store.InTx(ctx, store.Routine, func(tx store.Tx) error {
		if err := r.consume(tx); err != nil {
			return err
		}
		return issued.save(ctx, tx)
	})
	if errors.Is(err, store.ErrAlreadyUsed) {
		return Response{}, r.reused()
	}
	if err != nil {
		return Response{}, fmt.Errorf("issue tokens on grant %s: %w", g.ID, err)
	}
	return issued.response, nil
}

// codeReplayed revokes what the first redemption of code issued (spec T5)
// by revoking its grant, as a refresh token's reuse does (G4) and as
// node-oidc-provider does: a replayed code means it leaked, and every
// token of the grant dies with it (G2), the first redemption's included.
// It answers invalid_grant (spec T4).
func (s *Service) codeReplayed(ctx context.Context, code code) error {
	var revoked bool
	err := s.Store.InTx(ctx, store.Durable, func(tx store.Tx) error {
		var err error
		g := store.Grant{ID: code.GrantID, AccountID: code.AccountID, ClientID: code.ClientID}
		revoked, err = grant.Revoke(ctx, tx, g, s.Now(), grant.ReasonCodeReplay)
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke the grant of a replayed code (grant %s): %w", code.GrantID, err)
	}
	if revoked {
		s.Logger.WarnContext(ctx, "authorization code replayed; its grant revoked",
			"client_id", code.ClientID, "grant_id", code.GrantID)
	}
	return deny(ErrInvalidGrant, "authorization code already used")
}

// burnCode consumes a code whose redemption failed its PKCE check, so it
// cannot be tried again, and returns that failure (invalid_grant). Nothing
// was issued from it. When another request consumed it first, this one
// is a replay (spec T5).
func (s *Service) burnCode(ctx context.Context, code code, used []byte, failed error) error {
	err := s.Store.InTx(ctx, store.Durable, func(tx store.Tx) error {
		return tx.UseAuthCode(ctx, used, code.expiresAt())
	})
	switch {
	case errors.Is(err, store.ErrAlreadyUsed):
		return s.codeReplayed(ctx, code)
	case err != nil:
		return fmt.Errorf("burn code after a failed code_verifier (grant %s): %w", code.GrantID, err)
	}
	s.Logger.WarnContext(ctx, "authorization code burnt: wrong code_verifier",
		"client_id", code.ClientID, "grant_id", code.GrantID)
	return failed
}

// activeAccount reads the account tokens are issued for; a disabled or
// deleted account gets none.
func (s *Service) activeAccount(ctx context.Context, id string) (store.Account, error) {
	a, err := s.account(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Account{}, deny(ErrInvalidGrant, "account no longer exists")
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("read account %s: %w", id, err)
	}
	if a.Disabled {
		return store.Account{}, deny(ErrInvalidGrant, "account disabled")
	}
	return a, nil
}

// grantDenied turns a failed grant check into invalid_grant; other errors
// (the database) pass through.
func grantDenied(err error) error {
	switch {
	case errors.Is(err, grant.ErrRevoked):
		return deny(ErrInvalidGrant, "grant revoked")
	case errors.Is(err, grant.ErrExpired):
		return deny(ErrInvalidGrant, "grant expired")
	case errors.Is(err, store.ErrNotFound):
		return deny(ErrInvalidGrant, "grant no longer exists")
	}
	return err
}
