package appnet

import (
	"encoding/hex"
	"net"
	"net/netip"
	"testing"
)

// 28-byte ARP payload and 42-byte frame, pinned.
func TestGARPGolden(t *testing.T) {
	mac, _ := net.ParseMAC("02:00:5e:10:00:01")
	ip := netip.MustParseAddr("172.16.177.200")
	arp := hex.EncodeToString(buildARP(ip, mac))
	if arp != "0001080006040001"+"02005e100001"+"ac10b1c8"+"000000000000"+"ac10b1c8" {
		t.Fatalf("arp %s", arp)
	}
	f := hex.EncodeToString(BuildGARP(ip, mac))
	if f != "ffffffffffff"+"02005e100001"+"0806"+arp {
		t.Fatalf("frame %s", f)
	}
}
