// Command clremoveapp removes an application from the cluster.
package main

import (
	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/clremoveapp"
)

func main() { clitool.Main(clremoveapp.NewApp) }
