// Package drbd drives DRBD through drbd-utils for one replicated volume
// at a time: one resource per fsmap entry, external meta-data on the
// "<lv>_meta" volume, protocol from Global.dataprotocol, resync rate from
// the application's syncrate, minor and port from the resource flags, and
// the addresses of the drbd_network (DESIGN §6). It works with the DRBD 8.4
// module (Debian's in-tree one, through drbd-utils' drbdadm-84) and reads
// DRBD 9 status output as well.
package drbd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/atomicfile"
	"github.com/linuxha-ng/linuxha/pkg/storage"
)

// Host is one node of a resource.
type Host struct {
	Name string
	Addr netip.Addr // on the drbd_network
}

// Resource is one replicated volume.
type Resource struct {
	App, VG, LV string
	Minor, Port int
	Protocol    string // A, B or C
	RateKB      int    // resync rate, KB/s
	Hosts       [2]Host
	// Secret, when set, makes the peers authenticate each other
	// (cram-hmac-alg sha256): a host that is not the other node cannot
	// connect to the replication port and feed the volume (SECURITY.md).
	Secret string
}

// Name is the DRBD resource name: "<app>_<vg>_<lv>".
func (r Resource) Name() string { return r.App + "_" + r.VG + "_" + r.LV }

// Device is the DRBD block device.
func (r Resource) Device() string { return fmt.Sprintf("/dev/drbd%d", r.Minor) }

// Size is the device's size in bytes, from sysfs (0 when it cannot be
// read: the device is not configured).
func (r Resource) Size() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/sys/block/drbd%d/size", r.Minor))
	if err != nil {
		return 0
	}
	sectors, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return sectors * 512
}

// Disk and MetaDisk are the backing logical volumes.
func (r Resource) Disk() string     { return "/dev/" + r.VG + "/" + r.LV }
func (r Resource) MetaDisk() string { return "/dev/" + r.VG + "/" + r.LV + "_meta" }

var reName = regexp.MustCompile(`^[A-Za-z0-9_.+-]+$`)

// Validate checks what goes into the configuration file.
func (r Resource) Validate() error {
	for _, s := range []string{r.App, r.VG, r.LV, r.Hosts[0].Name, r.Hosts[1].Name} {
		if !reName.MatchString(s) {
			return fmt.Errorf("drbd: invalid name %q", s)
		}
	}
	switch {
	case r.Protocol != "A" && r.Protocol != "B" && r.Protocol != "C":
		return fmt.Errorf("drbd: protocol %q", r.Protocol)
	case r.Minor < 0 || r.Port < 1 || r.Port > 65535:
		return fmt.Errorf("drbd: minor %d port %d", r.Minor, r.Port)
	case strings.ContainsAny(r.Secret, "\"\\\n") || len(r.Secret) > 64:
		return fmt.Errorf("drbd: resource %s: shared secret must be at most 64 characters without quotes", r.Name())
	case !r.Hosts[0].Addr.IsValid() || !r.Hosts[1].Addr.IsValid():
		return fmt.Errorf("drbd: resource %s lacks a node address on the replication network", r.Name())
	}
	return nil
}

// MaxRateKB is the highest resync rate DRBD accepts (4 GiB/s): larger
// syncrate values mean "as fast as it goes".
const MaxRateKB = 4194304

// Config renders the resource in drbd.conf syntax that drbd-utils reads
// for both the 8.4 and the 9 module.
func (r Resource) Config() string {
	rate := r.RateKB
	if rate <= 0 {
		rate = 1000
	}
	rate = min(rate, MaxRateKB)
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by linuxha for %s (%s/%s); kept in step on every start.\n", r.App, r.VG, r.LV)
	fmt.Fprintf(&b, "resource %s {\n", r.Name())
	fmt.Fprintf(&b, "  protocol %s;\n", r.Protocol)
	fmt.Fprintf(&b, "  device %s minor %d;\n", r.Device(), r.Minor)
	fmt.Fprintf(&b, "  disk %s;\n", r.Disk())
	fmt.Fprintf(&b, "  meta-disk %s;\n", r.MetaDisk())
	// c-plan-ahead 0: a fixed rate, as syncrate means (L1964), instead of
	// DRBD 8.4's dynamic controller that only starts from resync-rate.
	// on-io-error detach (LINBIT's recommendation, said here rather than
	// left to the module's default): a backing disk that fails is dropped
	// and the primary goes on diskless, reading and writing the peer's
	// disk, so the application keeps running; fsmon and clstat show the
	// copy as not valid here.
	fmt.Fprintf(&b, "  disk { resync-rate %dK; c-plan-ahead 0; on-io-error detach; }\n", rate)
	auth := ""
	if r.Secret != "" {
		auth = fmt.Sprintf(" cram-hmac-alg sha256; shared-secret \"%s\";", r.Secret)
	}
	// verify-alg: `drbdadm verify` compares the two copies block by
	// block while the application runs (LINBIT's advice: verify
	// regularly); without it the module refuses. crc32c is in every
	// kernel that has ext4.
	fmt.Fprintf(&b, "  net { after-sb-0pri discard-zero-changes; after-sb-1pri discard-secondary; after-sb-2pri disconnect; verify-alg crc32c;%s }\n", auth)
	for _, h := range r.Hosts {
		fmt.Fprintf(&b, "  on %s { address %s:%d; }\n", h.Name, h.Addr, r.Port)
	}
	b.WriteString("}\n")
	return b.String()
}

// Driver runs drbdadm for resources whose configuration files live in
// ConfDir.
type Driver struct {
	Runner  storage.Runner
	ConfDir string
	Proc    string // "/proc/drbd" unless a test says otherwise
	// Setup84 is DRBD 8.4's own drbdsetup ("/usr/lib/drbd/drbdsetup-84"
	// unless a test says otherwise): with the 8.4 module loaded, role
	// changes go to it directly.
	Setup84 string
}

// setup84 is DRBD 8.4's drbdsetup when the 8.4 module is loaded and
// drbd-utils has it, else "".
func (d *Driver) setup84() string {
	proc, setup := d.procPath(), d.Setup84
	if setup == "" {
		setup = "/usr/lib/drbd/drbdsetup-84"
	}
	b, err := os.ReadFile(proc)
	if err != nil || !strings.HasPrefix(string(b), "version: 8.") {
		return ""
	}
	if _, err := os.Stat(setup); err != nil {
		return ""
	}
	return setup
}

// role makes this node primary or secondary. drbdadm would parse the
// resource's file and run one drbdsetup command for it (drbdadm -d shows
// "drbdsetup-84 primary MINOR --force"); on the 8.4 module that command
// is run directly: one process per volume of a takeover instead of
// drbd-utils' dispatching drbdadm, then drbdadm-84, then drbdsetup-84.
func (d *Driver) role(ctx context.Context, r Resource, role string, force bool) error {
	if setup := d.setup84(); setup != "" {
		// Asked of the module by netlink from this process, as
		// drbdsetup-84 would (genl.go); drbdsetup-84 itself where that
		// fails, for its own message. A test's Runner keeps drbdsetup.
		if d.Runner == nil && genlRole(r.Minor, role == "primary", force) == nil {
			return nil
		}
		argv := []string{setup, role, strconv.Itoa(r.Minor)}
		if force {
			argv = append(argv, "--force")
		}
		_, err := d.run(ctx, argv...)
		return err
	}
	if force {
		return d.adm(ctx, r, role, "--force")
	}
	return d.adm(ctx, r, role)
}

// procPath is the module's status file: d.Proc, or /proc/drbd.
func (d *Driver) procPath() string {
	if d.Proc != "" {
		return d.Proc
	}
	return "/proc/drbd"
}

func (d *Driver) run(ctx context.Context, argv ...string) ([]byte, error) {
	r := d.Runner
	if r == nil {
		r = storage.Exec{}
	}
	return r.Run(ctx, nil, argv...)
}

func (d *Driver) conf(r Resource) string { return filepath.Join(d.ConfDir, r.Name()+".res") }

func (d *Driver) adm(ctx context.Context, r Resource, args ...string) error {
	argv := append([]string{"drbdadm", "-c", d.conf(r)}, args...)
	_, err := d.run(ctx, append(argv, r.Name())...)
	return err
}

// Prepare validates the resource and writes its configuration file.
func (d *Driver) Prepare(r Resource) error {
	if err := r.Validate(); err != nil {
		return err
	}
	// Every start prepares every volume: one already written as it
	// should be is not written (and synced) again.
	conf := []byte(r.Config())
	if old, err := os.ReadFile(d.conf(r)); err == nil && bytes.Equal(old, conf) {
		return nil
	}
	return atomicfile.WriteFile(d.conf(r), conf, 0o600)
}

// CreateMD writes fresh DRBD meta-data on the meta volume.
func (d *Driver) CreateMD(ctx context.Context, r Resource) error {
	return d.adm(ctx, r, "create-md", "--force")
}

// Up attaches and connects the resource; an already configured one is
// left as it is. It reports whether it changed anything.
func (d *Driver) Up(ctx context.Context, r Resource) (bool, error) {
	if st, err := d.Status(ctx, r); err == nil && st.Connection != "Unconfigured" && st.Connection != "" {
		return false, nil
	}
	return true, d.adm(ctx, r, "up")
}

// Primary makes this node primary; force overrides a peer with data that
// is not known to be older (after the peer died, or for the first sync).
func (d *Driver) Primary(ctx context.Context, r Resource, force bool) error {
	return d.role(ctx, r, "primary", force)
}

// Secondary demotes this node.
func (d *Driver) Secondary(ctx context.Context, r Resource) error {
	return d.role(ctx, r, "secondary", false)
}

// Down disconnects and detaches the resource.
func (d *Driver) Down(ctx context.Context, r Resource) error { return d.adm(ctx, r, "down") }

// InvalidateRemote makes the peer's copy resync in full from this node.
func (d *Driver) InvalidateRemote(ctx context.Context, r Resource) error {
	return d.adm(ctx, r, "invalidate-remote")
}

// Resize lets DRBD use a grown backing volume.
func (d *Driver) Resize(ctx context.Context, r Resource) error { return d.adm(ctx, r, "resize") }

// State of one resource on this node.
type State struct {
	Connection string // Connected, WFConnection, StandAlone, SyncSource, SyncTarget, Unconfigured...
	Role       string // Primary, Secondary, Unknown
	PeerRole   string
	Disk       string // UpToDate, Inconsistent, Outdated, Diskless...
	PeerDisk   string
	Syncing    bool
	Percent    float64       // sync done, 0-100, while syncing
	ETA        time.Duration // while syncing
	OutOfSync  int64         // bytes this node knows differ from the peer (oos, out-of-sync)
}

// Synced reports whether both copies are current and connected.
func (s State) Synced() bool {
	return s.Disk == "UpToDate" && s.PeerDisk == "UpToDate" && !s.Syncing
}

// ErrUnconfigured means the minor is not set up on this node.
var ErrUnconfigured = errors.New("drbd: resource not configured")

// Status reads the resource's state: /proc/drbd for the 8.4 module,
// "drbdsetup status" for DRBD 9.
func (d *Driver) Status(ctx context.Context, r Resource) (State, error) {
	b, err := os.ReadFile(d.procPath())
	if err != nil {
		return State{}, fmt.Errorf("drbd module not loaded: %w", err)
	}
	if strings.HasPrefix(string(b), "version: 8.") {
		return Parse84(string(b), r.Minor)
	}
	out, err := d.run(ctx, "drbdsetup", "status", r.Name(), "--verbose", "--statistics")
	if err != nil {
		return State{Connection: "Unconfigured"}, nil
	}
	return Parse9(string(out))
}

var (
	re84Line = regexp.MustCompile(`^\s*(\d+): cs:(\S+)(?: ro:(\S+)/(\S+) ds:(\S+)/(\S+))?`)
	re84Sync = regexp.MustCompile(`sync'ed:\s*([\d.]+)%`)
	re84ETA  = regexp.MustCompile(`finish: (\d+):(\d+):(\d+)`)
	re84OOS  = regexp.MustCompile(`\boos:(\d+)`)
)

// Parse84 reads the state of minor from DRBD 8.4's /proc/drbd.
func Parse84(text string, minor int) (State, error) {
	sc := bufio.NewScanner(strings.NewReader(text))
	var st State
	found := false
	for sc.Scan() {
		line := sc.Text()
		if m := re84Line.FindStringSubmatch(line); m != nil {
			if found {
				break
			}
			if n, _ := strconv.Atoi(m[1]); n != minor {
				continue
			}
			found = true
			st = State{Connection: m[2], Role: m[3], PeerRole: m[4], Disk: m[5], PeerDisk: m[6]}
			st.Syncing = strings.HasPrefix(st.Connection, "Sync") || strings.HasPrefix(st.Connection, "PausedSync")
			continue
		}
		if !found {
			continue
		}
		if m := re84Sync.FindStringSubmatch(line); m != nil {
			st.Percent, _ = strconv.ParseFloat(m[1], 64)
		}
		if m := re84OOS.FindStringSubmatch(line); m != nil {
			kib, _ := strconv.ParseInt(m[1], 10, 64)
			st.OutOfSync = kib << 10 // /proc/drbd counts KiB
		}
		if m := re84ETA.FindStringSubmatch(line); m != nil {
			h, _ := strconv.Atoi(m[1])
			mi, _ := strconv.Atoi(m[2])
			s, _ := strconv.Atoi(m[3])
			st.ETA = time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(s)*time.Second
		}
	}
	if !found {
		return State{Connection: "Unconfigured"}, nil
	}
	return st, nil
}

// Parse9 reads "drbdsetup status RES --verbose --statistics" (DRBD 9).
// Handled, not proven: Debian ships no DRBD 9 module to test against.
func Parse9(text string) (State, error) {
	st := State{Connection: "StandAlone"}
	fields := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		for _, f := range strings.Fields(line) {
			k, v, ok := strings.Cut(f, ":")
			if !ok {
				continue
			}
			if i == 0 && k == "role" {
				st.Role = v
				continue
			}
			if _, seen := fields[k]; !seen {
				fields[k] = v
			}
		}
	}
	if v, ok := fields["disk"]; ok {
		st.Disk = v
	}
	if v, ok := fields["connection"]; ok {
		st.Connection = v
	}
	if v, ok := fields["role"]; ok {
		st.PeerRole = v
	}
	if v, ok := fields["peer-disk"]; ok {
		st.PeerDisk = v
	}
	if v, ok := fields["replication"]; ok && v != "Established" && v != "Off" {
		st.Connection = v
		st.Syncing = strings.HasPrefix(v, "Sync")
	}
	if v, ok := fields["done"]; ok {
		st.Percent, _ = strconv.ParseFloat(v, 64)
	}
	if v, ok := fields["out-of-sync"]; ok {
		kib, _ := strconv.ParseInt(v, 10, 64)
		st.OutOfSync = kib << 10 // KiB, as in /proc/drbd
	}
	if st.Role == "" {
		return State{}, fmt.Errorf("drbd: unreadable status: %q", text)
	}
	return st, nil
}

// Connect asks a configured resource that has lost its peer (StandAlone
// after a split or a refused handshake) to connect again.
func (d *Driver) Connect(ctx context.Context, r Resource) error { return d.adm(ctx, r, "connect") }
