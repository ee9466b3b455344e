package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sesame-id/sesame/rp"
	"github.com/sesame-id/sesame/rp/resource"
)

// ScopeReadOrders is the permission the demo's Orders API asks of a token.
const ScopeReadOrders = "read:orders"

// Order is one order the demo's API knows of.
type Order struct {
	ID   string `json:"id"`
	Item string `json:"item"`
}

// NewOrdersAPI is the demo's Orders API, as any API behind Sesame would
// be written: package rp/resource verifies each bearer JWT access token
// offline (signature, typ, iss, aud, exp) and requires read:orders, which
// only a person whose roles permit it gets in their token.
func NewOrdersAPI(v *resource.Verifier) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /orders", v.Require(ScopeReadOrders)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := resource.ClaimsFrom(r.Context())
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]any{"subject": claims.Subject, "orders": []Order{
			{ID: "1001", Item: "a pot of Sesame seeds"}, {ID: "1002", Item: "a jar of tahini"},
		}})
	})))
	return mux
}

// Orders is how an app reaches the Orders API: its base URL and the
// resource indicator Sesame knows it by.
type Orders struct {
	URL      string
	Resource string
	// HTTPClient calls the API; nil is http.DefaultClient.
	HTTPClient *http.Client
}

// Configure makes c's sign-ins ask for what reading orders needs: the
// API's indicator as a resource, without which the grant does not cover
// it and Sesame refuses AccessTokenFor (invalid_target), and read:orders,
// without which even a permitted person's token lacks it and the API
// answers 403. Every app that reads orders is set up by this one method,
// so none can ask for half.
func (o *Orders) Configure(c *rp.Config) {
	c.Resources = append(c.Resources, o.Resource)
	if len(c.Scopes) == 0 { // rp's defaults apply to an empty list only
		c.Scopes = []string{"openid", "profile", "email"}
	}
	c.Scopes = append(c.Scopes, ScopeReadOrders)
}

// ordersView is what the page says of the person's orders: the orders, or
// in words why there are none to show.
type ordersView struct {
	Items   []string
	Refused string
}

// readOrders asks Sesame for a token for the Orders API (with the app
// session's refresh token) and calls the API with it.
func (a *App) readOrders(w http.ResponseWriter, r *http.Request) ordersView {
	token, _, err := a.Client.AccessTokenFor(r.Context(), w, r, a.Orders.Resource)
	switch {
	case errors.Is(err, rp.ErrInvalidTarget):
		// Not a matter of the person's roles: Sesame answers this when
		// the API is not registered, or the grant does not cover it.
		return ordersView{Refused: "Sesame would not give " + a.Name + " a token for the Orders API (invalid_target): " +
			"the API is not registered at Sesame, or your sign-in to this app did not ask for it. Signing out and in again may help."}
	case rp.NeedsSignIn(err):
		return ordersView{Refused: "To read your orders, " + a.Name + " needs you to sign in again."}
	case err != nil:
		a.logError(r, "token for the Orders API", err)
		return ordersView{Refused: "Sesame could not be reached for a token for the Orders API. Try again in a moment."}
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.Orders.URL+"/orders", nil)
	if err != nil {
		return ordersView{Refused: "The Orders API's address is wrong in this demo."}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	hc := a.Orders.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		a.logError(r, "call the Orders API", err)
		return ordersView{Refused: "The Orders API did not answer. Try again in a moment."}
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusForbidden:
		return ordersView{Refused: "The Orders API refused (403): your account may not read orders. " +
			"It needs a role that permits read:orders, which an administrator gives."}
	case http.StatusUnauthorized:
		return ordersView{Refused: "The Orders API did not accept the token Sesame gave this app (401)."}
	default:
		return ordersView{Refused: fmt.Sprintf("The Orders API answered %d. Try again in a moment.", resp.StatusCode)}
	}
	var body struct {
		Orders []Order `json:"orders"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return ordersView{Refused: "The Orders API's answer could not be read."}
	}
	var v ordersView
	for _, o := range body.Orders {
		v.Items = append(v.Items, "Order "+o.ID+": "+o.Item)
	}
	return v
}
