// Command sesame is the Sesame OpenID provider: `sesame serve` runs it,
// `sesame migrate` prepares its database, `sesame version` says which build
// it is.
package main

import (
	"context"
	"errors"
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
		os.Exit(report(os.Stderr, err))
	}
}

// report writes err for a person and returns the exit status: one line,
// and after a usage error (an unknown command or flag, a wrong number of
// arguments) the command's usage.
func report(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, "sesame:", err)
	var u *usageError
	if errors.As(err, &u) {
		fmt.Fprintf(stderr, "\n%s", u.usage)
		return 2
	}
	return 1
}

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
	g := &globals{}
	root.PersistentFlags().StringVar(&g.configPath, "config", "", "YAML configuration file (SESAME_* environment variables win)")
	root.PersistentFlags().StringVar(&g.database, "database", "",
		"database: sqlite://PATH, a file path, or postgres://...; wins over the configuration's database and SESAME_DATABASE")

	root.AddCommand(
		serveCmd(g, getenv, stdout, stderr),
		migrateCmd(g, getenv, stdout),
		usersCmd(g, getenv, stdout, stderr),
		clientsCmd(g, getenv, stdout, stderr),
		sessionsCmd(g, getenv, stdout, stderr),
		adminCmd(g, getenv, stdout, stderr),
		keysCmd(g, getenv, stdout, stderr),
		resourcesCmd(g, getenv, stdout, stderr),
		rolesCmd(g, getenv, stdout, stderr),
		demoCmd(stdout, stderr),
		loadtestCmd(getenv, stdout, stderr),
		versionCmd(stdout),
	)
	markUsageErrors(root)
	// Whatever a command's error quotes (a driver's message, say), the
	// database's password is not printed.
	return maskedError(root.ExecuteContext(ctx), g.loaded)
}
