// Command clhaltapp stops an application on this node.
package main

import (
	"github.com/linuxha-ng/linuxha/pkg/appcmd"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
)

func main() { clitool.Main(appcmd.NewHaltApp) }
