// Command clbuildapp builds an application's replicated storage.
package main

import (
	"github.com/linuxha-ng/linuxha/pkg/clbuildapp"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
)

func main() { clitool.Main(clbuildapp.NewApp) }
