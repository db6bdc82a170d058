// Command clresource runs one operation of one application resource on
// this node, outside the cluster.
package main

import (
	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/clresource"
)

func main() { clitool.Main(clresource.NewApp) }
