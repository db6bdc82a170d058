package monitors

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/remote"
	"github.com/linuxha-ng/linuxha/pkg/state"
	"github.com/linuxha-ng/linuxha/pkg/storage/drbd"
	"github.com/linuxha-ng/linuxha/pkg/storage/volumes"
)

// Fsmon keeps the application's copies in step (§24.4.7, L7280-7306).
// The Reference's state machine drives ENBD and md RAID; here the
// replication driver does the copying, so fsmon's job is what is left:
// notice a copy that is not being kept, bring replication back on both
// nodes when the peer is reachable, and keep the STALE flags true: the
// peer's copy is stale while it is out of step and is cleared once it is
// in step again.
//
// Return codes follow the sample action list (L7139-7143): 0 in step or
// catching up, 1 a repair failed (PAUSE 30), 10 the peer cannot be
// reached (PAUSE 60), 2 the volumes cannot be read at all (STOP).
type Fsmon struct {
	env   *Env
	peer  *remote.Peer
	mu    sync.Mutex // guards state
	state []volumes.State
	// tailOK holds the DRBD volumes ("vg/lv") whose last 256 KiB have
	// been verified identical since they were last seen out of step
	// (drbd.TailBytes); Check alone uses it.
	tailOK map[string]bool
	// tailErrs counts the failed checks of each volume's end since it
	// was last in step; Check alone uses it.
	tailErrs map[string]int
	// verifyTail verifies one volume's end and returns the bytes found
	// different; nil means volumeTail. Tests replace it.
	verifyTail func(ctx context.Context, vg, lv string) (int64, error)
}

// tailTries is how many times fsmon tries to verify a volume's end before
// it trusts DRBD's state without (a resource started before verify-alg
// was configured, drbdsetup refusing): the peer's copy must not stay
// STALE for ever.
const tailTries = 3

func NewFsmon(env *Env, _ []string) (Monitor, error) {
	if env.Cluster == nil || env.Peer == "" {
		return nil, fmt.Errorf("fsmon needs the cluster configuration")
	}
	p := remote.ToNode(env.L.Topology(), env.Peer, env.Log.Infof)
	p.OnSelect = nil
	return &Fsmon{env: env, peer: p, tailOK: map[string]bool{}, tailErrs: map[string]int{}}, nil
}

func (f *Fsmon) Check(ctx context.Context) (int, string) {
	e := f.env
	done, ok := state.HoldCheck(e.L.RebuildLock(e.App))
	if !ok {
		// clbuildapp is changing the volumes (§18): its own starts bring
		// them into step, and a repair now would race them.
		return 0, "rebuild in progress"
	}
	defer done()
	vs, err := volumes.States(ctx, e.L, e.Cluster, e.App, e.Me, e.Peer)
	if err != nil {
		return 2, err.Error()
	}
	f.mu.Lock()
	f.state = vs
	f.mu.Unlock()
	fs, err := state.ReadFsmap(e.L.Fsmap(e.App))
	if err != nil {
		return 2, err.Error()
	}
	unsync := 0
	for i, v := range vs {
		if i >= len(fs) {
			break
		}
		peerFlag := state.Stale{VG: fs[i].VG, LV: fs[i].LV, Node: e.Peer}
		key := fs[i].VG + "/" + fs[i].LV
		if v.State != "Sync" {
			f.tailOK[key], f.tailErrs[key] = false, 0
		}
		switch v.State {
		case "Sync":
			// filesync's own passes clear the flag; DRBD's disk states say
			// when both copies are current, once the end of the volume
			// DRBD 8.4 can forget is known to be in step too.
			if v.Valid == "both" && e.Cluster.DataDetail != "filesync" && f.checkTail(ctx, fs[i].VG, fs[i].LV, key) {
				f.clearPeerStale(ctx, peerFlag)
			}
		case "Unsync":
			unsync++
			// The peer's copy is not being kept: it must not be trusted
			// for a start until it has caught up (L7630-7633).
			state.SetStale(e.L.StatusDir(e.App), peerFlag)
		}
	}
	if unsync == 0 {
		return 0, ""
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err = f.peer.Reach(rctx)
	cancel()
	if err != nil {
		return 10, fmt.Sprintf("%s unreachable", e.Peer)
	}
	if err := f.repair(ctx); err != nil {
		e.Log.Warnf("fsmon: unable to restart replication of %s: %v", e.App, err)
		return 1, err.Error()
	}
	e.Log.Infof("fsmon: replication of %s restarted (%d file system(s) out of step).", e.App, unsync)
	return 0, ""
}

// repair starts replication on the peer (standby) and here.
func (f *Fsmon) repair(ctx context.Context) error {
	e := f.env
	if err := volumes.Invoke(ctx, f.peer, e.App, "--action", "start", "--noprimary"); err != nil {
		return err
	}
	if e.Cluster.DataDetail == "filesync" {
		return volumes.Invoke(ctx, nil, e.App, "--action", "set_primary")
	}
	vols, err := volumes.Of(e.L, e.Cluster, e.App, "", "")
	if err != nil {
		return err
	}
	d := &drbd.Driver{ConfDir: e.L.DrbdConfDir()}
	for _, v := range vols {
		if st, err := d.Status(ctx, v.Res); err == nil && st.Connection == "StandAlone" {
			if err := d.Connect(ctx, v.Res); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkTail verifies, once per return to step, the last 256 KiB of a
// DRBD volume (drbd.CheckTail: DRBD 8.4 can leave them different after a
// node attaches again) and reports whether they are identical; where
// they differ they are resynchronised, and the next check looks again.
func (f *Fsmon) checkTail(ctx context.Context, vg, lv, key string) bool {
	if f.tailOK[key] {
		return true
	}
	e := f.env
	verify := f.verifyTail
	if verify == nil {
		verify = f.volumeTail
	}
	found, err := verify(ctx, vg, lv)
	switch {
	case err != nil:
		if f.tailErrs[key]++; f.tailErrs[key] < tailTries {
			e.Log.Warnf("fsmon: unable to verify the end of %s: %v", key, err)
			return false
		}
		e.Log.Warnf("fsmon: unable to verify the end of %s %d times (%v): trusting DRBD's state of it.", key, tailTries, err)
	case found > 0:
		e.Log.Warnf("fsmon: the copies of %s differed in %d KiB at its end after a resynchronisation (DRBD 8.4's bitmap): resynchronising them.", key, found>>10)
		return false
	}
	f.tailOK[key] = true
	return true
}

// volumeTail verifies the end of the application's DRBD volume vg/lv
// (drbd.CheckTail).
func (f *Fsmon) volumeTail(ctx context.Context, vg, lv string) (int64, error) {
	e := f.env
	vols, err := volumes.Of(e.L, e.Cluster, e.App, vg, lv)
	if err != nil {
		return 0, err
	}
	if len(vols) != 1 {
		return 0, fmt.Errorf("%d volumes found", len(vols))
	}
	d := &drbd.Driver{ConfDir: e.L.DrbdConfDir()}
	return d.CheckTail(ctx, vols[0].Res)
}

func (f *Fsmon) clearPeerStale(ctx context.Context, s state.Stale) {
	e := f.env
	path := e.L.StaleFile(e.App, s.VG, s.LV, s.Node)
	if !exists(path) {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// The peer holds the same flag; clear it there first, so the two
	// nodes never disagree in the direction that would trust a bad copy.
	if _, err := f.peer.Run(rctx, "rm", "-f", path); err != nil {
		return
	}
	state.ClearStale(e.L.StatusDir(e.App), s)
	e.Log.Infof("fsmon: %s/%s on %s is in step again: STALE flag cleared.", s.VG, s.LV, s.Node)
}

func (f *Fsmon) Stat() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s []string
	for _, v := range f.state {
		s = append(s, daemonapi.Volume(v).Encode())
	}
	return strings.Join(s, ";")
}
