// Command cldaemonctl: see man cldaemonctl(8).
package main

import (
	"github.com/linuxha-ng/linuxha/pkg/cldaemonctl"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
)

func main() { clitool.Main(cldaemonctl.NewApp) }
