package console

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/store"
)

// The API resources and roles section (R1). Every change goes through
// package resource (CreateAPI, UpdateAPI, DeleteAPI, CreateRole, PutRole,
// DeleteRole, GiveRole, TakeRole), the rules the admin API and the CLI
// apply: what the configuration file declares is refused (C4), the
// built-in admin role holds no permissions and stays (C5), and each
// change writes its audit entry, with the person as actor, in its own
// transaction.

const (
	resourcesPath = "/console/resources"
	rolesPath     = "/console/roles"
	// rolesSection is the nav section of both lists.
	rolesSection = "resources"
	// holdersPerPage is how many accounts a role's page lists at a time.
	holdersPerPage = 100
)

// resourceURL is the address of an API resource's page: its indicator,
// a URI, escaped as one path segment, as the admin API names it.
func resourceURL(indicator string) string { return resourcesPath + "/" + url.PathEscape(indicator) }

// roleURL is the address of a role's page.
func roleURL(name string) string { return rolesPath + "/" + url.PathEscape(name) }

// roleRecord is the resource.Record of a change r asks for: its audit
// entry names the operator, a person acting as an admin, and the
// request's address, and is written in the change's transaction.
func (c *Console) roleRecord(r *http.Request, op operator) resource.Record {
	by := op.by(r)
	rec := audit.Recorder{Store: c.cfg.Store, Now: c.cfg.Now}
	return func(tx store.Tx, e audit.Entry) error {
		e.Actor, e.Address = by.Actor, by.Address
		return rec.InTx(r.Context(), tx, e)
	}
}

// refusalOf is a refusal of package resource as the person reads it: the
// status of the answer and its lines, each naming its field in words. ok
// is false when err is no refusal (the store failed).
func refusalOf(err error) (status int, lines []string, ok bool) {
	var ref *resource.Refused
	if !errors.As(err, &ref) {
		return 0, nil, false
	}
	switch {
	case errors.Is(ref, resource.ErrInvalid) && ref.Problems != nil:
		for line := range strings.SplitSeq(ref.Problems.Error(), "\n") {
			lines = append(lines, fieldWords(line))
		}
		return http.StatusBadRequest, lines, true
	case errors.Is(ref, resource.ErrInvalid), errors.Is(ref, resource.ErrNotM2M):
		return http.StatusBadRequest, []string{ref.Error()}, true
	case errors.Is(ref, resource.ErrUnknown), errors.Is(ref, resource.ErrUnknownRole):
		return http.StatusNotFound, []string{ref.Error()}, true
	default: // ErrExists, ErrDeclared (C4), ErrBuiltIn (C5)
		return http.StatusConflict, []string{ref.Error()}, true
	}
}

// fieldWords puts a problem's field, named as the configuration names it,
// in the words of the form.
func fieldWords(line string) string {
	for _, f := range []struct{ key, words string }{
		{"indicator: ", "Indicator: "}, {"name: ", "Name: "}, {"scopes: ", "Scopes: "},
		{"access_token_ttl: ", "Access token lifetime: "}, {"permissions: ", "Permissions: "},
		{"scope_descriptions: ", "Scope descriptions: "},
	} {
		if rest, ok := strings.CutPrefix(line, f.key); ok {
			return f.words + rest
		}
	}
	return line
}

// lifetimeWords is a token lifetime in words: "1 hour 30 minutes".
func lifetimeWords(d time.Duration) string {
	if d <= 0 {
		return "none"
	}
	var parts []string
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}} {
		n := d / u.d
		d -= n * u.d
		switch {
		case n == 1:
			parts = append(parts, "1 "+u.name)
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %ss", n, u.name))
		}
	}
	if len(parts) == 0 {
		return "less than a second"
	}
	return strings.Join(parts, " ")
}

// lifetimeValue is a lifetime as the form holds it: "1h30m", "" for the
// default.
func lifetimeValue(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// parseLifetime reads the lifetime field: empty is the default (0), a
// number is seconds, as the admin API's access_token_ttl, and otherwise
// a duration such as 15m or 1h30m. ok is false for anything else, or a
// negative lifetime.
func parseLifetime(s string) (d time.Duration, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, true
	}
	// A year of seconds at most, so the product cannot overflow.
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 && n <= int64(24*365*time.Hour/time.Second) {
		return time.Duration(n) * time.Second, true
	}
	d, err := time.ParseDuration(s)
	return d, err == nil && d >= 0
}

// apiItem is an API resource as the section shows it.
type apiItem struct {
	store.APIResource
	// DefaultTTL is the top-level access_token_ttl, for a resource that
	// sets none.
	DefaultTTL time.Duration
}

// URL is the resource's page.
func (a apiItem) URL() string { return resourceURL(a.Indicator) }

// Title is its name, or its indicator when it has none.
func (a apiItem) Title() string { return cmp.Or(a.Name, a.Indicator) }

// describedScope is one of an API's scopes and the consent page's words
// for it.
type describedScope struct {
	Scope, Words string
}

// Described lists the scopes that have words, in the resource's order.
func (a apiItem) Described() []describedScope {
	var out []describedScope
	for _, sc := range a.Scopes {
		if w := a.ScopeDescriptions[sc]; w != "" {
			out = append(out, describedScope{Scope: sc, Words: w})
		}
	}
	return out
}

// Lifetime is its tokens' lifetime in words.
func (a apiItem) Lifetime() string {
	if a.AccessTokenTTL <= 0 {
		return lifetimeWords(a.DefaultTTL) + " (the default)"
	}
	return lifetimeWords(a.AccessTokenTTL)
}

// resourceForm is what the create and edit forms hold: as stored, or as
// the person typed it when it was refused.
type resourceForm struct {
	Indicator, Name string
	// Scopes are one a line; TTL as lifetimeValue writes it.
	Scopes, TTL string
	// Descriptions are the scopes' words, one "scope: words" a line.
	Descriptions string
}

// resourceFormOf is the edit form of a stored resource.
func resourceFormOf(a store.APIResource) resourceForm {
	var lines []string
	for _, d := range (apiItem{APIResource: a}).Described() {
		lines = append(lines, d.Scope+": "+d.Words)
	}
	return resourceForm{Indicator: a.Indicator, Name: a.Name, Scopes: strings.Join(a.Scopes, "\n"), TTL: lifetimeValue(a.AccessTokenTTL),
		Descriptions: strings.Join(lines, "\n")}
}

// readResourceForm reads a posted resource form; Forms.Protect has parsed
// it.
func readResourceForm(r *http.Request) resourceForm {
	f := r.PostForm
	return resourceForm{Indicator: strings.TrimSpace(f.Get("indicator")), Name: strings.TrimSpace(f.Get("name")),
		Scopes: f.Get("scopes"), TTL: strings.TrimSpace(f.Get("access_token_ttl")), Descriptions: f.Get("scope_descriptions")}
}

// descriptionsHint is how the form wants the scopes' words written, for
// the problem of a line written otherwise.
const descriptionsHint = "write the scope, a colon and a space, then its words, such as read:orders: Read your orders"

// parseDescriptions reads the scope descriptions field: one line a
// scope, "scope: words", blank lines skipped. A scope holds no white
// space, while it may hold a colon (read:orders), so the first colon
// followed by white space ends it. problems are in the form's words.
func parseDescriptions(text string) (words map[string]string, problems []string) {
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		i := strings.IndexFunc(line, func(r rune) bool { return r == ' ' || r == '\t' })
		if i < 2 || line[i-1] != ':' {
			problems = append(problems, fmt.Sprintf("Scope descriptions: line %d, %q: %s.", n+1, line, descriptionsHint))
			continue
		}
		scope := line[:i-1]
		if _, dup := words[scope]; dup {
			problems = append(problems, fmt.Sprintf("Scope descriptions: %s has two lines; keep one.", scope))
			continue
		}
		if words == nil {
			words = map[string]string{}
		}
		words[scope] = strings.TrimSpace(line[i:])
	}
	return words, problems
}

// spec is the resource the form describes, or the problems of its
// lifetime and its descriptions' lines in words; the resource's own
// rules judge the rest. Scopes are separated by white space: a scope
// holds none (RFC 6749 §3.3), while it may hold a comma.
func (f resourceForm) spec() (resource.APISpec, []string) {
	var problems []string
	ttl, ok := parseLifetime(f.TTL)
	if !ok {
		problems = append(problems, fmt.Sprintf("Access token lifetime: %q is not a lifetime: write it as 15m, 1h or a number of seconds, or leave it empty for the default.", f.TTL))
	}
	words, bad := parseDescriptions(f.Descriptions)
	if problems = append(problems, bad...); len(problems) > 0 {
		return resource.APISpec{}, problems
	}
	return resource.APISpec{Indicator: f.Indicator, Name: f.Name, Scopes: strings.Fields(f.Scopes), ScopeDescriptions: words, AccessTokenTTL: ttl}, nil
}

// resourcesPage fills the list of API resources and the create form.
type resourcesPage struct {
	frame
	APIs       []apiItem
	DefaultTTL string
	Form       resourceForm
	Errors     []string
	// Notice says what the last action did: deleted.
	Notice string
}

// listResources shows every API resource, and the form that creates one.
func (c *Console) listResources(w http.ResponseWriter, r *http.Request, op operator) {
	c.showResources(w, r, op, http.StatusOK, resourcesPage{Notice: r.URL.Query().Get("done")})
}

// showResources renders the list with p's form and errors.
func (c *Console) showResources(w http.ResponseWriter, r *http.Request, op operator, status int, p resourcesPage) {
	list, err := c.cfg.Store.APIResources(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p.frame = c.framed(w, r, op, "API resources", rolesSection)
	p.DefaultTTL = lifetimeWords(c.cfg.Resources.DefaultAccessTokenTTL)
	for _, a := range list {
		p.APIs = append(p.APIs, apiItem{APIResource: a, DefaultTTL: c.cfg.Resources.DefaultAccessTokenTTL})
	}
	c.render(w, status, "resources.html", p)
}

// createResource registers an API resource (R1); the answer is its page.
func (c *Console) createResource(w http.ResponseWriter, r *http.Request, op operator) {
	f := readResourceForm(r)
	spec, problems := f.spec()
	if problems != nil {
		c.showResources(w, r, op, http.StatusBadRequest, resourcesPage{Form: f, Errors: problems})
		return
	}
	saved, err := c.cfg.Resources.CreateAPI(r.Context(), spec, c.roleRecord(r, op))
	if err != nil {
		c.refused(w, r, op, err, changed{again: func(w http.ResponseWriter, r *http.Request, op operator, status int, lines []string) {
			c.showResources(w, r, op, status, resourcesPage{Form: f, Errors: lines})
		}})
		return
	}
	http.Redirect(w, r, resourceURL(saved.Indicator)+"?done=created", http.StatusSeeOther)
}

// resourcePage fills an API resource's page.
type resourcePage struct {
	frame
	API apiItem
	// Roles are the roles with a permission on it.
	Roles []roleItem
	// Form is the edit form; Errors the problems of the last post.
	Form   resourceForm
	Errors []string
	// Notice says what the last action did: created, saved.
	Notice string
}

// showResource shows an API resource's page.
func (c *Console) showResource(w http.ResponseWriter, r *http.Request, op operator) {
	ind := r.PathValue("indicator")
	c.showResourcePage(w, r, op, ind, http.StatusOK, resourcePage{Notice: r.URL.Query().Get("done")}, nil)
}

// showResourcePage renders the page of the resource ind with p's errors;
// form, when not nil, is what was posted, else the stored resource.
func (c *Console) showResourcePage(w http.ResponseWriter, r *http.Request, op operator, ind string, status int, p resourcePage, form *resourceForm) {
	apis, err := c.cfg.Store.APIResources(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	i := slices.IndexFunc(apis, func(a store.APIResource) bool { return a.Indicator == ind })
	if i < 0 {
		c.missing(w, r, op, "API resource "+ind, resourcesPath, "Back to the API resources")
		return
	}
	roles, err := c.cfg.Store.Roles(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p.API = apiItem{APIResource: apis[i], DefaultTTL: c.cfg.Resources.DefaultAccessTokenTTL}
	for _, role := range roles {
		if _, ok := role.Permissions[ind]; ok {
			p.Roles = append(p.Roles, roleItemOf(role, apis))
		}
	}
	p.Form = resourceFormOf(apis[i])
	if form != nil {
		p.Form = *form
	}
	p.frame = c.framed(w, r, op, p.API.Title(), rolesSection)
	c.render(w, status, "resource.html", p)
}

// updateResource saves the edit form: name, scopes, their descriptions
// and lifetime (the indicator cannot change). A declared resource is
// refused (C4).
func (c *Console) updateResource(w http.ResponseWriter, r *http.Request, op operator) {
	ind := r.PathValue("indicator")
	f := readResourceForm(r)
	f.Indicator = ind
	spec, problems := f.spec()
	if problems != nil {
		c.showResourcePage(w, r, op, ind, http.StatusBadRequest, resourcePage{Errors: problems}, &f)
		return
	}
	// The form shows every field, so what it posts replaces them all: a
	// description line deleted is a description removed.
	_, err := c.cfg.Resources.UpdateAPI(r.Context(), ind, func(s *resource.APISpec) {
		s.Name, s.Scopes, s.ScopeDescriptions, s.AccessTokenTTL = spec.Name, spec.Scopes, spec.ScopeDescriptions, spec.AccessTokenTTL
	}, c.roleRecord(r, op))
	if err != nil {
		c.refused(w, r, op, err, c.onResource(ind, &f))
		return
	}
	http.Redirect(w, r, resourceURL(ind)+"?done=saved", http.StatusSeeOther)
}

// deleteResource removes an API resource and every role's permission on
// it (R1). A declared one is refused (C4).
func (c *Console) deleteResource(w http.ResponseWriter, r *http.Request, op operator) {
	ind := r.PathValue("indicator")
	if err := c.cfg.Resources.DeleteAPI(r.Context(), ind, c.roleRecord(r, op)); err != nil {
		c.refused(w, r, op, err, c.onResource(ind, nil))
		return
	}
	http.Redirect(w, r, resourcesPath+"?done=deleted", http.StatusSeeOther)
}

// changed is what a change of this section was made to, as refused
// answers its error.
type changed struct {
	// gone is the refusal of package resource that means the thing itself
	// does not exist (any other is shown on its page); nil when creating.
	gone error
	// what names it ("role readers"); list and listText link back to its
	// list.
	what, list, listText string
	// again shows its page again with a refusal's status and lines.
	again func(w http.ResponseWriter, r *http.Request, op operator, status int, lines []string)
}

// onResource is the API resource ind, whose page shows form, when not
// nil, as posted.
func (c *Console) onResource(ind string, form *resourceForm) changed {
	return changed{gone: resource.ErrUnknown, what: "API resource " + ind, list: resourcesPath, listText: "Back to the API resources",
		again: func(w http.ResponseWriter, r *http.Request, op operator, status int, lines []string) {
			c.showResourcePage(w, r, op, ind, status, resourcePage{Errors: lines}, form)
		}}
}

// onRole is the role name, whose page shows ticked, when not nil, as the
// permissions posted, and typed as the add form's username.
func (c *Console) onRole(name string, ticked map[string][]string, typed string) changed {
	return changed{gone: resource.ErrUnknownRole, what: "role " + name, list: rolesPath, listText: "Back to the roles",
		again: func(w http.ResponseWriter, r *http.Request, op operator, status int, lines []string) {
			c.showRolePage(w, r, op, name, "", status, rolePage{Errors: lines, Typed: typed}, ticked)
		}}
}

// refused answers the error of a change to an API resource or a role:
// the not-found page when the thing itself is gone, its page again with
// the refusal, or the failure page when the store failed.
func (c *Console) refused(w http.ResponseWriter, r *http.Request, op operator, err error, on changed) {
	status, lines, ok := refusalOf(err)
	switch {
	case errors.Is(err, on.gone):
		c.missing(w, r, op, on.what, on.list, on.listText)
	case ok:
		on.again(w, r, op, status, lines)
	default:
		c.fail(w, r, err)
	}
}

// missing answers for something of this section that does not exist.
func (c *Console) missing(w http.ResponseWriter, r *http.Request, op operator, what, back, backText string) {
	c.sectionMessage(w, r, op, http.StatusNotFound, rolesSection, notFoundPage(what, back, backText))
}
