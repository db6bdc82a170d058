package lems

import (
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/golden"
)

// lemsctl --json (issue 19): GET_VSTAT's monitors read (a stopped one
// has no next run; detail lines kept), GET_STAT without details, and a
// refusal that is not OK and reads no monitors.
func TestCtlDocGolden(t *testing.T) {
	defer func(l *time.Location) { time.Local = l }(time.Local)
	time.Local = time.UTC // the golden file's zone
	vstat := "httpd,1796313600,5,procmon /etc/cluster/apache/procmon.xml" + NR + "<monitor-detail-start>" + NR + "3,1,1796317200" + NR + "<monitor-detail-end>" + NR +
		"fsmon,0,10,fsmon" + NR + "<monitor-detail-start>" + NR + "<monitor-detail-end>" + NR
	golden.JSON(t, "lemsctl.json", []CtlDoc{
		Doc("apache", "GET_VSTAT", vstat),
		Doc("apache", "GET_STAT httpd", "httpd,1796313600,5,procmon /etc/cluster/apache/procmon.xml"+NR),
		Doc("apache", "GET_STAT nosuch", "FAIL no monitor nosuch"),
		Doc("apache", "PAUSE httpd", "OK"),
	})
}
