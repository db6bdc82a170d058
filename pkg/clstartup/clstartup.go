// Package clstartup forms or joins the cluster when a node boots, as
// /etc/cluster/clstartup.xml says (Reference §10.4, L2706-2754).
package clstartup

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/membership"
)

// NewApp builds the clstartup command.
func NewApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "clstartup",
		Usage:     "form or join the cluster at boot, as /etc/cluster/clstartup.xml says",
		UsageText: "clstartup",
		Description: "Run on each node at boot (see linuxha-clstartup.service). If the other node already runs\n" +
			"the cluster, this node joins it when join_existing_cluster is yes. Otherwise it starts its\n" +
			"own cluster daemon to form the cluster with the other node, waiting timeout seconds\n" +
			"(default timings/clusterform); with allow_single_node yes it forms alone when the other\n" +
			"node does not come. With autostart_apps yes the autostart applications are started once\n" +
			"the cluster is formed. background_startup is accepted and ignored. When the daemon runs\n" +
			"already (linuxha-cldaemon.service started it with the same decision), only the\n" +
			"autostart applications are started. Output is also appended to\n" +
			"/var/log/cluster/clstartup.log.",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Action: func(c *cli.Context) error {
			l := layout.FromEnv()
			data, err := os.ReadFile(l.Clstartup())
			if err != nil {
				return fmt.Errorf("Unable to read %s - clstartup needs it on both nodes.", l.Clstartup())
			}
			st, err := config.ParseStartup(l.Clstartup(), data)
			if err != nil {
				return err
			}
			cfg, err := clitool.LoadBuiltCluster(l, false)
			if err != nil {
				return err
			}
			log := logx.New(stdout)
			if f, err := logx.Open(l.Path(cfg.LogDir) + "/clstartup.log"); err == nil {
				defer f.Close()
				log = f
				log.Tee(stdout)
			}
			client, err := daemonapi.NewClient(l, cfg)
			if err != nil {
				return err
			}
			if client.Me == "" {
				return fmt.Errorf("this host is not a node of cluster %s", cfg.Name)
			}
			client.Timeout = time.Second
			timeout := st.Timeout
			if timeout == 0 {
				timeout = cfg.ClusterForm
			}
			if r, err := client.Echo(c.Context, client.Me); err == nil {
				// linuxha-cldaemon.service started it (cldaemon --startup):
				// this command's job is then the autostart applications.
				log.Infof("Cluster daemon already running here (state %s).", r)
				if !st.AutostartApps {
					return nil
				}
			} else if started, err := startDaemon(c, client, st, timeout, log); !started {
				return err
			}
			deadline := time.Now().Add(timeout + 15*time.Second)
			for time.Now().Before(deadline) {
				r, err := client.Echo(c.Context, client.Me)
				if err != nil {
					return fmt.Errorf("Cluster %s did not form; see %s/cldaemon-%s.log", cfg.Name, cfg.LogDir, cfg.Name)
				}
				if r == daemonapi.NodeUp {
					peer, _ := client.NodeState(c.Context, client.Me, client.Peer())
					log.Infof("Cluster %s is UP on %s (%s is %s).", cfg.Name, client.Me, client.Peer(), peer)
					if st.AutostartApps {
						autostart(c, client, log)
					}
					return nil
				}
				time.Sleep(200 * time.Millisecond)
			}
			return fmt.Errorf("Cluster %s did not form within %v", cfg.Name, timeout)
		},
	}
}

// startDaemon starts this node's cldaemon, detached, to join or form as
// membership.Boot decides; started is false when there is nothing to
// wait for (not joining, or an error).
func startDaemon(c *cli.Context, client *daemonapi.Client, st *config.Startup, timeout time.Duration, log *logx.Logger) (started bool, err error) {
	plan := membership.Boot(client.Up(c.Context, client.Peer()), st.JoinExistingCluster, st.AllowSingleNode)
	switch plan.Mode {
	case "":
		log.Infof("Cluster %s is already running on %s - not joining (join_existing_cluster is no).", client.Cfg.Name, client.Peer())
		return false, nil
	case "join":
		log.Infof("Cluster %s is running on %s - joining it.", client.Cfg.Name, client.Peer())
	default:
		log.Infof("Forming cluster %s (waiting up to %v for %s).", client.Cfg.Name, timeout, client.Peer())
	}
	args := []string{"--" + plan.Mode, "--detach", "--verbose", "--timeout", timeout.String()}
	if plan.Force {
		args = append(args, "--force")
	}
	if out, err := exec.CommandContext(c.Context, layout.Bin("cldaemon"), args...).CombinedOutput(); err != nil {
		return false, fmt.Errorf("Unable to start cldaemon: %s", strings.TrimSpace(string(out)))
	}
	return true, nil
}

// autostart asks clrunapp to start the autostart applications; it refuses
// applications already running, so both nodes may ask.
func autostart(c *cli.Context, client *daemonapi.Client, log *logx.Logger) {
	apps, err := client.Autostart(c.Context, client.Me)
	if err != nil {
		return
	}
	for _, app := range apps {
		out, err := exec.CommandContext(c.Context, layout.Bin("clrunapp"), "--application", app).CombinedOutput()
		if err != nil {
			log.Warnf("Unable to start autostart application %s: %s", app, strings.TrimSpace(string(out)))
			continue
		}
		log.Infof("Started autostart application %s.", app)
	}
}
