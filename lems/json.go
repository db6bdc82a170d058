package lems

import (
	"strings"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/jsonout"
)

// CtlSchema names CtlDoc.
const CtlSchema = "linuxha.lemsctl/v1"

// CtlDoc is a lemsctl message and its reply as JSON (lemsctl --json):
// for GET_STAT and GET_VSTAT the monitors read, null for the other
// messages; OK says whether the reply was not a failure (FAIL...,
// NOT_IMP).
type CtlDoc struct {
	Schema      string       `json:"schema"`
	Application string       `json:"application"`
	Message     string       `json:"message"`
	Reply       []string     `json:"reply"` // its lines
	OK          bool         `json:"ok"`
	Monitors    []MonitorDoc `json:"monitors"`
}

// MonitorDoc is one monitor of a GET_STAT or GET_VSTAT reply.
type MonitorDoc struct {
	Name            string          `json:"name"`
	Module          string          `json:"module"`
	Running         bool            `json:"running"`
	NextRun         *string         `json:"next_run"` // RFC 3339; null when stopped
	IntervalSeconds jsonout.Seconds `json:"interval_seconds"`
	Command         string          `json:"command"`
	Detail          []string        `json:"detail"` // GET_VSTAT's detail lines; null for GET_STAT
}

// Doc reads reply, app's Lems' answer to msg.
func Doc(app, msg, reply string) CtlDoc {
	d := CtlDoc{Schema: CtlSchema, Application: app, Message: msg, OK: !Failed(reply),
		Reply: strings.Split(strings.TrimSuffix(reply, NR), NR)}
	verb, _, _ := strings.Cut(strings.TrimSpace(msg), " ")
	if v := strings.ToUpper(verb); v != "GET_STAT" && v != "GET_VSTAT" || !d.OK {
		return d
	}
	d.Monitors = []MonitorDoc{}
	for _, m := range ParseStat(reply) {
		md := MonitorDoc{Name: m.Name, Module: m.Module(), Running: m.NextRun != 0, IntervalSeconds: jsonout.Seconds(m.Interval),
			Command: m.Command, Detail: m.Detail}
		if m.NextRun != 0 {
			md.NextRun = jsonout.Time(time.Unix(m.NextRun, 0))
		}
		if md.Detail == nil && strings.EqualFold(verb, "GET_VSTAT") {
			md.Detail = []string{}
		}
		d.Monitors = append(d.Monitors, md)
	}
	return d
}

// Failed reports whether a reply refuses the message.
func Failed(reply string) bool {
	return strings.HasPrefix(reply, "FAIL") || reply == "NOT_IMP"
}
