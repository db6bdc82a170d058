// Command clmember is the etcd membership mode's node daemon.
package main

import (
	"os"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/clmember"
	"github.com/linuxha-ng/linuxha/pkg/daemonize"
)

func main() {
	if args, ok := daemonize.ChildArgs(); ok {
		os.Args = append(os.Args[:1], args...)
	}
	clitool.Main(clmember.NewApp)
}
