// Package version holds the version string every linuxha command reports
// (--version, clbuild's comparison of both nodes, the Debian package).
package version

import (
	"runtime/debug"
	"sync"
)

// Version is stamped at build time by the Makefile:
//
//	-ldflags "-X github.com/linuxha-ng/linuxha/pkg/version.Version=$(scripts/version)"
//
// scripts/version derives it from git describe, in a form that is also a
// Debian version (0.1.0+3.g1234abc).
var Version string

var fromBuild = sync.OnceValue(func() string {
	// A plain "go build" or "go test": say which commit, when Go knows it.
	v := "0.0.0+devel"
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = ".dirty"
			}
		}
	}
	if len(rev) >= 7 {
		v += ".g" + rev[:7] + dirty
	}
	return v
})

// String returns the stamped version, or one read from the build
// information when the binary was not built by the Makefile.
func String() string {
	if Version != "" {
		return Version
	}
	return fromBuild()
}
