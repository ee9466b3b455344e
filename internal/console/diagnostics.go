package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/backchannel"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/store"
)

// The back-channel diagnostics of an app (B3): its deliveries with their
// attempts and the cause of each failure in words, a retry, and a test
// logout token sent now. It answers Logto's FAQ "I'm not receiving
// back-channel logout notifications" with what Sesame knows.

// causeAdvice says, for each cause of a failed attempt, what it usually means
// and what to do, in the words of an operator rather than of Go's net
// package. A test checks that every backchannel.Cause has its sentence.
var causeAdvice = map[backchannel.Cause]string{
	backchannel.CauseDelivered: "The app answered 200: it accepts Sesame's logout tokens.",
	backchannel.CauseNoURI: "The app has no back-channel logout URI, so Sesame cannot tell it when people sign out. " +
		"Set one in the app's settings (in the configuration file, for an app declared there).",
	backchannel.CauseBadURI: "The registered back-channel URI cannot be used for a request: look for a typo in it.",
	backchannel.CauseSigning: "Sesame could not sign the logout token: its signing keys were not available. " +
		"This is Sesame's problem, not the app's; Sesame's log says more.",
	backchannel.CauseDNS: "The URI's host name does not resolve from Sesame's server. A name that exists only on your machine " +
		"or inside another network (an /etc/hosts entry, a private DNS zone, a Docker service name) cannot be reached " +
		"from where Sesame runs: use a name that Sesame's server resolves.",
	backchannel.CauseRefused: "Nothing accepts connections at that address and port: the app is not running, listens on " +
		"another port, or a firewall rejects Sesame. Check the URI's port against the one the app listens on, from Sesame's server.",
	backchannel.CauseUnreachable: "Sesame's server has no route to that address: the app is on a network Sesame cannot reach " +
		"(another private network, a machine behind NAT). Use an address Sesame's server can reach.",
	backchannel.CausePrivateAddress: "The URI's host is, or resolves to, a private or special-purpose address (10.x, 172.16-31.x, " +
		"192.168.x, loopback, link-local, a cloud metadata address...), and Sesame refuses to call those while " +
		"allow_private_network_delivery is off. Give the app a public address; if Sesame and the app share a private " +
		"network on purpose, set allow_private_network_delivery: true.",
	backchannel.CauseTLS: "The TLS handshake with the app failed. Sesame checks the app's certificate against the trusted " +
		"authorities of its server, as a browser does: give the app a certificate from a public authority (Let's Encrypt...) " +
		"for the URI's host name, served with its whole chain.",
	backchannel.CauseTimeout: "The app did not answer within 5 seconds. It may be down or overloaded, or a firewall may drop " +
		"Sesame's packets without a word. The endpoint should answer at once and end the session afterwards.",
	backchannel.CauseNoAnswer: "The connection closed before the app answered: the app failed on the request, or something in " +
		"between (a proxy, a load balancer) cut it.",
	backchannel.CauseRedirect: "The app answered with a redirect, and Sesame does not follow redirects with logout tokens. " +
		"Register the address the redirect points to (often the same with https, or with or without a trailing slash), " +
		"or make sure no sign-in wall stands in front of the endpoint.",
	backchannel.CauseRejected: "The app refused a valid logout token, and Sesame does not retry a refusal. The app's answer " +
		"usually says why: it expects another issuer or client id, it could not fetch Sesame's keys (jwks_uri), its " +
		"framework wants a CSRF token on the endpoint, or a clock is set wrong.",
	backchannel.CauseBusy: "The app asked Sesame to come back later (408 or 429). Sesame retries with backoff for 24 hours.",
	backchannel.CauseServerError: "The app failed on the request (5xx): an error in its back-channel endpoint, which its own " +
		"logs explain. Sesame retries with backoff for 24 hours.",
	backchannel.CauseUnexpectedStatus: "Only 200 or 204 tells Sesame the app ended the session; any other answer is a refusal. " +
		"Make the endpoint answer 200.",
	backchannel.CauseClientGone: "The app was deleted after the sign-out: there was nobody left to tell.",
	backchannel.CauseOther:      "The request failed in an unusual way; the error as Sesame's server reported it is shown.",
}

// adviceFor is the advice for a cause, never empty.
func adviceFor(c backchannel.Cause) string { return wordsFor(causeAdvice, c) }

// wordsFor is words' entry for c, or CauseOther's for a cause it lacks.
func wordsFor(words map[backchannel.Cause]string, c backchannel.Cause) string {
	if w, ok := words[c]; ok {
		return w
	}
	return words[backchannel.CauseOther]
}

// causeTitles name each cause in a few words, as a heading.
var causeTitles = map[backchannel.Cause]string{
	backchannel.CauseDelivered:        "Delivered",
	backchannel.CauseNoURI:            "No back-channel logout URI",
	backchannel.CauseBadURI:           "The URI cannot be used",
	backchannel.CauseSigning:          "Sesame could not sign the token",
	backchannel.CauseDNS:              "The host name does not resolve",
	backchannel.CauseRefused:          "Connection refused",
	backchannel.CauseUnreachable:      "The address is unreachable",
	backchannel.CausePrivateAddress:   "Private address refused",
	backchannel.CauseTLS:              "TLS error",
	backchannel.CauseTimeout:          "No answer within 5 seconds",
	backchannel.CauseNoAnswer:         "The connection closed without an answer",
	backchannel.CauseRedirect:         "The app answered with a redirect",
	backchannel.CauseRejected:         "The app refused the token",
	backchannel.CauseBusy:             "The app asked Sesame to come back later",
	backchannel.CauseServerError:      "The app failed on the request",
	backchannel.CauseUnexpectedStatus: "An answer that is not 200",
	backchannel.CauseClientGone:       "The app no longer exists",
	backchannel.CauseOther:            "Another failure",
}

// titleOf is the title of a cause, never empty.
func titleOf(c backchannel.Cause) string { return wordsFor(causeTitles, c) }

// deliveriesShown is how many deliveries the page lists, newest first.
const deliveriesShown = 50

// stamp is a time as the console shows it; the zero time is "".
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// tookWords is a duration as the console shows it.
func tookWords(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < time.Millisecond:
		return "less than 1 ms"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// diagDelivery is one delivery as the page shows it.
type diagDelivery struct {
	store.Delivery
	// Created, LastChange, Delivered and NextAttempt are its times in
	// words ("" when it has none).
	Created, LastChange, Delivered, NextAttempt string
	// Account names the account the token was about (its username when
	// it still exists).
	Account string
	// ReceiptURL is the page of the sign-out's receipt it belongs to
	// (O9).
	ReceiptURL string
	// Cause, Advice and Reason explain the last attempt's failure (none
	// when it was delivered or not yet attempted).
	Cause                 backchannel.Cause
	Title, Advice, Reason string
	// History is its latest attempts, oldest first (at most
	// store.AttemptsShown); FirstAttempt is the first one's number, more
	// than 1 when older ones are not shown.
	History      []diagAttempt
	FirstAttempt int
}

// diagAttempt is one attempt of a delivery as the page shows it.
type diagAttempt struct {
	store.AttemptRecord
	// Started and Duration are its start and how long the exchange with
	// the app took, in words ("" when there was none).
	Started, Duration string
	// Title and Reason say why it failed, in words (none when the app
	// accepted the token).
	Cause         backchannel.Cause
	Title, Reason string
}

// Failing reports whether the last attempt failed.
func (d diagDelivery) Failing() bool { return d.Cause != "" }

// Retryable is whether the page offers a retry: a failed delivery.
func (d diagDelivery) Retryable() bool { return d.State == store.DeliveryFailed }

// diagWarning is one cause of failure among the app's recent deliveries.
type diagWarning struct {
	Cause                 backchannel.Cause
	Title, Advice, Reason string
	// Count is how many of the listed deliveries failed for it last;
	// Example is the newest one's error, Last when it was.
	Count   int
	Example string
	Status  int
	Last    string
}

// deliveryFilter is one filter of the list.
type deliveryFilter struct {
	Value, Name string
	Current     bool
}

// deliveriesPage fills the deliveries page.
type deliveriesPage struct {
	frame
	App        store.Client
	Deliveries []diagDelivery
	Warnings   []diagWarning
	States     []deliveryFilter
	State      store.DeliveryState
	// More is set when the list stops at deliveriesShown.
	More  bool
	Shown int
	// Retried is the delivery a retry just attempted, as it stands.
	Retried *diagDelivery
}

// AttemptsShown is how many attempts of each delivery the page lists.
func (deliveriesPage) AttemptsShown() int { return store.AttemptsShown }

// deliveriesURL is the address of an app's deliveries page.
func deliveriesURL(id string) string { return appURL(id) + "/deliveries" }

// showDeliveries lists an app's deliveries, newest first, optionally of
// one state, with the causes of the recent failures in words.
func (c *Console) showDeliveries(w http.ResponseWriter, r *http.Request, op operator) {
	cl, ok := c.appFor(w, r, op)
	if !ok {
		return
	}
	state := store.DeliveryState(r.URL.Query().Get("state"))
	switch state {
	case store.DeliveryPending, store.DeliveryDelivered, store.DeliveryFailed:
	default:
		state = ""
	}
	list, err := c.cfg.Store.DeliveriesByClient(r.Context(), cl.ID, state, deliveriesShown+1)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	name := client.Name(cl)
	p := deliveriesPage{frame: c.framed(w, r, op, "Back-channel deliveries of "+name, "apps"), App: cl, State: state,
		More: len(list) > deliveriesShown, Shown: deliveriesShown}
	if p.More {
		list = list[:deliveriesShown]
	}
	for _, s := range []deliveryFilter{{"", "All", false}, {"pending", "Pending", false}, {"delivered", "Delivered", false}, {"failed", "Failed", false}} {
		s.Current = s.Value == string(state)
		p.States = append(p.States, s)
	}
	names := c.deliveryNamer()
	for _, d := range list {
		p.Deliveries = append(p.Deliveries, names.item(r.Context(), d))
	}
	p.Warnings = diagWarnings(p.Deliveries)
	if id := r.URL.Query().Get("retried"); id != "" {
		// How the retry just made went: a read that fails answers the
		// error page rather than a page silent about it.
		d, err := c.cfg.Store.Delivery(r.Context(), id)
		switch {
		case err == nil && d.ClientID == cl.ID:
			item := names.item(r.Context(), d)
			p.Retried = &item
		case err != nil && !errors.Is(err, store.ErrNotFound):
			c.fail(w, r, fmt.Errorf("deliveries page: read retried delivery %s: %w", id, err))
			return
		}
	}
	ids := make([]string, 0, len(p.Deliveries))
	for _, d := range p.Deliveries {
		ids = append(ids, d.ID)
	}
	history, err := c.cfg.Store.DeliveryAttempts(r.Context(), ids, store.AttemptsShown)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for i := range p.Deliveries {
		p.Deliveries[i].withHistory(history[p.Deliveries[i].ID])
	}
	c.render(w, http.StatusOK, "deliveries.html", p)
}

// appFor reads the app of the request's {id}, answering 404 or 503 itself
// when it cannot.
func (c *Console) appFor(w http.ResponseWriter, r *http.Request, op operator) (store.Client, bool) {
	cl, err := c.cfg.Store.Client(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		c.notFound(w, r, op, "app "+r.PathValue("id"))
		return cl, false
	case err != nil:
		c.fail(w, r, err)
		return cl, false
	}
	return cl, true
}

// diagWarnings gathers the causes of the listed deliveries' last failed
// attempts, the newest cause first, each with how often it came.
func diagWarnings(items []diagDelivery) []diagWarning {
	var out []diagWarning
	index := map[backchannel.Cause]int{}
	for _, d := range items {
		if !d.Failing() {
			continue
		}
		if i, ok := index[d.Cause]; ok {
			out[i].Count++
			continue
		}
		index[d.Cause] = len(out)
		out = append(out, diagWarning{Cause: d.Cause, Title: d.Title, Advice: d.Advice, Reason: d.Reason, Count: 1,
			Example: d.LastError, Status: d.LastStatus, Last: d.LastChange})
	}
	return out
}

// deliveryNamer puts the username of its account on each delivery,
// each account read once per page.
type deliveryNamer struct {
	store    store.Reader
	accounts map[string]string
}

func (c *Console) deliveryNamer() *deliveryNamer {
	return &deliveryNamer{store: c.cfg.Store, accounts: map[string]string{}}
}

// item is d as the page shows it.
func (n *deliveryNamer) item(ctx context.Context, d store.Delivery) diagDelivery {
	it := diagDelivery{Delivery: d, Created: stamp(d.CreatedAt), LastChange: stamp(d.UpdatedAt), Delivered: stamp(d.DeliveredAt),
		Account: n.account(ctx, d.Subject)}
	if d.ReceiptID != "" {
		// The receipts' page (receipts.go) says what the sign-out did.
		it.ReceiptURL = receiptURL(d.ReceiptID)
	}
	if d.State == store.DeliveryPending {
		it.NextAttempt = stamp(d.DueAt)
	}
	if d.State != store.DeliveryDelivered && (d.LastError != "" || d.LastStatus != 0) {
		it.Cause, it.Reason = backchannel.ClassifyRecorded(d.LastStatus, d.LastError)
		it.Title, it.Advice = titleOf(it.Cause), adviceFor(it.Cause)
	}
	return it
}

// withHistory puts the delivery's attempts, oldest first, on the page,
// each failed one's cause in words as for the last attempt.
func (d *diagDelivery) withHistory(list []store.AttemptRecord) {
	for _, a := range list {
		it := diagAttempt{AttemptRecord: a, Started: stamp(a.StartedAt), Duration: tookWords(a.Took)}
		accepted := a.Status == http.StatusOK || a.Status == http.StatusNoContent
		if !accepted && (a.Status != 0 || a.Error != "") {
			it.Cause, it.Reason = backchannel.ClassifyRecorded(a.Status, a.Error)
			it.Title = titleOf(it.Cause)
		}
		d.History = append(d.History, it)
	}
	if len(d.History) > 0 {
		d.FirstAttempt = d.History[0].N
	}
}

func (n *deliveryNamer) account(ctx context.Context, id string) string {
	if name, ok := n.accounts[id]; ok {
		return name
	}
	name := id
	if a, err := n.store.Account(ctx, id); err == nil && a.Username != "" {
		name = a.Username
	}
	n.accounts[id] = name
	return name
}

// retryDelivery makes one of the app's deliveries pending again and
// attempts it at once, through the admin API's own operation (audited as
// delivery.retry); the answer is the deliveries page saying how it went.
func (c *Console) retryDelivery(w http.ResponseWriter, r *http.Request, op operator) {
	cl, ok := c.appFor(w, r, op)
	if !ok {
		return
	}
	id := r.PostForm.Get("delivery")
	d, err := c.cfg.Store.Delivery(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || err == nil && d.ClientID != cl.ID {
		c.notFound(w, r, op, "delivery "+id+" to the app "+cl.ID)
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if c.cfg.Deliveries == nil {
		c.fail(w, r, errors.New("console: no deliveries configured"))
		return
	}
	if _, err := c.cfg.Deliveries.Retry(r.Context(), op.by(r), id); err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, deliveriesURL(cl.ID)+"?retried="+url.QueryEscape(id), http.StatusSeeOther)
}

// testLogoutPage fills the result of a test logout token.
type testLogoutPage struct {
	frame
	App    store.Client
	Result backchannel.ProbeResult
	// CauseTitle and Advice say what the result means.
	CauseTitle, Advice string
	// At and Took are the result's time and duration in words; Skew how
	// far the app's clock is off, in words, when it is worth saying.
	At, Took, Skew string
	// Ahead: the app's clock is ahead of Sesame's.
	Ahead bool
}

// testLogout signs a logout token for a test subject no account or
// session can have, posts it now to the app's back-channel URI exactly as
// a delivery would be (same outbound filter, timeout, no redirects), and
// shows what the app answered with the cause in words. Nothing is
// recorded as a delivery; the audit log records that it was sent.
func (c *Console) testLogout(w http.ResponseWriter, r *http.Request, op operator) {
	cl, ok := c.appFor(w, r, op)
	if !ok {
		return
	}
	if c.cfg.Deliveries == nil || c.cfg.Deliveries.Backchannel == nil {
		c.fail(w, r, errors.New("console: no deliverer configured"))
		return
	}
	res := c.cfg.Deliveries.Backchannel.Probe(r.Context(), cl)
	if res.Cause != backchannel.CauseNoURI {
		by := op.by(r)
		detail := string(res.Cause)
		if res.Status != 0 {
			detail += fmt.Sprintf(", status %d", res.Status)
		}
		if res.Took > 0 {
			detail += ", " + tookWords(res.Took)
		}
		e := audit.Entry{Actor: by.Actor, Action: audit.ClientTestLogout, Target: audit.OnClient(cl.ID), Address: by.Address, Detail: detail}
		if err := (audit.Recorder{Store: c.cfg.Store, Now: c.cfg.Now}).After(r.Context(), e); err != nil {
			// The token went out: the page says what it met all the same.
			c.cfg.Logger.ErrorContext(r.Context(), "test logout token sent, its audit entry not written", "err", err, "client_id", cl.ID)
		}
	}
	name := client.Name(cl)
	p := testLogoutPage{frame: c.framed(w, r, op, "Test logout token to "+name, "apps"), App: cl, Result: res,
		CauseTitle: titleOf(res.Cause), Advice: adviceFor(res.Cause), At: stamp(res.At), Took: tookWords(res.Took)}
	if !res.AppClock.IsZero() && (res.Skew > backchannel.MaxSkew || res.Skew < -backchannel.MaxSkew) {
		p.Ahead = res.Skew > 0
		p.Skew = res.Skew.Abs().Round(time.Second).String()
	}
	c.render(w, http.StatusOK, "testlogout.html", p)
}
