package console

import (
	"context"
	"errors"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/grant"
	"github.com/sesame-id/sesame/internal/session"
	"github.com/sesame-id/sesame/internal/store"
)

// What a user's page reads: the devices (sessions) and connected apps
// (grants) of the account, and its history: sign-ins (events), sign-outs
// (receipts, O9) and changes (the audit log).

// appNamer reads each app once per page, for its name and its
// offline_survives_signout.
type appNamer struct {
	c    *Console
	ctx  context.Context
	seen map[string]store.Client
}

// client returns app id; one that is gone (not found) is its id alone.
// A read that failed otherwise is an error: the app's settings are not
// known, and taking them for a gone app's would make a page say what is
// false (that an offline grant ends at sign-out, O4).
func (n *appNamer) client(id string) (store.Client, error) {
	if cl, ok := n.seen[id]; ok {
		return cl, nil
	}
	cl, err := n.c.cfg.Registry.Get(n.ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		cl = store.Client{ID: id}
	case err != nil:
		// Not remembered: the page that needs the app fails on it, and
		// a label read again falls back to the id. The registry's error
		// names the app already.
		return store.Client{}, err
	}
	n.seen[id] = cl
	return cl, nil
}

// name is an app's name, or its id when it has none or cannot be read:
// a label, which the id stands in for (less readable, not false).
func (n *appNamer) name(id string) string {
	if cl, err := n.client(id); err == nil && cl.Name != "" {
		return cl.Name
	}
	return id
}

// devicesAndApps are the account's live sessions and live grants, each
// grant with whether it survives a sign-out and why (O4).
func (c *Console) devicesAndApps(ctx context.Context, id string, names *appNamer) ([]deviceItem, []connectedApp, error) {
	sessions, err := c.cfg.Store.SessionsByAccount(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	grants, err := c.cfg.Store.GrantsByAccount(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	now := c.now()
	var devices []deviceItem
	onDevices := map[string]int{}
	for _, s := range sessions {
		if !now.Before(s.ExpiresAt) || !now.Before(s.MaxExpiresAt) {
			continue
		}
		d := deviceItem{ID: s.ID, Name: session.DeviceName(s.UserAgent), UserAgent: s.UserAgent, IP: s.IP,
			SignedIn: when(s.AuthTime), LastSeen: when(s.LastSeenAt), Expires: when(s.ExpiresAt)}
		for _, a := range s.Authorizations {
			d.Apps = append(d.Apps, names.name(a.ClientID))
			onDevices[a.GrantID]++
		}
		devices = append(devices, d)
	}
	var apps []connectedApp
	for _, g := range grants {
		if grant.Check(g, now) != nil {
			continue
		}
		// Whether the grant survives a sign-out is the app's setting: one
		// that cannot be read fails the page rather than be guessed.
		cl, err := names.client(g.ClientID)
		if err != nil {
			return nil, nil, err
		}
		a := connectedApp{GrantID: g.ID, ClientID: g.ClientID, App: names.name(g.ClientID), Scopes: g.Scopes,
			Offline: grant.HasOffline(g), Granted: when(g.CreatedAt), Expires: when(g.ExpiresAt), Devices: onDevices[g.ID]}
		a.Survives, a.Why = survival(g, cl)
		apps = append(apps, a)
	}
	return devices, apps, nil
}

// survival says whether grant g of app cl outlives a sign-out of the
// device it was granted on (O4, signout.Survives), and why, in words.
func survival(g store.Grant, cl store.Client) (bool, string) {
	switch {
	case grant.HasOffline(g) && cl.OfflineSurvivesSignout:
		return true, "It holds offline_access and the app lets offline access survive sign-out (offline_survives_signout), so its refresh token keeps working after the user signs out of Sesame. Signing out of this app, or a password reset, ends it."
	case grant.HasOffline(g):
		return false, "It holds offline_access, but the app has offline_survives_signout turned off: signing out ends it with the device."
	}
	return false, "It has no offline_access: it ends when the device it was granted on signs out."
}

// historyShown is how many of each kind of history the page lists.
const historyShown = 10

// signIns are the account's latest sign-ins and failed attempts, read
// from that account's events only, however busy the log is.
func (c *Console) signIns(ctx context.Context, id string, names *appNamer) ([]signInItem, error) {
	events, err := c.cfg.Store.EventsByAccount(ctx, id, []string{store.EventSignIn, store.EventSignInFailed}, 0, historyShown)
	if err != nil {
		return nil, err
	}
	out := make([]signInItem, 0, len(events))
	for _, e := range events {
		item := signInItem{At: when(e.At), Failed: e.Kind == store.EventSignInFailed}
		if e.ClientID != "" {
			item.App = names.name(e.ClientID)
		}
		if item.Failed {
			item.Detail = e.Detail
		}
		out = append(out, item)
	}
	return out, nil
}

// signOuts are the account's latest sign-outs, by their receipts (O9).
func (c *Console) signOuts(ctx context.Context, id string) ([]receiptItem, error) {
	recs, err := c.cfg.Store.ReceiptsByAccount(ctx, id, historyShown)
	if err != nil {
		return nil, err
	}
	out := make([]receiptItem, 0, len(recs))
	for _, rec := range recs {
		out = append(out, receiptItem{URL: receiptURL(rec.ID), At: when(rec.CreatedAt), Scope: scopeWords(rec.Scope),
			Cause: causeWords(rec.Cause), Apps: len(rec.Outcomes)})
	}
	return out, nil
}

// changes are the latest audit entries about the account: who changed
// it, from where.
func (c *Console) changes(ctx context.Context, id string) ([]changeItem, error) {
	entries, err := audit.List(ctx, c.cfg.Store, audit.Filter{Account: id, Limit: historyShown})
	if err != nil {
		return nil, err
	}
	people := map[string]string{}
	out := make([]changeItem, 0, len(entries))
	for _, e := range entries {
		out = append(out, changeItem{At: when(e.At), Action: string(e.Action), By: c.actorWords(ctx, e.Actor, people),
			Address: e.Address, Detail: e.Detail})
	}
	return out, nil
}

// actorWords names who made a change: an account by its username (read
// once per page), an app by its id.
func (c *Console) actorWords(ctx context.Context, a audit.Actor, people map[string]string) string {
	switch a.Kind {
	case audit.ActorAdminAccount, audit.ActorAccount:
		name, ok := people[a.ID]
		if !ok {
			name = a.ID
			if acct, err := c.cfg.Store.Account(ctx, a.ID); err == nil {
				name = acct.Username
			}
			people[a.ID] = name
		}
		if a.Kind == audit.ActorAdminAccount {
			return name + " (admin)"
		}
		return name
	case audit.ActorAdminClient:
		return "app " + a.ID + " (admin API)"
	case audit.ActorCLI:
		return "the command line (" + a.ID + ")"
	}
	return "Sesame"
}
