// Command sesame is the Sesame OpenID provider: `sesame serve` runs it,
// `sesame migrate` prepares its database, `sesame version` says which build
// it is.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sesame:", err)
		os.Exit(1)
	}
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// run is the whole program, with its inputs passed in so tests can drive it;
// it reads passwords and secrets from the process's stdin.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runIO(ctx, args, getenv, os.Stdin, stdout, stderr)
}

// runIO is run reading passwords and secrets from stdin, which tests pass.
func runIO(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	root := &cobra.Command{
		Use:           "sesame",
		Short:         "Sesame, an OpenID Connect provider that gets sign-out right",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	var configPath string
	root.PersistentFlags().StringVar(&configPath, "config", "", "YAML configuration file (SESAME_* environment variables win)")

	root.AddCommand(
		serveCmd(&configPath, getenv, stdout, stderr),
		migrateCmd(&configPath, getenv, stdout),
		usersCmd(&configPath, getenv, stdout, stderr),
		clientsCmd(&configPath, getenv, stdout, stderr),
		sessionsCmd(&configPath, getenv, stdout, stderr),
		adminCmd(&configPath, getenv, stdout, stderr),
		keysCmd(&configPath, getenv, stdout, stderr),
		demoCmd(stdout, stderr),
		loadtestCmd(getenv, stdout, stderr),
		&cobra.Command{
			Use:   "version",
			Short: "Print the version",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				_, err := fmt.Fprintln(stdout, "sesame", version)
				return err
			},
		},
	)
	return root.ExecuteContext(ctx)
}
