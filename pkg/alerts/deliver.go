package alerts

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/mail"
	"net/smtp"
	"strings"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/version"
)

// Schema names the JSON of a webhook's body; a change that breaks its
// readers gets a new one.
const Schema = "linuxha.alert/v1"

// Payload is the JSON a webhook receives. Text carries the one-line
// summary under the name Slack, Mattermost and Rocket.Chat incoming
// webhooks display; absent values are null.
type Payload struct {
	Schema    string  `json:"schema"`
	Text      string  `json:"text"`
	Cluster   string  `json:"cluster"`
	From      string  `json:"from"` // the node that sent it
	Kind      string  `json:"kind"`
	Node      string  `json:"node"`
	Resource  *string `json:"resource"`
	Task      *string `json:"task"`
	Desc      string  `json:"desc"`
	RC        int     `json:"rc"`
	Timestamp string  `json:"timestamp"` // RFC 3339 with zone
	Sequence  int     `json:"sequence"`
	Version   string  `json:"version"`
}

// NewPayload is e as a webhook posts it.
func NewPayload(e Event, from Origin, seq int) Payload {
	p := Payload{Schema: Schema, Text: "[" + from.Cluster + "] " + Summary(e), Cluster: from.Cluster, From: from.Node,
		Kind: e.Kind, Node: e.Node, Desc: e.Desc, RC: e.RC, Timestamp: e.At.Format(time.RFC3339Nano),
		Sequence: seq, Version: version.String()}
	if e.Rsc != "" {
		p.Resource = &e.Rsc
	}
	if e.Task != "" {
		p.Task = &e.Task
	}
	return p
}

// post sends e to a webhook; any answer but 2xx is a failure.
func post(ctx context.Context, w config.AlertWebhook, from Origin, e Event, seq int) error {
	body, err := json.Marshal(NewPayload(e, from, seq))
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "linuxha/"+version.String())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the webhook answered %s", resp.Status)
	}
	return nil
}

// Message is the mail for e: headers and a plain-text body with the
// summary, the event's fields and Pacemaker's variables (as
// alert_smtp.sh.sample puts them in its body).
func Message(m config.AlertMail, from Origin, e Event, seq int) []byte {
	var b bytes.Buffer
	oneLine := strings.NewReplacer("\r", " ", "\n", " ")
	fmt.Fprintf(&b, "From: %s\r\n", sender(m, from))
	fmt.Fprintf(&b, "To: %s\r\n", strings.Join(m.To, ", "))
	fmt.Fprintf(&b, "Subject: %s\r\n", oneLine.Replace("["+from.Cluster+"] "+Summary(e)))
	fmt.Fprintf(&b, "Date: %s\r\n", e.At.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <linuxha.%d.%d@%s>\r\n", e.At.UnixNano(), seq, from.Node)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nAuto-Submitted: auto-generated\r\n\r\n")
	fmt.Fprintf(&b, "%s\r\n\r\ncluster: %s\r\nsent by: %s\r\ntime: %s\r\n\r\n", Summary(e), from.Cluster, from.Node, e.At.Format(time.RFC3339))
	for _, v := range Env(e, strings.Join(m.To, ","), seq) {
		b.WriteString(oneLine.Replace(v) + "\r\n")
	}
	return b.Bytes()
}

// sender is the envelope and From address: from= or linuxha@<node>.
func sender(m config.AlertMail, from Origin) string {
	if m.From != "" {
		return m.From
	}
	return "linuxha@" + from.Node
}

// bare is the address alone of "Name <addr>", for the envelope.
func bare(a string) string {
	if p, err := mail.ParseAddress(a); err == nil {
		return p.Address
	}
	return a
}

// sendMail hands e to the relay (plain SMTP on a trusted network, as
// keepalived's notification_email does; STARTTLS when the relay offers
// it unless starttls="no").
func sendMail(ctx context.Context, m config.AlertMail, from Origin, e Event, seq int) error {
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", m.Relay)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	host, _, _ := net.SplitHostPort(m.Relay)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello(from.Node); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok && m.StartTLS {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if err := c.Mail(bare(sender(m, from))); err != nil {
		return err
	}
	for _, to := range m.To {
		if err := c.Rcpt(bare(to)); err != nil {
			return fmt.Errorf("%s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(Message(m, from, e, seq)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
