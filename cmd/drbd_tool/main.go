// Command drbd_tool controls an application's replicated volumes by hand.
package main

import (
	"os"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/daemonize"
	"github.com/linuxha-ng/linuxha/pkg/drbdtool"
)

func main() {
	// The filesync syncer is drbd_tool re-executed detached.
	if args, ok := daemonize.ChildArgs(); ok {
		os.Args = append(os.Args[:1], args...)
	}
	clitool.Main(drbdtool.NewApp)
}
