// Command clrunapp starts an application on the right node (Reference §19, §23).
package main

import (
	"github.com/linuxha-ng/linuxha/pkg/appctl"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
)

func main() { clitool.Main(appctl.NewRunApp) }
