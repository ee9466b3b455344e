package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sesame-id/sesame/internal/config"
)

// globals are the flags every command has.
type globals struct {
	configPath string
	// database, when set, wins over the configuration's database.
	database string
	// loaded is the database URL of the configuration last loaded, so
	// that no error printed at the end quotes its password.
	loaded string
}

// load reads the configuration (file, then environment, then --database)
// and validates it.
func (g *globals) load(getenv func(string) string) (config.Config, error) {
	cfg, err := config.Load(g.configPath, getenv)
	if g.database != "" {
		cfg.Database = databaseURL(g.database)
	}
	g.loaded = cfg.Database
	if err != nil {
		return cfg, maskedError(fmt.Errorf("%s", oneLine(err)), cfg.Database)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, maskedError(fmt.Errorf("invalid configuration: %s", oneLine(err)), cfg.Database)
	}
	return cfg, nil
}

// loadConfig reads and validates the configuration of a file and the
// environment.
func loadConfig(path string, getenv func(string) string) (config.Config, error) {
	return (&globals{configPath: path}).load(getenv)
}

// existingDatabase is load for the commands that work on a database made
// before them (users, clients, sessions, admin, keys): a SQLite file that
// does not exist is an error, not a new empty database in whatever
// directory the command was run from.
func (g *globals) existingDatabase(getenv func(string) string) (config.Config, error) {
	cfg, err := g.load(getenv)
	if err != nil {
		return cfg, err
	}
	path, ok := sqlitePath(cfg.Database)
	if !ok {
		return cfg, nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return cfg, fmt.Errorf("no database at %s; run sesame migrate or pass --database", shownPath(path))
	}
	return cfg, nil
}

// databaseURL reads --database: a URL, or a bare file path for SQLite.
func databaseURL(v string) string {
	if strings.HasPrefix(v, "sqlite:") || strings.Contains(v, "://") {
		return v
	}
	return "sqlite://" + v
}

// sqlitePath is the file of a sqlite: database URL, read as the store
// reads it.
func sqlitePath(dbURL string) (string, bool) {
	if !strings.HasPrefix(dbURL, "sqlite:") {
		return "", false
	}
	if p, ok := strings.CutPrefix(dbURL, "sqlite://"); ok {
		return p, true
	}
	return strings.TrimPrefix(dbURL, "sqlite:"), true
}

// shownPath writes a relative path as ./path, so it reads as a file in
// the working directory.
func shownPath(p string) string {
	if filepath.IsAbs(p) || strings.HasPrefix(p, "."+string(filepath.Separator)) || strings.HasPrefix(p, ".."+string(filepath.Separator)) {
		return p
	}
	return "." + string(filepath.Separator) + p
}

// createPrivate creates the SQLite file, empty, readable by its owner only,
// if it does not exist: SQLite would create it with the process's umask
// (often 0644) and the store restricts it only after, a window in which
// another user could open it and keep reading. SQLite gives the -wal and
// -shm files the database file's mode.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("database: cannot create %s: %w", shownPath(path), err)
	}
	return f.Close()
}

// oneLine joins the lines of a multi-line error (config.Load and Validate
// report one problem a line): CLI errors are one line.
func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// usageError is a mistake in how a command was called: an unknown command
// or flag, or the wrong arguments. main prints the command's usage after
// it; other errors are one line alone.
type usageError struct {
	err   error
	usage string
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usageErr wraps err, made by cmd, as a usage error naming the command.
func usageErr(cmd *cobra.Command, err error) error {
	name := strings.TrimPrefix(strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()), " ")
	if name != "" {
		err = fmt.Errorf("%s: %w", name, err)
	}
	return &usageError{err: err, usage: cmd.UsageString()}
}

// markUsageErrors makes every way of calling a command wrongly a
// usageError with a readable message: flags that do not parse, arguments
// its Args refuses, and a subcommand that does not exist (cobra would
// print the group's help and succeed).
func markUsageErrors(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	root.SetFlagErrorFunc(usageErr)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.HasSubCommands() && !c.Runnable() {
			c.Args = subcommandOnly
			c.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
		}
		check := c.Args
		c.Args = func(c *cobra.Command, args []string) error {
			if check == nil {
				return nil
			}
			err := check(c, args)
			if err == nil {
				return nil
			}
			var u *usageError
			if errors.As(err, &u) {
				return err
			}
			if msg := err.Error(); strings.HasPrefix(msg, "accepts ") || strings.HasPrefix(msg, "unknown command ") {
				err = wrongArgs(c, len(args)) // cobra's own words
			}
			return usageErr(c, err)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// subcommandOnly refuses any argument to a group of commands: the first
// is a subcommand that does not exist.
func subcommandOnly(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %q?)", s[0])
	}
	return usageErr(c, errors.New(msg))
}

// wrongArgs says what arguments c wants, from its Use line, without
// repeating what was given (it may be a secret).
func wrongArgs(c *cobra.Command, got int) error {
	want := strings.Fields(c.Use)[1:]
	if len(want) == 0 {
		return fmt.Errorf("takes no arguments; got %d", got)
	}
	plural := "s"
	if got == 1 {
		plural = ""
	}
	return fmt.Errorf("wants %s; got %d argument%s", strings.Join(want, " "), got, plural)
}
