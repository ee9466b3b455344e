package main

import (
	"bytes"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

// A binary with no commit recorded (go run, go test) says so, and how to
// get one.
func TestVersionWithoutACommitSaysSo(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), []string{"version"}, noEnv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(out.String(), "\n")
	if first != "sesame (devel) - no commit recorded: built with go run (or -buildvcs=false); go build records it" {
		t.Errorf("version printed %q", out.String())
	}
}

// What the toolchain recorded is printed: the module version (or the
// -X main.version override), the commit, its time, and uncommitted changes.
func TestVersionText(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/sesame-id/sesame", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"},
		}}
	got := versionText(info, true, "")
	want := "sesame v1.2.3\ncommit 0123456789abcdef0123456789abcdef01234567 (2026-01-02T03:04:05Z), with uncommitted changes\ngo1.26.8 "
	if !strings.HasPrefix(got, want) {
		t.Errorf("got %q\nwant %q...", got, want)
	}
	info.Settings = info.Settings[:3]
	if got := versionText(info, true, "v9.9.9"); !strings.HasPrefix(got, "sesame v9.9.9\ncommit 0123456789abcdef0123456789abcdef01234567 (2026-01-02T03:04:05Z)\n") {
		t.Errorf("with -X main.version and a clean tree: %q", got)
	}
	if got := versionText(nil, false, ""); !strings.HasPrefix(got, "sesame (devel) - no commit recorded") {
		t.Errorf("with no build information: %q", got)
	}
}

// A binary made by go build in this repository prints the commit it was
// built from, git's HEAD, with its time; -X main.version sets the version
// it prints.
func TestBuiltBinaryPrintsItsCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed: go build cannot record the commit")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		ldflags string
		version *regexp.Regexp
	}{
		// -buildvcs=true: a GOFLAGS=-buildvcs=false in the environment
		// would otherwise keep the commit out.
		{"", regexp.MustCompile(`^sesame v\S+\n`)},
		{"-X main.version=v9.9.9-test", regexp.MustCompile(`^sesame v9\.9\.9-test\n`)},
	} {
		bin := filepath.Join(dir, "sesame")
		build := exec.Command("go", "build", "-buildvcs=true", "-ldflags", c.ldflags, "-o", bin, ".")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		out, err := exec.Command(bin, "version").Output()
		if err != nil {
			t.Fatalf("sesame version: %v", err)
		}
		if !c.version.Match(out) {
			t.Errorf("ldflags %q: version printed %q", c.ldflags, out)
		}
		m := regexp.MustCompile(`(?m)^commit ([0-9a-f]{40}) \(\d{4}-\d\d-\d\dT[0-9:]+Z\)`).FindSubmatch(out)
		if m == nil || string(m[1]) != strings.TrimSpace(string(head)) {
			t.Errorf("ldflags %q: version printed %q; want the commit %s with its time", c.ldflags, out, strings.TrimSpace(string(head)))
		}
	}
}
