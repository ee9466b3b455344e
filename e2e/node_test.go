package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/sesametest"
)

// The npm client openid-client (v6) drives a running Sesame; see
// node/openid-client.test.mjs for the flows.
func TestOpenIDClient(t *testing.T) { runNode(t, "openid-client", "openid-client.test.mjs") }

// runNode runs one node test file against a fresh test Sesame.
func runNode(t *testing.T, pkg, file string) {
	s := sesametest.New(t, sesametest.Options{}.WithOrders())
	runNodeFile(t, pkg, file,
		"SESAME_ISSUER="+s.Issuer,
		"SESAME_CLIENT_ID="+sesametest.AppA,
		"SESAME_CLIENT_SECRET="+sesametest.Secret,
		"SESAME_REDIRECT_URI="+sesametest.RedirectURI(sesametest.AppA),
		"SESAME_POST_LOGOUT_URI=https://app-a.example/",
		"SESAME_PASSWORD="+sesametest.Password,
		"SESAME_RESOURCE="+sesametest.OrdersAPI,
	)
}

// Logto's own SDK, @logto/node, drives a running Sesame; see
// node/logto.test.mjs for the flows.
func TestLogtoNodeSDK(t *testing.T) { runNode(t, "@logto/node", "logto.test.mjs") }

// Logto's SDK asking for an API's token: getAccessToken(resource) answers a
// JWT access token that jose verifies as the API would, scopes cut to the
// user's roles; an unregistered API is refused; an m2m client gets one with
// client_credentials. See node/logto-resource.test.mjs.
func TestLogtoResource(t *testing.T) {
	const api, m2m, m2mSecret = "https://api.example.com/orders", "reports-job", "reports-job-secret-0123456789"
	s := sesametest.New(t, sesametest.Options{Configure: func(c *config.Config) {
		c.APIResources = []resource.APISpec{{Indicator: api, Name: "Orders API", Scopes: []string{"read:orders", "write:orders"}}}
		c.Roles = []resource.RoleSpec{{Name: "orders-reader", Permissions: map[string][]string{api: {"read:orders"}}}}
		for i, u := range c.Users {
			if u.Username == "alice" {
				c.Users[i].Roles = []string{"orders-reader"}
			}
		}
		c.Clients = append(c.Clients, client.Spec{ID: m2m, Secret: m2mSecret, Type: client.TypeM2M, Roles: []string{"orders-reader"}})
	}})
	runNodeFile(t, "@logto/node", "logto-resource.test.mjs",
		"SESAME_ISSUER="+s.Issuer,
		"SESAME_CLIENT_ID="+sesametest.AppA,
		"SESAME_CLIENT_SECRET="+sesametest.Secret,
		"SESAME_REDIRECT_URI="+sesametest.RedirectURI(sesametest.AppA),
		"SESAME_PASSWORD="+sesametest.Password,
		"SESAME_RESOURCE="+api,
		"SESAME_M2M_ID="+m2m,
		"SESAME_M2M_SECRET="+m2mSecret,
	)
}

// runNodeFile runs one node test file with env added. The npm packages
// come from `npm ci` in e2e/node (test.sh does it); without them the test
// skips outside CI and fails in CI.
func runNodeFile(t *testing.T, pkg, file string, env ...string) {
	if _, err := os.Stat(filepath.Join("node", "node_modules", filepath.FromSlash(pkg))); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("e2e/node has no node_modules: .ci/run must run npm ci there")
		}
		t.Skip("e2e/node has no node_modules: run `npm ci --prefix e2e/node` to run the openid-client interop test")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed")
	}
	cmd := exec.CommandContext(t.Context(), node, "--test", file)
	cmd.Dir = "node"
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	completed(t, out)
	if err != nil {
		t.Fatalf("%s: %v\n%s", pkg, err, out)
	}
}
