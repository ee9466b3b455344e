package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/activity"
	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/store"
)

// The Activity section (issue 15, point 6): charts of the hourly counters
// drawn as SVG on the server, the audit log, and the latest sign-outs
// with their receipts (O9). It only reads; nothing here changes Sesame.
const (
	activityPath = "/console/activity"
	auditPath    = activityPath + "/audit"
	signOutsPath = activityPath + "/sign-outs"
	// auditPerPage and signOutsPerPage are how many entries a page lists;
	// a sign-out's deliveries are counted too, so fewer of them.
	auditPerPage    = 50
	signOutsPerPage = 25
)

// activityPage fills the charts' page.
type activityPage struct {
	frame
	Spans  []spanLink
	Charts []activity.Chart
	Errors []string
}

// spanLink is one span the charts can show, as a link.
type spanLink struct {
	Name, URL string
	Current   bool
}

// showActivity draws the charts of the span ?span= names (24h, 7d, 30d;
// the last 24 hours without one), each with its figures as a table.
func (c *Console) showActivity(w http.ResponseWriter, r *http.Request, op operator) {
	p := activityPage{frame: c.framed(w, r, op, "Activity", "activity")}
	status := http.StatusOK
	span, ok := activity.ParseSpan(r.URL.Query().Get("span"))
	if name := r.URL.Query().Get("span"); name != "" && !ok {
		status = http.StatusBadRequest
		p.Errors = []string{"The charts show the last 24 hours, 7 days or 30 days: these are the last 24 hours."}
	}
	charts, err := activity.Charts(r.Context(), c.cfg.Store, c.now(), span)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p.Charts = charts
	for _, s := range activity.Spans {
		phrase := s.Phrase()
		p.Spans = append(p.Spans, spanLink{Name: strings.ToUpper(phrase[:1]) + phrase[1:],
			URL: activityPath + "?span=" + s.String(), Current: s == span})
	}
	c.render(w, status, "activity.html", p)
}

// auditPage fills the audit log's page.
type auditPage struct {
	frame
	// ActorKind, Action, TargetKind and Target are the filter as typed.
	ActorKind, Action, TargetKind, Target string
	ActorKinds, Actions, TargetKinds      []option
	Entries                               []auditItem
	// Next is the address of the next (older) page, Newest of the first
	// when this is not it.
	Next, Newest string
	Errors       []string
}

// Filtered reports whether the page shows part of the log.
func (p auditPage) Filtered() bool {
	return p.ActorKind != "" || p.Action != "" || p.TargetKind != "" || p.Target != ""
}

// option is one choice of a <select>.
type option struct {
	Value, Label string
	Selected     bool
}

// options lists values as choices, the first meaning "any".
func options[T ~string](anyLabel, chosen string, values []T, label func(T) string) []option {
	out := []option{{Label: anyLabel, Selected: chosen == ""}}
	for _, v := range values {
		out = append(out, option{Value: string(v), Label: label(v), Selected: string(v) == chosen})
	}
	return out
}

// auditItem is one entry of the log in words: who did what to what,
// when, from where.
type auditItem struct {
	At, Action  string
	Who, WhoURL string
	// Verb says what was done; TargetNoun and Target name what it was done
	// to (TargetURL links its page, TargetCode shows an id as code).
	Verb, TargetNoun, Target, TargetURL string
	TargetCode                          bool
	// About and AboutURL name the user a session or grant belonged to.
	About, AboutURL string
	Address, Detail string
}

// listAudit pages through the audit log, newest first, filtered as the
// admin API's GET /api/audit is, by actor kind, action and target.
func (c *Console) listAudit(w http.ResponseWriter, r *http.Request, op operator) {
	q := r.URL.Query()
	p := auditPage{frame: c.framed(w, r, op, "Audit log", "activity"), ActorKind: q.Get("actor_kind"), Action: q.Get("action"),
		TargetKind: q.Get("target_kind"), Target: strings.TrimSpace(q.Get("target"))}
	p.ActorKinds = options("Anyone", p.ActorKind, audit.ActorKinds, func(k audit.ActorKind) string { return actorKindWords[k] })
	p.Actions = options("Any change", p.Action, audit.Actions, func(a audit.Action) string { return actionLabels[a] + " (" + string(a) + ")" })
	p.TargetKinds = options("Anything", p.TargetKind, audit.TargetKinds, func(k audit.TargetKind) string { return targetKindLabels[k] })
	f := audit.Filter{Actor: audit.Actor{Kind: audit.ActorKind(p.ActorKind)}, Action: audit.Action(p.Action),
		Target: audit.Target{Kind: audit.TargetKind(p.TargetKind), ID: p.Target}, Limit: auditPerPage + 1}
	if f.Actor.Kind != "" && !slices.Contains(audit.ActorKinds, f.Actor.Kind) {
		p.Errors = append(p.Errors, "Choose who made the change from the list.")
	}
	if f.Action != "" && !slices.Contains(audit.Actions, f.Action) {
		p.Errors = append(p.Errors, "Choose the change from the list.")
	}
	if f.Target.Kind != "" && !slices.Contains(audit.TargetKinds, f.Target.Kind) {
		p.Errors = append(p.Errors, "Choose the kind of what was changed from the list.")
	}
	if cur := q.Get("cursor"); cur != "" {
		n, err := strconv.ParseInt(cur, 10, 64)
		if err != nil || n <= 0 {
			p.Errors = append(p.Errors, "That page of the log is not one the console gave: start again from the newest entries.")
		}
		f.Before = n
	}
	if len(p.Errors) > 0 {
		c.render(w, http.StatusBadRequest, "activity_audit.html", p)
		return
	}
	if f.Target.Kind == audit.TargetAccount && f.Target.ID != "" {
		// A person types a username, in any case or width; the log names
		// the account by id. A read that fails answers the error page: the
		// list filtered by what was typed would be empty, and wrong.
		id, err := c.auditAccount(r.Context(), f.Target.ID)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		f.Target.ID = id
	}
	entries, err := audit.List(r.Context(), c.cfg.Store, f)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	filter := url.Values{}
	for k, v := range map[string]string{"actor_kind": p.ActorKind, "action": p.Action, "target_kind": p.TargetKind, "target": p.Target} {
		if v != "" {
			filter.Set(k, v)
		}
	}
	if len(entries) > auditPerPage {
		entries = entries[:auditPerPage]
		next := url.Values{"cursor": {strconv.FormatInt(entries[auditPerPage-1].ID, 10)}}
		for k, v := range filter {
			next[k] = v
		}
		p.Next = auditPath + "?" + next.Encode()
	}
	if f.Before != 0 {
		p.Newest = auditPath
		if len(filter) > 0 {
			p.Newest += "?" + filter.Encode()
		}
	}
	words := c.auditWords(r.Context())
	for _, e := range entries {
		p.Entries = append(p.Entries, words.item(e))
	}
	c.render(w, http.StatusOK, "activity_audit.html", p)
}

// auditAccount is the id of the account the audit filter's target names:
// typed, an account id or a username in any case or width. One that
// names no account is kept as typed, and the log shows nothing about it.
func (c *Console) auditAccount(ctx context.Context, typed string) (string, error) {
	_, err := c.cfg.Store.Account(ctx, typed)
	switch {
	case err == nil:
		return typed, nil
	case !errors.Is(err, store.ErrNotFound):
		return "", fmt.Errorf("audit filter: read account %q: %w", typed, err)
	}
	acct, err := c.cfg.Accounts.Accounts.ByUsername(ctx, typed)
	switch {
	case err == nil:
		return acct.ID, nil
	case errors.Is(err, store.ErrNotFound):
		return typed, nil
	}
	return "", fmt.Errorf("audit filter: find username %q: %w", typed, err)
}

// auditWords puts entries in words, reading each account and app named
// once per page.
type auditWords struct {
	c      *Console
	ctx    context.Context
	people map[string]string
	names  appNamer
}

func (c *Console) auditWords(ctx context.Context) *auditWords {
	return &auditWords{c: c, ctx: ctx, people: map[string]string{}, names: appNamer{c: c, ctx: ctx, seen: map[string]store.Client{}}}
}

// username is the username of account id, or the id of one that is gone.
func (a *auditWords) username(id string) string {
	if name, ok := a.people[id]; ok {
		return name
	}
	name := id
	if acct, err := a.c.cfg.Store.Account(a.ctx, id); err == nil {
		name = acct.Username
	}
	a.people[id] = name
	return name
}

// item is entry e in words.
func (a *auditWords) item(e audit.Entry) auditItem {
	it := auditItem{At: when(e.At), Action: string(e.Action), Verb: actionVerbs[e.Action], Address: e.Address, Detail: e.Detail}
	if it.Verb == "" {
		it.Verb = "made the change " + string(e.Action) + " to"
	}
	it.Who = a.c.actorWords(a.ctx, e.Actor, a.people)
	switch e.Actor.Kind {
	case audit.ActorAdminAccount, audit.ActorAccount:
		it.WhoURL = userURL(e.Actor.ID)
	case audit.ActorAdminClient:
		it.WhoURL = appURL(e.Actor.ID)
	}
	t := e.Target
	switch t.Kind {
	case audit.TargetAccount:
		it.TargetNoun, it.Target, it.TargetURL = "the user", a.username(t.ID), userURL(t.ID)
		if e.Actor.Kind == audit.ActorAccount && e.Actor.ID == t.ID {
			it.TargetNoun, it.Target, it.TargetURL = "", "their own account", ""
			if e.Action == audit.AccountSignIn {
				it.Target = ""
			}
		}
	case audit.TargetClient:
		it.TargetNoun, it.Target, it.TargetURL = "the app", a.names.name(t.ID), appURL(t.ID)
	case audit.TargetResource:
		it.TargetNoun, it.Target, it.TargetURL, it.TargetCode = "the API resource", t.ID, resourceURL(t.ID), true
	case audit.TargetRole:
		it.TargetNoun, it.Target, it.TargetURL = "the role", t.ID, roleURL(t.ID)
	case audit.TargetSession, audit.TargetGrant, audit.TargetDelivery:
		it.TargetNoun, it.Target, it.TargetCode = targetKindWords[t.Kind], t.ID, true
	case "":
	default:
		it.TargetNoun, it.Target, it.TargetCode = string(t.Kind), t.ID, true
	}
	if e.Account != "" && t.Kind != audit.TargetAccount {
		it.About, it.AboutURL = a.username(e.Account), userURL(e.Account)
	}
	return it
}

// actorKindWords names each kind of actor in the filter.
var actorKindWords = map[audit.ActorKind]string{
	audit.ActorAdminAccount: "A person with the admin role (console or admin API)",
	audit.ActorAdminClient:  "An admin app (admin API, client credentials)",
	audit.ActorAccount:      "A user, on their account page",
	audit.ActorCLI:          "The command line",
	audit.ActorSystem:       "Sesame itself",
}

// targetKindLabels name each kind of target in the filter.
var targetKindLabels = map[audit.TargetKind]string{
	audit.TargetAccount:  "A user",
	audit.TargetClient:   "An app",
	audit.TargetSession:  "A session",
	audit.TargetGrant:    "A grant",
	audit.TargetDelivery: "A back-channel delivery",
	audit.TargetResource: "An API resource",
	audit.TargetRole:     "A role",
}

// targetKindWords name each kind of target before its name or id.
var targetKindWords = map[audit.TargetKind]string{
	audit.TargetAccount:  "the user",
	audit.TargetClient:   "the app",
	audit.TargetSession:  "the session",
	audit.TargetGrant:    "the grant",
	audit.TargetDelivery: "the back-channel delivery",
	audit.TargetResource: "the API resource",
	audit.TargetRole:     "the role",
}

// actionVerbs say what each action did, before what it was done to.
var actionVerbs = map[audit.Action]string{
	audit.AccountCreate:            "created",
	audit.AccountUpdate:            "changed the profile of",
	audit.AccountPasswordChange:    "changed the password of",
	audit.AccountDisable:           "locked",
	audit.AccountEnable:            "unlocked",
	audit.AccountSignIn:            "signed in to the account page",
	audit.AccountSignOutEverywhere: "signed out every device of",
	audit.ClientCreate:             "created",
	audit.ClientUpdate:             "changed",
	audit.ClientRotateSecret:       "rotated the secret of",
	audit.ClientDelete:             "deleted",
	audit.ClientTestLogout:         "sent a test logout token to",
	audit.SessionRevoke:            "ended",
	audit.GrantRevoke:              "revoked",
	audit.DeliveryRetry:            "retried",
	audit.KeyRotate:                "rotated the signing keys",
	audit.ResourceCreate:           "registered",
	audit.ResourceUpdate:           "changed",
	audit.ResourceDelete:           "deleted",
	audit.RoleCreate:               "created",
	audit.RoleUpdate:               "changed the permissions of",
	audit.RoleDelete:               "deleted",
	audit.RolesAssign:              "changed the roles of",
}

// actionLabels name each action in the filter.
var actionLabels = map[audit.Action]string{
	audit.AccountCreate:            "User created",
	audit.AccountUpdate:            "User's profile changed",
	audit.AccountPasswordChange:    "Password changed or reset",
	audit.AccountDisable:           "User locked",
	audit.AccountEnable:            "User unlocked",
	audit.AccountSignIn:            "Sign-in to the account page",
	audit.AccountSignOutEverywhere: "Signed out of every device",
	audit.ClientCreate:             "App created",
	audit.ClientUpdate:             "App changed",
	audit.ClientRotateSecret:       "App's secret rotated",
	audit.ClientDelete:             "App deleted",
	audit.ClientTestLogout:         "Test logout token sent",
	audit.SessionRevoke:            "Session ended",
	audit.GrantRevoke:              "Grant revoked",
	audit.DeliveryRetry:            "Delivery retried",
	audit.KeyRotate:                "Signing keys rotated",
	audit.ResourceCreate:           "API resource registered",
	audit.ResourceUpdate:           "API resource changed",
	audit.ResourceDelete:           "API resource deleted",
	audit.RoleCreate:               "Role created",
	audit.RoleUpdate:               "Role's permissions changed",
	audit.RoleDelete:               "Role deleted",
	audit.RolesAssign:              "Roles given or taken",
}

// signOutsPage fills the list of the latest sign-outs.
type signOutsPage struct {
	frame
	SignOuts []signOutItem
	// Next is the address of the next (older) page, Newest of the first
	// when this is not it.
	Next, Newest string
	Errors       []string
}

// signOutItem is one sign-out in words: when, whose, how far and why,
// how many apps it reached and what became of their notifications.
type signOutItem struct {
	URL, At, Scope, Cause, AskedBy string
	UserURL, Username              string
	// Apps are the apps the session was signed in to; Revoked of them
	// lost their grant.
	Apps, Revoked int
	// Told counts the back-channel deliveries, by state, and the
	// front-channel pages loaded.
	Delivered, Pending, Failed, Frontchannel int
}

// Reach says in words how many apps the sign-out reached and what
// became of the notifications it sent them.
func (s signOutItem) Reach() string {
	if s.Apps == 0 {
		return "No app was signed in on it."
	}
	out := plural(s.Apps, "app") + ", " + strconv.Itoa(s.Revoked) + " signed out."
	var states []string
	for _, n := range []struct {
		count int
		state string
	}{{s.Delivered, "delivered"}, {s.Pending, "pending"}, {s.Failed, "failed"}} {
		if n.count > 0 {
			states = append(states, strconv.Itoa(n.count)+" "+n.state)
		}
	}
	switch {
	case len(states) > 0 && s.Frontchannel > 0:
		out += " Told by back-channel (" + strings.Join(states, ", ") + ") and by front-channel (" + plural(s.Frontchannel, "page") + ")."
	case len(states) > 0:
		out += " Told by back-channel: " + strings.Join(states, ", ") + "."
	case s.Frontchannel > 0:
		out += " Told by front-channel: " + plural(s.Frontchannel, "page") + " loaded."
	default:
		out += " None was told: no back-channel or front-channel logout was due."
	}
	return out
}

// plural is n things: "1 app", "2 apps".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}

// listSignOuts lists every account's sign-outs, newest first, a page at a
// time, each linked to its receipt.
func (c *Console) listSignOuts(w http.ResponseWriter, r *http.Request, op operator) {
	p := signOutsPage{frame: c.framed(w, r, op, "Sign-outs", "activity")}
	var after store.ReceiptCursor
	if cur := r.URL.Query().Get("cursor"); cur != "" {
		var ok bool
		if after, ok = parseReceiptCursor(cur); !ok {
			p.Errors = []string{"That page of the list is not one the console gave: start again from the latest sign-outs."}
			c.render(w, http.StatusBadRequest, "activity_signouts.html", p)
			return
		}
		p.Newest = signOutsPath
	}
	recs, err := c.cfg.Store.RecentReceipts(r.Context(), after, signOutsPerPage+1)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if len(recs) > signOutsPerPage {
		recs = recs[:signOutsPerPage]
		p.Next = signOutsPath + "?" + url.Values{"cursor": {receiptCursor(recs[signOutsPerPage-1])}}.Encode()
	}
	words := c.auditWords(r.Context())
	ids := make([]string, 0, len(recs))
	for _, rec := range recs {
		ids = append(ids, rec.ID)
	}
	// The page's deliveries counted by state in one read, not one per
	// sign-out listed: the list says how many are in each state, and the
	// receipt it links shows them one by one.
	deliveries, err := c.cfg.Store.DeliveryCountsByReceipts(r.Context(), ids)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, rec := range recs {
		it := signOutItem{URL: receiptURL(rec.ID), At: when(rec.CreatedAt), Scope: scopeWords(rec.Scope), Cause: causeWords(rec.Cause),
			Apps: len(rec.Outcomes)}
		if rec.AccountID != "" {
			it.UserURL, it.Username = userURL(rec.AccountID), words.username(rec.AccountID)
		}
		if rec.ClientID != "" {
			it.AskedBy = words.names.name(rec.ClientID)
		}
		for _, o := range rec.Outcomes {
			if o.Revoked {
				it.Revoked++
			}
			if o.FrontchannelURI != "" {
				it.Frontchannel++
			}
		}
		for state, n := range deliveries[rec.ID] {
			switch state {
			case store.DeliveryDelivered:
				it.Delivered += n
			case store.DeliveryFailed:
				it.Failed += n
			default:
				it.Pending += n
			}
		}
		p.SignOuts = append(p.SignOuts, it)
	}
	c.render(w, http.StatusOK, "activity_signouts.html", p)
}

// receiptCursor is the cursor of the page after receipt rec: its time in
// unix nanoseconds and its id, as "nanos.id" (a number holds no dot).
func receiptCursor(rec store.Receipt) string {
	return strconv.FormatInt(rec.CreatedAt.UnixNano(), 10) + "." + rec.ID
}

// parseReceiptCursor reads a receiptCursor.
func parseReceiptCursor(s string) (store.ReceiptCursor, bool) {
	nanos, id, ok := strings.Cut(s, ".")
	n, err := strconv.ParseInt(nanos, 10, 64)
	if !ok || err != nil || n <= 0 || id == "" {
		return store.ReceiptCursor{}, false
	}
	return store.ReceiptCursor{At: time.Unix(0, n).UTC(), ID: id}, true
}
