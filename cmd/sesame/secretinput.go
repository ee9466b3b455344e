package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Passwords and client secrets never come from a command's arguments or
// flag values, which any user of the machine can read in the process list
// and which shells keep in their history. They come from a file named by a
// flag, or from stdin: a pipe gives one line, a terminal asks without echo.

// maxSecretLen bounds what is read for one password or secret.
const maxSecretLen = 4096

// secretSource is where one command reads a password or secret.
type secretSource struct {
	// What is asked for, as a person reads it: "password", "client secret".
	What string
	// FileFlag is the flag naming a file that holds it ("password-file").
	FileFlag string
	// File is that flag's value; empty reads stdin.
	File string
}

// read returns the password or secret from the file, or else from stdin;
// prompts go to stderr. A terminal is asked twice, so a typo is not
// stored.
func (s secretSource) read(stdin io.Reader, stderr io.Writer) (string, error) {
	if s.File != "" {
		return s.readFile()
	}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return s.ask(int(f.Fd()), stderr)
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, maxSecretLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the %s from stdin: %w", s.What, err)
	}
	v := strings.TrimRight(line, "\r\n")
	switch {
	case v == "":
		return "", fmt.Errorf("no %s on stdin: pipe it in as one line, or name a file with --%s", s.What, s.FileFlag)
	case len(v) > maxSecretLen:
		return "", fmt.Errorf("the %s on stdin is longer than %d bytes", s.What, maxSecretLen)
	}
	return v, nil
}

// readFile reads a file that holds the secret alone, with or without a
// final newline.
func (s secretSource) readFile() (string, error) {
	f, err := os.Open(s.File)
	if err != nil {
		return "", fmt.Errorf("--%s: %w", s.FileFlag, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretLen+3))
	if err != nil {
		return "", fmt.Errorf("--%s: read %s: %w", s.FileFlag, s.File, err)
	}
	v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	switch {
	case v == "":
		return "", fmt.Errorf("--%s: %s is empty", s.FileFlag, s.File)
	case len(v) > maxSecretLen:
		return "", fmt.Errorf("--%s: %s is longer than %d bytes", s.FileFlag, s.File, maxSecretLen)
	case strings.ContainsAny(v, "\r\n"):
		return "", fmt.Errorf("--%s: %s holds more than one line; it must hold the %s alone", s.FileFlag, s.File, s.What)
	}
	return v, nil
}

// ask reads the secret twice from a terminal, without echo.
func (s secretSource) ask(fd int, stderr io.Writer) (string, error) {
	var typed [2]string
	for i, prompt := range []string{"New " + s.What + ": ", "Again: "} {
		fmt.Fprint(stderr, prompt)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read the %s from the terminal: %w", s.What, err)
		}
		typed[i] = string(b)
	}
	switch {
	case typed[0] == "":
		return "", fmt.Errorf("no %s typed", s.What)
	case typed[0] != typed[1]:
		return "", fmt.Errorf("the two %ss typed differ; nothing was changed", s.What)
	case len(typed[0]) > maxSecretLen:
		return "", fmt.Errorf("the %s is longer than %d bytes", s.What, maxSecretLen)
	}
	return typed[0], nil
}

// refuseSecretFlag defines the flag that once took a secret as its value,
// hidden, so that using it is a clear error rather than "unknown flag". The
// error never repeats the value.
func refuseSecretFlag(cmd *cobra.Command, flag string, src *secretSource) {
	cmd.Flags().String(flag, "", "no longer accepted: use --"+src.FileFlag+" or stdin")
	_ = cmd.Flags().MarkHidden(flag)
	prev := cmd.PreRunE
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		if cmd.Flags().Changed(flag) {
			return fmt.Errorf("--%s is no longer accepted: a %s in an argument shows in the process list and shell history; "+
				"pipe it on stdin or name a file with --%s", flag, src.What, src.FileFlag)
		}
		if prev != nil {
			return prev(cmd, args)
		}
		return nil
	}
}

// usernameOnly accepts one argument, the username; a second one is the
// old way of passing the password, refused without repeating it.
func usernameOnly(src *secretSource) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		switch {
		case len(args) == 2:
			return fmt.Errorf("the %s is no longer an argument: it shows in the process list and shell history; "+
				"pipe it on stdin or name a file with --%s", src.What, src.FileFlag)
		case len(args) != 1:
			return fmt.Errorf("want one argument, the username; got %d", len(args))
		}
		return nil
	}
}

// maskURL shows a database URL without its password:
// postgres://user:xxxxx@host/db, and a password= parameter masked alike.
// A URL that does not parse is shown as its scheme alone, since where its
// password is cannot be told.
func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.User == nil && strings.Contains(raw, "@")) {
		// A password with a character it should have escaped (/, ?, #)
		// makes the URL parse otherwise, with the password in the host or
		// path.
		scheme, _, _ := strings.Cut(raw, ":")
		return scheme + "://xxxxx"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// maskedError hides the database URL in err's message: configuration and
// connection errors may quote it.
func maskedError(err error, dbURL string) error {
	if err == nil || dbURL == "" || !strings.Contains(err.Error(), dbURL) {
		return err
	}
	return &maskedErr{msg: strings.ReplaceAll(err.Error(), dbURL, maskURL(dbURL)), err: err}
}

// maskedErr is an error whose message hides a database URL and which
// still unwraps to the error it hides it in (errors.As finds, say, the
// migration's list of colliding usernames).
type maskedErr struct {
	msg string
	err error
}

func (e *maskedErr) Error() string { return e.msg }
func (e *maskedErr) Unwrap() error { return e.err }
