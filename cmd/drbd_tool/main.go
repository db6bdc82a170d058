// Command drbd_tool controls an application's DRBD volumes by hand.
package main

import (
	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/drbdtool"
)

func main() { clitool.Main(drbdtool.NewApp) }
