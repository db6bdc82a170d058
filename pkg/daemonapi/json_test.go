package daemonapi

import (
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/golden"
)

// cldaemonctl --json (issue 19): each reply with a form is read; the
// optional parts of APP_STATUS are null unless asked for; a refusal is
// an error with no result; other requests carry the reply only.
func TestReplyDocGolden(t *testing.T) {
	since := time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC)
	full := StatusOptions{Failover: true, Nodes: true, Volumes: true}
	st := AppStatus{State: AppStarted, Node: "servera", Monitor: true, Since: since, Inconsistent: 1, Failover: true,
		ValidNodes: []string{"servera", "serverb"},
		Volumes: []Volume{{MountPoint: "/apache/data", Valid: "both", Type: "drbd", State: "Syncing", Percent: 12.5, ETA: 30 * time.Second},
			{MountPoint: "/apache/logs", Valid: "local", Type: "filesync", State: "Unsync"}}}
	docs := []ReplyDoc{
		Doc("APP_LIST", "servera", "apache,samba"),
		Doc("APP_LIST", "servera", ""),
		Doc("ECHO", "serverb", "UP"),
		Doc("GET_NODE_STATE node=serverb", "servera", "DIED"),
		Doc(full.Request("apache"), "servera", st.Encode(full)),
		Doc(StatusOptions{}.Request("samba"), "serverb", AppStatus{State: AppDown}.Encode(StatusOptions{})),
		Doc("APP_STATUS app=nosuch", "servera", NotRegistered),
		Doc("LOADAVERAGE", "serverb", "0.25 0.30 0.20 1/123"),
		Doc("VERBOSE on=true", "servera", OK),
	}
	golden.JSON(t, "replies.json", docs)
}
