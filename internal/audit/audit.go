package audit

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ActorKind says who made a change.
type ActorKind string

// The actors of the log.
const (
	// ActorAdminClient is an admin client calling the admin API with a
	// client_credentials token (C5); its ID is the client id.
	ActorAdminClient ActorKind = "admin_client"
	// ActorAdminAccount is a person holding the admin role calling the
	// admin API (or the console) with their own access token (C5); its
	// ID is the account id.
	ActorAdminAccount ActorKind = "admin_account"
	// ActorAccount is a person acting on their own account (the account
	// page); its ID is the account id (the sub).
	ActorAccount ActorKind = "account"
	// ActorCLI is an operator running the sesame command on the
	// database; its ID names the operating system's user and host.
	ActorCLI ActorKind = "cli"
	// ActorSystem is Sesame itself, e.g. applying the configuration file
	// at start; it has no ID.
	ActorSystem ActorKind = "system"
)

// ActorKinds lists every actor kind, for validating a filter.
var ActorKinds = []ActorKind{ActorAdminClient, ActorAdminAccount, ActorAccount, ActorCLI, ActorSystem}

// Actor is who made a change.
type Actor struct {
	Kind ActorKind
	ID   string
}

// ByAdminClient is the admin client clientID.
func ByAdminClient(clientID string) Actor { return Actor{Kind: ActorAdminClient, ID: clientID} }

// ByAdminAccount is the person of account accountID acting as an admin.
func ByAdminAccount(accountID string) Actor { return Actor{Kind: ActorAdminAccount, ID: accountID} }

// ByAccount is the holder of account accountID.
func ByAccount(accountID string) Actor { return Actor{Kind: ActorAccount, ID: accountID} }

// ByCLI is an operator at the CLI; user names them, e.g. "root@host".
func ByCLI(user string) Actor { return Actor{Kind: ActorCLI, ID: user} }

// BySystem is Sesame itself.
func BySystem() Actor { return Actor{Kind: ActorSystem} }

// Action is what was done.
type Action string

// The actions of the log: "kind.verb", the kind being what is changed.
const (
	AccountCreate Action = "account.create"
	// AccountUpdate is a change of profile fields (email, name...);
	// the detail names the fields, never their values.
	AccountUpdate         Action = "account.update"
	AccountPasswordChange Action = "account.password_change"
	AccountDisable        Action = "account.disable"
	AccountEnable         Action = "account.enable"
	// AccountSignIn is a person signing in to the account page.
	AccountSignIn Action = "account.sign_in"
	// AccountSignOutEverywhere ends every session of the account (O6).
	AccountSignOutEverywhere Action = "account.sign_out_everywhere"
	ClientCreate             Action = "client.create"
	ClientUpdate             Action = "client.update"
	// ClientRotateSecret is a new secret for a client (C3, C5), recorded
	// beside the ClientUpdate that made it.
	ClientRotateSecret Action = "client.rotate_secret"
	ClientDelete       Action = "client.delete"
	// ClientTestLogout is a test logout token sent to a client's
	// back-channel URI from the console; the detail is what it met.
	ClientTestLogout Action = "client.test_logout"
	// SessionRevoke ends one session (O4, O7).
	SessionRevoke Action = "session.revoke"
	// GrantRevoke revokes one grant, disconnecting an app (O7).
	GrantRevoke Action = "grant.revoke"
	// DeliveryRetry makes a back-channel delivery pending again (B3).
	DeliveryRetry Action = "delivery.retry"
	// KeyRotate makes a new signing key (the CLI's keys rotate); it has
	// no target, and the detail names the algorithm.
	KeyRotate Action = "key.rotate"
	// ResourceCreate, ResourceUpdate and ResourceDelete register, change
	// and remove an API resource (R1); the update's detail names the
	// fields, the delete's the roles that lost their permissions on it.
	ResourceCreate Action = "resource.create"
	ResourceUpdate Action = "resource.update"
	ResourceDelete Action = "resource.delete"
	// RoleCreate and RoleUpdate make a role and replace its permissions
	// (R1); the detail names the resources it gives permissions on.
	// RoleDelete removes it, and takes it from whoever held it.
	RoleCreate Action = "role.create"
	RoleUpdate Action = "role.update"
	RoleDelete Action = "role.delete"
	// RolesAssign replaces the roles an account or an m2m client holds
	// (R1, C5); its target is the holder, the detail the roles before and
	// after.
	RolesAssign Action = "roles.assign"
)

// Actions lists every action, for validating an entry and a filter.
var Actions = []Action{
	AccountCreate, AccountUpdate, AccountPasswordChange, AccountDisable, AccountEnable, AccountSignIn,
	AccountSignOutEverywhere, ClientCreate, ClientUpdate, ClientRotateSecret, ClientDelete, ClientTestLogout,
	SessionRevoke, GrantRevoke, DeliveryRetry, KeyRotate, ResourceCreate, ResourceUpdate, ResourceDelete,
	RoleCreate, RoleUpdate, RoleDelete, RolesAssign,
}

// TargetKind says what kind of thing a change was made to.
type TargetKind string

// The targets of the log.
const (
	TargetAccount  TargetKind = "account"
	TargetClient   TargetKind = "client"
	TargetSession  TargetKind = "session"
	TargetGrant    TargetKind = "grant"
	TargetDelivery TargetKind = "delivery"
	// TargetResource is an API resource, by indicator (R1).
	TargetResource TargetKind = "resource"
	// TargetRole is a role, by name (R1).
	TargetRole TargetKind = "role"
)

// TargetKinds lists every target kind, for validating a filter.
var TargetKinds = []TargetKind{TargetAccount, TargetClient, TargetSession, TargetGrant, TargetDelivery, TargetResource, TargetRole}

// Target is what a change was made to.
type Target struct {
	Kind TargetKind
	ID   string
}

// OnAccount is the account id.
func OnAccount(id string) Target { return Target{Kind: TargetAccount, ID: id} }

// OnClient is the client id.
func OnClient(id string) Target { return Target{Kind: TargetClient, ID: id} }

// OnSession is the session id (the store's, never its cookie).
func OnSession(id string) Target { return Target{Kind: TargetSession, ID: id} }

// OnGrant is the grant id.
func OnGrant(id string) Target { return Target{Kind: TargetGrant, ID: id} }

// OnDelivery is the back-channel delivery id.
func OnDelivery(id string) Target { return Target{Kind: TargetDelivery, ID: id} }

// Entry is one change: who (Actor) did what (Action) to what (Target),
// when (At) and from where (Address).
type Entry struct {
	// ID orders the log; the store assigns it.
	ID int64
	// At is when the change was made; Recorder fills it from its clock
	// when zero.
	At     time.Time
	Actor  Actor
	Action Action
	Target Target
	// Account is the account the change concerns, when there is one: the
	// target itself, or the owner of a session or grant. Filtering by it
	// lists everything done to one account.
	Account string
	// Address is the client address of the request that made the change
	// (web.ClientIP); empty for the CLI and the system.
	Address string
	// Detail is a short, secret-free note built by code: field names,
	// counts, a receipt id. Never a password, hash, secret or token.
	Detail string
}

// MaxDetail is the most bytes of Detail kept; a longer one is cut.
const MaxDetail = 256

// ErrInvalid is wrapped by the errors of an entry that cannot be recorded.
var ErrInvalid = errors.New("invalid audit entry")

// check reports what makes e unfit for the log, and returns e with its
// detail made a single line of at most MaxDetail bytes.
func check(e Entry) (Entry, error) {
	var errs []error
	if !slices.Contains(ActorKinds, e.Actor.Kind) {
		errs = append(errs, fmt.Errorf("actor kind %q", e.Actor.Kind))
	}
	if e.Actor.Kind != ActorSystem && e.Actor.ID == "" {
		errs = append(errs, errors.New("no actor id"))
	}
	if !slices.Contains(Actions, e.Action) {
		errs = append(errs, fmt.Errorf("action %q", e.Action))
	}
	if e.Target.Kind != "" && !slices.Contains(TargetKinds, e.Target.Kind) || e.Target.Kind == "" && e.Target.ID != "" {
		errs = append(errs, fmt.Errorf("target %q %q", e.Target.Kind, e.Target.ID))
	}
	if e.Address != "" {
		if _, err := netip.ParseAddr(e.Address); err != nil {
			errs = append(errs, fmt.Errorf("address %q is not an IP address", e.Address))
		}
	}
	if e.At.IsZero() {
		errs = append(errs, errors.New("no time"))
	}
	if len(errs) > 0 {
		return e, fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	e.Detail = oneLine(e.Detail)
	return e, nil
}

// oneLine makes s one line of printable text, at most MaxDetail bytes, cut
// at a character boundary, so a reader of the log sees what was written
// and nothing can pass for another entry.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, " "))
	if len(s) <= MaxDetail {
		return s
	}
	cut := MaxDetail - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Fields is the detail of a change of fields: their names, never their
// values ("fields: email, name").
func Fields(names ...string) string {
	if len(names) == 0 {
		return ""
	}
	return "fields: " + strings.Join(names, ", ")
}

// SessionsEnded is the detail of a sign-out of n sessions.
func SessionsEnded(n int) string {
	if n == 1 {
		return "1 session ended"
	}
	return strconv.Itoa(n) + " sessions ended"
}
