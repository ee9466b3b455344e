package resource

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/store"
)

// recorded is a Record that keeps what it is given, one line per entry:
// "action target-id account-id: detail".
type recorded []string

func (rs *recorded) record(_ store.Tx, e audit.Entry) error {
	*rs = append(*rs, string(e.Action)+" "+e.Target.ID+" "+e.Account+": "+e.Detail)
	return nil
}

// wantRecorded checks the audit entries got are want, in order.
func wantRecorded(t *testing.T, got, want recorded) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("recorded\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// wantRefused checks err is a *Refused of kind, in one line that says
// want.
func wantRefused(t *testing.T, what string, err, kind error, want string) {
	t.Helper()
	var ref *Refused
	if !errors.As(err, &ref) || !errors.Is(err, kind) || !strings.Contains(ref.Error(), want) || strings.Contains(ref.Error(), "\n") {
		t.Errorf("%s: %v, want a refusal (%v) saying %q", what, err, kind, want)
	}
}

// R1, C4: an API resource is created, changed and removed under the
// rules the configuration's are checked by; the file's are refused; each
// change is recorded, and one that changes nothing is not; removing one
// takes the roles' permissions on it.
func TestManagingAPIResources(t *testing.T) { eachStore(t, testManagingAPIResources) }

func testManagingAPIResources(t *testing.T, open opener) {
	_, r := seededRegistry(t, open)
	ctx := t.Context()
	var log recorded
	const billing = "https://api.example.com/billing"

	got, err := r.CreateAPI(ctx, APISpec{Indicator: billing, Name: "Billing", Scopes: []string{"read:bills"}}, log.record)
	if err != nil || got.Indicator != billing || got.Declared || !got.CreatedAt.Equal(t0) {
		t.Fatalf("create: %+v %v", got, err)
	}
	_, err = r.CreateAPI(ctx, APISpec{Indicator: billing}, log.record)
	wantRefused(t, "create twice", err, ErrExists, "an API resource "+billing+" exists already")
	_, err = r.CreateAPI(ctx, APISpec{Indicator: "not a uri", Scopes: []string{"a", "a"}}, log.record)
	wantRefused(t, "create invalid", err, ErrInvalid, "indicator: ")
	var ref *Refused
	if errors.As(err, &ref) && (ref.Problems == nil || !strings.HasPrefix(ref.Problems.Error(), "indicator: ") || !strings.Contains(ref.Problems.Error(), "\nscopes: ")) {
		t.Errorf("the problems, one a line naming its field: %v", ref.Problems)
	}

	rename := func(a *APISpec) { a.Name = "Billing API" }
	if got, err := r.UpdateAPI(ctx, billing, rename, log.record); err != nil || got.Name != "Billing API" || !slices.Equal(got.Scopes, []string{"read:bills"}) {
		t.Errorf("update: %+v %v", got, err)
	}
	if _, err := r.UpdateAPI(ctx, billing, rename, log.record); err != nil {
		t.Errorf("the same update again: %v", err)
	}
	if got, err := r.UpdateAPI(ctx, billing, func(a *APISpec) { a.Indicator = "urn:other" }, log.record); err != nil || got.Indicator != billing {
		t.Errorf("an edit of the indicator: %+v %v", got, err)
	}
	_, err = r.UpdateAPI(ctx, billing, func(a *APISpec) { a.AccessTokenTTL = -time.Second }, log.record)
	wantRefused(t, "update invalid", err, ErrInvalid, "access_token_ttl: ")
	_, err = r.UpdateAPI(ctx, "https://nobody.example/api", rename, log.record)
	wantRefused(t, "update unknown", err, ErrUnknown, "no API resource https://nobody.example/api")
	_, err = r.UpdateAPI(ctx, orders, rename, log.record)
	wantRefused(t, "update declared", err, ErrDeclared, "API resource "+orders+" is managed by the configuration file")

	_, _, err = r.PutRole(ctx, RoleSpec{Name: "billing-reader", Permissions: map[string][]string{billing: {"read:bills"}}}, log.record)
	must(t, err)
	err = r.DeleteAPI(ctx, orders, log.record)
	wantRefused(t, "delete declared", err, ErrDeclared, "managed by the configuration file")
	err = r.DeleteAPI(ctx, "urn:nobody", log.record)
	wantRefused(t, "delete unknown", err, ErrUnknown, "no API resource urn:nobody")
	if _, err := r.API(ctx, billing); err != nil {
		t.Fatalf("billing before it is removed: %v", err)
	}
	must(t, r.DeleteAPI(ctx, billing, log.record))
	// The registry forgot what it kept: the API is unknown at once.
	if _, err := r.API(ctx, billing); !errors.Is(err, ErrUnknown) {
		t.Errorf("a removed API: %v, want ErrUnknown", err)
	}
	roles, err := r.Roles(ctx)
	must(t, err)
	for _, role := range roles {
		if _, ok := role.Permissions[billing]; ok {
			t.Errorf("role %s keeps a permission on the removed API", role.Name)
		}
	}

	want := recorded{
		"resource.create " + billing + " : scopes: read:bills",
		"resource.update " + billing + " : fields: name",
		"role.create billing-reader : permissions on: " + billing,
		"resource.delete " + billing + " : permissions removed from roles: billing-reader",
	}
	wantRecorded(t, log, want)
}

// R1, C4, C5: a role is made, changed and removed; the file's roles are
// refused, and the built-in admin role is neither given permissions nor
// removed, declared or not. A removed role is taken from its holders at
// once, and one made again under its name is held by nobody.
func TestManagingRoles(t *testing.T) { eachStore(t, testManagingRoles) }

func testManagingRoles(t *testing.T, open opener) {
	s, r := seededRegistry(t, open)
	ctx := t.Context()
	var log recorded

	spec := RoleSpec{Name: "auditor", Permissions: map[string][]string{orders: {"read:orders"}}}
	if role, created, err := r.PutRole(ctx, spec, log.record); err != nil || !created || role.Declared {
		t.Fatalf("create: %+v %v %v", role, created, err)
	}
	spec.Permissions = map[string][]string{orders: {"read:orders"}}
	if _, created, err := r.PutRole(ctx, spec, log.record); err != nil || created {
		t.Errorf("the same permissions again: created %v, %v", created, err)
	}
	spec.Permissions = map[string][]string{"urn:example:billing": {"read:invoices"}}
	if role, created, err := r.PutRole(ctx, spec, log.record); err != nil || created || !role.CreatedAt.Equal(t0) {
		t.Errorf("update: %+v %v %v", role, created, err)
	}
	_, _, err := r.PutRole(ctx, RoleSpec{Name: "auditor", Permissions: map[string][]string{orders: {"fly"}}}, log.record)
	wantRefused(t, "a scope the API lacks", err, ErrInvalid, "permissions: ")
	_, _, err = r.PutRole(ctx, RoleSpec{Name: "two words"}, log.record)
	wantRefused(t, "a bad name", err, ErrInvalid, "name: ")
	_, _, err = r.PutRole(ctx, RoleSpec{Name: "orders-reader"}, log.record)
	wantRefused(t, "a declared role", err, ErrDeclared, "role orders-reader is managed by the configuration file")
	_, _, err = r.PutRole(ctx, RoleSpec{Name: RoleAdmin}, log.record)
	wantRefused(t, "the admin role", err, ErrBuiltIn, "built in")

	_, err = r.SetRoles(ctx, Account("id-bob"), []string{"auditor", RoleAdmin}, log.record)
	must(t, err)
	if ok, err := r.HasRole(ctx, Account("id-bob"), "auditor"); !ok || err != nil {
		t.Fatalf("bob holds auditor: %v %v", ok, err)
	}
	must(t, r.DeleteRole(ctx, "auditor", log.record))
	if ok, err := r.HasRole(ctx, Account("id-bob"), "auditor"); ok || err != nil {
		t.Errorf("bob still holds the removed role: %v %v", ok, err)
	}
	_, _, err = r.PutRole(ctx, RoleSpec{Name: "auditor"}, log.record)
	must(t, err)
	if roles, err := r.RolesOf(ctx, Account("id-bob")); err != nil || !slices.Equal(roles, []string{RoleAdmin}) {
		t.Errorf("bob's roles once auditor is made again: %v %v", roles, err)
	}

	err = r.DeleteRole(ctx, "ghost", log.record)
	wantRefused(t, "an unknown role", err, ErrUnknownRole, "no role ghost")
	// UpdateRole changes a role that exists and never makes one.
	_, err = r.UpdateRole(ctx, RoleSpec{Name: "ghost", Permissions: map[string][]string{orders: {"read:orders"}}}, log.record)
	wantRefused(t, "updating an unknown role", err, ErrUnknownRole, "no role ghost")
	if roles, err := r.Roles(ctx); err != nil || slices.ContainsFunc(roles, func(x Role) bool { return x.Name == "ghost" }) {
		t.Errorf("UpdateRole made the role it was refused: %v %v", roles, err)
	}
	if role, err := r.UpdateRole(ctx, RoleSpec{Name: "auditor", Permissions: map[string][]string{orders: {"read:orders"}}}, log.record); err != nil ||
		!slices.Equal(role.Permissions[orders], []string{"read:orders"}) {
		t.Errorf("UpdateRole of an existing role: %+v %v", role, err)
	}
	err = r.DeleteRole(ctx, "orders-writer", log.record)
	wantRefused(t, "a declared role", err, ErrDeclared, "role orders-writer is managed by the configuration file")
	err = r.DeleteRole(ctx, RoleAdmin, log.record)
	wantRefused(t, "the admin role", err, ErrBuiltIn, "cannot be removed")
	// Undeclared, admin is still built in.
	write(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpsertRole(ctx, store.Role{Name: RoleAdmin}) })
	err = r.DeleteRole(ctx, RoleAdmin, log.record)
	wantRefused(t, "the admin role, undeclared", err, ErrBuiltIn, "cannot be removed")

	want := recorded{
		"role.create auditor : permissions on: " + orders,
		"role.update auditor : permissions on: urn:example:billing",
		"roles.assign id-bob id-bob: roles: admin auditor (were: none)",
		"role.delete auditor : permissions on: urn:example:billing",
		"role.create auditor : no permissions",
		"role.update auditor : permissions on: " + orders,
	}
	wantRecorded(t, log, want)
}

// Audit: the entry of a change is written in the change's transaction,
// so one that cannot be written undoes the change; a refused change, or
// roles held already, records nothing.
func TestAChangeAndItsRecordAreOne(t *testing.T) { eachStore(t, testAChangeAndItsRecordAreOne) }

func testAChangeAndItsRecordAreOne(t *testing.T, open opener) {
	s, r := seededRegistry(t, open)
	ctx := t.Context()
	failing := func(store.Tx, audit.Entry) error { return errors.New("the log is full") }

	if _, err := r.CreateAPI(ctx, APISpec{Indicator: "urn:x"}, failing); err == nil {
		t.Error("create: a failed record did not fail the change")
	}
	if _, err := r.SetRoles(ctx, Client("robot"), []string{RoleAdmin}, failing); err == nil {
		t.Error("set roles: a failed record did not fail the change")
	}
	if err := r.DeleteRole(ctx, "orders-reader", failing); !errors.Is(err, ErrDeclared) {
		t.Errorf("a refusal: %v", err)
	}
	apis, err := r.APIs(ctx)
	must(t, err)
	if len(apis) != 2 {
		t.Errorf("APIs after a failed record: %v", apis)
	}
	if roles, err := s.ClientRoles(ctx, "robot"); err != nil || len(roles) != 0 {
		t.Errorf("robot's roles after a failed record: %v %v", roles, err)
	}

	var log recorded
	_, err = r.SetRoles(ctx, Client("robot"), []string{"orders-reader"}, log.record)
	must(t, err)
	held, err := r.SetRoles(ctx, Client("robot"), []string{"orders-reader", "orders-reader"}, log.record)
	must(t, err)
	if !slices.Equal(held, []string{"orders-reader"}) || !slices.Equal(log, recorded{"roles.assign robot : roles: orders-reader (were: none)"}) {
		t.Errorf("held %v, recorded %q", held, log)
	}
	_, err = r.SetRoles(ctx, Client("web-app"), []string{"orders-reader"}, log.record)
	wantRefused(t, "a web client", err, ErrNotM2M, "client web-app is web: only m2m clients hold roles")
	_, err = r.SetRoles(ctx, Account("id-bob"), []string{"ghost"}, log.record)
	wantRefused(t, "an unknown role", err, ErrUnknownRole, "no role ghost")
	if len(log) != 1 {
		t.Errorf("refusals recorded %q", log[1:])
	}
}
