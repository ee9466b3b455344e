package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// version, when set at build time with -ldflags "-X main.version=v1.2.3",
// is printed instead of the module version the Go toolchain recorded.
var version string

func versionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, and the commit it was built from",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			info, ok := debug.ReadBuildInfo()
			_, err := io.WriteString(stdout, versionText(info, ok, version))
			return err
		},
	}
}

// versionText says which build this is, from what the Go toolchain
// recorded in the binary: the module version, the commit, its time and
// whether the tree had uncommitted changes. go build records the commit
// in a git checkout; go run and go test do not.
func versionText(info *debug.BuildInfo, ok bool, override string) string {
	v := "(devel)"
	settings := map[string]string{}
	if ok {
		if info.Main.Version != "" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
	}
	if override != "" {
		v = override
	}
	var b strings.Builder
	fmt.Fprintf(&b, "sesame %s", v)
	if rev := settings["vcs.revision"]; rev == "" {
		b.WriteString(" - no commit recorded: built with go run (or -buildvcs=false); go build records it\n")
	} else {
		fmt.Fprintf(&b, "\ncommit %s", rev)
		if t := settings["vcs.time"]; t != "" {
			fmt.Fprintf(&b, " (%s)", t)
		}
		if settings["vcs.modified"] == "true" {
			b.WriteString(", with uncommitted changes")
		}
		b.WriteString("\n")
	}
	goVersion := runtime.Version()
	if ok && info.GoVersion != "" {
		goVersion = info.GoVersion
	}
	fmt.Fprintf(&b, "%s %s/%s\n", goVersion, runtime.GOOS, runtime.GOARCH)
	return b.String()
}
