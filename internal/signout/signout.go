package signout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sesame-id/sesame/internal/activity"
	"github.com/sesame-id/sesame/internal/backchannel"
	"github.com/sesame-id/sesame/internal/grant"
	"github.com/sesame-id/sesame/internal/session"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/token"
)

// Scope is how far a sign-out reaches.
type Scope string

// The layers of sign-out that involve Sesame (O1 is the app's alone).
const (
	ScopeApp        Scope = "app"         // O5: the requesting client only
	ScopeBrowser    Scope = "browser"     // O4: every app in this session
	ScopeAllDevices Scope = "all_devices" // O6: every session of the account
)

// What started a sign-out, recorded on its receipt.
const (
	CauseEndSession    store.SignOutCause = "end_session"
	CauseAccountSwitch store.SignOutCause = "account_switch"
	CauseAdmin         store.SignOutCause = "admin"
	CauseAccount       store.SignOutCause = "account_page"
	CauseDeviceLimit   store.SignOutCause = "device_limit"
)

// KeptOffline says a grant survived because it holds offline_access and its
// client lets offline grants survive sign-out (O4, spec R7).
const KeptOffline = "offline_access"

// Service signs sessions out.
type Service struct {
	Store       store.Store
	Sessions    *session.Service
	Backchannel *backchannel.Deliverer
	// Wait is how long a person waits for the first deliveries
	// (backchannel_wait, B3).
	Wait    time.Duration
	Now     func() time.Time
	Logger  *slog.Logger
	Metrics *Metrics
	// Activity counts sign-outs by layer for the console's charts; nil
	// counts nothing.
	Activity *activity.Recorder
}

// Done is a committed sign-out: its receipt, the deliveries it queued and
// the front-channel logout pages its last page loads.
type Done struct {
	Receipt    store.Receipt
	Deliveries []string
	// Frontchannel are the pages to load in hidden iframes, one per ended
	// authorization whose client has a frontchannel_logout_uri (F2); nil
	// unless the Request asked for them (Request.Frontchannel) or
	// InBrowser named the session.
	Frontchannel []Frontchannel
	// queued are the Deliveries as enqueued, leased to the first attempts
	// Deliver makes.
	queued []backchannel.Queued
}

// Request says who is signed out and why.
type Request struct {
	Session store.Session
	// ClientID is the app that asked (empty for account switch, admin).
	ClientID string
	Cause    store.SignOutCause
	// Frontchannel says the caller ends the sign-out with a page in the
	// browser whose session it ends, which loads the apps' front-channel
	// logout pages (F2: the last step of end-session, of the account
	// page's sign-out of this device, of an account switch). Only then
	// are they collected into Done and recorded on the receipt: a
	// sign-out no browser sees (an admin, another device, a password
	// reset) renders none.
	Frontchannel bool
	// browser is the session of the browser a sign-out of several
	// sessions is answered in (InBrowser): only its sign-out collects
	// the front-channel pages.
	browser string
	// revokeOffline revokes the grants that would survive the sign-out
	// too (A5: a password change ends every grant but the kept session's).
	revokeOffline bool
}

// Survives reports whether g outlives a sign-out of its session: it holds
// offline_access and its client lets offline grants survive (O4, spec R7).
func Survives(g store.Grant, c store.Client) bool {
	return grant.HasOffline(g) && c.OfflineSurvivesSignout
}

// Global signs the session out of every app inside tx (O4): each grant is
// revoked unless it Survives, a back-channel logout is queued for every app
// with a back-channel URI, the session is deleted, and the receipt is
// stored. Call Deliver after the commit. A session another sign-out ended
// first is left alone: the zero Done, no receipt, no deliveries.
func (s *Service) Global(ctx context.Context, tx store.Tx, r Request) (Done, error) {
	return s.global(ctx, tx, r, ScopeBrowser)
}

// global is Global, recorded under scope.
func (s *Service) global(ctx context.Context, tx store.Tx, r Request, scope Scope) (Done, error) {
	sess, ok, err := claim(ctx, tx, r.Session.ID)
	if err != nil || !ok {
		return Done{}, err
	}
	r.Session = sess
	return s.end(ctx, tx, r, scope, sess.Authorizations)
}

// App signs the session out of r.ClientID alone inside tx (O5): that app's
// grant is revoked unless it survives, its back-channel logout is queued,
// and the session, keeping its other apps, gets a new id and cookie (spec
// S2). It returns the new session and its cookie value.
func (s *Service) App(ctx context.Context, tx store.Tx, r Request) (Done, store.Session, string, error) {
	sess, ok, err := claim(ctx, tx, r.Session.ID)
	if err != nil || !ok {
		return Done{}, store.Session{}, "", err
	}
	r.Session = sess
	var ended, kept []store.Authorization
	for _, a := range sess.Authorizations {
		if a.ClientID == r.ClientID {
			ended = append(ended, a)
		} else {
			kept = append(kept, a)
		}
	}
	d, err := s.end(ctx, tx, r, ScopeApp, ended)
	if err != nil {
		return d, store.Session{}, "", err
	}
	next, cookie := s.Sessions.Rekey(sess)
	if err := tx.CreateSession(ctx, next); err != nil {
		return d, next, "", fmt.Errorf("re-key session %s: %w", sess.ID, err)
	}
	for _, a := range kept {
		a.SessionID = next.ID
		if err := tx.PutAuthorization(ctx, a); err != nil {
			return d, next, "", fmt.Errorf("carry authorization of %s: %w", a.ClientID, err)
		}
		next.Authorizations = append(next.Authorizations, a)
	}
	return d, next, cookie, nil
}

// claim reads the session inside tx, for its current apps, and deletes it
// first of all: of concurrent sign-outs of one session exactly one deletes
// it, and only that one goes on to revoke and notify, so no app is told
// twice (on PostgreSQL the losers wait on the row and then find it gone).
func claim(ctx context.Context, tx store.Tx, id string) (store.Session, bool, error) {
	sess, err := tx.Session(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return sess, false, nil
	}
	if err != nil {
		return sess, false, fmt.Errorf("read session %s: %w", id, err)
	}
	deleted, err := tx.DeleteSession(ctx, id)
	if err != nil {
		return sess, false, fmt.Errorf("end session %s: %w", id, err)
	}
	return sess, deleted, nil
}

// Record is what a caller adds to a sign-out's own transaction, knowing
// what the sign-out did: the audit entry of who asked for it, so the
// sign-out and its record commit together or not at all. Nil adds
// nothing.
type Record func(tx store.Tx, done []Done) error

// add runs r, if any, in tx.
func (r Record) add(tx store.Tx, done []Done) error {
	if r == nil {
		return nil
	}
	return r(tx, done)
}

// An Option is a choice the caller of AllDevices or RevokeSession makes
// about the sign-out, as x/oauth2's AuthCodeOption: a sign-out no browser
// sees (the admin API, the console, the CLI) passes none.
type Option func(*options)

// options are the choices Options make.
type options struct {
	// browser is InBrowser's session.
	browser string
}

// InBrowser says the sign-out is answered in the browser whose session is
// sessionID (the account page's). If the sign-out ends that session, its
// Done returns, and its receipt records, the front-channel logout pages
// of that session's apps (Request.Frontchannel, F2), for the page that
// answers. The apps of the other sessions it ends are told by
// back-channel alone: their pages, framed in this browser, would find no
// session of theirs to end.
func InBrowser(sessionID string) Option {
	return func(o *options) { o.browser = sessionID }
}

// apply returns the choices opts make.
func apply(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// AllDevices signs an account out of every session it has (O6), each as
// Global, in one transaction with record's, and delivers afterwards.
func (s *Service) AllDevices(ctx context.Context, accountID string, cause store.SignOutCause, record Record, opts ...Option) ([]Done, error) {
	o := apply(opts)
	var all []Done
	err := s.Store.InTx(ctx, store.Durable, func(tx store.Tx) error {
		var err error
		if all, _, err = s.endAccountSessions(ctx, tx, accountID, "", Request{Cause: cause, browser: o.browser}); err != nil {
			return err
		}
		return record.add(tx, all)
	})
	if err != nil {
		return nil, err
	}
	s.Deliver(ctx, all...)
	return all, nil
}

// endAccountSessions ends, inside tx, every session of accountID but keep
// (none when empty), each as Global with base's cause and options; only
// the sign-out of base's browser session, if any, collects front-channel
// pages. The sessions are listed inside the transaction, so one created
// before it began is ended too. It returns the sign-outs and the grants
// that keep's authorizations name.
func (s *Service) endAccountSessions(ctx context.Context, tx store.Tx, accountID, keep string, base Request) ([]Done, map[string]bool, error) {
	sessions, err := tx.SessionsByAccount(ctx, accountID)
	if err != nil {
		return nil, nil, fmt.Errorf("list sessions of %s: %w", accountID, err)
	}
	var all []Done
	kept := map[string]bool{}
	for _, sess := range sessions {
		if sess.ID == keep {
			for _, a := range sess.Authorizations {
				kept[a.GrantID] = true
			}
			continue
		}
		r := base
		r.Session = sess
		r.Frontchannel = base.browser != "" && sess.ID == base.browser
		d, err := s.global(ctx, tx, r, ScopeAllDevices)
		if err != nil {
			return nil, nil, err
		}
		if d.Receipt.ID != "" { // else it was signed out meanwhile
			all = append(all, d)
		}
	}
	return all, kept, nil
}

// end revokes what must go for the given authorizations, queues their
// back-channel logouts and stores the receipt. The grants are read and
// revoked each in one statement for all the apps, not one per app, and the
// deliveries queued in one call: a sign-out runs while the one writer
// waits (design §5), and on PostgreSQL each statement is a round trip.
func (s *Service) end(ctx context.Context, tx store.Tx, r Request, scope Scope, auths []store.Authorization) (Done, error) {
	now := s.Now()
	rec := store.Receipt{
		ID: token.NewID(), Scope: string(scope), Cause: r.Cause, SessionID: r.Session.ID,
		AccountID: r.Session.AccountID, ClientID: r.ClientID, CreatedAt: now,
	}
	d := Done{}
	grants, err := readGrants(ctx, tx, auths)
	if err != nil {
		return d, err
	}
	var revoke []string
	for _, a := range auths {
		// Through the cached registry: the transaction need not read what
		// every instance keeps true in memory.
		c, err := s.Backchannel.Clients.Get(ctx, a.ClientID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return d, fmt.Errorf("read client %s: %w", a.ClientID, err)
		}
		o := store.ReceiptOutcome{ClientID: a.ClientID, SID: a.SID, GrantID: a.GrantID}
		if g, ok := grants[a.GrantID]; ok { // else swept already: nothing left to revoke
			if !r.revokeOffline && Survives(g, c) && g.RevokedAt.IsZero() {
				o.Kept = KeptOffline
			} else {
				o.Revoked = true
				if g.RevokedAt.IsZero() {
					revoke = append(revoke, g.ID)
				}
			}
		}
		if c.BackchannelLogoutURI != "" {
			d.queue(s.Backchannel.Queue(rec.ID, c, r.Session.AccountID, a.SID), &o)
		}
		// The app's session in the browser ends even when its grant is
		// kept (offline_access), so its page is loaded either way, as its
		// back-channel logout is sent.
		if r.Frontchannel && c.FrontchannelLogoutURI != "" {
			o.FrontchannelURI = c.FrontchannelLogoutURI
			d.Frontchannel = append(d.Frontchannel, Frontchannel{ClientID: c.ID, URI: c.FrontchannelLogoutURI, SID: a.SID})
		}
		rec.Outcomes = append(rec.Outcomes, o)
	}
	if err := grant.RevokeUnlogged(ctx, tx, revoke, now, grant.ReasonSignOut); err != nil {
		return d, err
	}
	if err := s.Backchannel.Enqueue(ctx, tx, d.queued...); err != nil {
		return d, err
	}
	if err := tx.CreateReceipt(ctx, rec); err != nil {
		return d, fmt.Errorf("store receipt of session %s: %w", r.Session.ID, err)
	}
	if err := tx.AddEvent(ctx, store.Event{At: now, Kind: store.EventSignOut, AccountID: rec.AccountID, ClientID: rec.ClientID,
		Detail: string(scope) + " (" + string(r.Cause) + "), receipt " + rec.ID}); err != nil {
		return d, err
	}
	d.Receipt = rec
	return d, nil
}

// readGrants reads, inside tx, the grants that auths name, by id; a grant
// swept already is not there.
func readGrants(ctx context.Context, tx store.Tx, auths []store.Authorization) (map[string]store.Grant, error) {
	ids := make([]string, 0, len(auths))
	for _, a := range auths {
		if a.GrantID != "" {
			ids = append(ids, a.GrantID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := tx.Grants(ctx, ids)
	if err != nil {
		return nil, err
	}
	grants := make(map[string]store.Grant, len(list))
	for _, g := range list {
		grants[g.ID] = g
	}
	return grants, nil
}

// queue adds q to the deliveries d's transaction writes and makes after
// it, and names it on its app's outcome o.
func (d *Done) queue(q backchannel.Queued, o *store.ReceiptOutcome) {
	o.DeliveryID = q.ID
	d.Deliveries = append(d.Deliveries, q.ID)
	d.queued = append(d.queued, q)
}

// Deliver starts the first delivery attempts of committed sign-outs, all
// at once, and waits for them up to Wait (B3), and counts and logs each
// sign-out.
func (s *Service) Deliver(ctx context.Context, ds ...Done) {
	var queued []backchannel.Queued
	for _, d := range ds {
		s.Metrics.observe(d.Receipt.Scope)
		s.Activity.Count(activity.SignOut(d.Receipt.Scope))
		s.Logger.InfoContext(ctx, "signed out", "event", "sign_out", "receipt_id", d.Receipt.ID,
			"scope", d.Receipt.Scope, "cause", d.Receipt.Cause, "session_id", d.Receipt.SessionID,
			"account_id", d.Receipt.AccountID, "deliveries", len(d.Deliveries))
		queued = append(queued, d.queued...)
	}
	// No transaction before the first attempts: Enqueue leased the
	// deliveries to them in the sign-out's own. The sign-outs of one
	// commit (every device, O6) are attempted together, in parallel, as
	// one sign-out's are: one after another, the later ones would wait
	// out the earlier ones' backchannel_wait while their leases ran.
	s.Backchannel.AttemptQueued(ctx, queued, s.Wait)
}

// Left is what is left of Wait, the one wait both channels share (B3,
// F2), for a sign-out whose back-channel attempts began at started and
// have had their turn: the front-channel pages of its last page get the
// rest. It reads the wall clock, not Now: what counts is how long the
// person really waited.
func (s *Service) Left(started time.Time) time.Duration {
	return s.Wait - time.Since(started)
}

// Metrics counts sign-outs by scope.
type Metrics struct{ signouts *prometheus.CounterVec }

// NewMetrics registers the sign-out metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{signouts: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sesame_signouts_total", Help: "Sign-outs by scope: app, browser, all_devices.",
	}, []string{"scope"})}
	reg.MustRegister(m.signouts)
	return m
}

func (m *Metrics) observe(scope string) {
	if m != nil {
		m.signouts.WithLabelValues(scope).Inc()
	}
}

// ReceiptWithDeliveries is a receipt with the current state of its
// deliveries (O9).
type ReceiptWithDeliveries struct {
	store.Receipt
	Deliveries []store.Delivery
}

// ReadReceipt returns a receipt and what became of its deliveries.
func ReadReceipt(ctx context.Context, r store.Reader, id string) (ReceiptWithDeliveries, error) {
	rec, err := r.Receipt(ctx, id)
	if err != nil {
		return ReceiptWithDeliveries{}, fmt.Errorf("receipt %s: %w", id, err)
	}
	dels, err := r.DeliveriesByReceipt(ctx, id)
	if err != nil {
		return ReceiptWithDeliveries{}, fmt.Errorf("deliveries of receipt %s: %w", id, err)
	}
	return ReceiptWithDeliveries{Receipt: rec, Deliveries: dels}, nil
}

// RevokeGrant is an admin revoking one grant (O7): the grant and its tokens
// die, and its client gets a back-channel logout for every session
// authorization that names the grant, which leaves those sessions. A
// receipt records it, and record's additions commit with it.
func (s *Service) RevokeGrant(ctx context.Context, grantID string, cause store.SignOutCause, record Record) (Done, error) {
	var d Done
	err := s.Store.InTx(ctx, store.Durable, func(tx store.Tx) error {
		g, err := tx.Grant(ctx, grantID)
		if err != nil {
			return fmt.Errorf("grant %s: %w", grantID, err)
		}
		if d, err = s.RevokeGrantTx(ctx, tx, g, cause); err != nil {
			return err
		}
		return record.add(tx, []Done{d})
	})
	if err != nil {
		return Done{}, err
	}
	s.Deliver(ctx, d)
	return d, nil
}

// RevokeGrantTx is RevokeGrant inside tx, for a caller that revokes as part
// of a larger change (the device limit); it calls Deliver after the
// commit.
func (s *Service) RevokeGrantTx(ctx context.Context, tx store.Tx, g store.Grant, cause store.SignOutCause) (Done, error) {
	now := s.Now()
	d := Done{Receipt: store.Receipt{ID: token.NewID(), Scope: string(ScopeApp), Cause: cause, AccountID: g.AccountID,
		ClientID: g.ClientID, SessionID: g.SessionID, CreatedAt: now}}
	if _, err := grant.Revoke(ctx, tx, g, now, grant.ReasonAdmin); err != nil {
		return d, err
	}
	c, err := tx.Client(ctx, g.ClientID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return d, fmt.Errorf("read client %s: %w", g.ClientID, err)
	}
	sessions, err := tx.SessionsByAccount(ctx, g.AccountID)
	if err != nil {
		return d, fmt.Errorf("sessions of %s: %w", g.AccountID, err)
	}
	for _, sess := range sessions {
		for _, a := range sess.Authorizations {
			if a.GrantID != g.ID {
				continue
			}
			o := store.ReceiptOutcome{ClientID: a.ClientID, SID: a.SID, GrantID: g.ID, Revoked: true}
			if err := tx.DeleteAuthorization(ctx, sess.ID, a.ClientID); err != nil {
				return d, fmt.Errorf("drop authorization of %s: %w", a.ClientID, err)
			}
			if c.BackchannelLogoutURI != "" {
				d.queue(s.Backchannel.Queue(d.Receipt.ID, c, g.AccountID, a.SID), &o)
			}
			d.Receipt.Outcomes = append(d.Receipt.Outcomes, o)
		}
	}
	if err := s.Backchannel.Enqueue(ctx, tx, d.queued...); err != nil {
		return d, err
	}
	if len(d.Receipt.Outcomes) == 0 {
		d.Receipt.Outcomes = []store.ReceiptOutcome{{ClientID: g.ClientID, GrantID: g.ID, Revoked: true}}
	}
	return d, tx.CreateReceipt(ctx, d.Receipt)
}

// RevokeSession is an admin, or the person on the account page, ending
// one session (O7): a global sign-out of it (O4), with record's additions
// in its transaction. A session another sign-out ended meanwhile is no
// change: record is not called, and the Done has no receipt.
func (s *Service) RevokeSession(ctx context.Context, sessionID string, cause store.SignOutCause, record Record, opts ...Option) (Done, error) {
	sess, err := s.Store.Session(ctx, sessionID)
	if err != nil {
		return Done{}, fmt.Errorf("session %s: %w", sessionID, err)
	}
	inBrowser := apply(opts).browser == sess.ID
	var d Done
	err = s.Store.InTx(ctx, store.Durable, func(tx store.Tx) error {
		var err error
		if d, err = s.Global(ctx, tx, Request{Session: sess, Cause: cause, Frontchannel: inBrowser}); err != nil || d.Receipt.ID == "" {
			return err
		}
		return record.add(tx, []Done{d})
	})
	if err != nil {
		return Done{}, err
	}
	if d.Receipt.ID != "" {
		s.Deliver(ctx, d)
	}
	return d, nil
}
