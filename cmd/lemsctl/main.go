// Command lemsctl sends messages to an application's Lems (Reference §16).
package main

import (
	"github.com/linuxha-ng/linuxha/lems"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
)

func main() { clitool.Main(lems.NewCtlApp) }
