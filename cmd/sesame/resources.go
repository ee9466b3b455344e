package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-id/sesame/internal/admin"
	"github.com/sesame-id/sesame/internal/audit"
	"github.com/sesame-id/sesame/internal/config"
	"github.com/sesame-id/sesame/internal/resource"
	"github.com/sesame-id/sesame/internal/server"
	"github.com/sesame-id/sesame/internal/store"
)

// The commands of API resources, roles and who holds them (R1). They make
// their changes through package resource, as the admin API does, so both
// apply the same rules: what the configuration file declares is refused
// (C4), the built-in admin role is neither given permissions nor removed
// (C5), and each change is audited as the command line's, in its own
// transaction.

// cliRecord is the resource.Record of a command's change: its audit
// entry, made by the command line, in the change's transaction.
func cliRecord(ctx context.Context, srv *server.Server) resource.Record {
	return func(tx store.Tx, e audit.Entry) error {
		e.Actor = cliActor()
		return cliRecorder(srv).InTx(ctx, tx, e)
	}
}

// apiFlags are the fields of an API resource that add and set take.
type apiFlags struct {
	name   string
	scopes []string
	// descriptions are the --scope-description values, SCOPE=words each.
	descriptions []string
	ttl          time.Duration
}

func (f *apiFlags) register(c *cobra.Command, descriptionUsage string) {
	c.Flags().StringVar(&f.name, "name", "", "name shown on the consent page (default: the indicator)")
	c.Flags().StringSliceVar(&f.scopes, "scopes", nil, "the scopes the API defines, comma-separated")
	// An array, not a slice: a slice flag would split the words' commas.
	c.Flags().StringArrayVar(&f.descriptions, "scope-description", nil, descriptionUsage)
	c.Flags().DurationVar(&f.ttl, "access-token-ttl", 0, "lifetime of its access tokens (0: the top-level access_token_ttl)")
}

// parseScopeDescriptions reads --scope-description values, SCOPE=words
// each, into words by scope. Empty words are kept: set reads them as
// "remove", and add leaves them to the resource's rules to refuse.
func parseScopeDescriptions(values []string) (map[string]string, error) {
	f := keyedFlag{name: "--scope-description", form: `SCOPE=words, such as read:orders="Read your orders"`, again: "give its words once"}
	return parseKeyed(f, values, func(words string) string { return words })
}

// describedScopes is the SCOPE DESCRIPTIONS column: each scope that has
// words, in the resource's order, as --scope-description takes it.
func describedScopes(a store.APIResource) string {
	var out []string
	for _, sc := range a.Scopes {
		if words, ok := a.ScopeDescriptions[sc]; ok {
			out = append(out, fmt.Sprintf("%s=%q", sc, words))
		}
	}
	return strings.Join(out, " ")
}

// resourcesCmd lists and manages the API resources that apps get JWT
// access tokens for (R1).
func resourcesCmd(g *globals, getenv func(string) string, stdout, stderr io.Writer) *cobra.Command {
	resources := &cobra.Command{Use: "resources", Short: "List, add, change and remove API resources"}
	list := &cobra.Command{
		Use: "list", Short: "List API resources", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withServer(cmd, g, getenv, stderr, func(ctx context.Context, srv *server.Server) error {
				apis, err := srv.Store.APIResources(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
				// The descriptions, free text, come last, so a long one
				// does not push the other columns away.
				fmt.Fprintln(tw, "INDICATOR\tNAME\tSCOPES\tTOKEN TTL\tDECLARED\tSCOPE DESCRIPTIONS")
				for _, a := range apis {
					ttl := a.AccessTokenTTL.String()
					if a.AccessTokenTTL <= 0 {
						ttl = srv.Config.AccessTokenTTL.String() + " (default)"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Indicator, a.Name, strings.Join(a.Scopes, " "), ttl, declared(a.Declared), describedScopes(a))
				}
				return tw.Flush()
			})
		},
	}
	var added apiFlags
	add := &cobra.Command{
		Use: "add INDICATOR", Short: "Register an API resource (an absolute URI: the aud of its tokens)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			descriptions, err := parseScopeDescriptions(added.descriptions)
			if err != nil {
				return usageErr(cmd, err)
			}
			return withServer(cmd, g, getenv, stderr, func(ctx context.Context, srv *server.Server) error {
				spec := resource.APISpec{Indicator: args[0], Name: added.name, Scopes: added.scopes,
					ScopeDescriptions: descriptions, AccessTokenTTL: added.ttl}
				if _, err := srv.Resources.CreateAPI(ctx, spec, cliRecord(ctx, srv)); err != nil {
					return err
				}
				_, err := fmt.Fprintf(stdout, "API resource %s added\n", args[0])
				return err
			})
		},
	}
	added.register(add, `SCOPE=words: what the consent page says of one of the scopes, such as read:orders="Read your orders" (repeatable)`)
	var changed apiFlags
	set := &cobra.Command{
		Use: "set INDICATOR", Short: "Change an API resource: the flags given, and only those", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			if !f.Changed("name") && !f.Changed("scopes") && !f.Changed("scope-description") && !f.Changed("access-token-ttl") {
				return usageErr(cmd, errors.New("nothing to change: give --name, --scopes or --access-token-ttl, or --scope-description SCOPE=words"))
			}
			descriptions, err := parseScopeDescriptions(changed.descriptions)
			if err != nil {
				return usageErr(cmd, err)
			}
			return withServer(cmd, g, getenv, stderr, func(ctx context.Context, srv *server.Server) error {
				edit := func(s *resource.APISpec) {
					if f.Changed("name") {
						s.Name = changed.name
					}
					if f.Changed("scopes") {
						s.Scopes = changed.scopes
					}
					if len(descriptions) > 0 {
						s.ScopeDescriptions = describe(s.ScopeDescriptions, descriptions)
					}
					if f.Changed("access-token-ttl") {
						s.AccessTokenTTL = changed.ttl
					}
				}
				if _, err := srv.Resources.UpdateAPI(ctx, args[0], edit, cliRecord(ctx, srv)); err != nil {
					return err
				}
				_, err := fmt.Fprintf(stdout, "API resource %s saved\n", args[0])
				return err
			})
		},
	}
	changed.register(set, `SCOPE=words: what the consent page says of one of the scopes, such as read:orders="Read your orders"; SCOPE= removes its words; the other scopes' words are kept (repeatable)`)
	remove := &cobra.Command{
		Use:   "remove INDICATOR",
		Short: "Remove an API resource and every role's permission on it; token requests for it are refused from then on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withServer(cmd, g, getenv, stderr, func(ctx context.Context, srv *server.Server) error {
				if err := srv.Resources.DeleteAPI(ctx, args[0], cliRecord(ctx, srv)); err != nil {
					return err
				}
				_, err := fmt.Fprintf(stdout, "API resource %s removed\n", args[0])
				return err
			})
		},
	}
	resources.AddCommand(list, add, set, remove)
	return resources
}

// rolesCmd lists and manages roles, the permissions accounts and m2m
// clients hold on API resources (R1).
func rolesCmd(g *globals, getenv func(string) string, stdout, stderr io.Writer) *cobra.Command {
	roles := &cobra.Command{Use: "roles", Short: "List, set and remove roles"}
	list := &cobra.Command{
		Use: "list", Short: "List roles with their permissions", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withServer(cmd, g, getenv, stderr, func(ctx context.Context, srv *server.Server) error {
				list, err := srv.Store.Roles(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tDECLARED\tPERMISSIONS")
				for _, r := range list {
					var perms []string
					for _, ind := range slices.Sorted(maps.Keys(r.Permissions)) {
						perms = append(perms, ind+"="+strings.Join(r.Permissions[ind], ","))
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Name, declared(r.Declared), strings.Join(perms, " "))
				}
				return tw.Flush()
			})
		},
	}
	var permissions []string
	set := &cobra.Command{
		Use:   "set NAME",
		Short: "Create a role or replace its permissions: those not given are removed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			perms, err := parsePermissions(permissions)
			if err != nil {
				return usageErr(cmd, err)
			}
			return withServer(cmd, g, getenv, stderr, func(ctx context.Context, srv *server.Server) error {
				_, created, err := srv.Resources.PutRole(ctx, resource.RoleSpec{Name: args[0], Permissions: perms}, cliRecord(ctx, srv))
				if err != nil {
					return err
				}
				done := "saved"
				if created {
					done = "created"
				}
				_, err = fmt.Fprintf(stdout, "role %s %s\n", args[0], done)
				return err
			})
		},
	}
	// An array, not a slice: a slice flag would split the scopes' commas.
	set.Flags().StringArrayVar(&permissions, "permission", nil, "INDICATOR=scope1,scope2: the scopes the role allows on that API resource (repeatable)")
	remove := &cobra.Command{
		Use: "remove NAME", Short: "Remove a role and take it from every account and client holding it", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withServer(cmd, g, getenv, stderr, func(ctx context.Context, srv *server.Server) error {
				if err := srv.Resources.DeleteRole(ctx, args[0], cliRecord(ctx, srv)); err != nil {
					return err
				}
				_, err := fmt.Fprintf(stdout, "role %s removed\n", args[0])
				return err
			})
		},
	}
	roles.AddCommand(list, set, remove)
	return roles
}

// parsePermissions reads --permission values, INDICATOR=scope1,scope2
// each, into a role's permissions; INDICATOR= gives a token for the API
// with no scope.
func parsePermissions(values []string) (map[string][]string, error) {
	f := keyedFlag{name: "--permission", form: "INDICATOR=scope1,scope2", again: "list its scopes in one"}
	return parseKeyed(f, values, func(list string) []string {
		if list == "" {
			return []string{}
		}
		return strings.Split(list, ",")
	})
}

// keyedFlag is a repeatable flag whose values are KEY=value, for the
// lines that refuse a value: its name, how a value is written, and what
// to do rather than give a key twice.
type keyedFlag struct {
	name, form, again string
}

// parseKeyed reads the values of f by key, each split at its first '='
// (a value may hold one, a description say) and read; each key is given
// once.
func parseKeyed[V any](f keyedFlag, values []string, read func(string) V) (map[string]V, error) {
	out := make(map[string]V, len(values))
	for _, v := range values {
		key, rest, ok := strings.Cut(v, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("%s %q: want %s", f.name, v, f.form)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("%s: %s is given twice; %s", f.name, key, f.again)
		}
		out[key] = read(rest)
	}
	return out, nil
}

// describe makes changes to words, the edit's own copy of the resource's
// (UpdateAPI hands each edit copies, and stores none as nil): blank words
// remove the scope's, others replace them.
func describe(words, changes map[string]string) map[string]string {
	if words == nil {
		words = map[string]string{}
	}
	for scope, text := range changes {
		if strings.TrimSpace(text) == "" {
			delete(words, scope)
		} else {
			words[scope] = text
		}
	}
	return words
}

// declared is the DECLARED column: whether the configuration file
// manages the record (C4).
func declared(byFile bool) string {
	if byFile {
		return "yes"
	}
	return "no"
}

// holderRoles is `users roles` and `clients roles`: with no role given it
// prints the roles held; given roles, or --clear, it replaces them.
type holderRoles struct {
	// find reads the holder named on the command line: its name as
	// shown, and whether the configuration file lists its roles.
	find func(ctx context.Context, srv *server.Server, arg string) (holder resource.Holder, shown string, byFile bool, err error)
}

func (h holderRoles) command(use, short string, g *globals, getenv func(string) string, stdout, stderr io.Writer) *cobra.Command {
	var clear bool
	cmd := &cobra.Command{
		Use: use, Short: short,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return wrongArgs(c, 0)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			roles := args[1:]
			if clear && len(roles) > 0 {
				return usageErr(cmd, errors.New("--clear and roles: give one"))
			}
			return withServer(cmd, g, getenv, stderr, func(ctx context.Context, srv *server.Server) error {
				holder, shown, byFile, err := h.find(ctx, srv, args[0])
				if err != nil {
					return err
				}
				var held []string
				switch {
				case !clear && len(roles) == 0:
					held, err = srv.Resources.RolesOf(ctx, holder)
				case byFile:
					return resource.ManagedByFile("the role list of " + shown)
				default:
					held, err = srv.Resources.SetRoles(ctx, holder, roles, cliRecord(ctx, srv))
				}
				if err != nil {
					return err
				}
				return printRoles(stdout, shown, held)
			})
		},
	}
	cmd.Flags().BoolVar(&clear, "clear", false, "remove every role")
	return cmd
}

func printRoles(w io.Writer, shown string, roles []string) error {
	list := strings.Join(roles, " ")
	if list == "" {
		list = "none"
	}
	_, err := fmt.Fprintf(w, "roles of %s: %s\n", shown, list)
	return err
}

// userRolesCmd is `users roles USERNAME [ROLE...]`.
func userRolesCmd(g *globals, getenv func(string) string, stdout, stderr io.Writer) *cobra.Command {
	h := holderRoles{find: func(ctx context.Context, srv *server.Server, name string) (resource.Holder, string, bool, error) {
		a, err := existing(ctx, srv, name)
		if err != nil {
			return resource.Holder{}, "", false, err
		}
		return resource.Account(a.ID), "user " + a.Username, declaredBy(srv.Config).UserRoles(a.Username), nil
	}}
	return h.command("roles USERNAME [ROLE...]", "Show an account's roles; given roles (or --clear), replace them",
		g, getenv, stdout, stderr)
}

// clientRolesCmd is `clients roles ID [ROLE...]`: m2m clients only hold
// roles, a person's come with their account.
func clientRolesCmd(g *globals, getenv func(string) string, stdout, stderr io.Writer) *cobra.Command {
	h := holderRoles{find: func(ctx context.Context, srv *server.Server, id string) (resource.Holder, string, bool, error) {
		c, err := srv.Store.Client(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return resource.Holder{}, "", false, fmt.Errorf("no client %q", id)
		}
		if err != nil {
			return resource.Holder{}, "", false, err
		}
		byFile := declaredBy(srv.Config).ClientRoles(c.ID)
		return resource.Client(c.ID), "client " + c.ID, byFile, nil
	}}
	return h.command("roles ID [ROLE...]", "Show an m2m client's roles; given roles (or --clear), replace them",
		g, getenv, stdout, stderr)
}

// declaredBy is what cfg's file declares, as the admin API and the
// console read it (C4).
func declaredBy(cfg config.Config) admin.Declared {
	return admin.Declared{Clients: cfg.Clients, Users: cfg.Users}
}
