// Package cltrust is the cltrust command: it sets up the root ssh trust
// the cluster needs (Reference Appendix C) between the two nodes of
// clconf.xml, on every network: a key for root on each node, each node's
// key authorized on both, and every name and address of both nodes in
// both known_hosts files, so the tools' BatchMode ssh never meets an
// unknown host key. Deciding what the files become is pure (Report,
// Merge); the command gathers and writes.
package cltrust

import (
	"bufio"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Report is what a node says of itself (the report script's output).
type Report struct {
	Host       string   // hostname, short
	Key        string   // root's public key: "ssh-ed25519 AAAA... root@servera"
	HostKeys   []string // "type base64" of every host key
	Addrs      []string // IPv4 addresses of the node's cards, no prefix length
	Authorized []string // root's authorized_keys lines
	Known      []string // root's known_hosts lines
}

// reportScript prints a Report for the node it runs on, after making
// root's key if there is none; cards are the node's cards in clconf.xml.
func reportScript(cards []string) string {
	return `set -e
umask 077
h=~root/.ssh
mkdir -p $h
[ -f $h/id_ed25519 ] || ssh-keygen -q -t ed25519 -N "" -C "root@$(hostname -s)" -f $h/id_ed25519
echo "HOST $(hostname -s)"
echo "KEY $(cat $h/id_ed25519.pub)"
for f in /etc/ssh/ssh_host_*_key.pub; do [ -f "$f" ] && echo "HOSTKEY $(cut -d' ' -f1,2 "$f")"; done
for c in ` + strings.Join(cards, " ") + `; do ip -4 -o addr show dev "$c" 2>/dev/null | awk '{print "ADDR", $4}'; done
[ -f $h/authorized_keys ] && sed 's/^/AUTH /' $h/authorized_keys
[ -f $h/known_hosts ] && sed 's/^/KNOWN /' $h/known_hosts
exit 0
`
}

// ParseReport reads the report script's output.
func ParseReport(out string) (Report, error) {
	var r Report
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		kind, rest, _ := strings.Cut(sc.Text(), " ")
		switch kind {
		case "HOST":
			r.Host = rest
		case "KEY":
			r.Key = rest
		case "HOSTKEY":
			r.HostKeys = append(r.HostKeys, rest)
		case "ADDR":
			p, err := netip.ParsePrefix(rest)
			if err != nil {
				return r, fmt.Errorf("address %q: %w", rest, err)
			}
			if a := p.Addr().String(); !slices.Contains(r.Addrs, a) {
				r.Addrs = append(r.Addrs, a)
			}
		case "AUTH":
			r.Authorized = append(r.Authorized, rest)
		case "KNOWN":
			r.Known = append(r.Known, rest)
		}
	}
	switch {
	case r.Host == "":
		return r, fmt.Errorf("no host name in the report")
	case r.Key == "":
		return r, fmt.Errorf("%s: no root key in the report", r.Host)
	case len(r.HostKeys) == 0:
		return r, fmt.Errorf("%s: no ssh host key in /etc/ssh (is openssh-server installed?)", r.Host)
	}
	return r, nil
}

// Node is one node as the trust sees it: its names, its reachable
// addresses and its keys.
type Node struct {
	Name   string
	Report Report
}

// Names is every name ssh may be given for the node: its cluster name and
// each of its addresses.
func (n Node) Names() []string { return append([]string{n.Name}, n.Report.Addrs...) }

// Files is what root's authorized_keys and known_hosts become on a node.
type Files struct {
	Authorized, Known string
}

// Merge returns the files of node self, given both nodes: its existing
// lines are kept, except known_hosts lines for a name or address of
// either node (they are replaced by the nodes' current host keys); both
// root keys are authorized (each node also runs the tools on itself).
func Merge(self Report, nodes []Node) Files {
	var names []string
	for _, n := range nodes {
		names = append(names, n.Names()...)
	}
	var known []string
	for _, l := range self.Known {
		hosts, _, _ := strings.Cut(strings.TrimSpace(l), " ")
		if slices.ContainsFunc(strings.Split(hosts, ","), func(h string) bool { return slices.Contains(names, strings.Trim(h, "[]")) }) {
			continue
		}
		known = append(known, l)
	}
	for _, n := range nodes {
		for _, k := range n.Report.HostKeys {
			known = append(known, strings.Join(n.Names(), ",")+" "+k)
		}
	}
	auth := slices.Clone(self.Authorized)
	for _, n := range nodes {
		if !slices.ContainsFunc(auth, func(l string) bool { return sameKey(l, n.Report.Key) }) {
			auth = append(auth, n.Report.Key)
		}
	}
	return Files{Authorized: strings.Join(auth, "\n") + "\n", Known: strings.Join(known, "\n") + "\n"}
}

// sameKey compares the type and key of two authorized_keys lines,
// ignoring options and comments.
func sameKey(line, key string) bool {
	kf := strings.Fields(key)
	if len(kf) < 2 {
		return false
	}
	lf := strings.Fields(line)
	for i := 0; i+1 < len(lf); i++ {
		if lf[i] == kf[0] && lf[i+1] == kf[1] {
			return true
		}
	}
	return false
}

// writeScript replaces root's two files on the node it runs on, each
// written aside and renamed, so a failure leaves the old file.
func writeScript(f Files) string {
	return `set -e
umask 077
h=~root/.ssh
cat > $h/authorized_keys.new <<'LINUXHA_EOF'
` + f.Authorized + `LINUXHA_EOF
cat > $h/known_hosts.new <<'LINUXHA_EOF'
` + f.Known + `LINUXHA_EOF
mv -f $h/authorized_keys.new $h/authorized_keys
mv -f $h/known_hosts.new $h/known_hosts
`
}

// checkScript tries BatchMode ssh to each address and prints "OK addr" or
// "FAIL addr reason".
func checkScript(targets []string) string {
	return `for a in ` + strings.Join(targets, " ") + `; do
	if out=$(ssh -o BatchMode=yes -o ConnectTimeout=5 -n root@$a true 2>&1); then echo "OK $a"; else echo "FAIL $a $(echo $out | tr '\n' ' ')"; fi
done
`
}
