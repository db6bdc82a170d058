package netd

import (
	"encoding/binary"
	"net"
	"net/netip"
)

// BuildGARP builds a gratuitous ARP request announcing that ip is at mac:
// sender and target protocol address are both ip, target hardware
// address zero (RFC 5227), in an Ethernet broadcast frame.
func BuildGARP(ip netip.Addr, mac net.HardwareAddr) []byte {
	f := make([]byte, 14+28)
	copy(f[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(f[6:12], mac)
	binary.BigEndian.PutUint16(f[12:14], 0x0806) // ARP
	copy(f[14:], buildARP(ip, mac))
	return f
}

// buildARP is the 28-byte ARP payload.
func buildARP(ip netip.Addr, mac net.HardwareAddr) []byte {
	a := make([]byte, 28)
	binary.BigEndian.PutUint16(a[0:2], 1)      // Ethernet
	binary.BigEndian.PutUint16(a[2:4], 0x0800) // IPv4
	a[4], a[5] = 6, 4
	binary.BigEndian.PutUint16(a[6:8], 1) // request
	copy(a[8:14], mac)
	ip4 := ip.As4()
	copy(a[14:18], ip4[:])
	copy(a[24:28], ip4[:])
	return a
}
