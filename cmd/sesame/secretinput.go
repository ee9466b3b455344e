package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sesame-id/sesame/internal/config"
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

// maskedError hides the database URL in err's message, and its password
// wherever it shows alone: configuration and connection errors may quote
// either.
func maskedError(err error, dbURL string) error {
	if err == nil || dbURL == "" {
		return err
	}
	msg := strings.ReplaceAll(err.Error(), dbURL, maskURL(dbURL))
	for _, pw := range urlPasswords(dbURL) {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
	}
	if msg == err.Error() {
		return err
	}
	return &maskedErr{msg: msg, err: err}
}

// urlPasswords are the forms a database URL's password may be quoted in:
// as written (escaped or not: one that should have been escaped makes the
// URL unparsable, so it is cut out by hand), unescaped, and a password=
// parameter.
func urlPasswords(dbURL string) []string {
	var out []string
	add := func(p string) {
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if _, rest, ok := strings.Cut(dbURL, "://"); ok {
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
				add(pw)
				if dec, err := url.PathUnescape(pw); err == nil {
					add(dec)
				}
			}
		}
	}
	if u, err := url.Parse(dbURL); err == nil {
		if pw := u.Query().Get("password"); pw != "" {
			add(pw)
			add(url.QueryEscape(pw))
		}
	}
	return out
}

// scrubbing wraps a log's writer so that no record written holds the
// database's password or secret_key, as written or as the text and JSON
// handlers quote it, whatever a record quotes (a driver's error, say).
// A password under 4 characters is left: replacing it would garble every
// line, and no record Sesame writes quotes the database URL.
func scrubbing(w io.Writer, cfg config.Config) io.Writer {
	var secrets [][]byte
	add := func(v string) {
		for _, form := range []string{v, strings.Trim(strconv.Quote(v), `"`), jsonString(v)} {
			secrets = append(secrets, []byte(form))
		}
	}
	for _, pw := range urlPasswords(cfg.Database) {
		if len(pw) >= 4 {
			add(pw)
		}
	}
	if cfg.SecretKey != "" {
		add(cfg.SecretKey)
	}
	if len(secrets) == 0 {
		return w
	}
	return scrubWriter{w: w, secrets: secrets}
}

func jsonString(v string) string {
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}

// scrubWriter writes what it is given with every secret replaced. Each
// Write of a slog handler is one whole record, so a secret is never split
// across two.
type scrubWriter struct {
	w       io.Writer
	secrets [][]byte
}

func (s scrubWriter) Write(p []byte) (int, error) {
	out := p
	for _, sec := range s.secrets {
		if bytes.Contains(out, sec) {
			out = bytes.ReplaceAll(out, sec, []byte("xxxxx"))
		}
	}
	if _, err := s.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
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
