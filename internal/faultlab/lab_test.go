// Package faultlab_test is the randomized fault lab of the namespace
// testbed (`make faultlab`): seeded steps of node crash and rejoin,
// daemon kill -9, card cut, partition and heal, and application kill,
// each followed by audits that must always hold (Reference §21): the
// application runs on at most one node and its address is held by at most
// one node (outside the TOC window after a heal), a daemon kill leaves
// the application untouched, the records the application writes are
// never torn, and no log holds a panic.
package faultlab_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/storage/drbd"
)

const (
	appIP = "172.16.177.200"
	// The application: a writer appending checksummed records to its
	// replicated volume.
	writer = `#!/bin/sh
n=$(wc -l < /lab/data/records 2>/dev/null || echo 0)
while :; do
	n=$((n+1)); l="$n $(hostname) $(date +%s%N)"
	echo "$l $(printf '%s' "$l" | md5sum | cut -c1-8)" >> /lab/data/records
	sleep 0.2
done
`
	start = "#!/bin/sh\nsetsid /lab/admin/labwriter </dev/null >/dev/null 2>&1 &\nexit 0\n"
	stop  = "#!/bin/sh\npkill -f /lab/admin/labwriter\nexit 0\n"
	lems  = `<?xml version="1.0"?>
<lems_config>
  <globals logs="/var/log/cluster/lems" port="8801"/>
  <check>
    <name>writer</name>
    <type>internal</type>
    <module>procmon /etc/cluster/lab/writer.xml</module>
    <interval>1</interval>
    <action_list>
      <action rc="0" action="NOP"/>
      <action rc="1" action="STOP"/>
      <action rc="2" action="FAILOVER"/>
    </action_list>
  </check>
</lems_config>
`
	procmon = `<?xml version="1.0"?>
<procmon>
  <global>
    <logdir>/var/log/cluster</logdir>
    <restarts>2</restarts>
    <resetwindow>60</resetwindow>
    <restartcmd>/lab/admin/start</restartcmd>
  </global>
  <process>
    <label>Writer</label>
    <user>.</user>
    <!-- the writer's $(...) subshells share its command line -->
    <process_string>/lab/admin/labwriter</process_string>
    <min_count>1</min_count>
    <max_count>20</max_count>
  </process>
</procmon>
`
)

// appXML is the labs' and the benchmark's appconf.xml: the application
// name, more attributes for its network, the body of <vg>, its scripts and
// their time limits.
func appXML(name, netExtra, vg, start, stop, limits string) string {
	return `<?xml version="1.0"?>
<appconf>
  <global>
    <version>0.1</version>
    <name>` + name + `</name>
    <takeover>force</takeover>
    <autostart>no</autostart>
    <preferred_node>servera</preferred_node>
  </global>
  <networks>
    <network net="public" ip="` + appIP + `" netmask="255.255.255.0"` + netExtra + `/>
  </networks>
  <vg>
` + vg + `  </vg>
  <application>
    <startscript>` + start + `</startscript>
    <stopscript>` + stop + `</stopscript>
` + limits + `  </application>
</appconf>
`
}

var appConf = appXML("lab", "\n      checklist=\"172.16.177.254\" checkpercent=\"100\"",
	"    <name>labvg</name>\n    <type>directories</type>\n    <lv name=\"admin\" mount=\"/lab/admin\"/>\n    <lv name=\"data\" mount=\"/lab/data\"/>\n",
	"/lab/admin/start", "/lab/admin/stop", "    <maxstoptime>5</maxstoptime>\n    <maxstarttime>10</maxstarttime>\n")

var nodes = []string{"servera", "serverb"}

// bed is what the lab needs of a testbed: the namespace one or the VMs.
type bed interface {
	Exec(t testing.TB, node, stdin string, argv ...string) testbed.Result
	Op(t testing.TB, args ...string)
	Alive(node string) bool
}

type lab struct {
	t      *testing.T
	tb     bed
	rng    *rand.Rand
	seed   uint64
	step   int
	alive  map[string]bool
	stats  map[string]int
	writer string        // the writer's path, found in /proc/*/cmdline
	settle time.Duration // how long a takeover or restart may take here
	// hold is how long a partition lasts: long enough for the node
	// without the application to take it over, so that the heal finds
	// it running on both nodes.
	hold time.Duration
	dead time.Duration // the cluster's dead time (a freeze lasts 2-5 times it)
	// lossDelay is the delay in ms a lossy link adds besides its losses
	// (the VMs' netem; the namespaces' nftables can only drop).
	lossDelay string
	replay    string // the make command that replays a run
	// acks: the writer logs each record it has synced to the replicated
	// volume (DRBD protocol C: both nodes' disks) to this node-local file;
	// after a crash every acknowledged record must be on the new primary.
	acks     string
	ackCheck map[string]bool // the node crashed in sync: its acks must hold
	tocd     map[string]bool // the node reset itself after a heal (split brain on DRBD)
	// bank is the VM lab's SQLite database on the replicated volume, and
	// bankAcks each node's own log of the transfers it committed.
	bank, bankAcks string
	solved         map[string]int // DRBD's split-brain recoveries in each node's kernel log so far
	// crashedRunning holds when a node crashed while it ran the
	// application: on the filesync lab its records are then compared
	// with the new holder's when it comes back (the loss window).
	crashedRunning map[string]time.Time
	lossWindows    dist // per crash that lost records: crash - the oldest lost record's time
	// frozeRunning holds when a node that ran the application was
	// frozen: back from the reset that ends the duplicate, its copy shows
	// what it wrote after the other node had taken over.
	frozeRunning map[string]time.Time
	dualWrites   dist // per freeze: the resumed node's last write - the takeover
	// metaBefore is a TOC'd node's DRBD meta-data (drbdadm dump-md after
	// apply-al) as it restarts, when hunting (FAULTLAB_VERIFY=strict):
	// what it believes differs from its peer.
	metaBefore map[string]string
}

func newLab(t *testing.T, tb bed, seed uint64) *lab {
	return &lab{t: t, tb: tb, rng: rand.New(rand.NewPCG(seed, 0)), seed: seed,
		alive: map[string]bool{"servera": true, "serverb": true}, stats: map[string]int{}, ackCheck: map[string]bool{}, tocd: map[string]bool{}, solved: map[string]int{},
		crashedRunning: map[string]time.Time{}, frozeRunning: map[string]time.Time{}, metaBefore: map[string]string{}}
}

// inSync reports whether every DRBD device of this node is connected with
// both disks UpToDate (without DRBD: always).
func (l *lab) inSync(n string) bool {
	deadline := time.Now().Add(2 * l.settle)
	for time.Now().Before(deadline) {
		if drbdInStep(l.sh(n, "cat /proc/drbd 2>/dev/null")) {
			return true
		}
		time.Sleep(time.Second)
	}
	return false
}

// drbdInStep reads /proc/drbd: every device connected with both disks
// UpToDate (true with no device at all).
func drbdInStep(procDrbd string) bool {
	devs := strings.Count(procDrbd, " cs:")
	return devs == strings.Count(procDrbd, "cs:Connected ro:") && devs == strings.Count(procDrbd, "ds:UpToDate/UpToDate")
}

// checkAcks, on a node back from a crash taken in sync, checks that the
// application's current node has every record the crashed node had
// acknowledged (synced) before it died.
func (l *lab) checkAcks(n string) {
	if !l.ackCheck[n] {
		return
	}
	l.ackCheck[n] = false
	acked := strings.TrimSpace(l.sh(n, "tail -1 "+l.acks+" 2>/dev/null"))
	if acked == "" {
		return
	}
	running, _ := l.where()
	if len(running) != 1 {
		return
	}
	have := strings.TrimSpace(l.sh(running[0], "wc -l < /lab/data/records"))
	a, _ := strconv.Atoi(acked)
	h, _ := strconv.Atoi(have)
	if h < a {
		l.fail("record %d was acknowledged on %s before it crashed, but %s has only %d records", a, n, running[0], h)
	}
	l.stats["crashes with acknowledged records checked"]++
}

// recordTime reads the writer's record "n host unixnano ...": the host
// that wrote it and when.
func recordTime(r string) (host string, at time.Time, ok bool) {
	f := strings.Fields(r)
	if len(f) < 3 {
		return "", time.Time{}, false
	}
	ns, err := strconv.ParseInt(f[2], 10, 64)
	return f[1], time.Unix(0, ns), err == nil
}

// lostTail compares the records of a node that crashed at crash with
// those of the node that took over: the lines after the last one both
// have are the records the crashed node had written (acknowledged: on
// its own copy) and the asynchronous replication had not carried over.
// It returns how many, and how long before the crash the oldest and the
// newest of them were written (the third field: date +%s%N). Lines
// missing before the last common one come from an earlier divergence,
// not from this crash, and are not counted.
func lostTail(mine, theirs string, crash time.Time) (lost int, oldest, newest time.Duration) {
	have := map[string]bool{}
	for _, r := range strings.Split(theirs, "\n") {
		have[r] = true
	}
	rows := strings.Split(strings.TrimSpace(mine), "\n")
	tail := rows[:0:0]
	for _, r := range rows {
		switch {
		case r == "":
		case have[r]:
			tail = tail[:0]
		default:
			tail = append(tail, r)
		}
	}
	age := func(r string) time.Duration {
		if _, t, ok := recordTime(r); ok {
			return crash.Sub(t)
		}
		return 0
	}
	if len(tail) == 0 {
		return 0, 0, 0
	}
	return len(tail), age(tail[0]), age(tail[len(tail)-1])
}

// checkLoss, on the filesync lab (asynchronous: a crash loses what the
// syncer had not yet sent, by design), measures what node n, back from a
// crash taken while it ran the application, had written that the node
// running it now does not have: the loss window the README reports.
func (l *lab) checkLoss(n string) {
	at, ok := l.crashedRunning[n]
	delete(l.crashedRunning, n)
	if !ok || l.acks != "" { // the DRBD lab checks acknowledged records instead
		return
	}
	running, _ := l.where()
	if len(running) != 1 || running[0] == n {
		return
	}
	lost, oldest, newest := lostTail(l.sh(n, "cat /lab/data/records 2>/dev/null"), l.sh(running[0], "cat /lab/data/records 2>/dev/null"), at)
	l.stats["filesync crashes measured"]++
	l.stats["filesync records lost"] += lost
	if lost > 0 {
		l.lossWindows = append(l.lossWindows, oldest)
		l.t.Logf("step %d: %s lost %d records it had written: the oldest %v, the newest %v before the crash", l.step, n, lost,
			oldest.Round(time.Millisecond), newest.Round(time.Millisecond))
	}
}

// resumedWrites reads the records of a node me frozen at since while it
// ran the application (mine) and of the node other that took it over
// (theirs): the takeover is other's first record after since, and what
// me wrote after it, until the reset that ends the duplicate, is the
// window the Reference's design leaves (the registries compared every
// 10 s, L6764). It returns the records me wrote after the takeover and
// how long after it the last of them was; ok is false when other never
// wrote (no takeover to measure from).
func resumedWrites(mine, theirs, me, other string, since time.Time) (n int, window time.Duration, ok bool) {
	at := func(r, host string) (time.Time, bool) {
		h, t, ok := recordTime(r)
		return t, ok && h == host
	}
	var takeover time.Time
	for _, r := range strings.Split(theirs, "\n") {
		if t, ok := at(r, other); ok && t.After(since) {
			takeover = t
			break
		}
	}
	if takeover.IsZero() {
		return 0, 0, false
	}
	for _, r := range strings.Split(mine, "\n") {
		if t, ok := at(r, me); ok && t.After(takeover) {
			n++
			window = max(window, t.Sub(takeover))
		}
	}
	return n, window, true
}

// checkResumedWrites, on the filesync lab, measures what node n wrote to
// its own copy after it was frozen running the application and the
// other node took over (issue 21's audit of a resumed node).
func (l *lab) checkResumedWrites(n string) {
	since, ok := l.frozeRunning[n]
	delete(l.frozeRunning, n)
	if !ok || l.acks != "" { // on DRBD the reset node's side is discarded; the bank counts its loss
		return
	}
	o := l.other(n)
	w, window, ok := resumedWrites(l.sh(n, "cat /lab/data/records 2>/dev/null"), l.sh(o, "cat /lab/data/records 2>/dev/null"), n, o, since)
	if !ok {
		return
	}
	l.stats["freezes measured for writes after the takeover"]++
	l.stats["records written by a resumed node after the takeover"] += w
	l.dualWrites = append(l.dualWrites, window)
	l.t.Logf("step %d: %s, resumed, wrote %d records to its copy after %s took over, the last %v after", l.step, n, w, o, window.Round(time.Millisecond))
}

// checkBank checks the database where the application runs: SQLite's
// own integrity check passes and the ten accounts still hold 10000
// between them, whatever moved.
func (l *lab) checkBank() {
	if l.bank == "" {
		return
	}
	running, _ := l.where()
	if len(running) != 1 || l.sh(running[0], "[ -f "+l.bank+" ] && echo yes") == "" {
		return
	}
	r := l.tb.Exec(l.t, running[0], "", "sqlite3", "-bail", "-cmd", ".timeout 5000", l.bank, "PRAGMA integrity_check; SELECT SUM(balance) FROM accounts;")
	if got := strings.TrimSpace(r.Stdout); r.Code != 0 || got != "ok\n10000" {
		l.fail("database on %s: integrity check and total balance %q, want ok and 10000: %s", running[0], got, r.Stderr)
	}
	l.stats["database checks"]++
}

// checkBankAcks, when node n is back from a crash or a reset, looks up
// every transfer n acknowledged since the last look in the database where
// the application now runs. After a crash taken in sync none may be
// missing (protocol C); after a reset (a freeze or a partition that ended
// in a TOC) the transfers n committed alone on its own copy are lost by
// the Reference's design, and are counted.
func (l *lab) checkBankAcks(n string, inSync bool) {
	if l.bank == "" {
		return
	}
	running, _ := l.where()
	if len(running) != 1 || running[0] == n {
		return
	}
	acks := l.sh(n, "cat "+l.bankAcks+" 2>/dev/null")
	if strings.TrimSpace(acks) == "" {
		return
	}
	// The VMs' initramfs has no /dev/stdin: the list goes to a file.
	r := l.tb.Exec(l.t, running[0], acks, "sh", "-c", `cat > /tmp/bank.check && sqlite3 -bail -cmd ".timeout 5000" -cmd "CREATE TEMP TABLE a(tx TEXT);" -cmd ".import /tmp/bank.check a" `+l.bank+
		` "SELECT COUNT(*), (SELECT COUNT(*) FROM a) FROM a WHERE tx NOT IN (SELECT tx FROM transfers);"`)
	var lost, all int
	if _, err := fmt.Sscanf(strings.TrimSpace(r.Stdout), "%d|%d", &lost, &all); err != nil || r.Code != 0 {
		l.fail("counting %s's acknowledged transfers on %s: %s", n, running[0], r.Output())
	}
	if lost > 0 && inSync {
		l.fail("%s acknowledged %d transfers that %s's database does not have (of %d), though it crashed with both disks in step", n, lost, running[0], all)
	}
	l.stats["acknowledged transfers checked"] += all
	l.stats["acknowledged transfers lost in a TOC window"] += lost
	l.sh(n, ": > "+l.bankAcks)
}

// checkResync, on the replicated-storage lab, follows the rejoined node's
// copy back into step from clstat -A on the node running the application
// (§21.3: fsmon resynchronises in the right direction, clstat shows it):
// the File Systems line must reach Valid "both", state Sync.
func (l *lab) checkResync(n string) {
	if l.acks == "" {
		return
	}
	running, _ := l.where()
	if len(running) != 1 || running[0] == n {
		return
	}
	deadline := time.Now().Add(4 * l.settle)
	seen := map[string]bool{}
	for {
		out := l.tb.Exec(l.t, running[0], "", "clstat", "-A", "lab").Stdout
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) >= 4 && f[0] == "/lab/data" {
				seen[f[1]+" "+f[3]] = true
				if f[1] == "both" && f[3] == "Sync" {
					l.stats["resync after rejoin seen through clstat"]++
					if len(seen) > 1 {
						l.stats["resync progress shown by clstat"]++
					}
					// Both nodes wrote during the partition: DRBD's
					// after-sb-1pri discard-secondary chose the survivor.
					if l.tocd[n] {
						c := strings.Count(l.sh(running[0], "dmesg"), "Split-Brain detected, 1 primaries, automatically solved")
						if c > l.solved[running[0]] {
							l.stats["split brain resolved by DRBD after a TOC"]++
						}
						l.solved[running[0]] = c
					}
					l.tocd[n] = false
					l.verifyCopies(running[0], n)
					return
				}
			}
		}
		if time.Now().After(deadline) {
			l.fail("%s rejoined but clstat -A on %s never showed /lab/data valid on both nodes and in sync; saw %v, last:\n%s", n, running[0], slices.Sorted(maps.Keys(seen)), out)
			return
		}
		time.Sleep(time.Second)
	}
}

// verifyScript runs DRBD's online verify of the lab's one volume on the
// node running it and prints the minor, then /proc/drbd once verify is
// over: its oos field counts the KiB whose two copies differ.
const verifyScript = `m=$(sed -n 's/^ *\([0-9][0-9]*\): cs:.*/\1/p' /proc/drbd | head -1)
echo $m
/usr/lib/drbd/drbdsetup-84 verify $m || exit 2
sleep 1
while grep -q "^ *$m: cs:Verify" /proc/drbd; do sleep 1; done
cat /proc/drbd`

// verifyCopies, once clstat says the rejoined node n's copy is back in
// step, has DRBD compare the two copies block by block (online verify,
// the application still writing): "in step" must mean identical, or the
// next takeover by n starts from a torn copy. CI17 found a database that
// failed its integrity check on the node that took over after a
// rejoin's resynchronisation (seed 803626080, step 13).
func (l *lab) verifyCopies(running, n string) {
	// "In step" is DRBD's word; the product trusts n's copy once fsmon,
	// having verified the end of the volume DRBD 8.4 can forget
	// (drbd.TailBytes), cleared its STALE flag: the audit compares then.
	flag := "/etc/cluster/.status/lab/labvg.data." + n + ".STALE"
	for deadline := time.Now().Add(l.settle); l.sh(running, "ls "+flag+" 2>/dev/null") != ""; {
		if time.Now().After(deadline) {
			l.fail("%s's copy is in step but %s still holds %s after %v:\n%s", n, running, flag, l.settle,
				l.sh(running, "tail -20 /var/log/cluster/lems/*.log 2>/dev/null"))
			return
		}
		time.Sleep(time.Second)
	}
	r := l.tb.Exec(l.t, running, "", "sh", "-c", verifyScript)
	minor, proc, _ := strings.Cut(r.Stdout, "\n")
	m, err := strconv.Atoi(strings.TrimSpace(minor))
	var st drbd.State
	if err == nil {
		st, err = drbd.Parse84(proc, m)
	}
	if r.Code != 0 || err != nil || st.Connection == "Unconfigured" {
		l.fail("online verify of /lab/data on %s: %v %s", running, err, r.Output())
		return
	}
	if st.OutOfSync == 0 {
		l.stats["copies verified identical after a resync"]++
		return
	}
	msg := fmt.Sprintf("%s rejoined and clstat showed its copy in step, but DRBD's online verify on %s finds %d KiB that differ:\n%s\n%s",
		n, running, st.OutOfSync>>10, proc, l.sh(running, "dmesg | grep -i 'drbd' | tail -30"))
	// CI18's difference (seed 292827172, step 11) was DRBD 8.4's module
	// forgetting the marks of the volume's last 256 KiB on attach, which
	// fsmon now mends (drbd.CheckTail); the replay verifies identical with
	// FAULTLAB_VERIFY=strict. Until long runs have shown no other cause,
	// a difference is fatal only in that mode; otherwise it is counted
	// and mended as DRBD's guide says (disconnect and connect the
	// secondary: verify's out-of-sync blocks are resynchronised), so that
	// the run goes on from identical copies.
	if os.Getenv("FAULTLAB_VERIFY") == "strict" {
		l.fail("%s%s", msg, l.diffBlocks(running, n))
		return
	}
	msg += l.diffBlocks(running, n)
	l.t.Logf("step %d: UNEXPLAINED DIFFERENCE (FAULTLAB_VERIFY=strict makes it fatal): %s", l.step, msg)
	l.stats["copies found different after a resync (unexplained)"]++
	l.sh(n, "set -- "+labRes+"; drbdadm -c $1 disconnect $2 && drbdadm -c $1 connect $2; "+
		"i=0; while [ $i -lt 120 ] && ! grep -q 'cs:Connected .*ds:UpToDate/UpToDate' /proc/drbd; do sleep 1; i=$((i+1)); done")
}

// labRes is "<configuration file> <resource name>" of the VM lab's DRBD
// volume, as the product names them, for "set -- "+labRes+"; drbdadm -c
// $1 ... $2".
var labRes = func() string {
	r := drbd.Resource{App: "lab", VG: "labvg", LV: "data"}
	return filepath.Join(layout.Layout{}.DrbdConfDir(), r.Name()+".res") + " " + r.Name()
}()

// blockScript prints, for the sectors $1..$1+$2 of the lab volume's
// backing disk, their checksum, their first bytes and the file that owns
// them: what verify found different, and whose write it was.
const blockScript = `d=/dev/labvg/data; echo 1 > /proc/sys/vm/drop_caches
dd if=$d bs=512 skip=$1 count=$2 2>/dev/null | md5sum
dd if=$d bs=512 skip=$1 count=$2 2>/dev/null | od -A d -c -v > /tmp/block.od
bs=$(dumpe2fs -h $d 2>&1 | sed -n 's/^Block size: *//p'); [ -n "$bs" ] || { dumpe2fs -h $d 2>&1 | head -3; exit 0; }
b=$(($1*512/bs)); i=$(debugfs -c -R "icheck $b" $d 2>/dev/null | awk 'NR==2{print $2}')
echo "fs block $b (block size $bs): inode $i"; [ -n "$i" ] && debugfs -c -R "ncheck $i" $d 2>/dev/null | tail -1; true`

// alScript shows DRBD's activity log (the 4 MiB extents a crash would
// resynchronise) and its out-of-sync count, from the kernel's debugfs.
const alScript = `mount -t debugfs none /sys/kernel/debug 2>/dev/null
for f in /sys/kernel/debug/drbd/resources/*/volumes/*/act_log_extents; do echo "$f:"; grep -v '^[[:space:]]*[0-9]*:[[:space:]]*-1 ' $f; done
grep -o 'cs:[A-Za-z]* ro:[A-Za-z/]* ds:[A-Za-z/]*\|oos:[0-9]*' /proc/drbd`

// hunt logs, when FAULTLAB_VERIFY=strict, each VM's activity log and
// out-of-sync count at a moment of the step (issue 21's hunt).
func (l *lab) hunt(when string) {
	if l.acks == "" || os.Getenv("FAULTLAB_VERIFY") != "strict" {
		return
	}
	for _, n := range nodes {
		if l.alive[n] {
			l.t.Logf("step %d, %s, %s:\n%s", l.step, when, n, l.sh(n, alScript))
		}
	}
}

// diffBlocks shows, on both nodes, the ranges the last online verify on
// running found out of sync (issue 21's hunt), and the rejoined node n's
// meta-data as it restarted.
func (l *lab) diffBlocks(running, n string) string {
	var b strings.Builder
	for _, line := range strings.Split(l.sh(running, "dmesg | sed -n 's/.*Out of sync: start=\\([0-9]*\\), size=\\([0-9]*\\).*/\\1 \\2/p' | tail -4"), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		var od [2][]string
		for i, node := range []string{running, n} {
			fmt.Fprintf(&b, "\n%s, sectors %s+%s:\n%s", node, f[0], f[1], l.sh(node, "set -- "+f[0]+" "+f[1]+"; "+blockScript))
			od[i] = strings.Split(l.sh(node, "cat /tmp/block.od"), "\n")
		}
		fmt.Fprintf(&b, "lines that differ (%s, then %s):\n", running, n)
		for i := range min(len(od[0]), len(od[1])) {
			if od[0][i] != od[1][i] {
				fmt.Fprintf(&b, "< %s\n> %s\n", od[0][i], od[1][i])
			}
		}
	}
	fmt.Fprintf(&b, "\n%s's DRBD log:\n%s", n, l.sh(n, "dmesg | grep -i drbd | tail -40"))
	if m := l.metaBefore[n]; m != "" {
		fmt.Fprintf(&b, "\n%s's meta-data as it restarted:\n%s", n, m)
	}
	return b.String()
}

// procs is a shell snippet listing the PIDs whose command line matches
// the extended regex re, without busybox's missing pgrep and without
// matching itself.
func procs(re string) string {
	return "for f in $(grep -lEa '" + re + "' /proc/[0-9]*/cmdline 2>/dev/null); do p=${f#/proc/}; echo ${p%/cmdline}; done"
}

// bracket turns "/x/y" into "[/]x/y": the same match, but not in the
// command line of the grep that looks for it.
func bracket(path string) string { return "[" + path[:1] + "]" + path[1:] }

func (l *lab) fail(format string, args ...any) {
	l.t.Helper()
	for _, n := range nodes {
		if l.alive[n] && l.tb.Alive(n) {
			l.t.Logf("%s: cldaemon log (end):\n%s", n, l.sh(n, "ls -la /var/log/cluster; tail -40 /var/log/cluster/cldaemon-cluster1.log"))
			if l.acks != "" { // DRBD's view and the last starts, in the VMs
				l.t.Logf("%s: DRBD and clstartapp (end):\n%s", n, l.sh(n, "cat /proc/drbd; dmesg | grep -i drbd | tail -60; tail -30 /var/log/cluster/clstart.lab.log"))
			}
		}
	}
	l.t.Fatalf("step %d (seed %d; replay: %s SEED=%d STEPS=%d): %s",
		l.step, l.seed, l.replay, l.seed, l.step, fmt.Sprintf(format, args...))
}

func (l *lab) sh(node, script string) string {
	r := l.tb.Exec(l.t, node, "", "sh", "-c", script)
	// A VM guest whose command outlived the agent's limit answers with
	// what it was waiting on; an audit must not read that as "nothing
	// found".
	if strings.Contains(r.Stderr, "agent: timed out") || strings.Contains(r.Stderr, "no reply from the guest agent") {
		l.fail("on %s, %q did not finish:\n%s", node, script, r.Stderr)
	}
	return r.Stdout
}

func (l *lab) other(n string) string {
	if n == "servera" {
		return "serverb"
	}
	return "servera"
}

// where lists the nodes running the writer and holding the address.
func (l *lab) where() (running, holding []string) {
	for _, n := range nodes {
		if !l.alive[n] {
			continue
		}
		out := l.sh(n, "("+procs(bracket(l.writer))+") | wc -l; ip addr show | grep -c ' "+appIP+"/' || true")
		f := strings.Fields(out)
		if len(f) == 2 {
			if f[0] != "0" {
				running = append(running, n)
			}
			if f[1] != "0" {
				holding = append(holding, n)
			}
		}
	}
	return
}

func (l *lab) writerPID(n string) string {
	return strings.TrimSpace(l.sh(n, "("+procs(bracket(l.writer))+") | sort -n | head -1"))
}

// noteResets records each node that was up and is now down without the lab
// having crashed it: it reset itself (TOC) after a heal.
func (l *lab) noteResets() {
	for _, n := range nodes {
		if l.alive[n] && !l.tb.Alive(n) {
			l.alive[n] = false
			l.stats["toc"]++
			l.tocd[n] = true
		}
	}
}

// audit checks the invariants, allowing grace for them to settle (the
// TOC window after a heal is longer).
func (l *lab) audit(grace time.Duration) {
	l.t.Helper()
	deadline := time.Now().Add(grace)
	for {
		l.noteResets()
		running, holding := l.where()
		if len(running) <= 1 && len(holding) <= 1 {
			break
		}
		if time.Now().After(deadline) {
			l.fail("application running on %v, address held by %v", running, holding)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, n := range nodes {
		if l.alive[n] {
			if p := l.sh(n, "grep -rls 'panic:\\|goroutine [0-9]* \\[running\\]' /var/log/cluster 2>/dev/null || true"); p != "" {
				l.fail("panic logged on %s: %s", n, p)
			}
		}
	}
}

// nodeState is node's daemon's own state ("" when it does not answer).
func (l *lab) nodeState(n string) string { return nodeState(l.t, l.tb, n, "2s") }

// nodeState asks node n's daemon for its own state, waiting at most
// timeout ("" when it does not answer).
func nodeState(t testing.TB, e bed, n, timeout string) string {
	r := e.Exec(t, n, "", "cldaemonctl", "--node", n, "--timeout", timeout, "--msg", "GET_NODE_STATE node="+n)
	if r.Code != 0 {
		return ""
	}
	return strings.TrimSpace(r.Stdout)
}

// join brings node's daemons back into the cluster.
func (l *lab) join(n string) {
	args := []string{"clform", "--join"}
	if !l.alive[l.other(n)] || l.nodeState(l.other(n)) != "UP" {
		args = []string{"clform", "--force"}
	}
	if r := l.tb.Exec(l.t, n, "", args...); r.Code != 0 {
		l.fail("%s on %s: %s", strings.Join(args, " "), n, r.Output())
	}
}

// ensure keeps the application available between steps, as an
// administrator would: both nodes valid again, started when down.
func (l *lab) ensure() {
	var up []string
	for _, n := range nodes {
		if l.alive[n] && l.nodeState(n) == "UP" {
			up = append(up, n)
		}
	}
	if len(up) == 0 {
		return
	}
	l.tb.Exec(l.t, up[0], "", "cldaemonctl", "--msg", "SETVALIDNODES app=lab forward=yes")
	deadline := time.Now().Add(l.settle)
	for time.Now().Before(deadline) {
		st := strings.TrimSpace(l.tb.Exec(l.t, up[0], "", "cldaemonctl", "--msg", "APP_STATUS app=lab").Stdout)
		if strings.HasPrefix(st, "STARTED,") {
			if running, _ := l.where(); len(running) == 1 {
				return
			}
		}
		if strings.HasPrefix(st, "DOWN") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if running, _ := l.where(); len(running) == 1 {
		return
	}
	l.stats["restarted by the lab"]++
	r := l.tb.Exec(l.t, up[0], "", "clrunapp", "-A", "lab")
	if r.Code != 0 && !strings.Contains(r.Output(), "already STARTED") {
		l.t.Logf("step %d: clrunapp: %s", l.step, strings.TrimSpace(r.Output()))
	}
}

// buildAndRun takes app through clbuildapp's four stages on servera and
// starts it with clrunapp.
func buildAndRun(t testing.TB, e interface {
	Exec(t testing.TB, node, stdin string, argv ...string) testbed.Result
}, app string) {
	t.Helper()
	for _, s := range []string{"check", "vgbuild", "build", "sync"} {
		if r := e.Exec(t, "servera", "", "clbuildapp", "-A", app, "--"+s); r.Code != 0 {
			t.Fatalf("clbuildapp --%s: %s", s, r.Output())
		}
	}
	if r := e.Exec(t, "servera", "", "clrunapp", "-A", app); r.Code != 0 {
		t.Fatalf("clrunapp: %s", r.Output())
	}
}

// labRun reads how many steps to take from stepsVar (skipping the test
// when it is unset, with how to run it) and the seed from FAULTLAB_SEED
// (random when unset).
func labRun(t *testing.T, stepsVar, how string) (int, uint64) {
	t.Helper()
	steps := envInt(stepsVar, 0)
	if steps == 0 {
		t.Skip("runs with " + how + " (" + stepsVar + ")")
	}
	return steps, uint64(envInt("FAULTLAB_SEED", int(time.Now().UnixNano()%1e9)))
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// envInts reads a comma-separated list of numbers from name, or def.
func envInts(tb testing.TB, name string, def []int) []int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			tb.Fatalf("%s=%q: %q is not a positive number", name, v, f)
		}
		out = append(out, n)
	}
	return out
}

func TestFaultLab(t *testing.T) {
	steps, seed := labRun(t, "FAULTLAB_STEPS", "make faultlab")
	t.Logf("fault lab: seed %d, %d steps", seed, steps)
	tb := testbed.UpWithSmallFS(t, "16M") // for "full disk"; room for a long run's logs
	l := newLab(t, tb, seed)
	l.writer, l.settle, l.hold, l.replay = "/lab/admin/labwriter", 8*time.Second, 2*time.Second, "make faultlab"
	l.dead = 500 * time.Millisecond // labTimings
	labCluster(t, tb, labTimings)
	l.run(steps, []string{"crash", "kill cldaemon", "kill clnetd", "kill cllockd", "kill lems", "cut", "partition", "kill app",
		"pause cldaemon", "pause daemons", "freeze", "one-way", "full disk", "lossy"})
	l.finish(steps)
}

// labTimings are the namespace lab's: keepalive 0.1, dead 0.5.
var labTimings = testbed.Timings{Keepalive: "0.1", Warn: "0.3", Dead: "0.5", ClusterForm: "10"}

// labCluster forms a namespace cluster with timings tm, and builds and
// runs the lab application on servera.
func labCluster(t *testing.T, tb *testbed.Bed, tm testbed.Timings) {
	t.Helper()
	tb.BuildCluster(t, tm)
	if r := tb.Exec(t, "servera", "", "clform"); r.Code != 0 {
		t.Fatalf("clform: %s", r.Output())
	}
	for p, c := range map[string]string{"appconf.xml": appConf, "lems.local.xml": lems, "writer.xml": procmon} {
		tb.WriteFile(t, "servera", "/etc/cluster/lab/"+p, c, 0o644)
	}
	for p, c := range map[string]string{"labwriter": writer, "start": start, "stop": stop} {
		tb.WriteFile(t, "servera", "/lab/admin/"+p, c, 0o755)
	}
	tb.Sh(t, "servera", "mkdir -p /lab/data")
	buildAndRun(t, tb, "lab")
}

// run takes steps random faults of the given kinds, auditing after each.
// FAULTLAB_KINDS (comma-separated) keeps only some of them.
func (l *lab) run(steps int, kinds []string) {
	t, tb := l.t, l.tb
	if v := os.Getenv("FAULTLAB_KINDS"); v != "" {
		var only []string
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); !slices.Contains(kinds, k) {
				t.Fatalf("FAULTLAB_KINDS=%q: %q is not one of this lab's kinds %q", v, k, kinds)
			}
			only = append(only, k)
		}
		kinds = only
	}
	for l.step = 1; l.step <= steps; l.step++ {
		// A node down for a step comes back first, so that most steps
		// find a whole cluster.
		l.noteResets() // since the last audit
		var down string
		for _, n := range nodes {
			if !l.alive[n] {
				down = n
			}
		}
		if down != "" {
			l.stats["restart and rejoin"]++
			l.t.Logf("step %d: restart and rejoin %s", l.step, down)
			tb.Op(t, "start", down)
			l.alive[down] = true
			if l.acks != "" && l.tocd[down] && os.Getenv("FAULTLAB_VERIFY") == "strict" {
				l.metaBefore[down] = l.sh(down, "set -- "+labRes+"; lvchange -q -ay labvg/data labvg/data_meta; drbdadm -c $1 apply-al $2 2>&1; drbdadm -c $1 dump-md $2 2>&1 | head -60")
			}
			l.solved[down] = 0 // a new kernel log
			inSync := l.ackCheck[down]
			l.checkAcks(down)
			l.checkBankAcks(down, inSync)
			l.checkLoss(down)
			l.checkResumedWrites(down)
			l.join(down)
			l.audit(3 * time.Second)
			l.ensure()
			l.checkResync(down)
			continue
		}
		// A frozen node that was not reset (the other node never took
		// over) wrote nothing to measure.
		for _, n := range nodes {
			delete(l.frozeRunning, n)
		}
		kind := kinds[l.rng.IntN(len(kinds))]
		n := nodes[l.rng.IntN(2)]
		running, _ := l.where()
		if len(running) == 1 && l.rng.IntN(3) > 0 {
			n = running[0] // faults where the application runs matter most
		}
		l.stats[kind]++
		l.t.Logf("step %d: %s on %s (application on %v)", l.step, kind, n, running)
		grace := 3 * time.Second
		switch kind {
		case "crash":
			if l.acks != "" && !l.inSync(n) {
				l.stats["crash with the peer not in sync (acks not checked)"]++
				l.ackCheck[n] = false
			} else {
				l.ackCheck[n] = l.acks != ""
			}
			tb.Op(t, "crash", n)
			// Taken once the node is gone: records written while the
			// crash was under way are not counted before it.
			if slices.Contains(running, n) {
				l.crashedRunning[n] = time.Now()
			}
			l.alive[n] = false
			grace = l.settle
		case "kill cldaemon", "kill clnetd", "kill cllockd", "kill lems":
			pid := l.writerPID(n)
			pattern := map[string]string{"kill cldaemon": "^cldaemon-", "kill clnetd": "^clnetd", "kill cllockd": "^cllockd", "kill lems": "^lems-lab"}[kind]
			l.sh(n, "kill -9 $("+procs(pattern)+") 2>/dev/null; true")
			time.Sleep(l.settle / 5) // over three times dead
			// Only an application that ran here can have been disturbed;
			// one arriving from a fail-over already under way is not.
			if got := l.writerPID(n); pid != "" && got != pid {
				l.fail("%s on %s moved the application: writer pid %q, was %q (L6686-6700)", kind, n, got, pid)
			}
			if kind == "kill cldaemon" {
				l.join(n)
			}
		case "cut":
			tb.Op(t, "cut", n, "eth0")
			time.Sleep(l.settle / 5)
			tb.Op(t, "restore", n, "eth0")
		case "partition":
			tb.Op(t, "partition")
			time.Sleep(l.hold)
			l.hunt("before the heal")
			tb.Op(t, "heal")
			// A takeover may finish after the heal; the duplicate it makes
			// is found at once, or at the latest on the next comparison,
			// 10 s later (L6764).
			time.Sleep(3 * time.Second)
			grace = max(25*time.Second, l.settle)
		case "pause cldaemon", "pause daemons":
			// SIGSTOP for longer than dead, then SIGCONT: the other
			// node hears nothing, but the host answers its echo, so
			// only the daemon died (L6686-6700) and nothing moves; the
			// daemon, once resumed, must not act on its own stall.
			pid := l.writerPID(n)
			const log = "/var/log/cluster/cldaemon-cluster1.log"
			lines := strings.TrimSpace(l.sh(n, "wc -l < "+log))
			pattern := map[string]string{"pause cldaemon": "^cldaemon-", "pause daemons": "^(cldaemon-|clnetd|cllockd|lems-)"}[kind]
			l.sh(n, "kill -STOP $("+procs(pattern)+") 2>/dev/null; true")
			time.Sleep(l.hold)
			l.sh(n, "kill -CONT $("+procs(pattern)+") 2>/dev/null; true")
			time.Sleep(l.settle / 5)
			if got := l.writerPID(n); pid != "" && got != pid {
				l.fail("%s on %s moved the application: writer pid %q, was %q (L6686-6700)", kind, n, got, pid)
			}
			// The resumed daemon's silence was its own: it must not have
			// judged the other node on it.
			if since := l.sh(n, "tail -n +$(("+lines+"+1)) "+log); strings.Contains(since, "has died but the node still responds") || strings.Contains(since, "is DEAD") {
				l.fail("%s on %s: the resumed daemon judged %s on its own stall:\n%s", kind, n, l.other(n), since)
			}
			grace = max(25*time.Second, l.settle)
		case "freeze":
			// The whole node stops for 2 to 5 times dead and resumes
			// believing it still runs what it ran: the other node has
			// taken over, and the duplicate ends as after a partition.
			if slices.Contains(running, n) {
				l.frozeRunning[n] = time.Now()
			}
			tb.Op(t, "freeze", n)
			time.Sleep(l.dead * time.Duration(2+l.rng.IntN(4)))
			tb.Op(t, "thaw", n)
			time.Sleep(3 * time.Second)
			grace = max(25*time.Second, l.settle)
		case "one-way":
			// Frames from n to the other node dropped, the other way
			// delivered, for as long as a partition.
			tb.Op(t, "oneway", n, l.other(n))
			time.Sleep(l.hold)
			tb.Op(t, "heal")
			time.Sleep(3 * time.Second)
			grace = max(25*time.Second, l.settle)
		case "full disk":
			// /etc/cluster and /var/log/cluster full (TB_SMALLFS) for as
			// long as a partition, with a card cut meanwhile so that the
			// daemons have something to log and record: they keep
			// running, and no configuration or state file is torn.
			pids := l.sh(n, "("+procs("^(cldaemon-|clnetd|cllockd)")+") | sort")
			lostNotes := func() int {
				return strings.Count(l.sh(n, "cat /var/log/cluster/*.log 2>/dev/null"), "log lines could not be written")
			}
			notes := lostNotes()
			l.sh(n, "for d in /etc/cluster /var/log/cluster; do cat /dev/zero > $d/.labfill 2>/dev/null; done; true")
			tb.Op(t, "cut", n, "eth0")
			time.Sleep(l.hold)
			tb.Op(t, "restore", n, "eth0")
			l.sh(n, "rm -f /etc/cluster/.labfill /var/log/cluster/.labfill")
			time.Sleep(l.settle / 5)
			// Every daemon running before is still running; one that a
			// previous step killed may have been started again meanwhile
			// (cldaemon restarts clnetd and cllockd within 5 s: CI16,
			// seed 994117210, step 75, after a kill of clnetd).
			got := strings.Fields(l.sh(n, "("+procs("^(cldaemon-|clnetd|cllockd)")+") | sort"))
			for _, p := range strings.Fields(pids) {
				if !slices.Contains(got, p) {
					l.fail("a daemon of %s died while its disks were full: pids %q, were %q", n, got, pids)
					break
				}
			}
			if bad := l.sh(n, `python3 -c '
import glob, sys, xml.dom.minidom
for f in glob.glob("/etc/cluster/**/*.xml", recursive=True):
    try: xml.dom.minidom.parse(f)
    except Exception as e: print(f, e)'`); bad != "" {
				l.fail("torn configuration on %s after its disk was full:\n%s", n, bad)
			}
			if lostNotes() > notes {
				l.stats["full disk: lost log lines counted once there was room"]++
			}
		case "lossy":
			// 20 % of the node's frames lost each way (and, in the VMs,
			// 50 ms of delay) for as long as a partition: a bad link is
			// no death, and nothing moves.
			pid := l.writerPID(n)
			const log = "/var/log/cluster/cldaemon-cluster1.log"
			lines := map[string]string{}
			for _, m := range nodes {
				lines[m] = strings.TrimSpace(l.sh(m, "wc -l < "+log))
			}
			args := []string{"lossy", n, "20"}
			if l.lossDelay != "" {
				args = append(args, l.lossDelay)
			}
			tb.Op(t, args...)
			time.Sleep(l.hold)
			tb.Op(t, "lossy", n, "0")
			if got := l.writerPID(n); pid != "" && got != pid {
				l.fail("a lossy link on %s moved the application: writer pid %q, was %q", n, got, pid)
			}
			for _, m := range nodes {
				if since := l.sh(m, "tail -n +$(("+lines[m]+"+1)) "+log); strings.Contains(since, "is DEAD") || strings.Contains(since, "has died") {
					l.fail("a lossy link on %s was taken for a death on %s:\n%s", n, m, since)
				}
			}
		case "disk errors":
			// The backing logical volume under DRBD starts failing
			// (device-mapper's error target in place of its table).
			// on-io-error detach drops it: this node goes on diskless on
			// the other node's disk and nothing moves. The disk then
			// comes back, is attached again and resynchronises. (The
			// Reference leaves a disk's failure to local RAID, L1045.)
			pid := l.writerPID(n)
			table := strings.TrimSpace(l.sh(n, "dmsetup table labvg-data"))
			f := strings.Fields(table)
			if len(f) < 3 {
				l.fail("dmsetup table labvg-data on %s: %q", n, table)
			}
			l.sh(n, "dmsetup suspend labvg-data && dmsetup load labvg-data --table '0 "+f[1]+" error' && dmsetup resume labvg-data")
			deadline := time.Now().Add(l.settle / 2)
			for !strings.Contains(l.sh(n, "cat /proc/drbd"), "ds:Diskless/") {
				if time.Now().After(deadline) {
					l.fail("DRBD on %s did not detach its failing disk:\n%s", n, l.sh(n, "cat /proc/drbd; dmesg | tail -20"))
				}
				time.Sleep(time.Second)
			}
			l.stats["disk errors: detached, went on diskless"]++
			if got := l.writerPID(n); pid != "" && got != pid {
				l.fail("a failing disk on %s moved the application: writer pid %q, was %q (on-io-error detach)", n, got, pid)
			}
			l.sh(n, "dmsetup suspend labvg-data && dmsetup load labvg-data --table '"+table+"' && dmsetup resume labvg-data && "+
				"set -- "+labRes+"; drbdadm -c $1 attach $2")
			if !l.inSync(n) {
				// CI23 (seed 789600206, not again in its replay): the
				// primary stalled at the detach with two writes pending
				// ("We did not send a P_BARRIER ... drbd kernel thread
				// blocked?"): the blocked tasks' stacks say where.
				l.fail("%s's disk, attached again, did not come back in step:\n%s", n,
					l.sh(n, "cat /proc/drbd; echo w > /proc/sysrq-trigger; sleep 1; dmesg | tail -150"))
			}
		case "kill app":
			l.sh(n, "kill -9 $("+procs(bracket(l.writer))+") 2>/dev/null; true")
			time.Sleep(l.settle / 5)
		}
		l.audit(grace)
		l.ensure()
		l.checkBank()
	}
}

func (l *lab) finish(steps int) {
	// The records were never torn or interleaved mid-line.
	for _, n := range nodes {
		if !l.alive[n] {
			continue
		}
		bad := l.sh(n, `[ -f /lab/data/records ] || exit 0; while read -r n h t s; do
			[ "$(printf '%s' "$n $h $t" | md5sum | cut -c1-8)" = "$s" ] || echo "$n $h $t $s"; done < /lab/data/records | head -3`)
		if bad != "" {
			l.fail("torn records on %s:\n%s", n, bad)
		}
	}
	if len(l.dualWrites) > 0 {
		l.t.Logf("a resumed node's writes after the takeover (its last write - the takeover, per freeze), ms: %s", l.dualWrites)
	}
	if len(l.lossWindows) > 0 {
		l.t.Logf("filesync loss window (crash - the oldest record lost, per crash that lost any), ms: %s", l.lossWindows)
	}
	l.t.Logf("fault lab: %d steps, seed %d: %v", steps, l.seed, l.stats)
	if os.Getenv("FAULTLAB_DUMP") != "" {
		for _, n := range nodes {
			l.t.Logf("%s:\n%s", n, l.sh(n, "grep -v 'Added request' /var/log/cluster/cldaemon-cluster1.log | tail -60"))
		}
	}
}
