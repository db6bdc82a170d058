// Command clstat shows the state of the cluster.
package main

import (
	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/clstat"
)

func main() { clitool.Main(clstat.NewApp) }
