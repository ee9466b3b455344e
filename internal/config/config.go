package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/logs"
	"github.com/sesame-id/sesame/internal/resource"
)

// Config is the whole configuration.
type Config struct {
	Issuer         string `yaml:"issuer"`
	Listen         string `yaml:"listen"`
	Database       string `yaml:"database"`
	SecretKey      string `yaml:"secret_key"`
	SignoutConfirm string `yaml:"signout_confirm"`

	SessionTTL      time.Duration `yaml:"session_ttl"`
	SessionMaxTTL   time.Duration `yaml:"session_max_ttl"`
	GrantTTL        time.Duration `yaml:"grant_ttl"`
	RefreshTokenTTL time.Duration `yaml:"refresh_token_ttl"`
	AccessTokenTTL  time.Duration `yaml:"access_token_ttl"`
	IDTokenTTL      time.Duration `yaml:"id_token_ttl"`
	AuthCodeTTL     time.Duration `yaml:"auth_code_ttl"`
	AuthRequestTTL  time.Duration `yaml:"auth_request_ttl"`
	BackchannelWait time.Duration `yaml:"backchannel_wait"`
	SweepInterval   time.Duration `yaml:"sweep_interval"`
	// RequestTimeout bounds each request, its database work included: a
	// database that stops answering without closing the connection (a
	// network that drops packets) costs a request this long, then a 503,
	// never a hang.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// ShutdownDelay is how long a stopping instance keeps serving with
	// /healthz answering 503, so its load balancer stops sending it
	// requests before it closes its listener (0: stop at once).
	ShutdownDelay time.Duration `yaml:"shutdown_delay"`

	// AllowPrivateNetworkDelivery lets back-channel logout reach private
	// and loopback addresses (B5). Its default is true only when the
	// issuer itself is on loopback.
	AllowPrivateNetworkDelivery bool `yaml:"allow_private_network_delivery"`

	// RequirePKCE makes every code-flow client send S256 PKCE (C2, OAuth
	// 2.1); default true. A confidential client may set its own
	// require_pkce: false; public clients always need PKCE.
	RequirePKCE bool `yaml:"require_pkce"`

	LogLevel string `yaml:"log_level"`
	// LogFormat is text or json; empty writes text when the log goes to
	// a terminal and JSON otherwise (to a file, a pipe, a collector).
	LogFormat string `yaml:"log_format"`

	// AuditRetention is how long events, sign-out receipts and the audit
	// log are kept before the sweeper deletes them.
	AuditRetention time.Duration `yaml:"audit_retention"`

	// Durability is normal (the default: commits that remove access are
	// synced to disk, routine ones such as issuing a code or rotating a
	// refresh token may lose their last instants on a power cut, never on
	// a crash) or strict (every commit is synced).
	Durability string `yaml:"durability"`

	// MetricsListen moves /metrics off the main listener to its own
	// address (host:port), so it need not be public; empty serves it on
	// the main listener.
	MetricsListen string `yaml:"metrics_listen"`

	// AdminClients are the m2m clients that may get the sesame:admin
	// scope with client_credentials. Deprecated: give the client
	// roles: [admin] (C5); still read, with a warning at start.
	AdminClients []string `yaml:"admin_clients"`

	// TrustedProxies are the load balancers and reverse proxies in front
	// of Sesame (IP addresses or CIDR ranges). A request from one of them
	// is taken to come from the address it names in X-Forwarded-For, so
	// sign-in throttling and the devices list see people, not the
	// balancer. Empty: the TCP peer is the client, and X-Forwarded-For
	// is ignored (anyone could send it).
	TrustedProxies []string `yaml:"trusted_proxies"`

	// APIResources are the APIs apps get JWT access tokens for (R1),
	// declared in the file and applied at every start (C4).
	APIResources []resource.APISpec `yaml:"api_resources"`
	// Roles map API resources to the scopes they permit (R1); users and
	// m2m clients hold them. The role admin is built in.
	Roles []resource.RoleSpec `yaml:"roles"`

	Clients []client.Spec  `yaml:"clients"`
	Users   []account.Spec `yaml:"users"`
}

// Default is the configuration with no file and no environment.
func Default() Config {
	return Config{
		Issuer:                      "http://127.0.0.1:4000/oidc",
		Listen:                      "127.0.0.1:4000",
		Database:                    "sqlite://sesame.db",
		SignoutConfirm:              "auto",
		SessionTTL:                  336 * time.Hour,
		SessionMaxTTL:               2160 * time.Hour,
		GrantTTL:                    4320 * time.Hour,
		RefreshTokenTTL:             336 * time.Hour,
		AccessTokenTTL:              time.Hour,
		IDTokenTTL:                  time.Hour,
		AuthCodeTTL:                 60 * time.Second,
		AuthRequestTTL:              time.Hour,
		BackchannelWait:             2 * time.Second,
		SweepInterval:               5 * time.Minute,
		RequestTimeout:              15 * time.Second,
		AllowPrivateNetworkDelivery: true,
		RequirePKCE:                 true,
		LogLevel:                    "info",
		AuditRetention:              2160 * time.Hour,
		Durability:                  DurabilityNormal,
	}
}

// Values of the log_format key, which are package logs' formats; empty
// chooses by where the log goes.
const (
	LogFormatText = logs.Text
	LogFormatJSON = logs.JSON
)

// Values of the durability key.
const (
	DurabilityNormal = "normal"
	DurabilityStrict = "strict"
)

// Load reads the YAML file at path ("" for none) over the defaults, then
// applies SESAME_<KEY> environment variables (upper case, "." becomes "_").
// Unknown keys and values of the wrong kind are errors, one line each,
// naming the file, the line and the key. It does not validate.
func Load(path string, getenv func(string) string) (Config, error) {
	cfg := Default()
	privateSet := false
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("config file: %w", err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return cfg, syntaxError(path, err)
		}
		if errs := checkFile(path, &doc); len(errs) > 0 {
			return cfg, errors.Join(errs...)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			// checkFile has found every mistake the decoder knows of
			// so far; this is the fallback for one it does not.
			return cfg, fmt.Errorf("%s: %w", path, err)
		}
		var raw map[string]any
		_ = yaml.Unmarshal(b, &raw)
		_, privateSet = raw["allow_private_network_delivery"]
	}
	envSet, err := applyEnv(&cfg, getenv)
	if err != nil {
		return cfg, err
	}
	if !privateSet && !envSet["allow_private_network_delivery"] {
		cfg.AllowPrivateNetworkDelivery = cfg.IssuerIsLoopback()
	}
	return cfg, nil
}

// applyEnv sets every scalar key from SESAME_<KEY>; it returns the keys it
// set.
func applyEnv(cfg *Config, getenv func(string) string) (map[string]bool, error) {
	set := map[string]bool{}
	v := reflect.ValueOf(cfg).Elem()
	t := v.Type()
	var errs []error
	for i := range t.NumField() {
		key := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		env := "SESAME_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
		val := getenv(env)
		if val == "" {
			continue
		}
		f := v.Field(i)
		switch {
		case f.Type() == reflect.TypeOf(time.Duration(0)):
			d, err := time.ParseDuration(val)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a duration (e.g. 336h, 90s)", env, val))
				continue
			}
			f.SetInt(int64(d))
		case f.Kind() == reflect.String:
			f.SetString(val)
		case f.Kind() == reflect.Bool:
			b, err := strconv.ParseBool(val)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not true or false", env, val))
				continue
			}
			f.SetBool(b)
		case f.Type() == reflect.TypeOf([]string(nil)):
			var list []string
			for _, item := range strings.Split(val, ",") {
				if item = strings.TrimSpace(item); item != "" {
					list = append(list, item)
				}
			}
			f.Set(reflect.ValueOf(list))
		default:
			continue // lists of entries (clients, users, api_resources, roles) are set in the file only
		}
		set[key] = true
	}
	return set, errors.Join(errs...)
}

// IssuerIsLoopback reports whether the issuer's host is a loopback address.
func (c Config) IssuerIsLoopback() bool {
	u, err := url.Parse(c.Issuer)
	return err == nil && client.IsLoopbackHost(u.Hostname())
}

// Validate reports every problem of the configuration at once, one line
// each, naming the key.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	u, err := url.Parse(c.Issuer)
	switch {
	case c.Issuer == "" || err != nil || !u.IsAbs() || u.Host == "":
		add("issuer: %q is not an absolute URL", c.Issuer)
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(c.Issuer, "?") || strings.Contains(c.Issuer, "#"):
		add("issuer: must have no query or fragment (spec D3)")
	case u.Scheme != "https" && !(u.Scheme == "http" && c.IssuerIsLoopback()):
		add("issuer: must be https (plain http only on a loopback host, spec D3)")
	case strings.HasSuffix(u.Path, "/"):
		add("issuer: must not end with /")
	}
	if _, err := c.TrustedProxyRanges(); err != nil {
		add("%v", err)
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		add("listen: %q is not host:port", c.Listen)
	}
	if _, _, err := net.SplitHostPort(c.MetricsListen); c.MetricsListen != "" && err != nil {
		add("metrics_listen: %q is not host:port", c.MetricsListen)
	}
	if !strings.HasPrefix(c.Database, "sqlite:") && !strings.HasPrefix(c.Database, "postgres://") && !strings.HasPrefix(c.Database, "postgresql://") {
		add("database: %q must start with sqlite:// or postgres://", c.Database)
	}
	if c.SecretKey != "" && len(c.SecretKey) < 16 {
		add("secret_key: must be at least 16 characters")
	}
	if c.SignoutConfirm != "auto" && c.SignoutConfirm != "ask" {
		add("signout_confirm: %q must be auto or ask", c.SignoutConfirm)
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"session_ttl", c.SessionTTL}, {"session_max_ttl", c.SessionMaxTTL}, {"grant_ttl", c.GrantTTL},
		{"refresh_token_ttl", c.RefreshTokenTTL}, {"access_token_ttl", c.AccessTokenTTL}, {"id_token_ttl", c.IDTokenTTL},
		{"auth_code_ttl", c.AuthCodeTTL}, {"auth_request_ttl", c.AuthRequestTTL}, {"backchannel_wait", c.BackchannelWait},
		{"sweep_interval", c.SweepInterval}, {"request_timeout", c.RequestTimeout},
		{"audit_retention", c.AuditRetention},
	} {
		if d.v <= 0 {
			add("%s: must be a positive duration", d.key)
		}
	}
	if c.ShutdownDelay < 0 {
		add("shutdown_delay: must not be negative")
	}
	if c.AuthCodeTTL > 10*time.Minute {
		add("auth_code_ttl: at most 10m (RFC 6749 §4.1.2)")
	}
	if c.RefreshTokenTTL > c.GrantTTL {
		add("refresh_token_ttl: must not exceed grant_ttl (G5)")
	}
	if c.RequestTimeout > 0 && c.RequestTimeout <= c.BackchannelWait {
		add("request_timeout: must exceed backchannel_wait, which a sign-out may spend waiting")
	}
	if c.SessionTTL > c.SessionMaxTTL {
		add("session_ttl: must not exceed session_max_ttl")
	}
	if c.Durability != DurabilityNormal && c.Durability != DurabilityStrict {
		add("durability: %q must be normal or strict", c.Durability)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		add("log_level: %q must be debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "", LogFormatText, LogFormatJSON:
	default:
		add("log_format: %q must be text or json (or empty: text on a terminal, json otherwise)", c.LogFormat)
	}
	ids := map[string]bool{}
	for i, cl := range c.Clients {
		if err := cl.Validate(); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				add("clients[%d] (%s): %s", i, cl.ID, line)
			}
		}
		if cl.BackchannelLogoutURI != "" && !c.AllowPrivateNetworkDelivery { // B5
			if err := client.CheckBackchannelTarget(cl.BackchannelLogoutURI); err != nil {
				add("clients[%d] (%s): %v", i, cl.ID, err)
			}
		}
		if ids[cl.ID] {
			add("clients[%d]: duplicate id %q", i, cl.ID)
		}
		ids[cl.ID] = true
	}
	for _, id := range c.AdminClients {
		found := false
		for _, cl := range c.Clients {
			found = found || (cl.ID == id && cl.Type == client.TypeM2M)
		}
		if !found {
			add("admin_clients: %q is not an m2m client of this configuration", id)
		}
	}
	names := map[string]bool{}
	for i, us := range c.Users {
		if us.Username == "" {
			add("users[%d]: username is required", i)
		}
		if us.Password == "" {
			add("users[%d] (%s): password is required", i, us.Username)
		}
		// A1: names compare in their canonical form, so `Alice` and a
		// full-width `ａｌｉｃｅ` are one user, declared twice.
		canonical, err := account.CanonicalUsername(us.Username)
		if err != nil && us.Username != "" {
			add("users[%d]: %v", i, err)
			continue
		}
		if names[canonical] {
			add("users[%d]: duplicate username %q", i, us.Username)
		}
		names[canonical] = true
	}
	errs = append(errs, c.validateRoles()...)
	return errors.Join(errs...)
}

// validateRoles checks api_resources and roles (R1, C5), and the roles
// users and clients hold: each a role the file declares, or admin; and
// only m2m clients among clients (a person's roles come with their user
// entry).
func (c Config) validateRoles() []error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if err := (resource.Declaration{APIs: c.APIResources, Roles: c.Roles}).Validate(); err != nil {
		for line := range strings.SplitSeq(err.Error(), "\n") {
			add("%s", line)
		}
	}
	declared := map[string]bool{resource.RoleAdmin: true}
	for _, r := range c.Roles {
		declared[r.Name] = true
	}
	held := func(prefix string, roles []string) {
		for _, r := range roles {
			if !declared[r] {
				add("%sroles: %s: no such role (declare it under roles, or give the built-in %s)", prefix, r, resource.RoleAdmin)
			}
		}
	}
	for i, us := range c.Users {
		held(fmt.Sprintf("users[%d] (%s): ", i, us.Username), us.Roles)
	}
	for i, cl := range c.Clients {
		if len(cl.Roles) > 0 && cl.Type != client.TypeM2M {
			add("clients[%d] (%s): roles: only m2m clients hold roles; a person's roles are given in their users entry", i, cl.ID)
			continue
		}
		held(fmt.Sprintf("clients[%d] (%s): ", i, cl.ID), cl.Roles)
	}
	return errs
}

// TrustedProxyRanges parses trusted_proxies: each entry an IP address or a
// CIDR range.
func (c Config) TrustedProxyRanges() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, v := range c.TrustedProxies {
		if p, err := netip.ParsePrefix(v); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, fmt.Errorf("trusted_proxies: %q is not an IP address or CIDR range", v)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
