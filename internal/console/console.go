package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/admin"
	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/grant"
	"github.com/sesame-id/sesame/internal/keys"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
	"github.com/sesame-id/sesame/internal/web"
)

//go:embed templates/*.html
var files embed.FS

// Verifier checks that Sesame signed a JWT and returns its payload
// (keys.Set.Verify): the callback reads the ID token's nonce with it.
type Verifier interface {
	Verify(token string) (keys.Verified, error)
}

// Config is what the console is built from.
type Config struct {
	// Issuer is Sesame's issuer; the console lives at /console on its
	// scheme and host (its base).
	Issuer string
	Store  store.Store
	// Tokens redeems the console's codes in process and checks its access
	// tokens at every request.
	Tokens *token.Service
	// Resources tells whether an account holds the admin role now (C5).
	Resources *resource.Registry
	// Registry reads clients and registers the console's own.
	Registry *client.Registry
	// Clients are the operations on clients the admin API uses too.
	Clients *admin.Clients
	// Deliveries are the operations on back-channel deliveries the admin
	// API uses too (retry), with the deliverer that sends test tokens.
	Deliveries *admin.Deliveries
	// Accounts are the operations on accounts the admin API uses too.
	Accounts *admin.Accounts
	Keys     Verifier
	// Cookies writes the console's cookies (package web writes every
	// cookie); Forms guards its posts (W1).
	Cookies web.Cookies
	Forms   *web.Forms
	// Secret is the operator's secret_key: the keys that seal the
	// console's cookies are derived from it, so every instance opens what
	// another sealed, also after a restart.
	Secret []byte
	Now    func() time.Time
	Logger *slog.Logger
}

// Console serves /console.
type Console struct {
	cfg  Config
	base string
	// flows seals the sign-in in progress; sessions the console session;
	// secrets a secret on its way to the page that shows it once. One key
	// each, so that one can never be taken for another.
	flows, sessions, secrets *keys.Sealer
	t                        *template.Template
	// ended are the console sessions back-channel logouts ended
	// (backchannel.go), which check refuses before their tokens.
	ended endedSessions
}

// New builds the console from cfg.
func New(cfg Config) (*Console, error) {
	u, err := url.Parse(cfg.Issuer)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("console: issuer %q is not an absolute URL", cfg.Issuer)
	}
	flows, err := keys.NewSealerFor(cfg.Secret, "sesame console sign-in")
	if err != nil {
		return nil, fmt.Errorf("console sign-in key: %w", err)
	}
	sessions, err := keys.NewSealerFor(cfg.Secret, "sesame console session")
	if err != nil {
		return nil, fmt.Errorf("console session key: %w", err)
	}
	secrets, err := keys.NewSealerFor(cfg.Secret, "sesame console secret shown once")
	if err != nil {
		return nil, fmt.Errorf("console secret key: %w", err)
	}
	t, err := template.New("console").Funcs(template.FuncMap{
		"appURL":   appURL,
		"typeName": typeName,
		"lines":    func(l []string) string { return strings.Join(l, "\n") },
	}).ParseFS(files, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse console templates: %w", err)
	}
	return &Console{cfg: cfg, base: u.Scheme + "://" + u.Host, flows: flows, sessions: sessions, secrets: secrets, t: t}, nil
}

// The console's addresses.
const (
	// Home is where the console starts, and where Sesame sends the person
	// after signing out of it (the client's post_logout_redirect_uri).
	Home         = "/console/"
	callbackPath = "/console/callback"
	appsPath     = "/console/apps"
)

// Route is one route of the console: its method, path pattern and
// handler. The handler of every POST route is wrapped in Forms.Protect
// already (W1).
type Route struct {
	Method, Pattern string
	Handler         http.Handler
}

// Routes lists the console's routes; routes.go mounts them, and a test
// checks that every one but the sign-in's own refuses a person without
// the admin role.
func (c *Console) Routes() []Route {
	form := func(h http.HandlerFunc) http.Handler { return c.cfg.Forms.Protect(h) }
	return []Route{
		{"GET", "/console", http.RedirectHandler(Home, http.StatusMovedPermanently)},
		{"GET", "/console/{$}", c.page(c.home)},
		{"GET", callbackPath, http.HandlerFunc(c.callback)},
		{"POST", "/console/sign-out", form(c.signOut)},
		{"GET", appsPath, c.page(c.listApps)},
		{"GET", appsPath + "/new", c.page(c.newApp)},
		{"POST", appsPath, form(c.action(c.createApp))},
		{"GET", appsPath + "/{id}", c.page(c.showApp)},
		{"POST", appsPath + "/{id}", form(c.action(c.updateApp))},
		{"POST", appsPath + "/{id}/secret", form(c.action(c.rotateSecret))},
		{"GET", resourcesPath, c.page(c.listResources)},
		{"POST", resourcesPath, form(c.action(c.createResource))},
		{"GET", resourcesPath + "/{indicator}", c.page(c.showResource)},
		{"POST", resourcesPath + "/{indicator}", form(c.action(c.updateResource))},
		{"POST", resourcesPath + "/{indicator}/delete", form(c.action(c.deleteResource))},
		{"GET", rolesPath, c.page(c.listRoles)},
		{"POST", rolesPath, form(c.action(c.createRole))},
		{"GET", rolesPath + "/{name}", c.page(c.showRole)},
		{"POST", rolesPath + "/{name}", form(c.action(c.saveRole))},
		{"POST", rolesPath + "/{name}/delete", form(c.action(c.deleteRole))},
		{"POST", rolesPath + "/{name}/add", form(c.action(c.addHolder))},
		{"POST", rolesPath + "/{name}/remove", form(c.action(c.removeHolder))},
		{"GET", usersPath, c.page(c.listUsers)},
		{"GET", usersPath + "/new", c.page(c.newUser)},
		{"POST", usersPath, form(c.action(c.createUser))},
		{"GET", usersPath + "/{id}", c.page(c.showUser)},
		{"POST", usersPath + "/{id}", form(c.action(c.updateUser))},
		{"POST", usersPath + "/{id}/password", form(c.action(c.resetPassword))},
		{"POST", usersPath + "/{id}/lock", form(c.action(c.lockUser))},
		{"POST", usersPath + "/{id}/unlock", form(c.action(c.unlockUser))},
		{"POST", usersPath + "/{id}/roles", form(c.action(c.setRoles))},
		{"POST", usersPath + "/{id}/sign-out", form(c.action(c.signOutEverywhere))},
		{"POST", usersPath + "/{id}/sign-out-device", form(c.action(c.signOutDevice))},
		{"POST", usersPath + "/{id}/sign-out-app", form(c.action(c.signOutApp))},
		{"GET", receiptsPath + "/{id}", c.page(c.showReceipt)},
		{"GET", appsPath + "/{id}/deliveries", c.page(c.showDeliveries)},
		{"POST", appsPath + "/{id}/deliveries/retry", form(c.action(c.retryDelivery))},
		{"POST", appsPath + "/{id}/test-logout", form(c.action(c.testLogout))},
		{"GET", activityPath, c.page(c.showActivity)},
		{"GET", auditPath, c.page(c.listAudit)},
		{"GET", signOutsPath, c.page(c.listSignOuts)},
	}
}

// home sends the console's start to its first section.
func (c *Console) home(w http.ResponseWriter, r *http.Request, _ operator) {
	http.Redirect(w, r, appsPath, http.StatusSeeOther)
}

// operator is the person a console request acts for, checked: their
// account holds the admin role and their console token is live and
// carries sesame:admin.
type operator struct {
	AccountID, Username string
}

// by is the operator as the audit log names them: a person acting as an
// admin (C5), from the request's address.
func (o operator) by(r *http.Request) admin.Caller {
	return admin.Caller{Actor: audit.ByAdminAccount(o.AccountID), Address: web.ClientIP(r)}
}

// verdict is what the check of a console request found.
type verdict int

const (
	// allowed: the operator holds the admin role and a live token.
	allowed verdict = iota
	// signedOut: no console session, or one that ended (expired, its
	// grant revoked by a sign-out, its account disabled), or one older
	// than the operator's admin role: a new sign-in is needed.
	signedOut
	// notAdmin: signed in, and the account does not hold the admin role.
	notAdmin
)

// check opens the console session of r and checks it now (C5): the
// access token (token, grant and account live), the admin role the
// account holds at this moment, and sesame:admin on the token. Nothing is
// taken from the cookie on trust but which token to check.
func (c *Console) check(r *http.Request) (operator, verdict, error) {
	sess, ok := c.session(r)
	if !ok || c.endedByLogout(sess) {
		return operator{}, signedOut, nil
	}
	return c.checkSession(r.Context(), sess)
}

// checkSession checks a console session as check does.
func (c *Console) checkSession(ctx context.Context, sess consoleSession) (operator, verdict, error) {
	act, err := c.cfg.Tokens.CheckAccess(ctx, sess.AccessToken)
	var denied *token.Denied
	switch {
	case errors.As(err, &denied):
		return operator{}, signedOut, nil
	case err != nil:
		return operator{}, signedOut, fmt.Errorf("check console token: %w", err)
	case act.Token.ClientID != client.ConsoleID || act.Account.ID == "":
		// Only the console's own tokens open it.
		return operator{}, signedOut, nil
	}
	op := operator{AccountID: act.Account.ID, Username: act.Account.Username}
	isAdmin, err := c.cfg.Resources.HasRole(ctx, resource.Account(op.AccountID), resource.RoleAdmin)
	switch {
	case err != nil:
		return op, signedOut, fmt.Errorf("roles of account %s: %w", op.AccountID, err)
	case !isAdmin:
		return op, notAdmin, nil
	case !slices.Contains(act.Token.Scopes, grant.ScopeAdmin):
		// The role came after this sign-in: a new one carries the scope.
		return op, signedOut, nil
	}
	return op, allowed, nil
}

// page guards a GET: without a console session it starts a sign-in,
// silent when Sesame's own session is there (SSO); a person without the
// admin role gets the refusal.
func (c *Console) page(h func(http.ResponseWriter, *http.Request, operator)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op, v, err := c.check(r)
		switch {
		case err != nil:
			c.fail(w, r, err)
		case v == signedOut:
			c.startSignIn(w, r, r.URL.RequestURI())
		case v == notAdmin:
			c.refuse(w, r, op)
		default:
			h(w, r, op)
		}
	})
}

// action guards a POST, as page does a GET, except that it never starts
// a sign-in: what was posted would be lost on the way, so an ended
// session gets a page that asks for a reload, and nothing is changed.
func (c *Console) action(h func(http.ResponseWriter, *http.Request, operator)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		op, v, err := c.check(r)
		switch {
		case err != nil:
			c.fail(w, r, err)
		case v == signedOut:
			c.message(w, r, http.StatusForbidden, messagePage{
				Title:   "Your console session has ended",
				Message: "Nothing was changed: your console session ended (it expired, or you were signed out) before this form was sent.",
				Detail:  "Reload the page to sign in again, then make the change again.",
			})
		case v == notAdmin:
			c.refuse(w, r, op)
		default:
			h(w, r, op)
		}
	}
}

// refuse answers a signed-in person whose account does not hold the
// admin role, for every page and every action.
func (c *Console) refuse(w http.ResponseWriter, r *http.Request, op operator) {
	c.message(w, r, http.StatusForbidden, messagePage{
		frame:   frame{Username: op.Username},
		Title:   "The console is for admins",
		Message: "You are signed in as " + op.Username + ", and your account does not have the admin role.",
		Detail:  "The console opens to accounts that hold the built-in admin role (roles: [admin] on the user in the configuration file, or given through the admin API). Sign out to use another account.",
		SignOut: true,
	})
}

// frame is what every console page shows around its content: the title,
// the section of the nav it belongs to, who is signed in (with the
// sign-out button), and the page's form token (W1).
type frame struct {
	Title   string
	Section string
	// Username is who is signed in; Admin shows the sections' nav.
	Username string
	Admin    bool
	CSRF     string
}

// messagePage is a page that says one thing: a refusal, an ended
// session, an error.
type messagePage struct {
	frame
	Title, Message, Detail string
	// Link, when set, is a way on (LinkText says where).
	Link, LinkText string
	// SignOut shows a sign-out button in the page's body.
	SignOut bool
}

// message renders a messagePage.
func (c *Console) message(w http.ResponseWriter, r *http.Request, status int, p messagePage) {
	p.frame.Title = p.Title
	if p.Username != "" {
		p.CSRF = c.cfg.Forms.Token(w, r)
	}
	c.render(w, status, "message.html", p)
}

// framed fills the frame of an operator's page.
func (c *Console) framed(w http.ResponseWriter, r *http.Request, op operator, title, section string) frame {
	return frame{Title: title, Section: section, Username: op.Username, Admin: true, CSRF: c.cfg.Forms.Token(w, r)}
}

// render executes one template into a buffer first, so that a template
// error never leaves half a page on the wire, and sends it with the
// headers of every Sesame page: a CSP that allows nothing foreign, forms
// posting only to Sesame (W2), no framing, no caching.
func (c *Console) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := c.t.ExecuteTemplate(&buf, name, data); err != nil {
		c.cfg.Logger.Error("render console page", "page", name, "err", err)
		web.SetPageHeaders(w.Header(), web.Policy{})
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("Sesame could not show this page. Please try again.\n"))
		return
	}
	web.SetPageHeaders(w.Header(), web.Policy{})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// fail answers an error the person cannot mend.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	c.cfg.Logger.ErrorContext(r.Context(), "console", "err", err, "path", r.URL.Path)
	c.message(w, r, http.StatusServiceUnavailable, messagePage{
		Title:   "Sesame is busy or unavailable",
		Message: "Sesame cannot do this right now. Nothing was changed; please try again in a moment.",
	})
}

// notFound answers for an app that does not exist.
func (c *Console) notFound(w http.ResponseWriter, r *http.Request, op operator, what string) {
	c.sectionMessage(w, r, op, http.StatusNotFound, "apps", notFoundPage(what, appsPath, "Back to the apps"))
}

// sectionMessage answers p, a page of words in section, with status.
func (c *Console) sectionMessage(w http.ResponseWriter, r *http.Request, op operator, status int, section string, p messagePage) {
	p.frame = c.framed(w, r, op, p.Title, section)
	c.render(w, status, "message.html", p)
}

// notFoundPage says there is no what, and links back.
func notFoundPage(what, back, backText string) messagePage {
	return messagePage{Title: "Not found", Message: "There is no " + what + ".", Link: back, LinkText: backText}
}

// appURL is the address of an app's page.
func appURL(id string) string { return appsPath + "/" + url.PathEscape(id) }

// now is the console's clock.
func (c *Console) now() time.Time { return c.cfg.Now() }
