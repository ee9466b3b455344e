package console

import (
	"crypto/rand"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/sesame-id/sesame/internal/admin"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/store"
)

// appItem is one app of the list.
type appItem struct {
	store.Client
	// Declared: the configuration file manages it (C4). Reserved: it is
	// Sesame's own (the console's).
	Declared, Reserved bool
}

// appsPage fills the list of apps.
type appsPage struct {
	frame
	Apps []appItem
}

// listApps shows every app with its type and addresses.
func (c *Console) listApps(w http.ResponseWriter, r *http.Request, op operator) {
	list, err := c.cfg.Store.Clients(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	slices.SortFunc(list, func(a, b store.Client) int { return strings.Compare(a.ID, b.ID) })
	p := appsPage{frame: c.framed(w, r, op, "Apps", "apps")}
	for _, cl := range list {
		p.Apps = append(p.Apps, appItem{Client: cl, Declared: c.cfg.Clients.Managed(cl.ID), Reserved: client.IsReserved(cl.ID)})
	}
	c.render(w, http.StatusOK, "apps.html", p)
}

// appForm is what the create and edit forms hold: as stored, or as the
// person typed it when it did not validate.
type appForm struct {
	ID, Name, Type string
	// The URI lists, one a line.
	RedirectURIs, PostLogoutRedirectURIs string
	BackchannelLogoutURI                 string
	BackchannelLogoutSessionRequired     bool
	FrontchannelLogoutURI                string
	FrontchannelLogoutSessionRequired    bool
	OfflineSurvivesSignout, FirstParty   bool
}

// formOf is the edit form of a stored app.
func formOf(cl store.Client) appForm {
	return appForm{ID: cl.ID, Name: cl.Name, Type: cl.Type,
		RedirectURIs: strings.Join(cl.RedirectURIs, "\n"), PostLogoutRedirectURIs: strings.Join(cl.PostLogoutRedirectURIs, "\n"),
		BackchannelLogoutURI: cl.BackchannelLogoutURI, BackchannelLogoutSessionRequired: cl.BackchannelLogoutSessionRequired,
		FrontchannelLogoutURI: cl.FrontchannelLogoutURI, FrontchannelLogoutSessionRequired: cl.FrontchannelLogoutSessionRequired,
		OfflineSurvivesSignout: cl.OfflineSurvivesSignout, FirstParty: cl.FirstParty}
}

// readForm reads a posted app form; Forms.Protect has parsed it.
func readForm(r *http.Request) appForm {
	f := r.PostForm
	on := func(k string) bool { return f.Get(k) != "" }
	return appForm{ID: strings.TrimSpace(f.Get("id")), Name: strings.TrimSpace(f.Get("name")), Type: f.Get("type"),
		RedirectURIs: f.Get("redirect_uris"), PostLogoutRedirectURIs: f.Get("post_logout_redirect_uris"),
		BackchannelLogoutURI: strings.TrimSpace(f.Get("backchannel_logout_uri")), BackchannelLogoutSessionRequired: on("backchannel_logout_session_required"),
		FrontchannelLogoutURI: strings.TrimSpace(f.Get("frontchannel_logout_uri")), FrontchannelLogoutSessionRequired: on("frontchannel_logout_session_required"),
		OfflineSurvivesSignout: on("offline_survives_signout"), FirstParty: on("first_party")}
}

// uris splits a list typed one a line (spaces and commas also separate).
func uris(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ' ' || r == '\t' || r == ',' })
}

// apply sets on s what the form edits, leaving the rest of the
// registration (grant types, signing algorithm, PKCE, limits) as it is.
func (f appForm) apply(s client.Spec) client.Spec {
	s.Name = f.Name
	s.RedirectURIs, s.PostLogoutRedirectURIs = uris(f.RedirectURIs), uris(f.PostLogoutRedirectURIs)
	s.BackchannelLogoutURI, s.BackchannelLogoutSessionRequired = f.BackchannelLogoutURI, f.BackchannelLogoutSessionRequired
	s.FrontchannelLogoutURI, s.FrontchannelLogoutSessionRequired = f.FrontchannelLogoutURI, f.FrontchannelLogoutSessionRequired
	survives := f.OfflineSurvivesSignout
	s.OfflineSurvivesSignout, s.FirstParty = &survives, f.FirstParty
	return s
}

// typeChoice is one type the create form offers.
type typeChoice struct{ Value, Name, Text string }

// appTypes are the app types in words (C1).
var appTypes = []typeChoice{
	{client.TypeWeb, "Web app", "A website with its own server (Node, Go, PHP...): it keeps a secret."},
	{client.TypeSPA, "Single-page app", "Runs in the browser only (React, Vue...): public, no secret, PKCE."},
	{client.TypeNative, "Native app", "A mobile, desktop or command-line app: public, no secret, PKCE."},
	{client.TypeM2M, "Machine-to-machine", "A service acting for itself (client_credentials): it keeps a secret, nobody signs in."},
}

// typeName is an app type in words.
func typeName(t string) string {
	for _, c := range appTypes {
		if c.Value == t {
			return c.Name
		}
	}
	return t
}

// newPage fills the create form.
type newPage struct {
	frame
	Form   appForm
	Types  []typeChoice
	Errors []string
}

// newApp shows the create form.
func (c *Console) newApp(w http.ResponseWriter, r *http.Request, op operator) {
	c.render(w, http.StatusOK, "new.html", newPage{frame: c.framed(w, r, op, "Create an app", "apps"),
		Form: appForm{Type: client.TypeWeb, OfflineSurvivesSignout: true, FirstParty: true}, Types: appTypes})
}

// createApp registers an app through the same operation as the admin
// API; the answer is a redirect to its page, which shows the secret of a
// confidential app once (showSecretOnce).
func (c *Console) createApp(w http.ResponseWriter, r *http.Request, op operator) {
	f := readForm(r)
	if f.ID == "" {
		f.ID = newID()
	}
	spec := f.apply(client.Spec{ID: f.ID, Type: f.Type})
	if f.Type == client.TypeM2M {
		spec.RedirectURIs, spec.PostLogoutRedirectURIs = nil, nil
	}
	cl, secret, err := c.cfg.Clients.Create(r.Context(), op.by(r), spec)
	if err != nil {
		if problems, ok := c.problems(w, r, op, f.ID, err); ok {
			c.render(w, http.StatusBadRequest, "new.html", newPage{frame: c.framed(w, r, op, "Create an app", "apps"),
				Form: f, Types: appTypes, Errors: problems})
		}
		return
	}
	if secret == "" {
		http.Redirect(w, r, appURL(cl.ID)+"?done=created", http.StatusSeeOther)
		return
	}
	c.showSecretOnce(w, r, op, appPage{App: cl, Secret: secret, Notice: "created", Form: formOf(cl)})
}

// problems turns the error of an operation on app id into what the
// person reads: the problems of a form that did not validate (ok true:
// the caller shows the form again with them), or a page it answers
// itself (ok false).
func (c *Console) problems(w http.ResponseWriter, r *http.Request, op operator, id string, err error) ([]string, bool) {
	var invalid *client.InvalidError
	var reserved *client.ReservedError
	switch {
	case errors.As(err, &reserved):
		c.conflict(w, r, op, "Sesame's own console app is registered by Sesame at every start: it cannot be created, changed or deleted, here or through the API.")
	case errors.Is(err, admin.ErrManaged):
		c.conflict(w, r, op, "The app "+id+" is declared in the configuration file, which applies it at every start: change it there.")
	case errors.Is(err, admin.ErrExists):
		return []string{"An app with the id " + id + " exists already: choose another id."}, true
	case errors.As(err, &invalid):
		return strings.Split(invalid.Error(), "\n"), true
	case errors.Is(err, store.ErrNotFound):
		c.notFound(w, r, op, "app "+id)
	default:
		c.fail(w, r, err)
	}
	return nil, false
}

// conflict refuses a change the console may not make.
func (c *Console) conflict(w http.ResponseWriter, r *http.Request, op operator, msg string) {
	c.sectionMessage(w, r, op, http.StatusConflict, "apps",
		messagePage{Title: "This app cannot be changed here", Message: msg, Link: appsPath, LinkText: "Back to the apps"})
}

// appPage fills an app's page.
type appPage struct {
	frame
	App                store.Client
	Declared, Reserved bool
	// Secret is a secret just made, shown on this answer only;
	// ShownOnce says that this page showed the secret its notice speaks
	// of already (a reload), and will not again.
	Secret    string
	ShownOnce bool
	// Notice says what the last action did: created, saved, rotated.
	Notice    string
	Endpoints []endpoint
	Snippets  []snippet
	// Form is the edit form; Errors the problems of the last post.
	Form   appForm
	Errors []string
}

// Editable is whether the console may change the app.
func (p appPage) Editable() bool { return !p.Declared && !p.Reserved }

// Confidential is whether the app has a secret.
func (p appPage) Confidential() bool { return !client.IsPublic(p.App) }

// showApp shows an app's page.
func (c *Console) showApp(w http.ResponseWriter, r *http.Request, op operator) {
	cl, err := c.cfg.Store.Client(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		c.notFound(w, r, op, "app "+r.PathValue("id"))
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p := appPage{App: cl, Notice: r.URL.Query().Get("done"), Form: formOf(cl)}
	if (p.Notice == "created" || p.Notice == "rotated") && !client.IsPublic(cl) {
		p.Secret, p.ShownOnce = c.takeSecret(w, r, op, cl.ID)
	}
	c.showAppPage(w, r, op, http.StatusOK, p)
}

// showAppPage renders p with what every app page has: the frame, the
// endpoints, the snippets and whether the app may be changed.
func (c *Console) showAppPage(w http.ResponseWriter, r *http.Request, op operator, status int, p appPage) {
	name := client.Name(p.App)
	p.frame = c.framed(w, r, op, name, "apps")
	p.Declared, p.Reserved = c.cfg.Clients.Managed(p.App.ID), client.IsReserved(p.App.ID)
	p.Endpoints = endpoints(c.cfg.Issuer)
	p.Snippets = snippets(c.cfg.Issuer, p.App)
	c.render(w, status, "app.html", p)
}

// updateApp saves the edit form through the same operation as the admin
// API; a declared app is refused (C4).
func (c *Console) updateApp(w http.ResponseWriter, r *http.Request, op operator) {
	id := r.PathValue("id")
	existing, err := c.cfg.Store.Client(r.Context(), id)
	if err != nil {
		c.problems(w, r, op, id, err)
		return
	}
	f := readForm(r)
	spec := admin.SpecOf(existing)
	if existing.Type != client.TypeM2M {
		spec = f.apply(spec)
	} else {
		spec.Name = f.Name
	}
	if _, _, err := c.cfg.Clients.Update(r.Context(), op.by(r), spec, false); err != nil {
		if problems, ok := c.problems(w, r, op, id, err); ok {
			f.ID, f.Type = existing.ID, existing.Type
			c.showAppPage(w, r, op, http.StatusBadRequest, appPage{App: existing, Form: f, Errors: problems})
		}
		return
	}
	http.Redirect(w, r, appURL(id)+"?done=saved", http.StatusSeeOther)
}

// rotateSecret gives a confidential app a new secret, shown once on the
// page the answer redirects to (showSecretOnce); the old one stops
// working at once, and the app's own client_credentials tokens with it
// (C5).
func (c *Console) rotateSecret(w http.ResponseWriter, r *http.Request, op operator) {
	id := r.PathValue("id")
	existing, err := c.cfg.Store.Client(r.Context(), id)
	if err != nil {
		c.problems(w, r, op, id, err)
		return
	}
	if client.IsPublic(existing) {
		p := messagePage{Title: "This app has no secret", Message: "A " + typeName(existing.Type) + " is public: it signs in with PKCE and has no secret to rotate.",
			Link: appURL(id), LinkText: "Back to the app"}
		p.frame = c.framed(w, r, op, p.Title, "apps")
		c.render(w, http.StatusBadRequest, "message.html", p)
		return
	}
	cl, secret, err := c.cfg.Clients.Update(r.Context(), op.by(r), admin.SpecOf(existing), true)
	if err != nil {
		c.problems(w, r, op, id, err)
		return
	}
	c.showSecretOnce(w, r, op, appPage{App: cl, Secret: secret, Notice: "rotated", Form: formOf(cl)})
}

// newID makes an app id when the form leaves it empty, as Logto does:
// 16 random lowercase letters and digits (80 bits).
func newID() string { return strings.ToLower(rand.Text()[:16]) }
