package resource

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// RI1: an indicator is an absolute URI without a fragment, compared
// exactly, so one that could be read two ways is refused.
func TestValidIndicator(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"https://api.example.com/orders", true},
		{"https://api.example.com", true},
		{"http://127.0.0.1:4003/", true},
		{"https://api.example.com/orders?v=2", true}, // RFC 8707 §2: SHOULD NOT, not MUST NOT
		{"urn:example:billing", true},
		{"", false},
		{"/orders", false},                              // relative
		{"api.example.com/orders", false},               // no scheme
		{"https://api.example.com/orders#read", false},  // fragment
		{"https://api.example.com/orders#", false},      // empty fragment
		{"https:///orders", false},                      // no host
		{"https:", false},                               // nothing after the scheme
		{"https://api.example.com/or ders", false},      // white space
		{"https://api.example.com/orders\n", false},     // a line break
		{"https://api.example.com/\x00", false},         // control character
		{"https://" + strings.Repeat("a", 2048), false}, // too long
	} {
		err := ValidIndicator(c.in)
		if (err == nil) != c.ok {
			t.Errorf("ValidIndicator(%q) = %v, want ok %v", c.in, err, c.ok)
		}
	}
}

// A scope is a scope token of RFC 6749 §3.3.
func TestValidScope(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"read:orders", true},
		{"orders.write", true},
		{"!#$%&'()*+,-./:;<=>?@[]^_`{|}~", true},
		{"", false},
		{"read orders", false},
		{`say"hi"`, false},
		{`back\slash`, false},
		{"é", false},
		{"tab\t", false},
	} {
		err := ValidScope(c.in)
		if (err == nil) != c.ok {
			t.Errorf("ValidScope(%q) = %v, want ok %v", c.in, err, c.ok)
		}
	}
}

// R2: of the requested scopes, only those the API defines and the roles
// permit are kept, in the order asked, each once; the others are
// dropped, not refused.
func TestFilterKeepsRequestedScopesTheAPIDefinesAndRolesPermit(t *testing.T) {
	api := API{Indicator: "https://api.example.com/orders", Scopes: []string{"read:orders", "write:orders", "delete:orders"}}
	for _, c := range []struct {
		name                 string
		requested, permitted []string
		want                 []string
	}{
		{"all permitted", []string{"write:orders", "read:orders"}, api.Scopes, []string{"write:orders", "read:orders"}},
		{"beyond the roles", []string{"read:orders", "write:orders"}, []string{"read:orders"}, []string{"read:orders"}},
		{"not the API's", []string{"openid", "read:stock", "read:orders"}, api.Scopes, []string{"read:orders"}},
		{"permitted but not the API's", []string{"read:stock"}, []string{"read:stock"}, nil},
		{"asked twice", []string{"read:orders", "read:orders"}, api.Scopes, []string{"read:orders"}},
		{"no role", []string{"read:orders"}, nil, nil},
		{"none asked", nil, api.Scopes, nil},
	} {
		if got := Filter(c.requested, api, c.permitted); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: Filter(%v, %v) = %v, want %v", c.name, c.requested, c.permitted, got, c.want)
		}
	}
}

// R1, C5: a declaration is checked as the configuration is, one line per
// problem naming the key: a role may give only scopes of declared
// resources, admin holds no permissions, and holders hold declared roles.
func TestDeclarationValidation(t *testing.T) {
	d := Declaration{
		APIs: []APISpec{
			{Indicator: "https://api.example.com/orders", Scopes: []string{"read:orders", "write:orders"}},
			{Indicator: "https://api.example.com/orders", Scopes: []string{"x"}},
			{Indicator: "orders", Scopes: []string{"a b", "ok", "ok"}, AccessTokenTTL: -time.Second},
		},
		Roles: []RoleSpec{
			{Name: "orders-reader", Permissions: map[string][]string{
				"https://x/orders":               {"read"},
				"https://api.example.com/orders": {"read:orders", "delete:orders", "read:orders"},
			}},
			{Name: "admin", Permissions: map[string][]string{"https://api.example.com/orders": {"read:orders"}}},
			{Name: "orders-reader"},
			{Name: "two words"},
		},
		Users:   []Assignment{{Holder: "alice", Roles: []string{"orders-reader", "admin", "ghost"}}},
		Clients: []Assignment{{Holder: "robot", Roles: []string{"phantom"}}},
	}
	err := d.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		"api_resources[1]: duplicate indicator \"https://api.example.com/orders\"",
		"api_resources[2] (orders): indicator: the resource indicator \"orders\" is not an absolute URI (RFC 8707 §2)",
		"api_resources[2] (orders): scopes: the scope \"a b\" may hold only printable ASCII characters other than space, \" and \\ (RFC 6749 §3.3)",
		"api_resources[2] (orders): scopes: ok is listed twice",
		"api_resources[2] (orders): access_token_ttl: must not be negative (0 or none: the top-level access_token_ttl)",
		"roles[0] (orders-reader): permissions: https://api.example.com/orders: \"delete:orders\" is not a scope of that api_resource",
		"roles[0] (orders-reader): permissions: https://api.example.com/orders: read:orders is listed twice",
		"roles[0] (orders-reader): permissions: https://x/orders: no such api_resource",
		"roles[1] (admin): permissions: admin is a built-in role and holds no permissions; give it to users and m2m clients with roles: [admin]",
		"roles[2]: duplicate name \"orders-reader\"",
		"roles[3] (two words): name: the role name \"two words\" holds white space or a control character",
		"users (alice): roles: ghost: no such role",
		"clients (robot): roles: phantom: no such role",
	}
	got := strings.Split(err.Error(), "\n")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := (Declaration{Roles: []RoleSpec{{Name: "admin"}}, Users: []Assignment{{Holder: "alice", Roles: []string{"admin"}}}}).Validate(); err != nil {
		t.Errorf("admin declared without permissions and assigned: %v", err)
	}
}

// The name shown defaults to the indicator, the lifetime to the top-level
// access_token_ttl.
func TestAPIDefaults(t *testing.T) { eachStore(t, testAPIDefaults) }

func testAPIDefaults(t *testing.T, open opener) {
	s := open(t)
	r := &Registry{Store: s, DefaultAccessTokenTTL: 42 * time.Minute, Now: clock}
	seed(t, r, Declaration{APIs: []APISpec{
		{Indicator: "urn:a"},
		{Indicator: "urn:b", Name: "B", Scopes: []string{"x"}, AccessTokenTTL: time.Minute},
	}})
	for _, want := range []API{
		{Indicator: "urn:a", Name: "urn:a", AccessTokenTTL: 42 * time.Minute},
		{Indicator: "urn:b", Name: "B", Scopes: []string{"x"}, AccessTokenTTL: time.Minute},
	} {
		got, err := r.API(t.Context(), want.Indicator)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("API(%s) = %+v, %v; want %+v", want.Indicator, got, err, want)
		}
	}
	for _, ind := range []string{"urn:c", "https://api.example.com/x#y", ""} {
		if _, err := r.API(t.Context(), ind); !errors.Is(err, ErrUnknown) {
			t.Errorf("API(%q) = %v, want ErrUnknown (invalid_target)", ind, err)
		}
	}
}
