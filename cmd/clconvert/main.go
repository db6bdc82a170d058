// Command clconvert converts another cluster manager's configuration into
// linuxha's.
package main

import (
	"github.com/linuxha-ng/linuxha/pkg/clconvert"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
)

func main() { clitool.Main(clconvert.NewApp) }
