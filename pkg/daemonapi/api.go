// Package daemonapi is the cluster daemon's protocol (§25.4, L7590-7700):
// the names of its requests, the words of its replies, the node and
// application states they carry, APP_STATUS with its options, and the
// Client the tools reach the daemons with. It is the one place that builds
// or parses those messages; the daemon (package cluster) answers them.
package daemonapi

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/wire"
)

// Service is the cluster daemon's name in frame envelopes.
const Service = wire.SvcDaemon

// Requests of §25.4 (L7600-7700) and this project's additions.
const (
	Time          = "TIME"
	Abort         = "ABORT"
	GetNodeState  = "GET_NODE_STATE"
	Echo          = "ECHO"
	ChangeDState  = "CHANGE_DSTATE"
	Checksum      = "CHECKSUM"
	AppList       = "APP_LIST"
	AppStatusReq  = "APP_STATUS"
	RegApp        = "REG_APP"
	DeregApp      = "DEREG_APP"
	PNode         = "PNODE"
	DependsOn     = "DEPENDS_ON"
	AutostartList = "AUTOSTARTLIST"
	GetValidNodes = "GETVALIDNODES"
	SetValidNodes = "SETVALIDNODES"
	IsValid       = "ISVALID"
	Verbose       = "VERBOSE"
	LogCycle      = "LOGCYCLE"
	Help          = "HELP"
	LoadAverage   = "LOADAVERAGE"
	Reconfigure   = "RECONFIGURE"
	StopApp       = "STOP_APP"
	StartApp      = "START_APP"
	StartingApp   = "STARTING_APP"
	StartedApp    = "STARTED_APP"
	StoppingApp   = "STOPPING_APP"
	StoppedApp    = "STOPPED_APP"
	NetFailed     = "NET_FAILED"
	AppUpdate     = "APP_UPDATE"
	Failover      = "FAILOVER"
	PolicyView    = "VIEW" // the fail-over policy's view of this node, as JSON (clsimulate)
)

// Node states, as ECHO answers them and GET_NODE_STATE reports them.
const (
	NodeForming  = "FORMING"
	NodeStarting = "STARTING"
	NodeUp       = "UP"
	NodeDown     = "DOWN" // not in the cluster: never joined, halted, or the node is dead
	NodeDied     = "DIED" // its daemon stopped answering but the node still responds (L6686-6692)
)

// Application states (L7623): APP_STATUS's first field.
const (
	AppStarted  = "STARTED"
	AppStarting = "STARTING"
	AppStopping = "STOPPING"
	AppDown     = "DOWN"
)

// Replies of §25.4 other than data.
const (
	OK              = "OK"
	MissingArg      = "MISSING_ARG"
	NotRegistered   = "NOT_REGISTERED"
	NotRunning      = "NOT_RUNNING"
	NotConfigured   = "NOT_CONFIGURED"
	MissingFile     = "MISSING_FILE"
	AlreadyStarting = "ALREADY_STARTING"
	AlreadyStarted  = "ALREADY_STARTED"
	InvalidNode     = "INVALID_NODE"
	UnknownNode     = "UNKNOWN_NODE"
	NoSuchApp       = "NO_SUCH_APP"
	NoSuchFile      = "NO_SUCH_FILE"
	InvalidFile     = "INVALID_FILE"
	Yes             = "YES"
	No              = "NO"
	Error           = "ERROR"
)

// Req builds the request verb with its arguments given as key, value
// pairs; a pair with an empty value is left out.
func Req(verb string, kv ...string) string {
	if len(kv)%2 != 0 {
		panic("daemonapi.Req: odd argument list for " + verb)
	}
	r := wire.Request{Verb: verb, Args: map[string]string{}}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] != "" {
			r.Args[kv[i]] = kv[i+1]
		}
	}
	return r.String()
}

// Refused is a reply that is one of the words above instead of the data
// asked for (NOT_REGISTERED to APP_STATUS, for instance).
type Refused struct {
	Request, Reply string
}

func (e *Refused) Error() string {
	return fmt.Sprintf("%s: the cluster daemon answered %q", e.Request, e.Reply)
}

// IsReply reports whether err is a Refused with that reply word.
func IsReply(err error, reply string) bool {
	var r *Refused
	return errors.As(err, &r) && r.Reply == reply
}

// ParseAppList reads APP_LIST's reply: application names separated by
// commas, none when empty. Anything else - a daemon's error text - is
// refused rather than taken for names.
func ParseAppList(reply string) ([]string, error) {
	if reply == "" {
		return nil, nil
	}
	var out []string
	for _, n := range strings.Split(reply, ",") {
		if config.CheckAppName(n) != nil {
			return nil, &Refused{Request: AppList, Reply: reply}
		}
		out = append(out, n)
	}
	return out, nil
}

// EncodeOKList is the "OK a,b" reply of AUTOSTARTLIST and GETVALIDNODES;
// "OK" alone when there is nothing to list.
func EncodeOKList(items []string) string {
	return strings.TrimSpace(OK + " " + strings.Join(items, ","))
}

// ParseOKList reverses EncodeOKList; any other reply is a *Refused.
func ParseOKList(request, reply string) ([]string, error) {
	if reply == OK {
		return nil, nil
	}
	rest, ok := strings.CutPrefix(reply, OK+" ")
	if !ok {
		return nil, &Refused{Request: request, Reply: reply}
	}
	var out []string
	for _, n := range strings.Split(strings.TrimSpace(rest), ",") {
		if n != "" {
			out = append(out, n)
		}
	}
	return out, nil
}

// EncodeLoad is LOADAVERAGE's reply from /proc/loadavg's text: its
// first four fields, "0.12 0.30 0.25 1/123" (the 1, 5 and 15-minute
// averages and the runnable/total tasks).
func EncodeLoad(procLoadavg string) (string, error) {
	f := strings.Fields(procLoadavg)
	if len(f) < 4 {
		return "", fmt.Errorf("load average %q: want at least 4 fields", procLoadavg)
	}
	return strings.Join(f[:4], " "), nil
}

// ParseLoad is the 1-minute load average of a LOADAVERAGE reply (or of
// /proc/loadavg's text, which it begins).
func ParseLoad(reply string) (float64, error) {
	f := strings.Fields(reply)
	if len(f) == 0 {
		return 0, &Refused{Request: LoadAverage, Reply: reply}
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return 0, &Refused{Request: LoadAverage, Reply: reply}
	}
	return v, nil
}
