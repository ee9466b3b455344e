package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
)

// receiptsPath is where sign-out receipts are shown (O9).
const receiptsPath = "/console/receipts"

// receiptURL is the address of a receipt's page.
func receiptURL(id string) string { return receiptsPath + "/" + url.PathEscape(id) }

// receiptPage fills a receipt's page: what one sign-out ended, which
// apps it told, and what became of each delivery.
type receiptPage struct {
	frame
	ID, At, Scope, Cause string
	// UserURL and Username name the account signed out.
	UserURL, Username string
	SessionID         string
	// AskedBy is the app that asked for the sign-out, if one did.
	AskedBy  string
	Outcomes []outcomeItem
	// Others are deliveries of the receipt no outcome names.
	Others []deliveryItem
	Notice string
}

// outcomeItem is what the sign-out did to one app.
type outcomeItem struct {
	App, ClientID, SID string
	Revoked            bool
	// Kept says why a grant survived, in words.
	Kept string
	// Delivery is the back-channel logout queued for the app, if any.
	Delivery *deliveryItem
	// Frontchannel is the front-channel page the sign-out's last page
	// loaded, if any (F2).
	Frontchannel string
}

// deliveryItem is one back-channel delivery as the receipt shows it (B3).
type deliveryItem struct {
	App, URI string
	// State is pending, delivered or failed; Words says it for a person.
	State, Words string
	Attempts     int
	// LastAnswer is the app's last answer, or why there was none.
	LastAnswer  string
	DeliveredAt string
	NextAttempt string
}

// receiptNotices are the words of the sign-out the operator just made.
var receiptNotices = map[string]string{
	"device": "The device is signed out: its session ended, with the grants that do not survive sign-out.",
	"app":    "The user is signed out of the app: the grant and its tokens are revoked.",
}

// showReceipt shows a sign-out's receipt and its deliveries' fate, as
// the admin API's GET /api/receipts/{id} reads them.
func (c *Console) showReceipt(w http.ResponseWriter, r *http.Request, op operator) {
	rec, err := signout.ReadReceipt(r.Context(), c.cfg.Store, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		c.userNotFound(w, r, op, "sign-out receipt "+r.PathValue("id")+" (receipts are kept for the audit retention, then swept)")
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	names := appNamer{c: c, ctx: r.Context(), seen: map[string]store.Client{}}
	p := receiptPage{ID: rec.ID, At: when(rec.CreatedAt), Scope: scopeWords(rec.Scope), Cause: causeWords(rec.Cause),
		SessionID: rec.SessionID, Notice: receiptNotices[r.URL.Query().Get("done")]}
	p.frame = c.framed(w, r, op, "Sign-out receipt", "users")
	if rec.AccountID != "" {
		// An account since removed is named by its id; one that cannot be
		// read fails the page: its id alone would say it is gone.
		p.UserURL, p.Username = userURL(rec.AccountID), rec.AccountID
		acct, err := c.cfg.Store.Account(r.Context(), rec.AccountID)
		switch {
		case err == nil:
			p.Username = acct.Username
		case !errors.Is(err, store.ErrNotFound):
			c.fail(w, r, fmt.Errorf("read the account of receipt %s: %w", rec.ID, err))
			return
		}
	}
	if rec.ClientID != "" {
		p.AskedBy = names.name(rec.ClientID)
	}
	deliveries := map[string]store.Delivery{}
	for _, d := range rec.Deliveries {
		deliveries[d.ID] = d
	}
	for _, o := range rec.Outcomes {
		item := outcomeItem{App: names.name(o.ClientID), ClientID: o.ClientID, SID: o.SID, Revoked: o.Revoked, Frontchannel: o.FrontchannelURI}
		if o.Kept == signout.KeptOffline {
			item.Kept = "it holds offline_access and the app lets offline access survive sign-out"
		} else if o.Kept != "" {
			item.Kept = o.Kept
		}
		if d, ok := deliveries[o.DeliveryID]; ok {
			v := viewDelivery(d, &names)
			item.Delivery = &v
			delete(deliveries, o.DeliveryID)
		}
		p.Outcomes = append(p.Outcomes, item)
	}
	for _, d := range rec.Deliveries {
		if _, left := deliveries[d.ID]; left {
			p.Others = append(p.Others, viewDelivery(d, &names))
		}
	}
	c.render(w, http.StatusOK, "receipt.html", p)
}

// viewDelivery is a delivery in words.
func viewDelivery(d store.Delivery, names *appNamer) deliveryItem {
	v := deliveryItem{App: names.name(d.ClientID), URI: d.URI, State: string(d.State), Attempts: d.Attempts,
		DeliveredAt: when(d.DeliveredAt)}
	switch d.State {
	case store.DeliveryDelivered:
		v.Words = "delivered: the app accepted the logout token"
	case store.DeliveryFailed:
		v.Words = "failed: Sesame gave up"
		if d.LastStatus >= 400 && d.LastStatus < 500 && d.LastStatus != http.StatusRequestTimeout && d.LastStatus != http.StatusTooManyRequests {
			v.Words = "failed: the app refused the logout token"
		}
	default:
		v.Words = "pending: Sesame keeps trying for 24 hours"
		if d.Attempts == 0 {
			v.Words = "pending: not tried yet"
		}
		v.NextAttempt = when(d.DueAt)
	}
	switch {
	case d.LastStatus != 0 && d.LastError != "":
		v.LastAnswer = fmt.Sprintf("HTTP %d (%s)", d.LastStatus, d.LastError)
	case d.LastStatus != 0:
		v.LastAnswer = fmt.Sprintf("HTTP %d", d.LastStatus)
	case d.LastError != "":
		v.LastAnswer = "no answer: " + d.LastError
	}
	return v
}

// scopeWords says how far a sign-out reached.
func scopeWords(scope string) string {
	switch signout.Scope(scope) {
	case signout.ScopeApp:
		return "One app"
	case signout.ScopeBrowser:
		return "One device, every app on it"
	case signout.ScopeAllDevices:
		return "Every device"
	}
	return scope
}

// causeWords says what started a sign-out.
func causeWords(cause store.SignOutCause) string {
	switch cause {
	case signout.CauseEndSession:
		return "the user signed out"
	case signout.CauseAccountSwitch:
		return "another account signed in on the device"
	case signout.CauseAdmin:
		return "an admin"
	case signout.CauseAccount:
		return "the user, on their account page"
	case signout.CauseDeviceLimit:
		return "the app's limit of devices"
	case signout.CausePasswordChange:
		return "a password change or reset"
	}
	return string(cause)
}
