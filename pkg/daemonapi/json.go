package daemonapi

import (
	"github.com/linuxha-ng/linuxha/pkg/jsonout"
	"github.com/linuxha-ng/linuxha/pkg/wire"
)

// ReplySchema names ReplyDoc.
const ReplySchema = "linuxha.cldaemonctl/v1"

// ReplyDoc is one request and its reply as JSON (cldaemonctl --json):
// the reply as sent and, for the requests whose replies have a form, the
// reply read. Result is null for other requests, and Error says why when
// a reply does not read (a refusal such as NOT_REGISTERED).
type ReplyDoc struct {
	Schema  string  `json:"schema"`
	Request string  `json:"request"`
	Daemon  string  `json:"daemon"` // the node whose daemon answered
	Reply   string  `json:"reply"`
	Result  any     `json:"result"`
	Error   *string `json:"error"`
}

// AppListDoc is APP_LIST's reply read.
type AppListDoc struct {
	Applications []string `json:"applications"`
}

// StateDoc is ECHO's and GET_NODE_STATE's reply read.
type StateDoc struct {
	Node  string `json:"node"`
	State string `json:"state"` // UP, DOWN, DIED, FORMING, STARTING ...
}

// AppStatusDoc is APP_STATUS's reply read; the optional parts are null
// unless the request asked for them (failoverinfo, nodeinfo, lvinfo).
type AppStatusDoc struct {
	State        string      `json:"state"`
	Node         *string     `json:"node"`
	Monitor      bool        `json:"monitor"`
	Since        *string     `json:"since"` // RFC 3339; null unless STARTED
	Inconsistent int         `json:"inconsistent"`
	Failover     *bool       `json:"failover"`
	ValidNodes   []string    `json:"valid_nodes"`
	Volumes      []VolumeDoc `json:"volumes"`
}

// VolumeDoc is a Volume as JSON.
type VolumeDoc struct {
	MountPoint string           `json:"mount_point"`
	Valid      string           `json:"valid"`       // both, local, remote or none: seen from the node asked
	Type       string           `json:"type"`        // drbd or filesync
	State      string           `json:"state"`       // Sync, Syncing or Unsync
	Percent    *float64         `json:"percent"`     // a DRBD resync under way, else null
	ETASeconds *jsonout.Seconds `json:"eta_seconds"` // likewise
}

// Doc is v as JSON.
func (v Volume) Doc() VolumeDoc {
	d := VolumeDoc{MountPoint: v.MountPoint, Valid: v.Valid, Type: v.Type, State: v.State}
	if v.State == "Syncing" && v.Type == "drbd" {
		p := v.Percent
		d.Percent, d.ETASeconds = &p, jsonout.Duration(v.ETA)
	}
	return d
}

// Doc reads reply, the answer of daemon's node to req.
func Doc(req, daemon, reply string) ReplyDoc {
	d := ReplyDoc{Schema: ReplySchema, Request: req, Daemon: daemon, Reply: reply}
	r, err := wire.ParseRequest(req)
	if err != nil {
		return d
	}
	var res any
	switch r.Verb {
	case AppList:
		var apps []string
		if apps, err = ParseAppList(reply); err == nil {
			res = AppListDoc{Applications: append([]string{}, apps...)}
		}
	case Echo:
		res = StateDoc{Node: daemon, State: reply}
	case GetNodeState:
		n, _ := r.Arg("node")
		res = StateDoc{Node: n, State: reply}
	case AppStatusReq:
		o := StatusOptionsOf(r)
		var s AppStatus
		if s, err = ParseAppStatus(reply, o); err == nil {
			res = appStatusDoc(s, o)
		}
	case LoadAverage:
		var v float64
		if v, err = ParseLoad(reply); err == nil {
			res = map[string]float64{"load1": v}
		}
	}
	if err != nil {
		d.Error = jsonout.String(err.Error())
		return d
	}
	d.Result = res
	return d
}

func appStatusDoc(s AppStatus, o StatusOptions) AppStatusDoc {
	d := AppStatusDoc{State: s.State, Node: jsonout.String(s.Node), Monitor: s.Monitor, Since: jsonout.Time(s.Since), Inconsistent: s.Inconsistent}
	if o.Failover {
		f := s.Failover
		d.Failover = &f
	}
	if o.Nodes {
		d.ValidNodes = append([]string{}, s.ValidNodes...)
	}
	if o.Volumes {
		d.Volumes = []VolumeDoc{}
		for _, v := range s.Volumes {
			d.Volumes = append(d.Volumes, v.Doc())
		}
	}
	return d
}
