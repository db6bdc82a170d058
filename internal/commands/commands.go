// Package commands lists every command of cmd/ by its constructor, for
// what must see them all: the man-page generator and the tests that hold
// every command to a rule.
package commands

import (
	"io"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/appcmd"
	"github.com/linuxha-ng/linuxha/pkg/clbuild"
	"github.com/linuxha-ng/linuxha/pkg/clbuildapp"
	"github.com/linuxha-ng/linuxha/pkg/clconvert"
	"github.com/linuxha-ng/linuxha/pkg/cldaemon"
	"github.com/linuxha-ng/linuxha/pkg/cldaemonctl"
	"github.com/linuxha-ng/linuxha/pkg/clform"
	"github.com/linuxha-ng/linuxha/pkg/clhalt"
	"github.com/linuxha-ng/linuxha/pkg/cllockd"
	"github.com/linuxha-ng/linuxha/pkg/clmember"
	"github.com/linuxha-ng/linuxha/pkg/clnetd"
	"github.com/linuxha-ng/linuxha/pkg/clremoveapp"
	"github.com/linuxha-ng/linuxha/pkg/clresource"
	"github.com/linuxha-ng/linuxha/pkg/clsimulate"
	"github.com/linuxha-ng/linuxha/pkg/clstartup"
	"github.com/linuxha-ng/linuxha/pkg/clstat"
	"github.com/linuxha-ng/linuxha/pkg/cltrust"
	"github.com/linuxha-ng/linuxha/pkg/drbdtool"
	"github.com/linuxha-ng/linuxha/pkg/lemscmd"
)

// All holds one constructor per command of cmd/, in man-page order.
var All = []func(stdout, stderr io.Writer) *cli.App{
	clbuild.NewApp,
	clstat.NewApp,
	cldaemon.NewApp,
	cllockd.NewApp,
	clnetd.NewApp,
	clform.NewApp,
	clhalt.NewApp,
	cldaemonctl.NewApp,
	clstartup.NewApp,
	clbuildapp.NewApp,
	drbdtool.NewApp,
	clremoveapp.NewApp,
	appcmd.NewStartApp,
	appcmd.NewHaltApp,
	appcmd.NewRunApp,
	lemscmd.NewApp,
	lemscmd.NewCtlApp,
	cltrust.NewApp,
	clsimulate.NewApp,
	clconvert.NewApp,
	clresource.NewApp,
	clmember.NewApp,
}
