// Command lems monitors one application (Reference §24).
package main

import (
	"os"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/daemonize"
	"github.com/linuxha-ng/linuxha/pkg/lemscmd"
)

func main() {
	if args, ok := daemonize.ChildArgs(); ok {
		os.Args = append(os.Args[:1], args...)
	}
	clitool.Main(lemscmd.NewApp)
}
