// Command clrunapp starts an application on the right node (Reference §19, §23).
package main

import (
	"github.com/linuxha-ng/linuxha/pkg/appcmd"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
)

func main() { clitool.Main(appcmd.NewRunApp) }
