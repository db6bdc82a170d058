package cltrust

import (
	"strings"
	"testing"
)

func TestParseReport(t *testing.T) {
	r, err := ParseReport("HOST serverb\nKEY ssh-ed25519 AAAB root@serverb\nHOSTKEY ssh-ed25519 HHHB\nADDR 172.16.177.2/24\nADDR 192.100.100.2/24\nADDR 172.16.177.2/24\nAUTH ssh-rsa OLD admin\nKNOWN old.example ssh-rsa X\n")
	if err != nil {
		t.Fatal(err)
	}
	if r.Host != "serverb" || r.Key != "ssh-ed25519 AAAB root@serverb" || len(r.Addrs) != 2 || r.Addrs[1] != "192.100.100.2" || len(r.Authorized) != 1 || len(r.Known) != 1 {
		t.Fatalf("%+v", r)
	}
	if _, err := ParseReport("HOST serverb\nKEY ssh-ed25519 A\n"); err == nil || !strings.Contains(err.Error(), "no ssh host key") {
		t.Fatalf("no host key: %v", err)
	}
}

// Merge keeps what the administrator had, replaces what it knew of the
// cluster's names and addresses, and authorizes each root key once.
func TestMerge(t *testing.T) {
	a := Report{Host: "servera", Key: "ssh-ed25519 AAAA root@servera", HostKeys: []string{"ssh-ed25519 HA"}, Addrs: []string{"172.16.177.1", "192.100.100.1"},
		Authorized: []string{`from="10.0.0.0/8" ssh-ed25519 AAAA root@servera`, "ssh-rsa ADMIN admin@laptop"},
		Known:      []string{"gitserver ssh-ed25519 G", "serverb,172.16.177.2 ssh-ed25519 STALE", "|1|hashed= ssh-ed25519 H"}}
	b := Report{Host: "serverb", Key: "ssh-ed25519 BBBB root@serverb", HostKeys: []string{"ssh-ed25519 HB", "ecdsa-sha2-nistp256 HB2"}, Addrs: []string{"172.16.177.2", "192.100.100.2"}}
	nodes := []Node{{"servera", a}, {"serverb", b}}
	f := Merge(a, nodes)
	wantAuth := "from=\"10.0.0.0/8\" ssh-ed25519 AAAA root@servera\nssh-rsa ADMIN admin@laptop\nssh-ed25519 BBBB root@serverb\n"
	if f.Authorized != wantAuth {
		t.Errorf("authorized_keys:\n%s\nwant\n%s", f.Authorized, wantAuth)
	}
	wantKnown := "gitserver ssh-ed25519 G\n|1|hashed= ssh-ed25519 H\n" +
		"servera,172.16.177.1,192.100.100.1 ssh-ed25519 HA\n" +
		"serverb,172.16.177.2,192.100.100.2 ssh-ed25519 HB\n" +
		"serverb,172.16.177.2,192.100.100.2 ecdsa-sha2-nistp256 HB2\n"
	if f.Known != wantKnown {
		t.Errorf("known_hosts:\n%s\nwant\n%s", f.Known, wantKnown)
	}
	if again := Merge(Report{Authorized: strings.Split(strings.TrimSpace(f.Authorized), "\n"), Known: strings.Split(strings.TrimSpace(f.Known), "\n")}, nodes); again != f {
		t.Errorf("merging twice changes the files:\n%+v\n%+v", again, f)
	}
}
