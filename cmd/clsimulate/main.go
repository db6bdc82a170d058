// Command clsimulate prints what the cluster would do about an event,
// changing nothing.
package main

import (
	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/clsimulate"
)

func main() { clitool.Main(clsimulate.NewApp) }
