package daemonapi

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/wire"
)

// StatusOptions are APP_STATUS's optional parts (L7623). Each adds a
// field, in this order, so a reply is read with the options it was asked
// with: the fields are positional.
type StatusOptions struct {
	Failover bool // failoverinfo=yes: "Yes" or "No", whether it would fail across
	Nodes    bool // nodeinfo=yes: the valid-node list, '+' between names
	Volumes  bool // lvinfo=yes: each volume's state (see Volume)
}

// StatusOptionsOf reads the options a request asked for.
func StatusOptionsOf(r wire.Request) StatusOptions {
	on := func(k string) bool {
		v, _ := r.Arg(k)
		return IsYes(v)
	}
	return StatusOptions{Failover: on("failoverinfo"), Nodes: on("nodeinfo"), Volumes: on("lvinfo")}
}

// IsYes reads a yes/no argument as the daemons always have.
func IsYes(v string) bool {
	switch strings.ToLower(v) {
	case "yes", "y", "true", "1", "on":
		return true
	}
	return false
}

func yesArg(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

// Request is the APP_STATUS request for app with these options.
func (o StatusOptions) Request(app string) string {
	return Req(AppStatusReq, "app", app, "failoverinfo", yesArg(o.Failover),
		"nodeinfo", yesArg(o.Nodes), "lvinfo", yesArg(o.Volumes))
}

// AppStatus is APP_STATUS's reply: "STATE,server,monitor,start
// time,consistency" and then the optional fields (L7623-7626).
type AppStatus struct {
	State        string    // AppStarted, AppStarting, AppStopping or AppDown
	Node         string    // where it runs or last ran; "" for nowhere
	Monitor      bool      // its Lems runs (only the node running it knows)
	Since        time.Time // when it started; zero unless STARTED
	Inconsistent int       // file systems out of step
	Failover     bool      // StatusOptions.Failover
	ValidNodes   []string  // StatusOptions.Nodes
	Volumes      []Volume  // StatusOptions.Volumes
}

// Running is how long it has run at now; 0 unless STARTED.
func (s AppStatus) Running(now time.Time) time.Duration {
	if s.State != AppStarted || s.Since.IsZero() {
		return 0
	}
	return now.Sub(s.Since).Truncate(time.Second)
}

// FailoverWord is the Reference's "Yes" or "No".
func (s AppStatus) FailoverWord() string {
	if s.Failover {
		return "Yes"
	}
	return "No"
}

const lvinfoTag = "lvinfo="

// Encode renders the reply with the fields o asks for.
func (s AppStatus) Encode(o StatusOptions) string {
	since := int64(0)
	if s.State == AppStarted && !s.Since.IsZero() {
		since = s.Since.Unix()
	}
	mon := 0
	if s.Monitor {
		mon = 1
	}
	f := []string{s.State, s.Node, strconv.Itoa(mon), strconv.FormatInt(since, 10), strconv.Itoa(s.Inconsistent)}
	if o.Failover {
		f = append(f, s.FailoverWord())
	}
	if o.Nodes {
		f = append(f, strings.Join(s.ValidNodes, "+"))
	}
	if o.Volumes && s.Volumes != nil {
		var lv []string
		for _, v := range s.Volumes {
			lv = append(lv, v.Encode())
		}
		f = append(f, lvinfoTag+strings.Join(lv, ";"))
	}
	return strings.Join(f, ",")
}

// ParseAppStatus reads a reply to o.Request(app). A reply that is one
// word (NOT_REGISTERED, MISSING_ARG) is a *Refused.
func ParseAppStatus(reply string, o StatusOptions) (AppStatus, error) {
	if !strings.Contains(reply, ",") {
		return AppStatus{}, &Refused{Request: AppStatusReq, Reply: reply}
	}
	var s AppStatus
	rest := reply
	if o.Volumes {
		if head, lv, ok := strings.Cut(reply, ","+lvinfoTag); ok {
			rest = head
			for _, e := range strings.Split(lv, ";") {
				if e == "" {
					continue
				}
				v, err := DecodeVolume(e)
				if err != nil {
					return AppStatus{}, fmt.Errorf("APP_STATUS reply %q: %w", reply, err)
				}
				s.Volumes = append(s.Volumes, v)
			}
		}
	}
	f := strings.Split(rest, ",")
	want := 5
	if o.Failover {
		want++
	}
	if o.Nodes {
		want++
	}
	if len(f) != want {
		return AppStatus{}, fmt.Errorf("APP_STATUS reply %q: %d fields, want %d", reply, len(f), want)
	}
	if f[2] != "0" && f[2] != "1" {
		return AppStatus{}, fmt.Errorf("APP_STATUS reply %q: monitor %q is neither 0 nor 1", reply, f[2])
	}
	s.State, s.Node, s.Monitor = f[0], f[1], f[2] == "1"
	since, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil {
		return AppStatus{}, fmt.Errorf("APP_STATUS reply %q: start time %q: %w", reply, f[3], err)
	}
	if since > 0 {
		s.Since = time.Unix(since, 0)
	}
	if s.Inconsistent, err = strconv.Atoi(f[4]); err != nil {
		return AppStatus{}, fmt.Errorf("APP_STATUS reply %q: consistency %q: %w", reply, f[4], err)
	}
	i := 5
	if o.Failover {
		s.Failover = strings.EqualFold(f[i], "yes")
		i++
	}
	if o.Nodes {
		if f[i] != "" {
			s.ValidNodes = strings.Split(f[i], "+")
		}
	}
	return s, nil
}

// Volume is one line of clstat's File Systems section (L3079-3093), as
// APP_STATUS lvinfo=yes carries it.
type Volume struct {
	MountPoint string        `json:"mount_point"`
	Valid      string        `json:"valid"` // both, local, remote or none: seen from this node
	Type       string        `json:"type"`  // drbd or filesync (asynchronous)
	State      string        `json:"state"` // Sync, Syncing or Unsync
	Percent    float64       `json:"percent,omitempty"`
	ETA        time.Duration `json:"eta,omitempty"`
}

// Encode is the lvinfo form: fields separated by ':'.
func (v Volume) Encode() string {
	return fmt.Sprintf("%s:%s:%s:%s:%.1f:%d", v.MountPoint, v.Valid, v.Type, v.State, v.Percent, int64(v.ETA.Seconds()))
}

// DecodeVolume reverses Encode.
func DecodeVolume(s string) (Volume, error) {
	f := strings.Split(s, ":")
	if len(f) != 6 {
		return Volume{}, fmt.Errorf("lvinfo entry %q: want 6 fields", s)
	}
	pct, err := strconv.ParseFloat(f[4], 64)
	if err != nil {
		return Volume{}, fmt.Errorf("lvinfo entry %q: percent: %w", s, err)
	}
	eta, err := strconv.ParseInt(f[5], 10, 64)
	if err != nil {
		return Volume{}, fmt.Errorf("lvinfo entry %q: eta: %w", s, err)
	}
	return Volume{MountPoint: f[0], Valid: f[1], Type: f[2], State: f[3], Percent: pct, ETA: time.Duration(eta) * time.Second}, nil
}
