// Package clremoveapp removes an application's definition from the
// cluster on both nodes (Reference §12, L3244-3373): its resource flags go
// back to the free pools, its fsmap, status directory and configuration
// directory go (archived first unless --nobackup). Its data is untouched:
// the volume groups stay as they are, so it can be built again.
package clremoveapp

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/backup"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/remote"
	"github.com/linuxha-ng/linuxha/pkg/state"
)

// NewApp builds the clremoveapp command.
func NewApp(stdout, stderr io.Writer) *cli.App {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "application", Aliases: []string{"A"}, Usage: "the application to remove (required)"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"V"}},
		&cli.BoolFlag{Name: "nobackup", Usage: "do not archive the application's configuration first"},
		&cli.StringFlag{Name: "backupdir", Value: "/clbackup", Usage: "where to archive it"},
		&cli.StringFlag{Name: "file", Usage: "also write the output to `FILE` (- = standard output)"},
		&cli.BoolFlag{Name: "force", Aliases: []string{"F"}, Usage: "remove although the cluster daemons are not running (or the application runs: data loss)"},
		&cli.BoolFlag{Name: "nochecksums", Usage: "remove although the configuration does not match its checksums"},
	}
	return &cli.App{
		Name:      "clremoveapp",
		Usage:     "remove an application's definition from the cluster on both nodes",
		UsageText: "clremoveapp --application A [--verbose] [--nobackup|--backupdir D] [--file F] [--force] [--nochecksums]",
		Description: "The application must not be running and its file systems must be unmounted on both\n" +
			"nodes. Its DRBD devices and ports return to the free pools on both nodes; its fsmap,\n" +
			"status directory and /etc/cluster/A go, archived in the backup directory first. Its\n" +
			"volume groups and data are left alone.",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags:           flags,
		Action: func(c *cli.Context) error {
			app := c.String("application")
			if app == "" {
				return clitool.Usagef("--application is required")
			}
			log := logx.New(stdout)
			if f := c.String("file"); f != "" && f != "-" {
				fl, err := logx.Open(f)
				if err != nil {
					return err
				}
				defer fl.Close()
				fl.Tee(stdout)
				log = fl
			}
			log.SetVerbose(c.Bool("verbose"))
			return remove(c, layout.FromEnv(), app, log)
		},
		Commands: []*cli.Command{{
			Name: "local", Hidden: true, Usage: "remove the application on this node only (run on the peer)",
			Flags: flags,
			Action: func(c *cli.Context) error {
				log := logx.New(stdout)
				log.SetVerbose(true)
				l := layout.FromEnv()
				node := config.ThisHost() // the node's name, for its messages
				if cfg, err := clitool.LoadBuiltCluster(l, true); err == nil {
					node = cfg.ThisNode()
				}
				return removeLocal(l, c.String("application"), node, c.Bool("nobackup"), c.String("backupdir"), log)
			},
		}},
	}
}

func remove(c *cli.Context, l layout.Layout, app string, log *logx.Logger) error {
	cfg, err := clitool.LoadBuiltCluster(l, c.Bool("nochecksums"))
	if err != nil {
		return err
	}
	log.Infof("Global section configuration validation complete")
	client, err := daemonapi.NewClient(l, cfg)
	if err != nil {
		return err
	}
	if client.Me == "" {
		return fmt.Errorf("this host is not a node of cluster %s", cfg.Name)
	}
	client.Timeout = time.Second
	s, _, derr := client.AnyAppStatus(c.Context, app, daemonapi.StatusOptions{})
	st := s.State
	var refused *daemonapi.Refused
	if errors.As(derr, &refused) {
		st, derr = refused.Reply, nil
	}
	switch {
	case derr != nil && !c.Bool("force"):
		return fmt.Errorf("No cluster daemon is running, so %s cannot be confirmed stopped; use --force to remove it anyway", app)
	case derr == nil && st != daemonapi.AppDown && st != daemonapi.NotRegistered && !c.Bool("force"):
		return fmt.Errorf("Daemon responded with status %s to application status request!", st)
	}
	log.Infof("Confirmed %s is not currently running.", app)
	peer := remote.ToNode(l.Topology(), client.Peer(), log.Infof)
	if err := peer.Reach(c.Context); err != nil {
		return err
	}
	// Both nodes define it, and nothing of it is mounted on either.
	if _, err := os.Stat(l.AppConf(app)); err != nil {
		return fmt.Errorf("Application %s is not defined on %s", app, client.Me)
	}
	if _, err := peer.Output(c.Context, "test", "-e", layout.Layout{}.AppConf(app)); err != nil {
		return fmt.Errorf("Application %s is not defined on %s", app, client.Peer())
	}
	fsmap, _ := state.ReadFsmap(l.Fsmap(app))
	remoteMounts, err := peer.Output(c.Context, "cat", "/proc/mounts")
	if err != nil {
		return err
	}
	localMounts, _ := os.ReadFile("/proc/mounts")
	for _, e := range fsmap {
		for node, m := range map[string][]byte{client.Me: localMounts, client.Peer(): remoteMounts} {
			if mountedIn(string(m), e.MountPoint) {
				return fmt.Errorf("File system %s of %s is mounted on %s: unmount it first", e.MountPoint, app, node)
			}
		}
	}
	if derr == nil {
		if r, _, err := client.Any(c.Context, daemonapi.Req(daemonapi.DeregApp, "app", app, "forward", "yes")); err == nil && (r == daemonapi.OK || r == daemonapi.NotRegistered) {
			log.Infof("Application unregistered from cluster.")
		}
	}
	// The volumes go down on both nodes before their devices are freed.
	exec.CommandContext(c.Context, layout.Bin("drbd_tool"), "-A", app, "--action", "down").Run()
	peer.Run(c.Context, layout.Bin("drbd_tool"), "-A", app, "--action", "down")
	if err := removeLocal(l, app, client.Me, c.Bool("nobackup"), c.String("backupdir"), log); err != nil {
		return err
	}
	args := []string{layout.Bin("clremoveapp"), "local", "--application", app, "--backupdir", c.String("backupdir")}
	if c.Bool("nobackup") {
		args = append(args, "--nobackup")
	}
	res, err := peer.Run(c.Context, args...)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimSpace(string(res.Stdout)), "\n") {
		if line != "" && log.Verbose() {
			fmt.Fprintln(c.App.Writer, line)
		}
	}
	if res.Code != 0 {
		return fmt.Errorf("removal on %s failed: %s", client.Peer(), strings.TrimSpace(string(res.Stderr)))
	}
	log.Infof("Removing build checksums for %s", app)
	log.Infof("Successfully removed application %s from the cluster.", app)
	return nil
}

func mountedIn(mounts, dir string) bool {
	for _, line := range strings.Split(mounts, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == dir {
			return true
		}
	}
	return false
}

// removeLocal archives and removes the application's definition on the
// node it runs on.
func removeLocal(l layout.Layout, app, node string, nobackup bool, backupDir string, log *logx.Logger) error {
	if err := config.CheckAppName(app); err != nil {
		return err
	}
	if !nobackup {
		name, size, err := archive(l, app, l.Path(backupDir))
		if err != nil {
			return fmt.Errorf("backup of %s on %s: %w", app, node, err)
		}
		log.Infof("Saved configuration of %s in %s (%d bytes) on node %s", app, name, size, node)
	}
	if err := os.RemoveAll(l.StatusDir(app)); err == nil {
		log.Infof("Successfully removed %s (directory) from node %s", l.StatusDir(app), node)
	}
	for _, p := range []struct {
		dir, what string
	}{{l.DrbdDir(), "drbd resource"}, {l.PortsDir(), "port resource"}} {
		es, _ := state.Pool{Dir: p.dir}.List()
		if _, err := (state.Pool{Dir: p.dir}).Release(app); err != nil {
			return err
		}
		for _, e := range es {
			if !e.Free && e.Owner.App == app {
				log.Infof("Released %s %d on node %s", p.what, e.N, node)
			}
		}
	}
	if err := os.Remove(l.Fsmap(app)); err == nil {
		log.Infof("Removed the fsmap entry from node %s", node)
	}
	// Only this application's generated DRBD resource files ("<app>_<vg>_<lv>.res").
	if files, err := filepath.Glob(filepath.Join(l.DrbdConfDir(), app+"_*.res")); err == nil {
		for _, f := range files {
			os.Remove(f)
		}
	}
	if err := os.RemoveAll(l.AppDir(app)); err != nil {
		return err
	}
	log.Infof("Removed %s from node %s", l.AppDir(app), node)
	return nil
}

// archive writes /etc/cluster/<app>, its fsmap and status into a tgz.
func archive(l layout.Layout, app, dir string) (string, int, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", 0, err
	}
	name := filepath.Join(dir, app+"-"+time.Now().Format("20060102-150405")+".tgz")
	size, err := backup.WriteArchive(name, l.Path("/"), l.AppDir(app), l.Fsmap(app), l.StatusDir(app))
	return name, size, err
}
