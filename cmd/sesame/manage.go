package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-id/sesame/internal/account"
	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/client"
	"github.com/sesame-id/sesame/internal/keys"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/secret"
	"github.com/sesame-id/sesame/internal/server"
	"github.com/sesame-id/sesame/internal/signout"
	"github.com/sesame-id/sesame/internal/store"
)

// withServer builds a Sesame on the configured database for one command,
// logging as serve does, and closes it afterwards. The database must
// exist already (existingDatabase).
func withServer(cmd *cobra.Command, g *globals, getenv func(string) string, stderr io.Writer, fn func(ctx context.Context, srv *server.Server) error) error {
	cfg, err := g.existingDatabase(getenv)
	if err != nil {
		return err
	}
	srv, err := build(cmd.Context(), cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer srv.Store.Close()
	return fn(cmd.Context(), srv)
}

// cliActor is who the audit log says made a change from the command
// line: the operator's login on this machine.
func cliActor() audit.Actor {
	who := "unknown"
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	if host, err := os.Hostname(); err == nil {
		who += "@" + host
	}
	return audit.ByCLI(who)
}

// cliRecorder is the audit log's recorder of the commands' changes.
func cliRecorder(srv *server.Server) audit.Recorder {
	return audit.Recorder{Store: srv.Store, Now: time.Now}
}

// audited writes the audit entry of a change a command has committed.
// The change stands whatever happens here: a failure is one line on
// stderr, and the command still reports the change.
func audited(ctx context.Context, srv *server.Server, stderr io.Writer, e audit.Entry) {
	e.Actor = cliActor()
	if err := cliRecorder(srv).After(ctx, e); err != nil {
		fmt.Fprintf(stderr, "sesame: the change is made, but its audit entry was not written: %v\n", err)
	}
}

// auditedSignOut is the signout.Record of a sign-out a command asks for:
// e, its Detail said by detail, in the sign-out's own transaction.
func auditedSignOut(ctx context.Context, srv *server.Server, e audit.Entry, detail func([]signout.Done) string) signout.Record {
	return func(tx store.Tx, done []signout.Done) error {
		e.Actor = cliActor()
		e.Detail = detail(done)
		return cliRecorder(srv).InTx(ctx, tx, e)
	}
}

// usersCmd manages accounts on the configured database. Passwords come
// from stdin or --password-file, never from an argument.
func usersCmd(g *globals, getenv func(string) string, stdout, stderr io.Writer) *cobra.Command {
	users := &cobra.Command{Use: "users", Short: "Add accounts, set passwords, disable accounts, give roles"}
	var email, name string
	addPassword := secretSource{What: "password", FileFlag: "password-file"}
	add := &cobra.Command{
		Use:   "add USERNAME",
		Short: "Create an account; the password is read from stdin or --password-file",
		Args:  usernameOnly(&addPassword),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := g.existingDatabase(getenv); err != nil {
				return err // before the password is asked for
			}
			password, err := addPassword.read(cmd.InOrStdin(), stderr)
			if err != nil {
				return err
			}
			return withServer(cmd, g, getenv, stderr, func(ctx context.Context, srv *server.Server) error {
				a, err := srv.Accounts.Create(ctx, account.Spec{Username: args[0], Password: password, Email: email, Name: name})
				if errors.Is(err, account.ErrUsernameTaken) {
					// The password read would otherwise be dropped
					// silently: changing one is set-password's.
					return fmt.Errorf("an account %q exists already; change its password with `sesame users set-password`", args[0])
				}
				if err != nil {
					return err
				}
				audited(ctx, srv, stderr, audit.Entry{Action: audit.AccountCreate, Target: audit.OnAccount(a.ID), Account: a.ID,
					Detail: audit.Fields("username", "email", "name")})
				_, err = fmt.Fprintf(stdout, "account %s (%s) saved\n", a.Username, a.ID)
				return err
			})
		},
	}
	add.Flags().StringVar(&email, "email", "", "email address")
	add.Flags().StringVar(&name, "name", "", "display name")
	add.Flags().StringVar(&addPassword.File, addPassword.FileFlag, "", "file that holds the password (default: read a line from stdin)")
	refuseSecretFlag(add, "password", &addPassword)

	newPassword := secretSource{What: "password", FileFlag: "password-file"}
	setPassword := &cobra.Command{
		Use:   "set-password USERNAME",
		Short: "Change an account's password and end its sessions; the password is read from stdin or --password-file",
		Long: "Changes the password and, in the same transaction, ends every session of the account and every grant " +
			"(offline ones included) with its tokens, telling the sessions' apps by back-channel logout. " +
			"The password is read from --password-file, " +
			"or from stdin: one line from a pipe, or typed twice without echo on a terminal.",
		Args: usernameOnly(&newPassword),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := g.existingDatabase(getenv); err != nil {
				return err // before the password is asked for
			}
			password, err := newPassword.read(cmd.InOrStdin(), stderr)
			if err != nil {
				return err
			}
			return withServer(cmd, g, getenv, stderr, func(ctx context.Context, srv *server.Server) error {
				a, err := existing(ctx, srv, args[0])
				if err != nil {
					return err
				}
				hash, err := srv.Accounts.HashPassword(password)
				if err != nil {
					return err
				}
				// The new password and the end of the sessions and grants
				// are one transaction (A5): a failure changes nothing.
				// First delivery attempts are made here; a running
				// server's workers retry what fails, from the same
				// database.
				reset, err := srv.Signout.ResetPassword(ctx, signout.PasswordReset{AccountID: a.ID, Hash: hash})
				if err != nil {
					return fmt.Errorf("password of %s not changed: %w", a.Username, err)
				}
				audited(ctx, srv, stderr, audit.Entry{Action: audit.AccountPasswordChange, Target: audit.OnAccount(a.ID), Account: a.ID,
					Detail: audit.SessionsEnded(len(reset.Sessions))})
				_, err = fmt.Fprintf(stdout, "password of %s changed; %d sessions ended\n", a.Username, len(reset.Sessions))
				return err
			})
		},
	}
	setPassword.Flags().StringVar(&newPassword.File, newPassword.FileFlag, "", "file that holds the password (default: read a line from stdin)")
	refuseSecretFlag(setPassword, "password", &newPassword)
	disable := &cobra.Command{
		Use: "disable USERNAME", Short: "Disable an account and sign it out of every device", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withServer(cmd, g, getenv, stderr, func(ctx context.Context, srv *server.Server) error {
				a, err := existing(ctx, srv, args[0])
				if err != nil {
					return err
				}
				if _, _, err := srv.Accounts.Update(ctx, a.ID, func(a *store.Account) { a.Disabled = true }); err != nil {
					return err
				}
				// The disable is recorded with the sign-out that follows it,
				// which says how many sessions it ended.
				done, err := srv.Signout.AllDevices(ctx, a.ID, signout.CauseAdmin, auditedSignOut(ctx, srv,
					audit.Entry{Action: audit.AccountDisable, Target: audit.OnAccount(a.ID), Account: a.ID},
					func(done []signout.Done) string { return audit.SessionsEnded(len(done)) }))
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(stdout, "account %s disabled; %d sessions ended\n", a.Username, len(done))
				return err
			})
		},
	}
	users.AddCommand(add, setPassword, disable, userRolesCmd(g, getenv, stdout, stderr))
	return users
}

// existing reads an account by username, with a readable error.
func existing(ctx context.Context, srv *server.Server, username string) (store.Account, error) {
	a, err := srv.Accounts.ByUsername(ctx, username) // A1: any case or width of the name
	if errors.Is(err, store.ErrNotFound) {
		return a, fmt.Errorf("no account named %q", username)
	}
	return a, err
}

// clientsCmd manages clients on the configured database. A confidential
// client's secret comes from stdin or --secret-file, or Sesame generates
// one and prints it once; never from an argument.
func clientsCmd(g *globals, getenv func(string) string, stdout, stderr io.Writer) *cobra.Command {
	clients := &cobra.Command{Use: "clients", Short: "Add, list and remove clients; give m2m clients roles"}
	var spec client.Spec
	var offline, generate bool
	secretIn := secretSource{What: "client secret", FileFlag: "secret-file"}
	add := &cobra.Command{
		Use:   "add ID",
		Short: "Create or update a client; a web or m2m client's secret is read from stdin or --secret-file, or generated",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec.ID = args[0]
			if cmd.Flags().Changed("offline-survives-signout") {
				spec.OfflineSurvivesSignout = &offline
			}
			shown := ""
			switch {
			case spec.Type != client.TypeWeb && spec.Type != client.TypeM2M:
				if generate || secretIn.File != "" {
					return fmt.Errorf("client %s: a %s client is public and has no secret", spec.ID, spec.Type)
				}
			case generate && secretIn.File != "":
				return errors.New("--generate-secret and --secret-file: choose one")
			case generate:
				shown = secret.NewClientSecret() // C3: 256 bits, stored as SHA-256
				spec.Secret = shown
			default:
				if _, err := g.existingDatabase(getenv); err != nil {
					return err // before the secret is asked for
				}
				var err error
				if spec.Secret, err = secretIn.read(cmd.InOrStdin(), stderr); err != nil {
					return err
				}
			}
			return withServer(cmd, g, getenv, stderr, func(ctx context.Context, srv *server.Server) error {
				action := audit.ClientUpdate
				if _, err := srv.Store.Client(ctx, spec.ID); errors.Is(err, store.ErrNotFound) {
					action = audit.ClientCreate
				}
				c, err := srv.Clients.Upsert(ctx, spec)
				if err != nil {
					return fmt.Errorf("client %s: %s", spec.ID, oneLine(err))
				}
				audited(ctx, srv, stderr, audit.Entry{Action: action, Target: audit.OnClient(c.ID), Detail: "type " + c.Type})
				if _, err := fmt.Fprintf(stdout, "client %s (%s) saved\n", c.ID, c.Type); err != nil || shown == "" {
					return err
				}
				_, err = fmt.Fprintf(stdout, "client_secret: %s\n(shown once: it is stored hashed)\n", shown)
				return err
			})
		},
	}
	f := add.Flags()
	f.StringVar(&spec.Type, "type", "web", "web | spa | native | m2m")
	f.StringVar(&secretIn.File, secretIn.FileFlag, "", "file that holds the client secret (web, m2m; default: read a line from stdin); stored hashed")
	f.BoolVar(&generate, "generate-secret", false, "generate a 256-bit secret and print it once (web, m2m)")
	refuseSecretFlag(add, "secret", &secretIn)
	f.StringVar(&spec.Name, "name", "", "name shown to people")
	f.StringSliceVar(&spec.RedirectURIs, "redirect-uri", nil, "redirect URI (repeatable)")
	f.StringSliceVar(&spec.PostLogoutRedirectURIs, "post-logout-redirect-uri", nil, "post-logout redirect URI (repeatable)")
	f.StringVar(&spec.BackchannelLogoutURI, "backchannel-logout-uri", "", "back-channel logout URI")
	f.BoolVar(&spec.FirstParty, "first-party", false, "never show the consent page")
	f.BoolVar(&offline, "offline-survives-signout", true, "offline_access grants survive sign-out")
	list := &cobra.Command{
		Use: "list", Short: "List clients", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withServer(cmd, g, getenv, stderr, func(ctx context.Context, srv *server.Server) error {
				cs, err := srv.Store.Clients(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tTYPE\tFIRST PARTY\tBACK-CHANNEL\tREDIRECT URIS")
				for _, c := range cs {
					fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\n", c.ID, c.Type, c.FirstParty, c.BackchannelLogoutURI, strings.Join(c.RedirectURIs, " "))
				}
				return tw.Flush()
			})
		},
	}
	remove := &cobra.Command{
		Use: "remove ID", Short: "Delete a client; its grants are revoked and its tokens stop working", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := client.CheckNotReserved(args[0]); err != nil {
				return err
			}
			return withServer(cmd, g, getenv, stderr, func(ctx context.Context, srv *server.Server) error {
				existed, err := deleteClient(ctx, srv, args[0])
				if err != nil {
					return err
				}
				if !existed {
					return fmt.Errorf("no client %q", args[0])
				}
				_, err = fmt.Fprintf(stdout, "client %s removed\n", args[0])
				return err
			})
		},
	}
	clients.AddCommand(add, list, remove, clientRolesCmd(g, getenv, stdout, stderr))
	return clients
}

// deleteClient deletes the client id, its grants revoked, with its audit
// entry in the same transaction; existed is false when there was none.
func deleteClient(ctx context.Context, srv *server.Server, id string) (existed bool, err error) {
	err = srv.Store.InTx(ctx, store.Durable, func(tx store.Tx) error {
		var err error
		if existed, err = tx.DeleteClient(ctx, id, time.Now()); err != nil || !existed {
			return err
		}
		return cliRecorder(srv).InTx(ctx, tx,
			audit.Entry{Actor: cliActor(), Action: audit.ClientDelete, Target: audit.OnClient(id)})
	})
	return existed, err
}

// adminCmd bootstraps access to the admin API.
func adminCmd(g *globals, getenv func(string) string, stdout, stderr io.Writer) *cobra.Command {
	adm := &cobra.Command{Use: "admin", Short: "Bootstrap the admin API"}
	create := &cobra.Command{
		Use:   "create-client ID",
		Short: "Create an m2m client holding the built-in admin role (sesame:admin tokens); its secret is printed once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withServer(cmd, g, getenv, stderr, func(ctx context.Context, srv *server.Server) error {
				if _, err := srv.Store.Client(ctx, args[0]); err == nil {
					return fmt.Errorf("a client %q exists already", args[0])
				}
				plain := secret.NewClientSecret() // C3: 256 bits, stored as SHA-256
				c, err := srv.Clients.Upsert(ctx, client.Spec{ID: args[0], Type: client.TypeM2M, Secret: plain})
				if err != nil {
					return fmt.Errorf("client %s: %s", args[0], oneLine(err))
				}
				audited(ctx, srv, stderr, audit.Entry{Action: audit.ClientCreate, Target: audit.OnClient(c.ID), Detail: "type m2m"})
				// C5: admin is the built-in role, given as `clients roles`
				// gives any role (audited as such), not the deprecated
				// admin flag.
				if _, err := srv.Resources.GiveRole(ctx, resource.Client(c.ID), resource.RoleAdmin, cliRecord(ctx, srv)); err != nil {
					// Without the role the client is of no use, and its
					// secret was not printed: take it back, so that the
					// command can simply run again.
					if _, derr := deleteClient(ctx, srv, c.ID); derr != nil {
						return fmt.Errorf("client %s is created without the admin role (%s), and could not be removed (%s): remove it with sesame clients remove %s",
							c.ID, oneLine(err), oneLine(derr), c.ID)
					}
					return fmt.Errorf("client %s: give it the admin role: %s; the client is removed again", c.ID, oneLine(err))
				}
				_, err = fmt.Fprintf(stdout, "admin client %s created\nclient_secret: %s\n(shown once: it is stored hashed)\n"+
					"get a token: POST {issuer}/token grant_type=client_credentials scope=sesame:admin\n", c.ID, plain)
				return err
			})
		},
	}
	adm.AddCommand(create)
	return adm
}

// sessionsCmd lists and ends an account's sessions.
func sessionsCmd(g *globals, getenv func(string) string, stdout, stderr io.Writer) *cobra.Command {
	sessions := &cobra.Command{Use: "sessions", Short: "List and end an account's sessions"}
	list := &cobra.Command{
		Use: "list USERNAME", Short: "List an account's sessions (devices)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withServer(cmd, g, getenv, stderr, func(ctx context.Context, srv *server.Server) error {
				a, err := existing(ctx, srv, args[0])
				if err != nil {
					return err
				}
				ss, err := srv.Store.SessionsByAccount(ctx, a.ID)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
				fmt.Fprintln(tw, "SESSION\tSIGNED IN\tLAST ACTIVE\tIP\tAPPS\tBROWSER")
				for _, s := range ss {
					var apps []string
					for _, au := range s.Authorizations {
						apps = append(apps, au.ClientID)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.AuthTime.UTC().Format(time.RFC3339),
						s.LastSeenAt.UTC().Format(time.RFC3339), s.IP, strings.Join(apps, ","), s.UserAgent)
				}
				return tw.Flush()
			})
		},
	}
	revoke := &cobra.Command{
		Use: "revoke SESSION_ID", Short: "End a session: its apps are signed out and told (O7)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withServer(cmd, g, getenv, stderr, func(ctx context.Context, srv *server.Server) error {
				// First attempts are made here; a running server's workers
				// retry what fails, from the same database.
				d, err := srv.Signout.RevokeSession(ctx, args[0], signout.CauseAdmin, auditedSignOut(ctx, srv,
					audit.Entry{Action: audit.SessionRevoke, Target: audit.OnSession(args[0])},
					func(done []signout.Done) string { return "receipt " + done[0].Receipt.ID }))
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("no session %q", args[0])
				}
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(stdout, "session %s ended; receipt %s; %d back-channel logouts queued\n", args[0], d.Receipt.ID, len(d.Deliveries))
				return err
			})
		},
	}
	sessions.AddCommand(list, revoke)
	return sessions
}

// keysCmd lists and rotates the signing keys.
func keysCmd(g *globals, getenv func(string) string, stdout, stderr io.Writer) *cobra.Command {
	ks := &cobra.Command{Use: "keys", Short: "List and rotate the signing keys"}
	list := &cobra.Command{
		Use: "list", Short: "List the signing keys and what each does now", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withServer(cmd, g, getenv, stderr, func(ctx context.Context, srv *server.Server) error {
				tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
				fmt.Fprintln(tw, "KID\tALG\tSTATE\tSIGNS FROM\tPUBLISHED UNTIL")
				for _, k := range srv.Keys.List() {
					until := "-"
					if !k.Until.IsZero() {
						until = k.Until.UTC().Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Alg, k.State, k.NotBefore.UTC().Format(time.RFC3339), until)
				}
				return tw.Flush()
			})
		},
	}
	var alg string
	var ahead time.Duration
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Make a new signing key: published at once, signing after --publish-ahead",
		Long: "Makes a new key for each algorithm (or --alg). It is in the JWKS at once and signs from " +
			"now + --publish-ahead, so apps that cache the JWKS have it before they meet it. The key it " +
			"replaces stays published for session_max_ttl. Running instances pick the new key up " +
			"within a minute (at once on PostgreSQL).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			algs := []string{keys.ES256, keys.RS256}
			switch alg {
			case "", "all":
			case keys.ES256, keys.RS256:
				algs = []string{alg}
			default:
				return fmt.Errorf("--alg %q: want ES256, RS256 or all", alg)
			}
			if ahead < 0 {
				return fmt.Errorf("--publish-ahead %v: must not be negative", ahead)
			}
			return withServer(cmd, g, getenv, stderr, func(ctx context.Context, srv *server.Server) error {
				for _, a := range algs {
					if err := srv.Keys.Rotate(ctx, a, ahead); err != nil {
						return fmt.Errorf("rotate %s: %w", a, err)
					}
					audited(ctx, srv, stderr, audit.Entry{Action: audit.KeyRotate,
						Detail: a + ", signs from " + time.Now().Add(ahead).UTC().Format(time.RFC3339)})
				}
				_, err := fmt.Fprintf(stdout, "new %s key published; it signs from %s\n", strings.Join(algs, " and "),
					time.Now().Add(ahead).UTC().Format(time.RFC3339))
				return err
			})
		},
	}
	rotate.Flags().StringVar(&alg, "alg", "all", "ES256, RS256 or all")
	rotate.Flags().DurationVar(&ahead, "publish-ahead", 24*time.Hour, "how long the new key is published before it signs")
	ks.AddCommand(list, rotate)
	return ks
}
