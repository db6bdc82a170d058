// Command lemsctl sends messages to an application's Lems (Reference §16).
package main

import (
	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/lemscmd"
)

func main() { clitool.Main(lemscmd.NewCtlApp) }
