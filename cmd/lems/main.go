// Command lems monitors one application (Reference §24).
package main

import (
	"os"

	"github.com/linuxha-ng/linuxha/lems"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/daemonize"
)

func main() {
	if args, ok := daemonize.ChildArgs(); ok {
		os.Args = append(os.Args[:1], args...)
	}
	clitool.Main(lems.NewApp)
}
