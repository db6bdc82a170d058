// Command clhalt: see man clhalt(8).
package main

import (
	"github.com/linuxha-ng/linuxha/pkg/clhalt"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
)

func main() { clitool.Main(clhalt.NewApp) }
