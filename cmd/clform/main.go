// Command clform forms the cluster.
package main

import (
	"github.com/linuxha-ng/linuxha/pkg/clform"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
)

func main() { clitool.Main(clform.NewApp) }
