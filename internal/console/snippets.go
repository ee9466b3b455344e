package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/store"
)

// endpoint is one address an app's developer needs.
type endpoint struct{ Name, URL string }

// endpoints are the issuer's addresses (docs/endpoints.md): an app reads
// them from discovery, but a developer checks them by eye.
func endpoints(issuer string) []endpoint {
	return []endpoint{
		{"Issuer", issuer},
		{"Discovery", issuer + "/.well-known/openid-configuration"},
		{"Authorization", issuer + "/auth"},
		{"Token", issuer + "/token"},
		{"Userinfo", issuer + "/me"},
		{"End session", issuer + "/session/end"},
		{"JWKS", issuer + "/jwks"},
		{"Revocation", issuer + "/token/revocation"},
		{"Introspection", issuer + "/token/introspection"},
	}
}

// snippet is a ready-to-paste configuration for one SDK.
type snippet struct {
	// Title names the SDK; Note says what to know before pasting.
	Title, Note string
	// Lang is the code's language, for a class.
	Lang string
	Code string
}

// secretEnv is the environment variable the snippets read the secret
// from: a secret is shown once (C3), and belongs in the app's
// configuration, never in its code.
const secretEnv = "SESAME_CLIENT_SECRET"

// snippets are the configurations of an app for @logto/node (and Logto's
// browser SDKs), Sesame's Go SDK rp, and openid-client, as far as each
// fits its type.
func snippets(issuer string, c store.Client) []snippet {
	redirect := first(c.RedirectURIs, "https://your-app.example/callback")
	// Without a registered one, the snippets send none: Sesame refuses
	// an unregistered post_logout_redirect_uri (O2).
	postLogout := first(c.PostLogoutRedirectURIs, "")
	var out []snippet
	switch c.Type {
	case client.TypeWeb:
		out = append(out, logtoNode(issuer, c, redirect, postLogout), goWeb(issuer, c, redirect, postLogout),
			openIDClient(issuer, c, redirect, postLogout))
	case client.TypeSPA:
		out = append(out, logtoBrowser(issuer, c), openIDClient(issuer, c, redirect, postLogout))
	case client.TypeNative:
		out = append(out, goNative(issuer, c), openIDClient(issuer, c, redirect, postLogout))
	case client.TypeM2M:
		out = append(out, curlM2M(issuer, c), openIDClientM2M(issuer, c))
	}
	return out
}

// orNothing is f(s), or "" for an empty s.
func orNothing(s string, f func(string) string) string {
	if s == "" {
		return ""
	}
	return f(s)
}

func first(l []string, otherwise string) string {
	if len(l) > 0 {
		return l[0]
	}
	return otherwise
}

// js is s as a JavaScript string literal.
func js(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// logtoEndpoint is what Logto's SDKs call the endpoint: Sesame's base,
// the issuer without its /oidc, to which they add /oidc themselves. An
// issuer on another path has none.
func logtoEndpoint(issuer string) (string, bool) {
	return strings.CutSuffix(issuer, "/oidc")
}

// noLogto is the note of a Logto snippet for an issuer Logto's SDKs
// cannot use.
func noLogto(title string) snippet {
	return snippet{Title: title, Note: "Logto's SDKs add /oidc to the endpoint they are given, and this Sesame's issuer does not end in /oidc: use openid-client or another OpenID Connect library instead."}
}

func logtoNode(issuer string, c store.Client, redirect, postLogout string) snippet {
	const title = "@logto/node"
	endpoint, ok := logtoEndpoint(issuer)
	if !ok {
		return noLogto(title)
	}
	return snippet{Title: title, Lang: "js",
		Note: "Logto's own SDK works unchanged: its endpoint is Sesame's base address. " + secretNote,
		Code: `import LogtoClient from '@logto/node';

const logto = new LogtoClient(
  {
    endpoint: ` + js(endpoint) + `,
    appId: ` + js(c.ID) + `,
    appSecret: process.env.` + secretEnv + `,
  },
  {
    navigate: (url) => { /* send the browser to url */ },
    storage: sessionStorageOfYourApp, // getItem, setItem, removeItem
  },
);

await logto.signIn(` + js(redirect) + `);
// at the redirect URI:
await logto.handleSignInCallback(callbackUrl);
// to sign out:
await logto.signOut(` + orNothing(postLogout, js) + `);
`}
}

func logtoBrowser(issuer string, c store.Client) snippet {
	const title = "Logto's browser SDKs (@logto/browser, @logto/react...)"
	endpoint, ok := logtoEndpoint(issuer)
	if !ok {
		return noLogto(title)
	}
	return snippet{Title: title, Lang: "js",
		Note: "A public app has no secret: the SDK signs in with PKCE.",
		Code: `const config = {
  endpoint: ` + js(endpoint) + `,
  appId: ` + js(c.ID) + `,
};
`}
}

// secretNote says where the snippets take the secret from.
const secretNote = "The secret is read from the environment variable " + secretEnv + ": Sesame showed it once, when it was made."

// goWeb is the configuration of package rp for a web app, with its
// back-channel logout handler when the app has a back-channel URI.
func goWeb(issuer string, c store.Client, redirect, postLogout string) snippet {
	var b strings.Builder
	imports := []string{`"context"`, `"net/http"`, `"os"`, "", `"github.com/sesame-id/sesame/rp"`}
	if c.BackchannelLogoutURI != "" {
		imports = append(imports, `"github.com/sesame-id/sesame/rp/backchannel"`)
	}
	b.WriteString("import (\n")
	for _, i := range imports {
		if i == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString("\t" + i + "\n")
	}
	b.WriteString(")\n\n")
	b.WriteString("func signIns(ctx context.Context, mux *http.ServeMux) error {\n")
	b.WriteString("\tsessions := rp.NewMemoryStore()\n")
	b.WriteString("\tapp, err := rp.New(ctx, rp.Config{\n")
	fmt.Fprintf(&b, "\t\tIssuer:                %s,\n", strconv.Quote(issuer))
	fmt.Fprintf(&b, "\t\tClientID:              %s,\n", strconv.Quote(c.ID))
	fmt.Fprintf(&b, "\t\tClientSecret:          os.Getenv(%q),\n", secretEnv)
	fmt.Fprintf(&b, "\t\tRedirectURL:           %s,\n", strconv.Quote(redirect))
	if postLogout != "" {
		fmt.Fprintf(&b, "\t\tPostLogoutRedirectURL: %s,\n", strconv.Quote(postLogout))
	}
	b.WriteString("\t\tSessions:              sessions,\n")
	b.WriteString("\t})\n\tif err != nil {\n\t\treturn err\n\t}\n")
	b.WriteString("\tmux.HandleFunc(\"GET /sign-in\", func(w http.ResponseWriter, r *http.Request) { _ = app.SignIn(w, r) })\n")
	fmt.Fprintf(&b, "\tmux.HandleFunc(%s, func(w http.ResponseWriter, r *http.Request) { _, _ = app.HandleCallback(w, r) })\n",
		strconv.Quote("GET "+pathOf(redirect)))
	b.WriteString("\tmux.HandleFunc(\"POST /sign-out\", func(w http.ResponseWriter, r *http.Request) { _ = app.SignOutWeb(w, r) })\n")
	if c.BackchannelLogoutURI != "" {
		b.WriteString("\tlogouts, err := backchannel.New(backchannel.Config{Verifier: app.Verifier(), Sessions: sessions})\n")
		b.WriteString("\tif err != nil {\n\t\treturn err\n\t}\n")
		fmt.Fprintf(&b, "\tmux.Handle(%s, logouts)\n", strconv.Quote("POST "+pathOf(c.BackchannelLogoutURI)))
	}
	b.WriteString("\treturn nil\n}\n")
	return snippet{Title: "Go: Sesame's SDK (rp)", Lang: "go",
		Note: "Package rp signs people in with code + PKCE, keeps their tokens in an app session and signs them out; " +
			"rp/backchannel ends the app sessions a back-channel logout names. " + secretNote,
		Code: b.String()}
}

// goNative is the sign-in of a native app with package rp.
func goNative(issuer string, c store.Client) snippet {
	return snippet{Title: "Go: Sesame's SDK (rp)", Lang: "go",
		Note: "rp.SignInNative opens the browser on a loopback redirect URI (any port matches http://127.0.0.1/...) and returns the tokens.",
		Code: `import (
	"context"

	"github.com/sesame-id/sesame/rp"
)

func signIn(ctx context.Context, openBrowser func(url string) error) (*rp.Tokens, error) {
	return rp.SignInNative(ctx, rp.NativeConfig{
		Issuer:   ` + strconv.Quote(issuer) + `,
		ClientID: ` + strconv.Quote(c.ID) + `,
	}, openBrowser)
}
`}
}

// pathOf is the path of an absolute URL, "/" when it has none.
func pathOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Path == "" {
		return "/"
	}
	return u.Path
}

// discovery is openid-client's discovery call for c, with the insecure
// requests an http issuer (a laptop setup) needs.
func discovery(issuer string, c store.Client) string {
	var args []string
	args = append(args, "new URL("+js(issuer)+")", js(c.ID))
	if client.IsPublic(c) {
		args = append(args, "undefined", "client.None()")
	} else {
		args = append(args, "process.env."+secretEnv)
	}
	if strings.HasPrefix(issuer, "http://") {
		if len(args) == 3 {
			args = append(args, "undefined")
		}
		args = append(args, "{ execute: [client.allowInsecureRequests] }, // an http issuer: for a laptop only")
	}
	return "const config = await client.discovery(\n  " + strings.Join(args, ",\n  ") + "\n);\n"
}

func openIDClient(issuer string, c store.Client, redirect, postLogout string) snippet {
	note := "openid-client reads every endpoint from discovery. Sesame requires PKCE S256."
	if !client.IsPublic(c) {
		note += " " + secretNote
	}
	return snippet{Title: "openid-client", Lang: "js", Note: note,
		Code: `import * as client from 'openid-client';

` + discovery(issuer, c) + `
const verifier = client.randomPKCECodeVerifier();
const nonce = client.randomNonce();
const signInUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: ` + js(redirect) + `,
  scope: 'openid profile email',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  nonce,
});
// at the redirect URI (callbackUrl is the URL it was called with):
const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
  pkceCodeVerifier: verifier, expectedNonce: nonce, idTokenExpected: true,
});
// to sign out:
const signOutUrl = client.buildEndSessionUrl(config, {
  id_token_hint: tokens.id_token,` + orNothing(postLogout, func(u string) string { return "\n  post_logout_redirect_uri: " + js(u) + "," }) + `
});
`}
}

func openIDClientM2M(issuer string, c store.Client) snippet {
	return snippet{Title: "openid-client", Lang: "js", Note: secretNote,
		Code: `import * as client from 'openid-client';

` + discovery(issuer, c) + `
const tokens = await client.clientCredentialsGrant(config);
`}
}

func curlM2M(issuer string, c store.Client) snippet {
	return snippet{Title: "curl", Lang: "sh",
		Note: "A machine-to-machine app gets its own access token with client_credentials. " + secretNote,
		Code: `curl -s -u ` + shellQuote(url.QueryEscape(c.ID)) + `":$` + secretEnv + `" \
  -d grant_type=client_credentials \
  ` + shellQuote(issuer+"/token") + `
`}
}

// shellQuote is s in single quotes for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
