package drbd

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func res() Resource {
	return Resource{App: "apache", VG: "app01vg", LV: "docs", Minor: 0, Port: 9901, Protocol: "C", RateKB: 2000,
		Hosts: [2]Host{{"servera", netip.MustParseAddr("192.100.100.1")}, {"serverb", netip.MustParseAddr("192.100.100.2")}}}
}

func TestConfigGolden(t *testing.T) {
	want := `# Written by linuxha for apache (app01vg/docs); kept in step on every start.
resource apache_app01vg_docs {
  protocol C;
  device /dev/drbd0 minor 0;
  disk /dev/app01vg/docs;
  meta-disk /dev/app01vg/docs_meta;
  disk { resync-rate 2000K; c-plan-ahead 0; on-io-error detach; }
  net { after-sb-0pri discard-zero-changes; after-sb-1pri discard-secondary; after-sb-2pri disconnect; verify-alg crc32c; }
  on servera { address 192.100.100.1:9901; }
  on serverb { address 192.100.100.2:9901; }
}
`
	if got := res().Config(); got != want {
		t.Fatalf("got\n%s", got)
	}
	fast := res()
	fast.RateKB = 10000000
	if !strings.Contains(fast.Config(), "resync-rate 4194304K;") {
		t.Fatal("rate above DRBD's maximum not clamped")
	}
	bad := res()
	bad.LV = "docs; rm -rf /"
	if bad.Validate() == nil {
		t.Fatal("unsafe name accepted")
	}
}

// recorder is a Runner that records argv lines.
type recorder struct{ lines []string }

func (r *recorder) Run(_ context.Context, _ []byte, argv ...string) ([]byte, error) {
	r.lines = append(r.lines, strings.Join(argv, " "))
	return nil, nil
}

func TestCommandsTranscript(t *testing.T) {
	dir := t.TempDir()
	proc := filepath.Join(dir, "drbd")
	os.WriteFile(proc, []byte("version: 8.4.11 (api:1/proto:86-101)\n"), 0o644)
	rec := &recorder{}
	// drbd-utils without DRBD 8.4's own drbdsetup: everything through
	// drbdadm.
	d := &Driver{Runner: rec, ConfDir: dir, Proc: proc, Setup84: filepath.Join(dir, "no-drbdsetup-84")}
	r := res()
	ctx := context.Background()
	if err := d.Prepare(r); err != nil {
		t.Fatal(err)
	}
	d.CreateMD(ctx, r)
	if changed, _ := d.Up(ctx, r); !changed {
		t.Fatal("up of an unconfigured minor changed nothing")
	}
	d.Primary(ctx, r, true)
	d.Secondary(ctx, r)
	d.InvalidateRemote(ctx, r)
	d.Down(ctx, r)
	c := filepath.Join(dir, "apache_app01vg_docs.res")
	want := []string{
		"drbdadm -c " + c + " create-md --force apache_app01vg_docs",
		"drbdadm -c " + c + " up apache_app01vg_docs",
		"drbdadm -c " + c + " primary --force apache_app01vg_docs",
		"drbdadm -c " + c + " secondary apache_app01vg_docs",
		"drbdadm -c " + c + " invalidate-remote apache_app01vg_docs",
		"drbdadm -c " + c + " down apache_app01vg_docs",
	}
	if strings.Join(rec.lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s", strings.Join(rec.lines, "\n"))
	}
	// With it, role changes go to it directly, as drbdadm would send them
	// (drbdadm -d: "drbdsetup-84 primary 0 --force").
	setup := filepath.Join(dir, "drbdsetup-84")
	os.WriteFile(setup, nil, 0o755)
	d.Setup84 = setup
	rec.lines = nil
	d.Primary(ctx, r, true)
	d.Primary(ctx, r, false)
	d.Secondary(ctx, r)
	if got, want := strings.Join(rec.lines, "\n"), setup+" primary 0 --force\n"+setup+" primary 0\n"+setup+" secondary 0"; got != want {
		t.Fatalf("with drbdsetup-84: got\n%s\nwant\n%s", got, want)
	}
	// A DRBD 9 module is drbdadm's to drive.
	os.WriteFile(proc, []byte("version: 9.2.4 (api:2/proto:86-122)\n"), 0o644)
	rec.lines = nil
	d.Primary(ctx, r, true)
	if got := strings.Join(rec.lines, "\n"); got != "drbdadm -c "+c+" primary --force apache_app01vg_docs" {
		t.Fatalf("DRBD 9: %s", got)
	}
	os.WriteFile(proc, []byte("version: 8.4.11 (api:1/proto:86-101)\n"), 0o644)
	// Up on a configured minor does nothing.
	os.WriteFile(proc, []byte("version: 8.4.11 (api:1/proto:86-101)\n 0: cs:Connected ro:Secondary/Secondary ds:UpToDate/UpToDate C r-----\n"), 0o644)
	rec.lines = nil
	if changed, err := d.Up(ctx, r); changed || err != nil || len(rec.lines) != 0 {
		t.Fatalf("%v %v %v", changed, err, rec.lines)
	}
}

const proc84 = `version: 8.4.11 (api:1/proto:86-101)
srcversion: F73C670A7EC572DB9CF3E5B
 0: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----
    ns:10448 nr:0 dw:0 dr:10448 al:8 bm:0 lo:0 pe:2 ua:0 ap:0 ep:1 wo:f oos:10032
	[=========>..........] sync'ed: 51.2% (10032/20480)K
	finish: 0:00:02 speed: 4,096 (4,096) K/sec
 1: cs:WFConnection ro:Secondary/Unknown ds:UpToDate/DUnknown C r-----
    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0
 2: cs:Unconfigured
`

func TestParse84(t *testing.T) {
	tests := []struct {
		minor int
		want  State
	}{
		{0, State{Connection: "SyncSource", Role: "Primary", PeerRole: "Secondary", Disk: "UpToDate", PeerDisk: "Inconsistent", Syncing: true, Percent: 51.2, ETA: 2 * time.Second, OutOfSync: 10032 << 10}},
		{1, State{Connection: "WFConnection", Role: "Secondary", PeerRole: "Unknown", Disk: "UpToDate", PeerDisk: "DUnknown"}},
		{2, State{Connection: "Unconfigured"}},
		{7, State{Connection: "Unconfigured"}},
	}
	for _, tt := range tests {
		got, err := Parse84(proc84, tt.minor)
		if err != nil || got != tt.want {
			t.Errorf("minor %d: got %+v, want %+v", tt.minor, got, tt.want)
		}
	}
}

func TestParse9(t *testing.T) {
	out := `apache_app01vg_docs role:Primary suspended:no
  volume:0 minor:0 disk:UpToDate quorum:yes
  serverb node-id:1 connection:Connected role:Secondary congested:no
    volume:0 replication:SyncSource peer-disk:Inconsistent done:45.20 resync-suspended:no out-of-sync:2048
`
	got, err := Parse9(out)
	want := State{Connection: "SyncSource", Role: "Primary", PeerRole: "Secondary", Disk: "UpToDate", PeerDisk: "Inconsistent", Syncing: true, Percent: 45.2, OutOfSync: 2 << 20}
	if err != nil || got != want {
		t.Fatalf("got %+v %v", got, err)
	}
}

// SECURITY.md: with a secret the peers authenticate each other; a secret
// that would break out of its quotes is refused.
func TestSharedSecret(t *testing.T) {
	r := res()
	r.Secret = "0123456789abcdef0123456789abcdef0123456789abcdef"
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Config(), `cram-hmac-alg sha256; shared-secret "0123456789abcdef0123456789abcdef0123456789abcdef";`) {
		t.Fatalf("no peer authentication:\n%s", r.Config())
	}
	r.Secret = `x"; }`
	if r.Validate() == nil {
		t.Fatal("a secret with a quote was accepted")
	}
}

// Prepare leaves a configuration file that is already right alone (no
// new inode, no sync) and rewrites one that is not.
func TestPrepareOnlyWhenChanged(t *testing.T) {
	dir := t.TempDir()
	d := &Driver{ConfDir: dir}
	r := res()
	if err := d.Prepare(r); err != nil {
		t.Fatal(err)
	}
	c := filepath.Join(dir, "apache_app01vg_docs.res")
	before, _ := os.Stat(c)
	if err := d.Prepare(r); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(c); !os.SameFile(before, after) {
		t.Error("an unchanged configuration was written again")
	}
	os.WriteFile(c, []byte("stale"), 0o600)
	if err := d.Prepare(r); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(c); string(got) != r.Config() {
		t.Errorf("a stale configuration was not rewritten: %q", got)
	}
}
