package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/grant"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/session"
	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
	"github.com/sesame-id/sesame/internal/ui"
)

// issueParams is what issuing a code needs.
type issueParams struct {
	client  store.Client
	session store.Session
	params  store.AuthParams
	// resources are the API resources the request may be granted, with
	// their scopes (grantableResources, R2).
	resources map[string][]string
	// admin is whether sesame:admin may be granted (adminGrantable, C5).
	admin bool
}

// issued is what issueCode did: the code's value, and the sign-outs the
// device limit caused, to deliver once the transaction commits.
type issued struct {
	code    string
	evicted []signout.Done
}

// issueCode records the outcome of an authorization inside tx: the grant
// (reused while valid, widened by newly consented scopes and API
// resources, or made anew, within the client's device limit), the
// session's authorization for the client with its sid (S2, S3), the code,
// and the session's use (S2).
func (p *Provider) issueCode(ctx context.Context, tx store.Tx, ip issueParams) (issued, error) {
	var out issued
	now := p.Now()
	c, sess := ip.client, ip.session
	scopes := p.grantableScopes(c, ip.params, ip.admin)

	auth, hasAuth := session.AuthorizationFor(sess, c.ID)
	var g store.Grant
	reuse := false
	if hasAuth {
		existing, err := grant.Load(ctx, tx, auth.GrantID, now)
		switch {
		case err == nil:
			g, reuse = existing, true
		case errors.Is(err, grant.ErrRevoked), errors.Is(err, grant.ErrExpired), errors.Is(err, store.ErrNotFound):
		default:
			return out, err
		}
	}
	if reuse {
		if !grant.Covers(g, scopes) {
			g.Scopes = grant.Union(g.Scopes, scopes)
			if err := tx.UpdateGrantScopes(ctx, g.ID, g.Scopes); err != nil {
				return out, fmt.Errorf("widen grant %s: %w", g.ID, err)
			}
		}
		if !grant.CoversResources(g.Resources, ip.resources) {
			g.Resources = grant.UnionResources(g.Resources, ip.resources)
			if err := tx.UpdateGrantResources(ctx, g.ID, g.Resources); err != nil {
				return out, fmt.Errorf("widen the API resources of grant %s: %w", g.ID, err)
			}
		}
	} else {
		g = store.Grant{
			ID: token.NewID(), AccountID: sess.AccountID, ClientID: c.ID, SessionID: sess.ID,
			Scopes: scopes, Resources: ip.resources, CreatedAt: now, ExpiresAt: now.Add(p.GrantTTL),
		}
		if err := tx.CreateGrant(ctx, g); err != nil {
			return out, fmt.Errorf("create grant for client %s: %w", c.ID, err)
		}
		var err error
		if out.evicted, err = p.enforceDeviceLimit(ctx, tx, c, sess.AccountID, g.ID); err != nil {
			return out, err
		}
	}
	sid := auth.SID
	if !hasAuth {
		sid = session.NewSID()
	}
	if !hasAuth || auth.GrantID != g.ID {
		if err := tx.PutAuthorization(ctx, store.Authorization{
			SessionID: sess.ID, ClientID: c.ID, SID: sid, GrantID: g.ID, CreatedAt: now,
		}); err != nil {
			return out, fmt.Errorf("record authorization of client %s: %w", c.ID, err)
		}
	}
	if p.Sessions.NeedsTouch(sess) {
		if err := p.Sessions.Touch(ctx, tx, sess); err != nil {
			return out, err
		}
	}
	var err error
	out.code, err = p.newCode(ip, g, sid, scopes)
	return out, err
}

// newCode seals the code of an authorization (token.NewCode): nothing of
// it is stored until it is redeemed.
func (p *Provider) newCode(ip issueParams, g store.Grant, sid string, scopes []string) (string, error) {
	redirect := ip.params.RedirectURI
	if ip.params.RedirectURIOmitted {
		redirect = ""
	}
	value, err := p.Tokens.NewCode(token.CodeParams{
		Client: ip.client, Grant: g, Session: ip.session, SID: sid, RedirectURI: redirect, Scopes: scopes,
		Nonce: ip.params.Nonce, CodeChallenge: ip.params.CodeChallenge,
		CodeChallengeMethod: ip.params.CodeChallengeMethod,
	})
	if errors.Is(err, token.ErrCodeTooLong) {
		return "", &Error{Code: CodeInvalidRequest, Description: err.Error(), Status: http.StatusBadRequest}
	}
	if err != nil {
		return "", fmt.Errorf("code for client %s: %w", ip.client.ID, err)
	}
	return value, nil
}

// codeWithoutWrite issues the code of an SSO sign-in that changes nothing
// stored, the common case: the session already holds a valid grant g for
// the client (sessionGrant) covering what is asked, API resources
// included (so the code's token requests find them on the grant), and was
// used too recently to need touching (S2). The code is sealed, so nothing is
// written and no transaction is opened. ok is false when something must
// be written (a new or widened grant, a new authorization, a touch): then
// issueCode runs in a transaction.
func (p *Provider) codeWithoutWrite(ip issueParams, g store.Grant, hasGrant bool) (value string, ok bool, err error) {
	if !hasGrant || p.Sessions.NeedsTouch(ip.session) {
		return "", false, nil
	}
	auth, _ := session.AuthorizationFor(ip.session, ip.client.ID)
	scopes := p.grantableScopes(ip.client, ip.params, ip.admin)
	if !grant.Covers(g, scopes) || !grant.CoversResources(g.Resources, ip.resources) {
		return "", false, nil
	}
	value, err = p.newCode(ip, g, auth.SID, scopes)
	return value, err == nil, err
}

// grantableScopes is what this request may be granted (G3, spec A14);
// admin says whether sesame:admin may be (adminGrantable, C5).
func (p *Provider) grantableScopes(c store.Client, params store.AuthParams, admin bool) []string {
	return grant.Grantable(grant.Request{
		Scopes:         params.Scopes,
		PromptConsent:  hasPrompt(params, "consent"),
		RefreshAllowed: client.AllowsGrantType(c, "refresh_token"),
		Admin:          admin,
	})
}

// adminGrantable reports whether an authorization request may be granted
// sesame:admin (C5): it asks for it, its client is a first-party web app
// (client.MayGrantAdmin: the console is one), and the account holds the
// admin role. The role and the client are read again at every admin API
// call, and losing the role revokes the grants that carry the scope.
func (p *Provider) adminGrantable(ctx context.Context, c store.Client, accountID string, params store.AuthParams) (bool, error) {
	if !client.MayGrantAdmin(c) || p.Resources == nil || !slices.Contains(params.Scopes, grant.ScopeAdmin) {
		return false, nil
	}
	ok, err := p.Resources.HasRole(ctx, resource.Account(accountID), resource.RoleAdmin)
	if err != nil {
		return false, fmt.Errorf("roles of account %s: %w", accountID, err)
	}
	return ok, nil
}

// sessionGrant returns the valid grant the session holds for c; a grant
// that cannot be read counts as none (issueCode then makes one, or meets
// the error in its own transaction).
func (p *Provider) sessionGrant(r *http.Request, sess store.Session, c store.Client) (store.Grant, bool) {
	auth, ok := session.AuthorizationFor(sess, c.ID)
	if !ok {
		return store.Grant{}, false
	}
	g, err := grant.Load(r.Context(), p.Store, auth.GrantID, p.Now())
	return g, err == nil
}

// uiError is the error page of the sign-in flow: what went wrong in words,
// the protocol's code for the app's developer, and why the person was not
// sent back.
func uiError(msg, code string) ui.ErrorData {
	return ui.ErrorData{Title: "Sesame could not sign you in", Message: msg, Code: code, NoRedirect: true}
}

// issueDurability is how durably an authorization commits: issuing a code
// is routine, unless the client's device limit may end older grants in
// the same transaction, which removes access (design §2).
func issueDurability(c store.Client) store.Durability {
	if c.MaxGrants > 0 {
		return store.Durable
	}
	return store.Routine
}

// enforceDeviceLimit ends the oldest grants of an account for c beyond
// c.MaxGrants (Logto's maxAllowedGrants), with back-channel logout; the
// grant just made is never one of them. The sign-outs are delivered once
// the transaction commits (see deliverEvicted).
func (p *Provider) enforceDeviceLimit(ctx context.Context, tx store.Tx, c store.Client, accountID, newGrant string) ([]signout.Done, error) {
	if c.MaxGrants <= 0 {
		return nil, nil
	}
	live, err := tx.LiveGrants(ctx, accountID, c.ID, p.Now())
	if err != nil {
		return nil, err
	}
	var ended []signout.Done
	for _, g := range live {
		if len(live)-len(ended) <= c.MaxGrants {
			break
		}
		if g.ID == newGrant {
			continue
		}
		d, err := p.Signout.RevokeGrantTx(ctx, tx, g, signout.CauseDeviceLimit)
		if err != nil {
			return nil, fmt.Errorf("end grant %s beyond the device limit of %s: %w", g.ID, c.ID, err)
		}
		ended = append(ended, d)
	}
	return ended, nil
}

// deliver starts the back-channel deliveries of sign-outs a committed
// authorization caused.
func (p *Provider) deliver(r *http.Request, evicted []signout.Done) {
	p.Signout.Deliver(r.Context(), evicted...)
}
