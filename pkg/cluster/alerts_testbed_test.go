package cluster_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
	"github.com/linuxha-ng/linuxha/pkg/alerts"
)

// webhookServer is an HTTP server that appends each POST body as a line
// to the file it is given.
const webhookServer = `
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        with open(sys.argv[1], 'ab') as f:
            f.write(body + b'\n')
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(('172.16.177.254', 8080), H).serve_forever()
`

// onRouter starts argv on the testbed's router for the rest of the test.
func onRouter(t *testing.T, tb *testbed.Bed, argv ...string) {
	t.Helper()
	c := tb.Router(append([]string{"timeout", "300"}, argv...)...)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-c.Process.Pid, syscall.SIGKILL); c.Wait() })
}

// Issue 19, alerts: mail through a real SMTP server (aiosmtpd on the
// router host) and a webhook, beside Pacemaker's alert_file.sh.sample;
// DRCM's rate limit (seed 000) turns 20 failures of one network into one
// alert of each kind and, once the period ends, one summary saying 19
// were held back.
func TestAlertDelivery(t *testing.T) {
	const sample = "/usr/share/pacemaker/alerts/alert_file.sh.sample"
	for _, f := range []string{sample, "/usr/lib/python3/dist-packages/aiosmtpd"} {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("%s is not installed (scripts/deps test installs pacemaker-common and python3-aiosmtpd)", f)
		}
	}
	tb := testbed.Up(t)
	dir := t.TempDir()
	maildir, hooks := filepath.Join(dir, "maildir"), filepath.Join(dir, "hooks")
	onRouter(t, tb, "/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", "172.16.177.254:2525", "-c", "aiosmtpd.handlers.Mailbox", maildir)
	onRouter(t, tb, "/usr/bin/python3", "-c", webhookServer, hooks)
	testbed.Eventually(t, 20*time.Second, "the SMTP and HTTP servers on the router", func() bool {
		return tb.Router("bash", "-c", "exec 3<>/dev/tcp/172.16.177.254/2525 && exec 4<>/dev/tcp/172.16.177.254/8080").Run() == nil
	})
	const period = 8 * time.Second
	tm := fast
	tm.Sections = `<alerts period="8s">
  <agent path="` + sample + `" recipient="/var/log/cluster/alerts.log" timeout="10"/>
  <mail relay="172.16.177.254:2525" to="ops@example.com" timeout="10"/>
  <webhook url="http://172.16.177.254:8080/linuxha" timeout="10"/>
</alerts>
`
	tb.FormCluster(t, tm)

	const what = "Node 'servera' is now 'network public failed'"
	agentLines := func() []string {
		var out []string
		for _, l := range strings.Split(tb.Exec(t, "servera", "", "cat", "/var/log/cluster/alerts.log").Stdout, "\n") {
			if strings.Contains(l, "Node 'servera' is now 'network public failed") {
				out = append(out, l)
			}
		}
		return out
	}
	subjects := func() []string {
		files, _ := filepath.Glob(filepath.Join(maildir, "new", "*"))
		var out []string
		for _, f := range files {
			b, _ := os.ReadFile(f)
			for _, l := range strings.Split(string(b), "\n") {
				if s, ok := strings.CutPrefix(strings.TrimSpace(l), "Subject: "); ok {
					out = append(out, s)
				}
			}
		}
		return out
	}
	posted := func() []alerts.Payload {
		b, _ := os.ReadFile(hooks)
		var out []alerts.Payload
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var p alerts.Payload
			if json.Unmarshal([]byte(l), &p) == nil && p.Kind == "node" && strings.HasPrefix(p.Desc, "network public failed") {
				out = append(out, p)
			}
		}
		return out
	}

	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(hooks)
			t.Logf("agent: %q\nmail: %q\nwebhook: %s\nlog:\n%s", agentLines(), subjects(), b,
				tb.Sh(t, "servera", "grep -v 'Added request' /var/log/cluster/cldaemon-cluster1.log"))
		}
	})
	first := time.Now()
	for i := 0; i < 20; i++ {
		if r := tb.Exec(t, "servera", "", "cldaemonctl", "--msg", "NET_FAILED net=public"); r.Code != 0 || strings.TrimSpace(r.Stdout) != "OK" {
			t.Fatalf("NET_FAILED: %s", r.Output())
		}
	}
	testbed.Eventually(t, 10*time.Second, "the first failure alerted by the agent, by mail and by the webhook", func() bool {
		return len(agentLines()) == 1 && len(subjects()) == 1 && len(posted()) == 1
	})
	if s := subjects()[0]; s != "[cluster1] "+what {
		t.Errorf("mail subject %q", s)
	}
	if p := posted()[0]; p.Schema != alerts.Schema || p.Cluster != "cluster1" || p.From != "servera" || p.Node != "servera" || p.Text != "[cluster1] "+what {
		t.Errorf("webhook payload %+v", p)
	}
	if since := time.Since(first); since > period-time.Second {
		t.Skipf("the first alerts took %v, too close to the %v period to tell the held-back ones from the summary", since, period)
	}
	if n := len(agentLines()); n != 1 {
		t.Fatalf("%d alerts within the period; want the other 19 held back", n)
	}
	testbed.Eventually(t, period+10*time.Second, "one summary of the 19 held back, by each way", func() bool {
		return len(agentLines()) == 2 && len(subjects()) == 2 && len(posted()) == 2
	})
	for _, s := range []string{agentLines()[1], subjects()[1], posted()[1].Desc} {
		if !strings.Contains(s, "network public failed (19 more held back since ") {
			t.Errorf("summary %q", s)
		}
	}
	time.Sleep(period / 2)
	if a, m, p := len(agentLines()), len(subjects()), len(posted()); a != 2 || m != 2 || p != 2 {
		t.Errorf("after the summary: %d agent lines, %d mails, %d posts; want 2 of each", a, m, p)
	}
	if l := tb.Sh(t, "servera", "cat /var/log/cluster/cldaemon-cluster1.log"); strings.Contains(l, "Alert ") {
		t.Errorf("a delivery failed:\n%s", l)
	}
}
