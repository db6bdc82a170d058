package cltrust

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
)

// envAskpass names the password file when cltrust is ssh's askpass
// program (--password-file): ssh runs it to ask for the password.
const envAskpass = "LINUXHA_ASKPASS_FILE"

// NewApp builds the cltrust command.
func NewApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "cltrust",
		Usage:     "set up root's ssh trust between the two cluster nodes on every network",
		UsageText: "cltrust [--password-file F] [--accept-new] [--config F]",
		Description: "Run as root on one node once /etc/cluster/clconf.xml is written, before clbuild(8).\n" +
			"cltrust makes an ed25519 key for root on each node where there is none, authorizes both\n" +
			"nodes' keys on both nodes (each node also runs the tools on itself), and records the host\n" +
			"keys of both nodes in both nodes' known_hosts under every name and address the tools use:\n" +
			"the node names and the address of every card of clconf.xml. It then checks that ssh in\n" +
			"BatchMode works from each node to every address of both, and says which does not.\n" +
			"The first connection to the other node is an ordinary ssh: it asks for root's password\n" +
			"(or uses a key or agent that already works) and to confirm the host key, unless\n" +
			"--password-file and --accept-new say otherwise. Existing keys and other lines of the\n" +
			"files are kept. Running it again is harmless.",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "password-file", Usage: "read the other node's root password from `FILE` (for unattended set-up; remove it afterwards)"},
			&cli.BoolFlag{Name: "accept-new", Usage: "accept the other node's host key on first contact without asking (it is printed)"},
			&cli.StringFlag{Name: "config", Usage: "the cluster definition `FILE` (default /etc/cluster/clconf.xml; it need not be built yet)"},
		},
		Action: func(c *cli.Context) error {
			if f := os.Getenv(envAskpass); f != "" {
				// ssh asks us for the password. Its host-key question
				// is not ours to answer: --accept-new or the terminal.
				if strings.Contains(c.Args().First(), "(yes/no") {
					return cli.Exit("", 1)
				}
				pw, err := os.ReadFile(f)
				if err != nil {
					return err
				}
				fmt.Fprintln(stdout, strings.TrimRight(string(pw), "\n"))
				return nil
			}
			if c.NArg() > 0 {
				return clitool.Usagef("unexpected argument %q", c.Args().First())
			}
			l := layout.FromEnv()
			file := c.String("config")
			if file == "" {
				file = l.Clconf()
			}
			cfg, _, err := config.LoadCluster(file)
			if err != nil {
				return clitool.ConfigError(err)
			}
			t := &truster{cfg: cfg, log: logx.New(stdout), passwordFile: c.String("password-file"), acceptNew: c.Bool("accept-new")}
			return t.run(c.Context)
		},
	}
}

type truster struct {
	cfg          *config.Cluster
	log          *logx.Logger
	passwordFile string
	acceptNew    bool
}

func cards(n *config.Node) []string {
	var cs []string
	for _, nw := range n.Networks {
		cs = append(cs, nw.Cards...)
	}
	return cs
}

func (t *truster) run(ctx context.Context) error {
	host := t.cfg.ThisNode()
	me, ok := t.cfg.Node(host)
	if !ok {
		return clitool.ConfigError(fmt.Errorf("This host (%s) is not one of the nodes in %s (%s)", host, t.cfg.File, strings.Join(t.cfg.NodeNames(), ", ")))
	}
	peer, _ := t.cfg.Peer(me.Name)

	out, err := local(ctx, reportScript(cards(me)))
	if err != nil {
		return fmt.Errorf("root's key on %s: %w", me.Name, err)
	}
	mine, err := ParseReport(out)
	if err != nil {
		return err
	}
	t.log.Infof("Root's key on %s: %s", me.Name, mine.Key)

	t.log.Infof("Connecting to %s as root (first contact: ssh may ask for its password and to confirm its host key)", peer.Name)
	out, err = t.first(ctx, peer.Name, reportScript(cards(peer)))
	if err != nil {
		return clitool.NotRunningf("cannot ssh to %s as root: %v", peer.Name, err)
	}
	theirs, err := ParseReport(out)
	if err != nil {
		return err
	}
	t.log.Infof("Root's key on %s: %s", peer.Name, theirs.Key)
	nodes := []Node{{me.Name, mine}, {peer.Name, theirs}}
	for _, n := range nodes {
		t.log.Infof("%s answers to %s", n.Name, strings.Join(n.Names(), ", "))
	}

	// The peer first, over the connection that works now; then here.
	if _, err := t.first(ctx, peer.Name, writeScript(Merge(theirs, nodes))); err != nil {
		return fmt.Errorf("writing root's ssh files on %s: %w", peer.Name, err)
	}
	if _, err := local(ctx, writeScript(Merge(mine, nodes))); err != nil {
		return fmt.Errorf("writing root's ssh files on %s: %w", me.Name, err)
	}
	t.log.Infof("Wrote authorized_keys and known_hosts for root on %s and %s", me.Name, peer.Name)

	var targets []string
	for _, n := range nodes {
		targets = append(targets, n.Names()...)
	}
	here, err := local(ctx, checkScript(targets))
	if err != nil {
		return err
	}
	there, err := batch(ctx, peer.Name, checkScript(targets))
	if err != nil {
		return fmt.Errorf("checking ssh from %s: %w", peer.Name, err)
	}
	var failed []string
	for _, r := range []struct{ from, out string }{{me.Name, here}, {peer.Name, there}} {
		for _, line := range strings.Split(strings.TrimSpace(r.out), "\n") {
			status, rest, _ := strings.Cut(line, " ")
			target, why, _ := strings.Cut(rest, " ")
			if status == "OK" {
				t.log.Infof("ssh %s -> %s: ok", r.from, target)
			} else {
				failed = append(failed, fmt.Sprintf("%s -> %s (%s)", r.from, target, strings.TrimSpace(why)))
			}
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("ssh in BatchMode still fails: %s", strings.Join(failed, "; "))
	}
	t.log.Infof("Root ssh trust between %s and %s is complete on every network.", me.Name, peer.Name)
	return nil
}

// local runs a script here.
func local(ctx context.Context, script string) (string, error) {
	return runScript(exec.CommandContext(ctx, "sh", "-s"), script, nil)
}

// first runs a script on the peer over an ordinary ssh: the terminal (or
// --password-file) answers what ssh asks.
func (t *truster) first(ctx context.Context, host, script string) (string, error) {
	args := []string{"-o", "ConnectTimeout=10", "-o", "NumberOfPasswordPrompts=1"}
	if t.acceptNew {
		args = append(args, "-o", "StrictHostKeyChecking=accept-new")
	}
	c := exec.CommandContext(ctx, "ssh", append(args, "root@"+host, "sh -s")...)
	if t.passwordFile != "" {
		exe, err := os.Executable()
		if err != nil {
			return "", err
		}
		c.Env = append(os.Environ(), "SSH_ASKPASS="+exe, "SSH_ASKPASS_REQUIRE=force", envAskpass+"="+t.passwordFile)
	}
	// ssh's questions and complaints go to the administrator.
	return runScript(c, script, os.Stderr)
}

// batch runs a script on the peer the way the tools do (BatchMode).
func batch(ctx context.Context, host, script string) (string, error) {
	return runScript(exec.CommandContext(ctx, "ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "root@"+host, "sh -s"), script, nil)
}

// runScript feeds script to c and returns its output; c's standard error
// goes to stderr, or into the error when stderr is nil.
func runScript(c *exec.Cmd, script string, stderr io.Writer) (string, error) {
	c.Stdin = strings.NewReader(script)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if stderr != nil {
		c.Stderr = stderr
	}
	c.WaitDelay = 5 * time.Second
	if err := c.Run(); err != nil {
		if msg := strings.TrimSpace(errb.String()); msg != "" {
			return "", fmt.Errorf("%w: %s", err, msg)
		}
		return "", err
	}
	return out.String(), nil
}
