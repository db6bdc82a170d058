// Command clstartapp starts an application on this node.
package main

import (
	"github.com/linuxha-ng/linuxha/pkg/appctl"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
)

func main() { clitool.Main(appctl.NewStartApp) }
