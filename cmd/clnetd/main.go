// Command clnetd is the cluster network daemon.
package main

import (
	"os"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/daemonize"
	"github.com/linuxha-ng/linuxha/pkg/netd"
)

func main() {
	if args, ok := daemonize.ChildArgs(); ok {
		os.Args = append(os.Args[:1], args...)
	}
	clitool.Main(netd.NewApp)
}
