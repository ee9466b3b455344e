package oidc

import (
	"context"
	"errors"
	"fmt"

	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/ui"
)

// checkResources tells whether every resource an authorization request
// names is a registered API (R2, spec RI1): a malformed or unknown one is
// invalid_target, redirected to the client like the request's other
// errors; a registry that cannot be read is temporarily_unavailable.
func (p *Provider) checkResources(ctx context.Context, indicators []string) (*Error, error) {
	if len(indicators) > 0 && p.Resources == nil {
		// A provider made without a registry has no API to name.
		return &Error{Code: CodeInvalidTarget, Description: "this provider has no API resources", Status: 400}, nil
	}
	for _, ind := range indicators {
		_, err := p.Resources.API(ctx, ind)
		switch {
		case errors.Is(err, resource.ErrUnknown):
			return &Error{Code: CodeInvalidTarget, Description: "a resource is malformed or names no registered API", Status: 400}, nil
		case err != nil:
			return errUnavailable, err
		}
	}
	return nil, nil
}

// grantableResources is what an authorization request may be granted of
// the APIs it names (R2): for each, the requested scopes the API defines
// that the account's roles permit, the others dropped as Logto drops
// them. An API asked for with none of its scopes is still granted, with
// none. One removed since the request was checked is not granted (the
// token endpoint then answers invalid_target for it).
func (p *Provider) grantableResources(ctx context.Context, accountID string, params store.AuthParams) (map[string][]string, error) {
	if len(params.Resources) == 0 {
		return nil, nil
	}
	out := make(map[string][]string, len(params.Resources))
	for _, ind := range params.Resources {
		api, permitted, err := p.Resources.Permitted(ctx, resource.Account(accountID), ind)
		if errors.Is(err, resource.ErrUnknown) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("API resource %s: %w", ind, err)
		}
		out[ind] = resource.Filter(params.Scopes, api, permitted)
	}
	return out, nil
}

// consentAPIs is what the consent page says of the APIs asked for: each
// by its name, in the order the request named them, with the scopes that
// would be granted, in the words the resource gives them (R2).
func (p *Provider) consentAPIs(ctx context.Context, params store.AuthParams, res map[string][]string) []ui.ConsentAPI {
	var out []ui.ConsentAPI
	for _, ind := range params.Resources {
		scopes, ok := res[ind]
		if !ok {
			continue
		}
		// One removed since the request was checked is still named by
		// its indicator, its scopes by their names.
		api := resource.API{Name: ind}
		if found, err := p.Resources.API(ctx, ind); err == nil {
			api = found
		}
		out = append(out, ui.ConsentAPI{Name: api.Name, Scopes: ui.DescribeAPIScopes(scopes, api.ScopeDescriptions)})
	}
	return out
}
