package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/config"
)

var t0 = time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)

// DRCM's rate limit (seed 000): one alert of a kind per period, then a
// summary of what was held back once the period ends.
func TestLimiterGolden(t *testing.T) {
	l := Limiter{Period: 4 * time.Hour}
	dead := Event{Kind: Node, Node: "serverb", Desc: "lost"}
	joined := Event{Kind: Node, Node: "serverb", Desc: "member"}
	at := func(e Event, d time.Duration) Event { e.At = t0.Add(d); return e }
	var sent []bool
	for i := 0; i < 20; i++ {
		sent = append(sent, l.Admit(at(dead, time.Duration(i)*time.Minute)))
	}
	if !sent[0] || slices.Contains(sent[1:], true) {
		t.Fatalf("20 deaths in 20 minutes: sent %v, want only the first", sent)
	}
	if !l.Admit(at(joined, 5*time.Minute)) {
		t.Error("another kind (a join) was held back by the deaths")
	}
	if due := l.Due(t0.Add(3 * time.Hour)); len(due) != 0 {
		t.Errorf("summary before the period ended: %+v", due)
	}
	due := l.Due(t0.Add(4 * time.Hour))
	want := []Event{{Kind: Node, Node: "serverb", Desc: "lost (19 more held back since 2026-12-02T03:00:00Z)", At: t0.Add(4 * time.Hour)}}
	if !reflect.DeepEqual(due, want) {
		t.Errorf("summary:\n got %+v\nwant %+v", due, want)
	}
	if due := l.Due(t0.Add(9 * time.Hour)); len(due) != 0 {
		t.Errorf("a second summary with nothing held back: %+v", due)
	}
	if !l.Admit(at(dead, 8*time.Hour+time.Minute)) {
		t.Error("a death a period after the summary was held back")
	}
}

// The environment Pacemaker's alert_file.sh.sample reads.
func TestEnv(t *testing.T) {
	e := Event{Kind: Resource, Node: "serverb", Rsc: "apache", Task: "start", Desc: "taken over", At: t0}
	env := Env(e, "/var/log/cluster/alerts.log", 7)
	for _, want := range []string{"CRM_alert_kind=resource", "CRM_alert_node=serverb", "CRM_alert_rsc=apache",
		"CRM_alert_task=start", "CRM_alert_desc=taken over", "CRM_alert_rc=0", "CRM_alert_target_rc=0",
		"CRM_alert_interval=0", "CRM_alert_recipient=/var/log/cluster/alerts.log", "CRM_alert_node_sequence=7",
		"CRM_alert_timestamp=03:00:00.000000"} {
		if !slices.Contains(env, want) {
			t.Errorf("env lacks %s: %v", want, env)
		}
	}
	if !slices.ContainsFunc(env, func(s string) bool {
		return strings.HasPrefix(s, "CRM_alert_version=") && len(s) > len("CRM_alert_version=")
	}) {
		t.Errorf("no version: %v", env)
	}
}

// The dispatcher runs every agent on each admitted event with the
// environment (20 deaths in a row make one alert), never blocks Send,
// and kills an agent at its time limit.
func TestDispatcher(t *testing.T) {
	dir := t.TempDir()
	rec := dir + "/alerts.log"
	agent := dir + "/agent.sh"
	os.WriteFile(agent, []byte("#!/bin/sh\necho \"$CRM_alert_kind $CRM_alert_node $CRM_alert_desc\" >> \"$CRM_alert_recipient\"\n"), 0o755)
	hang := dir + "/hang.sh"
	os.WriteFile(hang, []byte("#!/bin/sh\nexec sleep 60\n"), 0o755)
	var warned []string
	var mu sync.Mutex
	d := New(config.Alerts{Period: time.Hour, Agents: []config.AlertAgent{
		{Path: agent, Recipient: rec, Timeout: 5 * time.Second},
		{Path: hang, Timeout: 200 * time.Millisecond},
	}}, Origin{Cluster: "cluster1", Node: "servera"}, func(f string, a ...any) { mu.Lock(); warned = append(warned, fmt.Sprintf(f, a...)); mu.Unlock() })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	start := time.Now()
	for i := 0; i < 20; i++ {
		d.Send(Event{Kind: Node, Node: "serverb", Desc: "lost"})
	}
	d.Send(Event{Kind: Node, Node: "serverb", Desc: "member"})
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("Send blocked for %v", took)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(rec)
		mu.Lock()
		killed := len(warned) >= 2
		mu.Unlock()
		// Agents run at once, as Pacemaker's do: in any order.
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		slices.Sort(lines)
		if slices.Equal(lines, []string{"node serverb lost", "node serverb member"}) && killed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("recorded %q, warnings %q", b, warned)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	for _, w := range warned {
		if !strings.Contains(w, hang) || !strings.Contains(w, "killed") {
			t.Errorf("warning %q: want the hanging agent killed", w)
		}
	}
}

// The one-line summary is Pacemaker's alert_smtp.sh.sample subject
// without its time stamp and cluster name.
func TestSummary(t *testing.T) {
	for _, c := range []struct {
		e    Event
		want string
	}{
		{Event{Kind: Node, Node: "serverb", Desc: "lost"}, "Node 'serverb' is now 'lost'"},
		{Event{Kind: Fencing, Node: "serverb", Task: "off", Desc: "Operation off of serverb by servera: OK"}, "Fencing Operation off of serverb by servera: OK"},
		{Event{Kind: Resource, Node: "serverb", Rsc: "apache", Task: "start", Desc: "taken over from servera"},
			"Resource operation 'start' for 'apache' on 'serverb': taken over from servera"},
		{Event{Kind: Resource, Node: "servera", Rsc: "apache", Task: "start", RC: 1, Desc: "start failed"},
			"Resource operation 'start' for 'apache' on 'servera': start failed (rc=1)"},
	} {
		if got := Summary(c.e); got != c.want {
			t.Errorf("%+v:\n got %q\nwant %q", c.e, got, c.want)
		}
	}
}

// The mail: headers a relay accepts, the subject in one line, the
// envelope's addresses bare, Pacemaker's variables in the body.
func TestMessage(t *testing.T) {
	m := config.AlertMail{Relay: "mail:25", To: []string{"Ops <ops@example.com>", "oncall@example.com"}}
	e := Event{Kind: Node, Node: "serverb", Desc: "lost\r\nBcc: evil@example.com", At: t0}
	msg := string(Message(m, Origin{Cluster: "cluster1", Node: "servera"}, e, 3))
	head, body, ok := strings.Cut(msg, "\r\n\r\n")
	if !ok {
		t.Fatalf("no header end:\n%s", msg)
	}
	for _, want := range []string{"From: linuxha@servera", "To: Ops <ops@example.com>, oncall@example.com",
		"Subject: [cluster1] Node 'serverb' is now 'lost  Bcc: evil@example.com'", "Date: Wed, 02 Dec 2026 03:00:00 +0000",
		"Message-ID: <linuxha.", "Auto-Submitted: auto-generated"} {
		if !strings.Contains(head, want) {
			t.Errorf("header lacks %q:\n%s", want, head)
		}
	}
	if strings.Contains(head, "\r\nBcc:") {
		t.Errorf("a header was injected through the description:\n%s", head)
	}
	for _, want := range []string{"cluster: cluster1", "sent by: servera", "CRM_alert_kind=node", "CRM_alert_node_sequence=3"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	if got := bare("Ops <ops@example.com>"); got != "ops@example.com" {
		t.Errorf("envelope address %q", got)
	}
}

// Webhooks get the event as JSON (schema, text for chat hooks, null for
// what a node alert does not have); a failing webhook is a warning.
func TestWebhook(t *testing.T) {
	got := make(chan Payload, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p Payload
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&p) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		got <- p
	}))
	defer srv.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	defer bad.Close()
	var mu sync.Mutex
	var warned []string
	d := New(config.Alerts{Period: time.Hour, Webhooks: []config.AlertWebhook{{URL: srv.URL, Timeout: 5 * time.Second}, {URL: bad.URL, Timeout: 5 * time.Second}}},
		Origin{Cluster: "cluster1", Node: "servera"}, func(f string, a ...any) { mu.Lock(); warned = append(warned, fmt.Sprintf(f, a...)); mu.Unlock() })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	d.Send(Event{Kind: Node, Node: "serverb", Desc: "lost", At: t0})
	select {
	case p := <-got:
		want := Payload{Schema: "linuxha.alert/v1", Text: "[cluster1] Node 'serverb' is now 'lost'", Cluster: "cluster1", From: "servera",
			Kind: "node", Node: "serverb", Desc: "lost", Timestamp: "2026-12-02T03:00:00Z", Sequence: 1, Version: p.Version}
		if !reflect.DeepEqual(p, want) || p.Version == "" {
			t.Errorf("posted\n %+v\nwant %+v", p, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing posted")
	}
	b, _ := json.Marshal(NewPayload(Event{Kind: Node, Node: "serverb", Desc: "lost", At: t0}, Origin{}, 1))
	if !strings.Contains(string(b), `"resource":null,"task":null`) {
		t.Errorf("absent values are not null: %s", b)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(warned)
		mu.Unlock()
		if n > 0 {
			break
		}
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	// The good webhook's delivery may still be reading its answer when
	// the dispatcher stops (seen under -race): a cut-short delivery is
	// no failure of the webhook.
	var failures []string
	for _, w := range warned {
		if !strings.Contains(w, "context canceled") {
			failures = append(failures, w)
		}
	}
	if len(failures) != 1 || !strings.Contains(failures[0], bad.URL) || !strings.Contains(failures[0], "502") {
		t.Errorf("warnings %q: want the failing webhook named with its answer", warned)
	}
}
