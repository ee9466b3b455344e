package resource

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// APISpec is an API resource as the configuration file declares it
// (api_resources).
type APISpec struct {
	// Indicator is the resource's absolute URI (RFC 8707): the aud of
	// its tokens.
	Indicator string `yaml:"indicator"`
	// Name is what the consent page shows; empty shows the indicator.
	Name string `yaml:"name"`
	// Scopes are the permissions the API defines.
	Scopes []string `yaml:"scopes"`
	// ScopeDescriptions say in words what each scope lets an app do as
	// the person ("Read your orders"), for the consent page; a scope
	// without one is shown by its name.
	ScopeDescriptions map[string]string `yaml:"scope_descriptions"`
	// AccessTokenTTL is its tokens' lifetime; zero follows the top-level
	// access_token_ttl.
	AccessTokenTTL time.Duration `yaml:"access_token_ttl"`
}

// RoleSpec is a role as the configuration file declares it (roles).
type RoleSpec struct {
	Name string `yaml:"name"`
	// Permissions maps a resource indicator to the scopes of that
	// resource the role allows.
	Permissions map[string][]string `yaml:"permissions"`
}

// Validate reports every problem of a declared API resource at once, one
// line each, naming the field.
func (s APISpec) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if err := ValidIndicator(s.Indicator); err != nil {
		add("indicator: %v", err)
	}
	for i, sc := range s.Scopes {
		if err := ValidScope(sc); err != nil {
			add("scopes: %v", err)
		} else if slices.Index(s.Scopes, sc) < i {
			add("scopes: %s is listed twice", sc)
		}
	}
	for _, sc := range slices.Sorted(maps.Keys(s.ScopeDescriptions)) {
		if !slices.Contains(s.Scopes, sc) {
			add("scope_descriptions: %q is not one of the resource's scopes", sc)
			continue
		}
		if err := ValidScopeDescription(s.ScopeDescriptions[sc]); err != nil {
			add("scope_descriptions: %s: %v", sc, err)
		}
	}
	if s.AccessTokenTTL < 0 {
		add("access_token_ttl: must not be negative (0 or none: the top-level access_token_ttl)")
	}
	return errors.Join(errs...)
}

// MaxScopeDescriptionLen bounds a scope's description, in characters: a
// line of the consent page, not a paragraph.
const MaxScopeDescriptionLen = 200

// ValidScopeDescription reports whether d can describe a scope once
// trimmed of the spaces around it (as it is stored): not empty, at most
// MaxScopeDescriptionLen characters of UTF-8, and on one line, with no
// control character (a line break or tab would not show on the consent
// page as written).
func ValidScopeDescription(d string) error {
	d = strings.TrimSpace(d)
	switch {
	case d == "":
		return errors.New("the description is empty (leave the scope out to show it by its name)")
	case !utf8.ValidString(d):
		return errors.New("the description is not UTF-8 text")
	case utf8.RuneCountInString(d) > MaxScopeDescriptionLen:
		return fmt.Errorf("the description %.32q... is longer than %d characters", d, MaxScopeDescriptionLen)
	case strings.ContainsFunc(d, unicode.IsControl):
		return fmt.Errorf("the description %q holds a line break, a tab or another control character", d)
	}
	return nil
}

// storedDescriptions are scope descriptions as they are stored: each
// trimmed, in a map of their own, so that neither the caller's map nor
// the stored one changes with the other; nil for none.
func storedDescriptions(d map[string]string) map[string]string {
	if len(d) == 0 {
		return nil
	}
	out := make(map[string]string, len(d))
	for sc, text := range d {
		out[sc] = strings.TrimSpace(text)
	}
	return out
}

// Validate reports every problem of a declared role at once, one line
// each, naming the field: scopes names, by indicator, the scopes of the
// API resources it may give permissions on. The built-in admin role may
// be declared only without permissions (C5).
func (s RoleSpec) Validate(scopes map[string][]string) error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if err := ValidRoleName(s.Name); err != nil {
		add("name: %v", err)
	}
	if s.Name == RoleAdmin && len(s.Permissions) > 0 {
		add("permissions: %s is a built-in role and holds no permissions; give it to users and m2m clients with roles: [%s]", RoleAdmin, RoleAdmin)
		return errors.Join(errs...)
	}
	for _, ind := range slices.Sorted(maps.Keys(s.Permissions)) {
		defined, ok := scopes[ind]
		if !ok {
			add("permissions: %s: no such api_resource", ind)
			continue
		}
		list := s.Permissions[ind]
		for i, sc := range list {
			switch {
			case !slices.Contains(defined, sc):
				add("permissions: %s: %q is not a scope of that api_resource", ind, sc)
			case slices.Index(list, sc) < i:
				add("permissions: %s: %s is listed twice", ind, sc)
			}
		}
	}
	return errors.Join(errs...)
}

// Declaration is what the configuration file declares about API
// resources and roles, which Seed applies at every start (C4).
type Declaration struct {
	APIs  []APISpec
	Roles []RoleSpec
	// Users are the roles of declared users whose entry lists roles,
	// each by username.
	Users []Assignment
	// Clients are the roles of declared m2m clients whose entry lists
	// roles, each by client id.
	Clients []Assignment
}

// Assignment is the roles one holder is declared to hold.
type Assignment struct {
	// Holder is a username (Declaration.Users) or a client id
	// (Declaration.Clients).
	Holder string
	Roles  []string
}

// Validate reports every problem of d, one line each, named as the
// configuration's keys.
func (d Declaration) Validate() error {
	var errs []error
	scopes := map[string][]string{}
	for i, a := range d.APIs {
		errs = append(errs, eachLine(fmt.Sprintf("api_resources[%d] (%s): ", i, a.Indicator), a.Validate())...)
		if _, dup := scopes[a.Indicator]; dup {
			errs = append(errs, fmt.Errorf("api_resources[%d]: duplicate indicator %q", i, a.Indicator))
			continue
		}
		scopes[a.Indicator] = a.Scopes
	}
	roles := map[string]bool{RoleAdmin: true}
	for i, r := range d.Roles {
		errs = append(errs, eachLine(fmt.Sprintf("roles[%d] (%s): ", i, r.Name), r.Validate(scopes))...)
		if roles[r.Name] && r.Name != RoleAdmin {
			errs = append(errs, fmt.Errorf("roles[%d]: duplicate name %q", i, r.Name))
		}
		roles[r.Name] = true
	}
	for _, as := range []struct {
		key  string
		list []Assignment
	}{{"users", d.Users}, {"clients", d.Clients}} {
		for _, a := range as.list {
			for _, r := range a.Roles {
				if !roles[r] {
					errs = append(errs, fmt.Errorf("%s (%s): roles: %s: no such role", as.key, a.Holder, r))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// eachLine is err's lines (Validate's problems), each prefixed.
func eachLine(prefix string, err error) []error {
	if err == nil {
		return nil
	}
	var out []error
	for line := range strings.SplitSeq(err.Error(), "\n") {
		out = append(out, errors.New(prefix+line))
	}
	return out
}
