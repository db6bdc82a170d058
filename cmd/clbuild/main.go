// Command clbuild validates and builds the cluster configuration.
package main

import (
	"github.com/linuxha-ng/linuxha/pkg/clbuild"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
)

func main() { clitool.Main(clbuild.NewApp) }
