// Command clstartup forms or joins the cluster at boot.
package main

import (
	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/clstartup"
)

func main() { clitool.Main(clstartup.NewApp) }
