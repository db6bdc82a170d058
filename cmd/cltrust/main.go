// Command cltrust sets up root's ssh trust between the cluster nodes.
package main

import (
	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/cltrust"
)

func main() { clitool.Main(cltrust.NewApp) }
