// Command clnetd is the cluster network daemon.
package main

import (
	"os"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/clnetd"
	"github.com/linuxha-ng/linuxha/pkg/daemonize"
)

func main() {
	if args, ok := daemonize.ChildArgs(); ok {
		os.Args = append(os.Args[:1], args...)
	}
	clitool.Main(clnetd.NewApp)
}
