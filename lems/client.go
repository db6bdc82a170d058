package lems

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/wire"
)

// Title is the process title of an application's Lems, as ps shows it
// ("lems-samba", L4620).
func Title(app string) string { return "lems-" + app }

// LogFile is the default log of an application's Lems (L4632).
func LogFile(l layout.Layout, logs, app string) string {
	return filepath.Join(l.Path(logs), "lems-"+app+".log")
}

// ErrNotRunning means no Lems of the application answered.
var ErrNotRunning = errors.New("not running")

// Send delivers msg to app's Lems on node, or where the cluster says the
// application runs, trying this node and then the other one when no
// cluster daemon knows (L4318, L4393).
func Send(ctx context.Context, l layout.Layout, cfg *config.Cluster, app, node, msg string, timeout time.Duration) (string, error) {
	data, err := os.ReadFile(l.LemsConf(app))
	if err != nil {
		return "", fmt.Errorf("application %s has no Lems configuration: %w", app, err)
	}
	conf, err := config.ParseLems(l.LemsConf(app), data)
	if err != nil {
		return "", err
	}
	client, err := daemonapi.NewClient(l, cfg)
	if err != nil {
		return "", err
	}
	client.Timeout = timeout
	nodes := []string{node}
	if node == "" {
		nodes = nil
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		if st, _, err := client.AnyAppStatus(cctx, app, daemonapi.StatusOptions{}); err == nil && st.Node != "" {
			nodes = append(nodes, st.Node)
		}
		cancel()
		for _, n := range []string{client.Me, client.Peer()} {
			if n != "" && (len(nodes) == 0 || nodes[0] != n) {
				nodes = append(nodes, n)
			}
		}
	}
	var errs []string
	for _, n := range nodes {
		reply, err := client.CallService(ctx, n, conf.Port, wire.SvcLems(app), msg)
		if err == nil {
			return reply, nil
		}
		errs = append(errs, n)
	}
	return "", fmt.Errorf("Lems for %s is %w on %s (port %d).", app, ErrNotRunning, strings.Join(errs, " or "), conf.Port)
}
